#include <chainmesh/chain/validation.hpp>
#include "chain_fixture.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <set>

namespace chainmesh::chain {
namespace {

using test::address_from_byte;
using test::address_of;
using test::key;
using test::transfer;

constexpr std::uint64_t U64_MAX = std::numeric_limits<std::uint64_t>::max();

// Everything a node has when a block arrives from a peer.
struct Scenario {
    ChainParams params;
    MemoryState state;  // at the parent
    BlockHeader parent;
    Block block;
    std::vector<std::uint8_t> signers;  // key index of each transaction's sender
    std::uint64_t now_ms = 0;
    Bytes trailing;       // appended to the block's encoding
    std::size_t cut = 0;  // bytes cut from the end of the encoding

    void resign(std::size_t i) { block.transactions[i].sign(key(signers[i])); }
    void fix_root() { test::fix_merkle_root(block); }
};

// The whole pipeline, in the order a node runs it.
Result<void> validate(const Scenario& s) {
    Bytes bytes = s.block.encode();
    append(bytes, s.trailing);
    bytes.resize(bytes.size() - s.cut);
    auto block = Block::decode(bytes);
    if (!block) {
        return block.error();
    }
    if (auto r = check_header(block->header, s.parent, s.params, s.now_ms); !r) {
        return r.error();
    }
    if (auto r = check_block_body(*block, s.params); !r) {
        return r.error();
    }
    if (auto r = check_signatures(block->transactions); !r) {
        return r.error();
    }
    MemoryState state = s.state;
    auto applied = apply_block(state, *block, s.params, SignatureCheck::already_verified);
    if (!applied) {
        return applied.error();
    }
    return {};
}

// Genesis, then block 1 (key 1 sends once), then the valid block 2 every case starts from.
Scenario valid_scenario() {
    test::TestChain chain;
    const Block one = chain.make_block(chain.genesis_block.header,
                                       {transfer(key(1), address_of(key(2)), 10, 1, 0)});
    EXPECT_TRUE(apply_block(chain.state, one, chain.params, SignatureCheck::verify));

    Scenario s;
    s.params = chain.params;
    s.parent = one.header;
    s.signers = {1, 2, 3};
    const std::vector<Transaction> txs{
        transfer(key(1), address_from_byte(20), 100, 5, 1),
        transfer(key(2), address_of(key(3)), 200, 10, 0),
        transfer(key(3), address_from_byte(21), 1, 0, 0, "x"),
    };
    s.block = chain.make_block(one.header, txs);
    s.state = chain.state;
    s.now_ms = s.block.header.timestamp_ms;
    return s;
}

struct Case {
    const char* name;
    std::function<void(Scenario&)> mutate;
    ChainError expected;
};

const std::vector<Case>& cases() {
    static const std::vector<Case> table{
        {"trailing byte", [](Scenario& s) { s.trailing = {0}; }, ChainError::malformed},
        {"truncated", [](Scenario& s) { s.cut = 1; }, ChainError::malformed},
        {"header on another network", [](Scenario& s) { s.block.header.network_id = "othernet"; },
         ChainError::wrong_network},
        {"height skips one", [](Scenario& s) { s.block.header.height += 1; },
         ChainError::wrong_height},
        {"previous hash is not the parent's",
         [](Scenario& s) { s.block.header.previous_hash[0] ^= 1; }, ChainError::wrong_parent},
        {"timestamp equal to the parent's",
         [](Scenario& s) { s.block.header.timestamp_ms = s.parent.timestamp_ms; },
         ChainError::timestamp_not_after_parent},
        {"timestamp beyond now + drift",
         [](Scenario& s) {
             s.now_ms = s.block.header.timestamp_ms - s.params.max_timestamp_drift_ms - 1;
         },
         ChainError::timestamp_too_far_in_future},
        {"block one byte over the limit",
         [](Scenario& s) {
             s.params.max_block_bytes = static_cast<std::uint32_t>(s.block.encoded_size() - 1);
         },
         ChainError::block_too_large},
        {"one transaction over the limit",
         [](Scenario& s) {
             s.params.max_block_transactions =
                 static_cast<std::uint32_t>(s.block.transactions.size() - 1);
         },
         ChainError::too_many_transactions},
        {"transaction on another network",
         [](Scenario& s) {
             s.block.transactions[0].network_id = "othernet";
             s.resign(0);
             s.fix_root();
         },
         ChainError::wrong_network},
        {"memo one byte too long",
         [](Scenario& s) {
             s.block.transactions[2].memo.assign(MEMO_MAX_BYTES + 1, 'm');
             s.resign(2);
             s.fix_root();
         },
         ChainError::memo_too_long},
        {"zero amount",
         [](Scenario& s) {
             s.block.transactions[0].amount = 0;
             s.resign(0);
             s.fix_root();
         },
         ChainError::zero_amount},
        {"transfer to oneself",
         [](Scenario& s) {
             s.block.transactions[0].recipient = address_of(key(1));
             s.resign(0);
             s.fix_root();
         },
         ChainError::self_transfer},
        {"same transaction twice",
         [](Scenario& s) {
             s.block.transactions.push_back(s.block.transactions[0]);
             s.fix_root();
         },
         ChainError::duplicate_transaction},
        {"Merkle root off by a bit", [](Scenario& s) { s.block.header.transactions_root[0] ^= 1; },
         ChainError::bad_merkle_root},
        {"signature off by a bit",
         [](Scenario& s) {
             s.block.transactions[1].signature[0] ^= 1;
             s.fix_root();
         },
         ChainError::bad_signature},
        {"nonce already used",
         [](Scenario& s) {
             s.block.transactions[0].nonce = 0;
             s.resign(0);
             s.fix_root();
         },
         ChainError::nonce_too_low},
        {"nonce one ahead",
         [](Scenario& s) {
             s.block.transactions[0].nonce = 2;
             s.resign(0);
             s.fix_root();
         },
         ChainError::nonce_gap},
        {"amount + fee one above the balance",
         [](Scenario& s) {
             auto& tx = s.block.transactions[0];
             tx.amount = s.state.account(address_of(key(1))).balance - tx.fee + 1;
             s.resign(0);
             s.fix_root();
         },
         ChainError::insufficient_balance},
        {"amount + fee overflows",
         [](Scenario& s) {
             s.block.transactions[0].amount = U64_MAX - 2;
             s.resign(0);
             s.fix_root();
         },
         ChainError::insufficient_balance},
        {"beneficiary credit overflows", [](Scenario& s) { s.params.block_reward = U64_MAX; },
         ChainError::balance_overflow},
        {"state root off by a bit", [](Scenario& s) { s.block.header.state_root[0] ^= 1; },
         ChainError::bad_state_root},
    };
    return table;
}

TEST(Validation, TheUnbrokenScenarioIsValid) {
    const Scenario s = valid_scenario();
    const auto result = validate(s);
    EXPECT_TRUE(result) << result.error().message();
}

TEST(Validation, EachRuleRejectsTheCaseThatBreaksIt) {
    for (const Case& c : cases()) {
        Scenario s = valid_scenario();
        c.mutate(s);
        const auto result = validate(s);
        ASSERT_FALSE(result) << c.name << ": accepted";
        EXPECT_EQ(result.error(), c.expected) << c.name << ": got " << result.error().message()
                                              << ", expected " << describe(c.expected);
    }
}

TEST(Validation, EveryRuleHasACase) {
    // Rules the block table does not reach: an address typed by a person, and undo data.
    std::set<ChainError> covered{ChainError::bad_address, ChainError::bad_undo};
    for (const Case& c : cases()) {
        covered.insert(c.expected);
    }
    for (int value = 1; value <= static_cast<int>(ChainError::bad_undo); ++value) {
        EXPECT_TRUE(covered.contains(static_cast<ChainError>(value)))
            << name(static_cast<ChainError>(value));
    }
}

TEST(Validation, SignatureCheckCanBeLeftToApply) {
    Scenario s = valid_scenario();
    s.block.transactions[1].signature[5] ^= 1;
    s.fix_root();
    MemoryState state = s.state;
    const auto applied = apply_block(state, s.block, s.params, SignatureCheck::verify);
    ASSERT_FALSE(applied);
    EXPECT_EQ(applied.error(), ChainError::bad_signature);
    EXPECT_EQ(state.root(), s.state.root());
}

TEST(Validation, TransactionChecksServeAMempool) {
    const ChainParams params = test::test_params();
    const Transaction first = transfer(key(1), address_from_byte(5), 100, 10, 0);
    const Transaction second = transfer(key(1), address_from_byte(5), 100, 10, 1);
    EXPECT_TRUE(check_transaction(first, params));
    EXPECT_TRUE(check_signature(first));
    const Account account{1000, 0};
    EXPECT_TRUE(check_against_account(first, account));
    EXPECT_EQ(check_against_account(second, account).error(), ChainError::nonce_gap);
    // With `first` pending, `second` is checked against the account as `first` leaves it.
    const Account pending{account.balance - 110, account.nonce + 1};
    EXPECT_TRUE(check_against_account(second, pending));
    EXPECT_EQ(check_against_account(second, Account{219 - 110, 1}).error(),
              ChainError::insufficient_balance);
    EXPECT_EQ(check_against_account(first, Account{1000, U64_MAX}).error(),
              ChainError::nonce_too_low);
    Transaction last = first;
    last.nonce = U64_MAX;
    EXPECT_EQ(check_against_account(last, Account{1000, U64_MAX}).error(),
              ChainError::nonce_too_low);
}

TEST(Validation, FutureDriftSaturates) {
    Scenario s = valid_scenario();
    s.block.header.timestamp_ms = U64_MAX;
    EXPECT_TRUE(check_header(s.block.header, s.parent, s.params, U64_MAX - 1));
}

}  // namespace
}  // namespace chainmesh::chain
