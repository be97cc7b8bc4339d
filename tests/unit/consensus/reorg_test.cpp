// The chain pieces working together as a node will run them: the fork choice decides, the
// node carries out its plans with apply_block / revert_block and undo data on a MemoryState,
// and tells the mempool what changed. Blocks are real: signed transfers, real proof of work at
// an easy target, the pow engine's retarget.

#include "pow_fixture.hpp"

#include <chainmesh/chain/apply.hpp>
#include <chainmesh/chain/fork_choice.hpp>
#include <chainmesh/consensus/errors.hpp>
#include <chainmesh/consensus/pow/uint256.hpp>
#include <chainmesh/mempool/mempool.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <variant>

namespace chainmesh::consensus {
namespace {

using chain::Block;
using chain::Transaction;
using test::address_from_byte;
using test::ChainBuilder;
using test::key;
using test::transfer;

constexpr std::uint64_t NOW_MS = test::GENESIS_TIME_MS + 1'000'000'000;

// What a node does with the fork choice's events (the Blockchain coordinator, in small).
struct TestNode {
    const chain::Genesis* genesis;
    chain::ForkChoice tree;
    chain::MemoryState state;
    mempool::Mempool pool;
    std::map<Hash256, Block> blocks;
    std::map<Hash256, chain::BlockUndo> undos;
    std::vector<chain::Rejected> rejected;
    std::vector<chain::NewBestTip> plans;
    std::size_t orphaned = 0;
    std::size_t readmitted = 0;

    TestNode(const chain::Genesis& g, const pow::PowEngine& engine)
        : genesis(&g),
          tree(g.params,
               chain::ForkChoiceConfig{.max_reorg_depth = g.params.pow.max_reorg_depth,
                                       .orphan_max_blocks = chain::DEFAULT_ORPHAN_MAX_BLOCKS,
                                       .orphan_max_bytes = chain::DEFAULT_ORPHAN_MAX_BYTES},
               engine, g.block().header),
          state(g.initial_state()),
          pool(mempool::MempoolConfig{.max_bytes = mempool::DEFAULT_MAX_BYTES,
                                      .max_transactions = mempool::DEFAULT_MAX_TRANSACTIONS,
                                      .max_per_sender = 256,
                                      .replacement_fee_bump_percent = 10},
               g.params) {}

    void receive(const Block& block) {
        tree.add_block(block, NOW_MS);
        drain();
        tree.check_invariants();
        pool.check_invariants(&state);
        EXPECT_EQ(state.root(), tree.tip().state_root);
    }
    void receive(const std::vector<Block>& list) {
        for (const Block& block : list) {
            receive(block);
        }
    }

    void drain() {
        for (auto& event : tree.take_events()) {
            if (auto* accepted = std::get_if<chain::BlockAccepted>(&event)) {
                const Hash256 hash = accepted->block.hash();
                blocks.emplace(hash, std::move(accepted->block));
            } else if (auto* refused = std::get_if<chain::Rejected>(&event)) {
                rejected.push_back(*refused);
            } else if (std::holds_alternative<chain::BlockOrphaned>(event)) {
                ++orphaned;
            } else if (auto* plan = std::get_if<chain::NewBestTip>(&event)) {
                plans.push_back(*plan);
                execute(*plan);
            }
        }
    }

    void execute(const chain::NewBestTip& plan) {
        std::vector<Transaction> reverted;
        std::vector<Transaction> connected;
        std::vector<chain::Address> lowered;
        for (const Hash256& hash : plan.revert) {
            const Block& block = blocks.at(hash);
            const auto undone = chain::revert_block(state, block.header, undos.at(hash));
            ASSERT_TRUE(undone) << undone.error().message();
            undos.erase(hash);
            reverted.insert(reverted.end(), block.transactions.begin(), block.transactions.end());
            lowered.push_back(block.header.beneficiary);
        }
        Hash256 state_tip = plan.fork_point;
        for (const Hash256& hash : plan.apply) {
            const Block& block = blocks.at(hash);
            auto applied =
                chain::apply_block(state, block, genesis->params, chain::SignatureCheck::verify);
            if (!applied) {
                readmitted += pool.on_tip_changed({reverted, connected, lowered}, state).readmitted;
                tree.mark_invalid(hash, applied.error(), state_tip);
                drain();
                return;
            }
            undos.emplace(hash, std::move(applied->undo));
            connected.insert(connected.end(), block.transactions.begin(), block.transactions.end());
            state_tip = hash;
        }
        readmitted += pool.on_tip_changed({reverted, connected, lowered}, state).readmitted;
    }

