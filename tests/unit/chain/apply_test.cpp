#include <chainmesh/chain/apply.hpp>
#include <chainmesh/chain/validation.hpp>
#include <chainmesh/util/rng.hpp>
#include "chain_fixture.hpp"

#include <gtest/gtest.h>

namespace chainmesh::chain {
namespace {

using test::address_from_byte;
using test::address_of;
using test::key;
using test::transfer;

TEST(ApplyBlock, MovesAmountsFeesAndTheReward) {
    test::TestChain chain;
    const auto& genesis = chain.genesis_block.header;
    const std::vector<Transaction> txs{
        transfer(key(1), address_of(key(2)), 100, 5, 0),
        transfer(key(1), address_from_byte(30), 50, 7, 1),
        transfer(key(2), address_from_byte(30), 1000, 0, 0),
    };
    const Block block = chain.make_block(genesis, txs, 9);
    const auto effects = apply_block(chain.state, block, chain.params, SignatureCheck::verify);
    ASSERT_TRUE(effects) << effects.error().message();
    EXPECT_EQ(chain.state.root(), block.header.state_root);

    EXPECT_EQ(chain.state.account(address_of(key(1))), (Account{1'000'000 - 162, 2}));
    EXPECT_EQ(chain.state.account(address_of(key(2))), (Account{1'000'000 + 100 - 1000, 1}));
    EXPECT_EQ(chain.state.account(address_from_byte(30)), (Account{1050, 0}));
    EXPECT_EQ(chain.state.account(address_from_byte(9)), (Account{12 + 50, 0}));

    // Updates and undo list the same accounts, ascending, with new and old values.
    ASSERT_EQ(effects->updates.size(), 4U);
    ASSERT_EQ(effects->undo.previous.size(), 4U);
    for (std::size_t i = 0; i < effects->updates.size(); ++i) {
        EXPECT_EQ(effects->updates[i].address, effects->undo.previous[i].address);
        EXPECT_EQ(effects->updates[i].account, chain.state.account(effects->updates[i].address));
        if (i > 0) {
            EXPECT_LT(effects->updates[i - 1].address, effects->updates[i].address);
        }
    }
    EXPECT_EQ(effects->undo.block_hash, block.hash());
    EXPECT_EQ(effects->undo.previous_state_root, genesis.state_root);
}

TEST(ApplyBlock, FeesOfABlockCannotBeSpentInIt) {
    test::TestChain chain;
    const auto miner = key(7);  // holds nothing before this block
    std::vector<Transaction> txs{transfer(key(1), address_from_byte(30), 100, 40, 0),
                                 transfer(miner, address_from_byte(31), 10, 0, 0)};
    auto proposal = propose_block(chain.state, chain.genesis_block.header, txs, address_of(miner),
                                  chain.genesis.timestamp_ms + 1, chain.params);
    ASSERT_TRUE(proposal);
    ASSERT_EQ(proposal->rejected.size(), 1U);
    EXPECT_EQ(proposal->rejected[0].id, txs[1].id());
    EXPECT_EQ(proposal->rejected[0].reason, ChainError::insufficient_balance);
    EXPECT_EQ(proposal->block.transactions.size(), 1U);
}

TEST(ApplyBlock, AFailedBlockLeavesTheStateAlone) {
    test::TestChain chain;
    Block block = chain.make_block(chain.genesis_block.header,
                                   {transfer(key(1), address_from_byte(30), 100, 5, 0)});
    block.header.state_root[3] ^= 1;
    const Hash256 before = chain.state.root();
    const auto effects = apply_block(chain.state, block, chain.params, SignatureCheck::verify);
    ASSERT_FALSE(effects);
    EXPECT_EQ(effects.error(), ChainError::bad_state_root);
    EXPECT_EQ(chain.state.root(), before);
    EXPECT_EQ(chain.state.account(address_of(key(1))), (Account{1'000'000, 0}));
    chain.state.check_invariants();
}

TEST(ApplyBlock, RevertRestoresTheExactState) {
    test::TestChain chain;
    const MemoryState genesis_state = chain.state;
    const Block block = chain.make_block(chain.genesis_block.header,
                                         {transfer(key(1), address_from_byte(30), 100, 5, 0),
                                          transfer(key(2), address_of(key(1)), 7, 1, 0)});
    const auto effects = apply_block(chain.state, block, chain.params, SignatureCheck::verify);
    ASSERT_TRUE(effects);
    ASSERT_NE(chain.state.root(), genesis_state.root());

    // Undo that belongs to another block, or a state that is not the block's: untouched.
    BlockUndo wrong = effects->undo;
    wrong.block_hash[0] ^= 1;
    EXPECT_EQ(revert_block(chain.state, block.header, wrong).error(), ChainError::bad_undo);
    EXPECT_EQ(revert_block(chain.state, chain.genesis_block.header, effects->undo).error(),
              ChainError::bad_undo);
    EXPECT_EQ(chain.state.root(), block.header.state_root);

    ASSERT_TRUE(revert_block(chain.state, block.header, effects->undo));
    EXPECT_EQ(chain.state.root(), genesis_state.root());
    EXPECT_EQ(chain.state.size(), genesis_state.size());
    EXPECT_EQ(chain.state.account(address_from_byte(30)), Account{});
    EXPECT_EQ(chain.state.account(address_from_byte(9)), Account{});
    EXPECT_EQ(chain.state.account(address_of(key(1))), (Account{1'000'000, 0}));
    chain.state.check_invariants();
}

TEST(ApplyBlock, ARandomChainRevertsBlockByBlockToGenesis) {
    test::TestChain chain;
    Rng rng(2024);
    std::vector<std::uint64_t> nonces(5, 0);
    std::vector<Block> blocks{chain.genesis_block};
    std::vector<BlockUndo> undos;
    std::vector<Hash256> roots{chain.state.root()};
    for (int height = 1; height <= 30; ++height) {
        std::vector<Transaction> txs;
        const std::size_t count = rng.uniform(12);
        for (std::size_t i = 0; i < count; ++i) {
            const auto sender = static_cast<std::uint8_t>(1 + rng.uniform(4));
            const Address to =
                rng.uniform(2) == 0
                    ? address_from_byte(static_cast<std::uint8_t>(40 + rng.uniform(20)))
                    : address_of(key(static_cast<std::uint8_t>(1 + (sender % 4))));
            txs.push_back(
                transfer(key(sender), to, 1 + rng.uniform(500), rng.uniform(20), nonces[sender]++));
        }
        const Block block =
            chain.make_block(blocks.back().header, txs, static_cast<std::uint8_t>(rng.uniform(3)));
        ASSERT_TRUE(check_header(block.header, blocks.back().header, chain.params,
                                 block.header.timestamp_ms));
        auto effects = apply_block(chain.state, block, chain.params, SignatureCheck::verify);
        ASSERT_TRUE(effects) << height << ": " << effects.error().message();
        // Undo data survives its encoding.
        auto undo = BlockUndo::decode(effects->undo.encode());
        ASSERT_TRUE(undo);
        EXPECT_EQ(*undo, effects->undo);
        undos.push_back(std::move(*undo));
        blocks.push_back(block);
        roots.push_back(chain.state.root());
    }
    while (!undos.empty()) {
        ASSERT_TRUE(revert_block(chain.state, blocks.back().header, undos.back()));
        undos.pop_back();
        blocks.pop_back();
        roots.pop_back();
        EXPECT_EQ(chain.state.root(), roots.back());
        EXPECT_EQ(chain.state.root(), blocks.back().header.state_root);
    }
    chain.state.check_invariants();
}

TEST(BlockUndo, DecodeRejectsBadInput) {
    BlockUndo undo;
    undo.block_hash.fill(1);
    undo.previous_state_root.fill(2);
    undo.previous = {{address_from_byte(1), Account{5, 1}}, {address_from_byte(2), Account{}}};
    const Bytes encoded = undo.encode();
    ASSERT_EQ(encoded.size(), 1 + 32 + 32 + 4 + 2 * 36U);
    EXPECT_EQ(encoded[0], 0x04);
    EXPECT_EQ(*BlockUndo::decode(encoded), undo);
    for (std::size_t size = 0; size < encoded.size(); ++size) {
        EXPECT_EQ(BlockUndo::decode(ByteView(encoded).first(size)).error(), ChainError::malformed);
    }
    Bytes longer = encoded;
    longer.push_back(0);
    EXPECT_EQ(BlockUndo::decode(longer).error(), ChainError::malformed);

    BlockUndo unsorted = undo;
    std::swap(unsorted.previous[0], unsorted.previous[1]);
    EXPECT_EQ(BlockUndo::decode(unsorted.encode()).error(), ChainError::malformed);
    BlockUndo repeated = undo;
    repeated.previous[1].address = repeated.previous[0].address;
    EXPECT_EQ(BlockUndo::decode(repeated.encode()).error(), ChainError::malformed);

    Bytes huge_count = encoded;
    huge_count[65] = 0xff;
    EXPECT_EQ(BlockUndo::decode(huge_count).error(), ChainError::malformed);
}

TEST(ProposeBlock, SkipsWhatFailsAndLeavesTheStateAlone) {
    test::TestChain chain;
    chain.params.max_block_transactions = 3;
    const Hash256 before = chain.state.root();
    const Transaction good = transfer(key(1), address_from_byte(30), 10, 1, 0);
    const std::vector<Transaction> candidates{
        good,
        good,                                                            // duplicate
        transfer(key(2), address_from_byte(30), 10, 1, 5),               // nonce gap
        transfer(key(2), address_from_byte(30), 10, 1, 0, "", "other"),  // wrong network
        transfer(key(1), address_from_byte(31), 10, 1, 1),
        transfer(key(3), address_from_byte(31), 10, 1, 0),
        transfer(key(4), address_from_byte(31), 10, 1, 0),  // block is full
    };
    auto proposal =
        propose_block(chain.state, chain.genesis_block.header, candidates, address_from_byte(9),
                      chain.genesis.timestamp_ms + 5, chain.params);
    ASSERT_TRUE(proposal);
    EXPECT_EQ(chain.state.root(), before);
    ASSERT_EQ(proposal->block.transactions.size(), 3U);
    EXPECT_EQ(proposal->block.transactions[0], candidates[0]);
    EXPECT_EQ(proposal->block.transactions[1], candidates[4]);
    EXPECT_EQ(proposal->block.transactions[2], candidates[5]);
    ASSERT_EQ(proposal->rejected.size(), 4U);
    EXPECT_EQ(proposal->rejected[0].reason, ChainError::duplicate_transaction);
    EXPECT_EQ(proposal->rejected[1].reason, ChainError::nonce_gap);
    EXPECT_EQ(proposal->rejected[2].reason, ChainError::wrong_network);
    EXPECT_EQ(proposal->rejected[3].reason, ChainError::too_many_transactions);

    const Block& block = proposal->block;
    EXPECT_EQ(block.header.height, 1U);
    EXPECT_EQ(block.header.previous_hash, chain.genesis_block.hash());
    EXPECT_EQ(block.header.beneficiary, address_from_byte(9));
    EXPECT_TRUE(apply_block(chain.state, block, chain.params, SignatureCheck::verify));
    EXPECT_EQ(chain.state.root(), block.header.state_root);
}

}  // namespace
}  // namespace chainmesh::chain