    bool was_rejected(const Hash256& hash, ErrorCode reason) const {
        return std::any_of(rejected.begin(), rejected.end(), [&](const chain::Rejected& r) {
            return r.hash == hash && r.reason == reason;
        });
    }
};

// The state root a fresh node reaches applying `blocks` from genesis.
Hash256 replay(const chain::Genesis& genesis, const std::vector<Block>& blocks) {
    chain::MemoryState state = genesis.initial_state();
    for (const Block& block : blocks) {
        const auto applied =
            chain::apply_block(state, block, genesis.params, chain::SignatureCheck::verify);
        EXPECT_TRUE(applied) << applied.error().message();
    }
    return state.root();
}

std::vector<Block> concat(std::vector<Block> a, const std::vector<Block>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

class ReorgDepth : public ::testing::TestWithParam<std::size_t> {};

// Two branches from a common ancestor; the second, one block longer at the same target, is
// heavier. Both carry the same "shared" transfers; each also has its own.
TEST_P(ReorgDepth, SwitchesToTheHeavierBranchAndReadmitsWhatOnlyTheLoserHad) {
    const std::size_t depth = GetParam();
    const chain::Genesis genesis = test::pow_genesis({.difficulty = 4, .max_reorg_depth = 100});
    const pow::PowEngine engine(genesis.params);

    ChainBuilder prefix(engine, genesis);
    prefix.extend({transfer(key(4), address_from_byte(60), 5, 1, 0)});
    ChainBuilder a = prefix;
    ChainBuilder b = prefix;
    a.blocks.clear();
    b.blocks.clear();
    std::vector<Transaction> shared;
    std::vector<Transaction> only_a;
    std::vector<Transaction> only_b;
    for (std::size_t i = 0; i < depth; ++i) {
        shared.push_back(transfer(key(1), address_from_byte(50), 10 + i, 1, i));
        only_a.push_back(transfer(key(2), address_from_byte(51), 20, 2, i));
        only_b.push_back(transfer(key(3), address_from_byte(52), 30, 3, i));
        a.extend({shared[i], only_a[i]}, 7);
        b.extend({shared[i], only_b[i]}, 8);
    }
    only_b.push_back(transfer(key(3), address_from_byte(52), 30, 3, depth));
    b.extend({only_b.back()}, 8);

    TestNode node(genesis, engine);
    node.receive(prefix.blocks);
    node.receive(a.blocks);
    EXPECT_EQ(node.tree.tip_hash(), a.blocks.back().hash());
    ASSERT_EQ(node.plans.size(), 1 + depth);
    // Equal work up to B's last block: the first seen (A) stays.
    for (std::size_t i = 0; i < depth; ++i) {
        node.receive(b.blocks[i]);
    }
    EXPECT_EQ(node.tree.tip_hash(), a.blocks.back().hash());
    EXPECT_EQ(node.pool.size(), 0U);

    node.receive(b.blocks.back());
    ASSERT_EQ(node.plans.size(), 2 + depth);
    const chain::NewBestTip& reorg = node.plans.back();
    EXPECT_EQ(reorg.revert.size(), depth);
    EXPECT_EQ(reorg.apply.size(), depth + 1);
    EXPECT_EQ(reorg.fork_point, prefix.blocks.back().hash());
    EXPECT_EQ(node.tree.tip_hash(), b.blocks.back().hash());
    EXPECT_EQ(node.tree.height(), depth + 2);

    // The state is exactly a from-scratch replay of the winning branch.
    EXPECT_EQ(node.state.root(), replay(genesis, concat(prefix.blocks, b.blocks)));
    EXPECT_EQ(node.state.root(), b.blocks.back().header.state_root);
    EXPECT_EQ(node.state.root(), b.state.root());

    // Only A's own transfers come back to the pool; the shared ones are in B.
    EXPECT_EQ(node.pool.size(), depth);
    EXPECT_EQ(node.readmitted, depth);
    for (std::size_t i = 0; i < depth; ++i) {
        EXPECT_TRUE(node.pool.contains(only_a[i].id())) << i;
        EXPECT_FALSE(node.pool.contains(shared[i].id())) << i;
        EXPECT_FALSE(node.pool.contains(only_b[i].id())) << i;
    }
    node.pool.check_invariants(&node.state);
    EXPECT_TRUE(node.rejected.empty());
}

INSTANTIATE_TEST_SUITE_P(Depths, ReorgDepth, ::testing::Values(1, 10, 100));

TEST(Reorg, AHeavierButShorterChainBeatsALighterButLongerOne) {
    // Window 2 at 1000 ms: fast blocks quarter the target every two blocks, slow ones
    // quadruple it (retarget at heights 4, 6, ...).
    const chain::Genesis genesis = test::pow_genesis({.difficulty = 16, .window = 2});
    const pow::PowEngine engine(genesis.params);
    ChainBuilder light(engine, genesis);
    ChainBuilder heavy(engine, genesis);
    for (int i = 0; i < 20; ++i) {
        light.extend({}, 1, 10'000);  // ten times slower than the target: easier
    }
    for (int i = 0; i < 7; ++i) {
        heavy.extend({transfer(key(1), address_from_byte(40), 1, 0, static_cast<std::uint64_t>(i))},
                     2, 10);  // a hundred times faster: harder
    }
    const auto initial = pow::UInt256::from_bytes(genesis.params.pow.initial_target);
    EXPECT_GT(pow::UInt256::from_bytes(light.tip().target), initial);
    EXPECT_LT(pow::UInt256::from_bytes(heavy.tip().target), initial);

    TestNode light_first(genesis, engine);
    light_first.receive(light.blocks);
    EXPECT_EQ(light_first.tree.height(), 20U);
    const chain::Work light_work = light_first.tree.tip_work();
    light_first.receive(heavy.blocks);
    EXPECT_EQ(light_first.tree.tip_hash(), heavy.blocks.back().hash());
    EXPECT_EQ(light_first.tree.height(), 7U);
    EXPECT_GT(light_first.tree.tip_work(), light_work);
    // One reorg, from the light tip back to genesis, once the heavy branch outweighed it.
    const auto reorgs = std::count_if(light_first.plans.begin(), light_first.plans.end(),
                                      [](const chain::NewBestTip& p) { return p.is_reorg(); });
    EXPECT_EQ(reorgs, 1);
    const auto reorg = std::find_if(light_first.plans.begin(), light_first.plans.end(),
                                    [](const chain::NewBestTip& p) { return p.is_reorg(); });
    ASSERT_NE(reorg, light_first.plans.end());
    EXPECT_EQ(reorg->revert.size(), 20U);
    EXPECT_LT(reorg->height, 7U);  // the switch came before the heavy branch's last block
    EXPECT_EQ(light_first.state.root(), replay(genesis, heavy.blocks));

    TestNode heavy_first(genesis, engine);
    heavy_first.receive(heavy.blocks);
    heavy_first.receive(light.blocks);
    EXPECT_EQ(heavy_first.tree.tip_hash(), heavy.blocks.back().hash());
    EXPECT_EQ(heavy_first.plans.size(), 7U);  // one per heavy block, no reorg
    EXPECT_EQ(heavy_first.state.root(), replay(genesis, heavy.blocks));
}

TEST(Reorg, DeeperThanTheMaximumIsRefused) {
    const chain::Genesis genesis = test::pow_genesis({.difficulty = 4, .max_reorg_depth = 5});
    const pow::PowEngine engine(genesis.params);
    ChainBuilder a(engine, genesis);
    for (std::uint64_t i = 0; i < 8; ++i) {
        a.extend({transfer(key(1), address_from_byte(40), 100, 1, i)}, 7);
    }
    // Branches off A's block at height 2 (6 below A's tip) and height 3 (5 below), each
    // heavier than A.
    auto fork_at = [&](std::size_t height, std::size_t length) {
        ChainBuilder branch(engine, genesis);
        for (std::size_t i = 0; i < height; ++i) {
            branch.push(a.blocks[i]);
        }
        branch.blocks.clear();
        for (std::size_t i = 0; i < length; ++i) {
            branch.extend({transfer(key(2), address_from_byte(41), 100, 1, i)}, 8);
        }
        return branch;
    };
    const ChainBuilder too_deep = fork_at(2, 7);
    const ChainBuilder deep_enough = fork_at(3, 6);

    TestNode refuses(genesis, engine);
    refuses.receive(a.blocks);
    refuses.receive(too_deep.blocks);
    EXPECT_EQ(refuses.tree.tip_hash(), a.blocks.back().hash());
    EXPECT_TRUE(
        refuses.was_rejected(too_deep.blocks[0].hash(), chain::ForkChoiceError::fork_too_deep));
    EXPECT_EQ(refuses.plans.size(), 8U);  // A's blocks only
    EXPECT_EQ(refuses.state.root(), replay(genesis, a.blocks));

    TestNode follows(genesis, engine);
    follows.receive(a.blocks);
    follows.receive(deep_enough.blocks);
    EXPECT_EQ(follows.tree.tip_hash(), deep_enough.blocks.back().hash());
    EXPECT_EQ(follows.plans.back().revert.size(), 5U);
    EXPECT_EQ(follows.state.root(), replay(genesis, concat({a.blocks.begin(), a.blocks.begin() + 3},
                                                           deep_enough.blocks)));
    // A's transfers after the fork point return to the pool.
    EXPECT_EQ(follows.pool.size(), 5U);
}

TEST(Reorg, OrphansAttachWhenTheirParentArrives) {
    const chain::Genesis genesis = test::pow_genesis({});
    const pow::PowEngine engine(genesis.params);
    ChainBuilder a(engine, genesis);
    for (std::uint64_t i = 0; i < 10; ++i) {
        a.extend({transfer(key(1), address_from_byte(40), 100, 1, i)});
    }
    TestNode node(genesis, engine);
    for (std::size_t i = a.blocks.size(); i-- > 1;) {
        node.receive(a.blocks[i]);
    }
    EXPECT_EQ(node.orphaned, 9U);
    EXPECT_EQ(node.tree.orphan_count(), 9U);
    EXPECT_TRUE(node.plans.empty());
    node.receive(a.blocks[0]);
    EXPECT_EQ(node.tree.orphan_count(), 0U);
    ASSERT_EQ(node.plans.size(), 1U);
    EXPECT_EQ(node.plans[0].apply.size(), 10U);
    EXPECT_EQ(node.tree.tip_hash(), a.blocks.back().hash());
    EXPECT_EQ(node.state.root(), replay(genesis, a.blocks));
}

TEST(Reorg, ABlockThatFailsToApplySendsTheNodeBack) {
    const chain::Genesis genesis = test::pow_genesis({});
    const pow::PowEngine engine(genesis.params);
    ChainBuilder a(engine, genesis);
    ChainBuilder b(engine, genesis);
    std::vector<Transaction> only_b;
    for (std::uint64_t i = 0; i < 4; ++i) {
        a.extend({transfer(key(2), address_from_byte(51), 20, 2, i)}, 7);
    }
    for (std::uint64_t i = 0; i < 6; ++i) {
        only_b.push_back(transfer(key(3), address_from_byte(52), 30, 3, i));
        if (i != 2) {
            b.extend({only_b.back()}, 8);
            continue;
        }
        // Block 3 of B names a wrong state root (with valid work); later blocks build on it.
        auto proposal = engine.make_template(b.state, b.tip(), b.branch,
                                             std::vector<Transaction>{only_b.back()},
                                             address_from_byte(8), b.tip().timestamp_ms + 1000);
        ASSERT_TRUE(proposal);
        Block bad = proposal->block;
        ASSERT_TRUE(
            chain::apply_block(b.state, bad, genesis.params, chain::SignatureCheck::verify));
        bad.header.state_root[0] ^= 1;
        test::solve(bad.header);
        b.branch.headers.push_back(bad.header);
        b.blocks.push_back(bad);
    }

    TestNode node(genesis, engine);
    node.receive(a.blocks);
    node.receive(b.blocks);
    // At B's fifth block B outweighed A: the node reverted A, applied B's first two blocks,
    // failed on the third and went back to A.
    EXPECT_TRUE(node.tree.is_invalid(b.blocks[2].hash()));
    EXPECT_TRUE(node.was_rejected(b.blocks[5].hash(), chain::ForkChoiceError::invalid_parent));
    EXPECT_EQ(node.tree.tip_hash(), a.blocks.back().hash());
    EXPECT_EQ(node.state.root(), replay(genesis, a.blocks));
    // B's first two transfers were connected, then undone: they wait in the pool. A's are in
    // the chain again.
    EXPECT_EQ(node.pool.size(), 2U);
    EXPECT_TRUE(node.pool.contains(only_b[0].id()));
    EXPECT_TRUE(node.pool.contains(only_b[1].id()));
}

TEST(Reorg, TheRetargetIsEnforced) {
    const chain::Genesis genesis = test::pow_genesis({.difficulty = 4, .window = 2});
    const pow::PowEngine engine(genesis.params);
    ChainBuilder a(engine, genesis);
    for (int i = 0; i < 3; ++i) {
        a.extend({}, 7, 5);  // fast
    }
    // Height 4 retargets: a block that keeps the old, easier target is refused.
    auto proposal = engine.make_template(a.state, a.tip(), a.branch, {}, address_from_byte(7),
                                         a.tip().timestamp_ms + 5);
    ASSERT_TRUE(proposal);
    Block cheat = proposal->block;
    EXPECT_NE(cheat.header.target, a.tip().target);
    cheat.header.target = a.tip().target;
    test::solve(cheat.header);

    TestNode node(genesis, engine);
    node.receive(a.blocks);
    node.receive(cheat);
    EXPECT_TRUE(node.was_rejected(cheat.hash(), ConsensusError::bad_target));
    EXPECT_EQ(node.tree.tip_hash(), a.blocks.back().hash());

    Block honest = proposal->block;
    test::solve(honest.header);
    node.receive(honest);
    EXPECT_EQ(node.tree.tip_hash(), honest.hash());
}

}  // namespace
}  // namespace chainmesh::consensus
