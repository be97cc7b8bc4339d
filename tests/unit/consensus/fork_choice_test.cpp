// The fork choice engine on its own: a stub consensus whose weight is the header's nonce, so
// each test picks the weights it needs; blocks carry no transactions (the reorg tests run
// real blocks through it).

#include "../chain/chain_fixture.hpp"

#include <chainmesh/chain/fork_choice.hpp>
#include <chainmesh/chain/merkle.hpp>
#include <chainmesh/consensus/errors.hpp>
#include <chainmesh/util/rng.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

namespace chainmesh::chain {
namespace {

using test::address_from_byte;

constexpr std::uint64_t NOW_MS = 1'700'000'000'000 + 1'000'000'000;

ErrorCode code(ForkChoiceError e) {
    return e;
}
ErrorCode code(ChainError e) {
    return e;
}

// Weight = the nonce (at least 1). A header whose consensus data is {0xbb} is refused.
class StubRules final : public ConsensusRules {
public:
    Result<void> check_consensus(const BlockHeader& header, const BlockHeader&,
                                 const HeaderBranch& branch) const override {
        ++calls;
        // The branch given ends at the parent.
        if (branch.at_height(header.height - 1) == nullptr ||
            branch.at_height(header.height) != nullptr) {
            return consensus::ConsensusError::unknown_ancestor;
        }
        if (header.consensus_data == Bytes{0xbb}) {
            return consensus::ConsensusError::bad_proof_of_work;
        }
        return {};
    }
    Work weight(const BlockHeader& header) const override {
        return Work::from_u64(std::max<std::uint64_t>(header.nonce, 1));
    }
    mutable std::size_t calls = 0;
};

BlockHeader genesis_header() {
    BlockHeader header;
    header.network_id = "testnet";
    header.timestamp_ms = 1'700'000'000'000;
    header.nonce = 1;
    return header;
}

// A block on `parent` of weight `weight`; `tag` makes siblings differ.
Block child(const BlockHeader& parent, std::uint64_t weight, std::uint8_t tag = 0) {
    Block block;
    BlockHeader& header = block.header;
    header.network_id = "testnet";
    header.height = parent.height + 1;
    header.previous_hash = parent.hash();
    header.transactions_root = merkle_root({});
    header.timestamp_ms = parent.timestamp_ms + 1000;
    header.beneficiary = address_from_byte(tag);
    header.nonce = weight;
    return block;
}

struct Events {
    std::vector<Hash256> accepted;
    std::vector<Hash256> headers;
    std::vector<BlockOrphaned> orphaned;
    std::vector<Rejected> rejected;
    std::vector<NewBestTip> tips;
};

struct ForkChoiceTest : ::testing::Test {
    ChainParams params = test::test_params();
    StubRules rules;
    BlockHeader genesis = genesis_header();
    ForkChoiceConfig config;
    std::unique_ptr<ForkChoice> tree;

    void SetUp() override { make(); }
    void make() { tree = std::make_unique<ForkChoice>(params, config, rules, genesis); }

    Events drain() {
        Events out;
        for (auto& event : tree->take_events()) {
            std::visit(
                [&](auto& e) {
                    using T = std::decay_t<decltype(e)>;
                    if constexpr (std::is_same_v<T, BlockAccepted>) {
                        out.accepted.push_back(e.block.hash());
                    } else if constexpr (std::is_same_v<T, HeaderAccepted>) {
                        out.headers.push_back(e.hash);
                    } else if constexpr (std::is_same_v<T, BlockOrphaned>) {
                        out.orphaned.push_back(e);
                    } else if constexpr (std::is_same_v<T, Rejected>) {
                        out.rejected.push_back(e);
                    } else {
                        out.tips.push_back(e);
                    }
                },
                event);
        }
        tree->check_invariants();
        return out;
    }

    Events add(const Block& block) {
        tree->add_block(block, NOW_MS);
        return drain();
    }
    Events add_header(const BlockHeader& header) {
        tree->add_header(header, NOW_MS);
        return drain();
    }
    // A chain of `count` blocks of weight `weight` on `parent`, each added.
    std::vector<Block> extend(const BlockHeader& parent, std::size_t count, std::uint64_t weight,
                              std::uint8_t tag) {
        std::vector<Block> blocks;
        const BlockHeader* tip = &parent;
        for (std::size_t i = 0; i < count; ++i) {
            blocks.push_back(child(*tip, weight, tag));
            tip = &blocks.back().header;
            add(blocks.back());
        }
        return blocks;
    }
};

std::vector<Hash256> hashes(const std::vector<Block>& blocks) {
    std::vector<Hash256> out;
    for (const Block& block : blocks) {
        out.push_back(block.hash());
    }
    return out;
}

std::vector<Hash256> reversed(std::vector<Hash256> v) {
    std::reverse(v.begin(), v.end());
    return v;
}

TEST_F(ForkChoiceTest, ExtendingTheTipIsAPlanWithNothingToRevert) {
    const Block b1 = child(genesis, 1);
    const Events events = add(b1);
    EXPECT_EQ(events.accepted, std::vector<Hash256>{b1.hash()});
    ASSERT_EQ(events.tips.size(), 1U);
    EXPECT_FALSE(events.tips[0].is_reorg());
    EXPECT_EQ(events.tips[0].previous_tip, genesis.hash());
    EXPECT_EQ(events.tips[0].fork_point, genesis.hash());
    EXPECT_EQ(events.tips[0].apply, std::vector<Hash256>{b1.hash()});
    EXPECT_EQ(events.tips[0].height, 1U);
    EXPECT_EQ(tree->tip_hash(), b1.hash());
    EXPECT_EQ(tree->height(), 1U);
    EXPECT_EQ(*tree->chain_work(b1.hash()), Work::from_u64(2));
}

TEST_F(ForkChoiceTest, AStoredChainIsRestoredWithoutEventsAndJudgedLikeAnyOther) {
    // A node's own chain, as a restart reads it from the store.
    std::vector<Block> stored;
    const BlockHeader* tip = &genesis;
    for (int i = 0; i < 4; ++i) {
        stored.push_back(child(*tip, 2, 7));
        tip = &stored.back().header;
        ASSERT_TRUE(tree->restore_applied(stored.back().header));
    }
    EXPECT_TRUE(drain().tips.empty());
    EXPECT_EQ(tree->tip_hash(), stored.back().hash());
    EXPECT_EQ(tree->height(), 4U);
    EXPECT_EQ(*tree->chain_work(stored.back().hash()), Work::from_u64(1 + 4 * 2));
    EXPECT_EQ(*tree->active_at(2), stored[1].hash());

    // Only a header extending the tip can be restored.
    EXPECT_EQ(tree->restore_applied(stored[1].header).error(), ChainError::wrong_parent);
    EXPECT_EQ(tree->restore_applied(child(genesis, 1, 9).header).error(),
              ChainError::wrong_parent);

    // A lighter branch from a peer stays aside; a heavier one is a reorg of the restored chain.
    const auto light = extend(stored[1].header, 2, 1, 3);
    EXPECT_EQ(tree->tip_hash(), stored.back().hash());
    const Events heavier = add(child(light.back().header, 10, 3));
    ASSERT_EQ(heavier.tips.size(), 1U);
    EXPECT_EQ(heavier.tips[0].revert,
              (std::vector<Hash256>{stored[3].hash(), stored[2].hash()}));
    EXPECT_EQ(heavier.tips[0].fork_point, stored[1].hash());
}

TEST_F(ForkChoiceTest, TheHeavierBranchWinsNotTheLongerOne) {
    const auto a = extend(genesis, 3, 1, 1);
    EXPECT_EQ(tree->tip_hash(), a.back().hash());
    const Block b1 = child(genesis, 10, 2);  // work 1 + 10 against 1 + 3
    const Events events = add(b1);
    ASSERT_EQ(events.tips.size(), 1U);
    const NewBestTip& plan = events.tips[0];
    EXPECT_TRUE(plan.is_reorg());
    EXPECT_EQ(plan.revert, reversed(hashes(a)));
    EXPECT_EQ(plan.apply, std::vector<Hash256>{b1.hash()});
    EXPECT_EQ(plan.previous_tip, a.back().hash());
    EXPECT_EQ(plan.fork_point, genesis.hash());
    EXPECT_EQ(tree->tip_hash(), b1.hash());
    EXPECT_EQ(tree->height(), 1U);

    // Lighter but longer does not come back.
    const auto more_a = extend(a.back().header, 5, 1, 1);  // 1 + 8 < 11
    EXPECT_EQ(tree->tip_hash(), b1.hash());
    // Heavier again: back to the longer branch, from the fork point.
    const auto last_a = extend(more_a.back().header, 2, 1, 1);  // 1 + 10 = 11: a tie
    EXPECT_EQ(tree->tip_hash(), b1.hash());
    const Events back = add(child(last_a.back().header, 1, 1));
    ASSERT_EQ(back.tips.size(), 1U);
    EXPECT_EQ(back.tips[0].revert, std::vector<Hash256>{b1.hash()});
    EXPECT_EQ(back.tips[0].apply.size(), 11U);
    EXPECT_EQ(tree->height(), 11U);
}

TEST_F(ForkChoiceTest, TiesGoToTheFirstSeen) {
    const Block a1 = child(genesis, 5, 1);
    const Block b1 = child(genesis, 5, 2);
    add(a1);
    const Events tie = add(b1);
    EXPECT_TRUE(tie.tips.empty());
    EXPECT_EQ(tree->tip_hash(), a1.hash());
    const Block b2 = child(b1.header, 1, 2);
    const Events heavier = add(b2);
    ASSERT_EQ(heavier.tips.size(), 1U);
    EXPECT_EQ(heavier.tips[0].revert, std::vector<Hash256>{a1.hash()});
    EXPECT_EQ(heavier.tips[0].apply, (std::vector<Hash256>{b1.hash(), b2.hash()}));
}

TEST_F(ForkChoiceTest, OrphansAttachWhenTheirParentArrives) {
    Block b1 = child(genesis, 1);
    Block b2 = child(b1.header, 1);
    Block b3 = child(b2.header, 1);
    Block b3_sibling = child(b2.header, 2, 7);
    Events events = add(b3);
    ASSERT_EQ(events.orphaned.size(), 1U);
    EXPECT_EQ(events.orphaned[0].missing_parent, b2.hash());
    events = add(b3_sibling);
    events = add(b2);
    ASSERT_EQ(events.orphaned.size(), 1U);
    EXPECT_EQ(events.orphaned[0].missing_parent, b1.hash());
    EXPECT_EQ(tree->orphan_count(), 3U);
    EXPECT_EQ(add(b2).rejected[0].reason, code(ForkChoiceError::already_known));

    events = add(b1);
    EXPECT_EQ(tree->orphan_count(), 0U);
    EXPECT_EQ(tree->orphan_bytes(), 0U);
    EXPECT_EQ(events.accepted.size(), 4U);
    ASSERT_EQ(events.tips.size(), 1U);  // one plan for the whole input
    EXPECT_EQ(events.tips[0].apply,
              (std::vector<Hash256>{b1.hash(), b2.hash(), b3_sibling.hash()}));
    EXPECT_EQ(tree->tip_hash(), b3_sibling.hash());
}

TEST_F(ForkChoiceTest, TheOrphanPoolEvictsTheOldestByCountAndBytes) {
    config.orphan_max_blocks = 3;
    make();
    std::vector<Block> orphans;
    for (std::uint8_t i = 0; i < 5; ++i) {
        BlockHeader unknown = genesis;
        unknown.height = 4;
        unknown.timestamp_ms += i;
        orphans.push_back(child(unknown, 1, i));
        add(orphans.back());
    }
    EXPECT_EQ(tree->orphan_count(), 3U);
    EXPECT_FALSE(tree->is_orphan(orphans[0].hash()));
    EXPECT_FALSE(tree->is_orphan(orphans[1].hash()));
    EXPECT_TRUE(tree->is_orphan(orphans[4].hash()));
    EXPECT_EQ(tree->orphan_bytes(), 3 * orphans[0].encoded_size());

    config.orphan_max_blocks = 100;
    config.orphan_max_bytes = 2 * orphans[0].encoded_size() + 10;
    make();
    for (const Block& orphan : orphans) {
        add(orphan);
    }
    EXPECT_EQ(tree->orphan_count(), 2U);
    EXPECT_TRUE(tree->is_orphan(orphans[3].hash()));
    EXPECT_TRUE(tree->is_orphan(orphans[4].hash()));

    config.orphan_max_bytes = orphans[0].encoded_size() - 1;
    make();
    EXPECT_EQ(add(orphans[0]).rejected[0].reason, code(ForkChoiceError::orphan_too_large));
    EXPECT_EQ(tree->orphan_count(), 0U);
}

TEST_F(ForkChoiceTest, OrphansTooLowToEverConnectAreRefused) {
    config.max_reorg_depth = 3;
    make();
    extend(genesis, 6, 1, 1);
    BlockHeader unknown = genesis;
    unknown.height = 2;  // the orphan at height 3 forks at 2 or below: 4 below the tip
    unknown.beneficiary = address_from_byte(50);
    EXPECT_EQ(add(child(unknown, 1)).rejected[0].reason, code(ForkChoiceError::fork_too_deep));
    unknown.height = 3;  // height 4: it could still fork at 3, depth 3
    EXPECT_TRUE(add(child(unknown, 1)).rejected.empty());
    EXPECT_EQ(tree->orphan_count(), 1U);
    BlockHeader zero = genesis;
    zero.beneficiary = address_from_byte(51);
    Block at_zero = child(zero, 1);
    at_zero.header.height = 0;
    EXPECT_EQ(add(at_zero).rejected[0].reason, code(ChainError::wrong_height));
}

TEST_F(ForkChoiceTest, AnOrphanThatFailsTakesItsWaitingChildrenWithIt) {
    const Block b1 = child(genesis, 1);
    Block b2 = child(b1.header, 1);
    b2.header.timestamp_ms = b1.header.timestamp_ms;  // not after its parent
    const Block b3 = child(b2.header, 1);
    const Block b4 = child(b3.header, 1);
    add(b4);
    add(b3);
    add(b2);
    EXPECT_EQ(tree->orphan_count(), 3U);
    const Events events = add(b1);
    EXPECT_EQ(events.accepted, std::vector<Hash256>{b1.hash()});
    ASSERT_EQ(events.rejected.size(), 3U);
    EXPECT_EQ(events.rejected[0].hash, b2.hash());
    EXPECT_EQ(events.rejected[0].reason, code(ChainError::timestamp_not_after_parent));
    EXPECT_EQ(events.rejected[1].reason, code(ForkChoiceError::invalid_parent));
    EXPECT_EQ(events.rejected[2].reason, code(ForkChoiceError::invalid_parent));
    EXPECT_EQ(tree->orphan_count(), 0U);
    EXPECT_EQ(tree->tip_hash(), b1.hash());
}

TEST_F(ForkChoiceTest, HeadersFirstThenBodies) {
    const Block b1 = child(genesis, 1);
    const Block b2 = child(b1.header, 1);
    const Block b3 = child(b2.header, 1);
    for (const Block* block : {&b1, &b2, &b3}) {
        const Events events = add_header(block->header);
        EXPECT_EQ(events.headers, std::vector<Hash256>{block->hash()});
        EXPECT_TRUE(events.tips.empty());
    }
    EXPECT_EQ(tree->tip_hash(), genesis.hash());
    EXPECT_EQ(add_header(b2.header).rejected[0].reason, code(ForkChoiceError::already_known));

    Events events = add(b3);  // its parents have no bodies yet
    EXPECT_EQ(events.accepted, std::vector<Hash256>{b3.hash()});
    EXPECT_TRUE(events.tips.empty());
    events = add(b1);
    ASSERT_EQ(events.tips.size(), 1U);
    EXPECT_EQ(events.tips[0].apply, std::vector<Hash256>{b1.hash()});
    events = add(b2);  // fills the gap: b2 and b3 at once
    ASSERT_EQ(events.tips.size(), 1U);
    EXPECT_EQ(events.tips[0].apply, (std::vector<Hash256>{b2.hash(), b3.hash()}));
    EXPECT_EQ(add(b2).rejected[0].reason, code(ForkChoiceError::already_known));

    // A header whose parent is unknown is refused, not pooled.
    const Block far = child(child(b3.header, 1).header, 1);
    EXPECT_EQ(add_header(far.header).rejected[0].reason, code(ForkChoiceError::unknown_parent));
}

TEST_F(ForkChoiceTest, BadBodiesAreRefusedWithoutCondemningTheHeader) {
    const Block b1 = child(genesis, 1);
    add_header(b1.header);
    Block mangled = b1;
    mangled.transactions.push_back(test::transfer(test::key(1), address_from_byte(5), 1, 0, 0));
    Events events = add(mangled);  // same header, so same hash, but a body it does not commit to
    ASSERT_EQ(events.rejected.size(), 1U);
    EXPECT_EQ(events.rejected[0].reason, code(ChainError::bad_merkle_root));
    EXPECT_FALSE(tree->is_invalid(b1.hash()));
    events = add(b1);
    EXPECT_EQ(tree->tip_hash(), b1.hash());

    Block mangled_new = child(b1.header, 1);
    mangled_new.transactions = mangled.transactions;
    EXPECT_EQ(add(mangled_new).rejected[0].reason, code(ChainError::bad_merkle_root));
    EXPECT_FALSE(tree->contains(mangled_new.hash()));
}

TEST_F(ForkChoiceTest, HeaderRulesAndConsensusRulesReject) {
    Block wrong_network = child(genesis, 1);
    wrong_network.header.network_id = "othernet";
    EXPECT_EQ(add(wrong_network).rejected[0].reason, code(ChainError::wrong_network));
    Block future = child(genesis, 1);
    future.header.timestamp_ms = NOW_MS + params.max_timestamp_drift_ms + 1;
    EXPECT_EQ(add(future).rejected[0].reason, code(ChainError::timestamp_too_far_in_future));
    Block bad_work = child(genesis, 1);
    bad_work.header.consensus_data = {0xbb};
    EXPECT_EQ(add(bad_work).rejected[0].reason,
              ErrorCode(consensus::ConsensusError::bad_proof_of_work));
    EXPECT_EQ(tree->block_count(), 1U);
    EXPECT_GT(rules.calls, 0U);
}

TEST_F(ForkChoiceTest, AnInvalidBlockSendsTheTipBackAndStaysInvalid) {
    const auto a = extend(genesis, 3, 1, 1);
    std::vector<Block> b;
    b.push_back(child(genesis, 2, 2));
    for (int i = 0; i < 3; ++i) {
        b.push_back(child(b.back().header, 2, 2));
    }
    Events events;
    for (const Block& block : b) {
        events = add(block);
    }
    EXPECT_EQ(tree->tip_hash(), b[3].hash());
    // The caller applied b[0], then b[1] failed.
    tree->mark_invalid(b[1].hash(), ChainError::bad_state_root, b[0].hash());
    events = drain();
    ASSERT_EQ(events.tips.size(), 1U);
    const NewBestTip& plan = events.tips[0];
    EXPECT_EQ(plan.previous_tip, b[0].hash());
    EXPECT_EQ(plan.revert, std::vector<Hash256>{b[0].hash()});
    EXPECT_EQ(plan.apply, hashes(a));
    EXPECT_EQ(tree->tip_hash(), a.back().hash());
    EXPECT_TRUE(tree->is_invalid(b[1].hash()));
    EXPECT_TRUE(tree->is_invalid(b[3].hash()));
    EXPECT_FALSE(tree->is_invalid(b[0].hash()));

    EXPECT_EQ(add(b[2]).rejected[0].reason, code(ForkChoiceError::known_invalid));
    EXPECT_EQ(add(child(b[3].header, 100)).rejected[0].reason,
              code(ForkChoiceError::invalid_parent));
    // b[0] (work 3) still loses to a (work 4); a heavier child of b[0] wins.
    const Events fresh = add(child(b[0].header, 5, 3));
    ASSERT_EQ(fresh.tips.size(), 1U);
    EXPECT_EQ(fresh.tips[0].apply.size(), 2U);
}

TEST_F(ForkChoiceTest, AnInvalidBlockWithNothingBetterLeavesTheTipWhereTheStateStopped) {
    const auto a = extend(genesis, 3, 1, 1);
    tree->mark_invalid(a[2].hash(), ChainError::insufficient_balance, a[1].hash());
    const Events events = drain();
    ASSERT_EQ(events.tips.size(), 1U);
    EXPECT_EQ(events.tips[0].tip, a[1].hash());
    EXPECT_TRUE(events.tips[0].apply.empty());
    EXPECT_TRUE(events.tips[0].revert.empty());
    EXPECT_EQ(tree->tip_hash(), a[1].hash());
}

TEST_F(ForkChoiceTest, ReorgsDeeperThanTheMaximumAreRefused) {
    config.max_reorg_depth = 3;
    make();
    const auto a = extend(genesis, 6, 1, 1);
    // Forking at a[2] (height 3): 3 below the tip, allowed.
    const Events ok = add(child(a[2].header, 10, 2));
    ASSERT_EQ(ok.tips.size(), 1U);
    EXPECT_EQ(ok.tips[0].revert.size(), 3U);
    EXPECT_EQ(tree->height(), 4U);

    // Now the tip is at height 4 on the new branch. A branch off a[0] (height 1) forks 3 below:
    // allowed to be stored; off genesis, 4 below: refused on arrival.
    const Block deep = child(genesis, 100, 3);
    const Events refused = add(deep);
    ASSERT_EQ(refused.rejected.size(), 1U);
    EXPECT_EQ(refused.rejected[0].reason, code(ForkChoiceError::fork_too_deep));
    EXPECT_FALSE(tree->contains(deep.hash()));
    EXPECT_EQ(tree->height(), 4U);
}

TEST_F(ForkChoiceTest, ABranchThatGrewTooDeepWhileItsBodiesWereMissingIsRefusedAtTheSwitch) {
    config.max_reorg_depth = 2;
    make();
    // Headers of a heavy branch off genesis arrive first, bodies later.
    const Block h1 = child(genesis, 50, 2);
    const Block h2 = child(h1.header, 50, 2);
    add_header(h1.header);
    add_header(h2.header);
    // Meanwhile the active chain grows 3 blocks: the branch now forks 3 below the tip.
    const auto a = extend(genesis, 3, 1, 1);
    add(h2);
    const Events events = add(h1);  // completes the heavy branch: too deep to switch to
    EXPECT_TRUE(events.tips.empty());
    ASSERT_EQ(events.rejected.size(), 1U);
    EXPECT_EQ(events.rejected[0].hash, h2.hash());
    EXPECT_EQ(events.rejected[0].reason, code(ForkChoiceError::fork_too_deep));
    EXPECT_TRUE(tree->is_invalid(h1.hash()));
    EXPECT_EQ(tree->tip_hash(), a.back().hash());
}

TEST_F(ForkChoiceTest, AncestorsMatchAParentWalkOnARandomTree) {
    Rng rng(11);
    std::vector<Block> blocks{Block{genesis, {}}};
    for (int i = 0; i < 400; ++i) {
        // Mostly extend recent blocks, sometimes fork far back.
        const std::size_t pick =
            rng.uniform(4) == 0
                ? rng.uniform(blocks.size())
                : blocks.size() - 1 - rng.uniform(std::min<std::size_t>(blocks.size(), 3));
        blocks.push_back(child(blocks[pick].header, 1 + rng.uniform(3),
                               static_cast<std::uint8_t>(rng.uniform(250))));
        tree->add_block(blocks.back(), NOW_MS);
        tree->take_events();
    }
    tree->check_invariants();
    std::map<Hash256, const Block*> by_hash;
    for (const Block& block : blocks) {
        by_hash[block.hash()] = &block;
    }
    for (int i = 0; i < 500; ++i) {
        const Block& from = blocks[rng.uniform(blocks.size())];
        if (!tree->contains(from.hash())) {
            continue;  // a duplicate (same parent, weight and tag)
        }
        const std::uint64_t height = rng.uniform(from.header.height + 2);
        const BlockHeader* expected = &from.header;
        while (expected->height > height) {
            expected = &by_hash.at(expected->previous_hash)->header;
        }
        const BlockHeader* found = tree->ancestor(from.hash(), height);
        if (height > from.header.height) {
            EXPECT_EQ(found, nullptr);
        } else {
            ASSERT_NE(found, nullptr);
            EXPECT_EQ(found->hash(), expected->hash());
        }
    }
}

// Random trees fed in random order (bodies, headers, duplicates): the tip is always the
// heaviest complete block, and following every plan from the previous active chain gives
// exactly the new active chain.
TEST_F(ForkChoiceTest, RandomArrivalsAlwaysEndOnTheHeaviestCompleteBlock) {
    config.max_reorg_depth = 1000;
    config.orphan_max_blocks = 1000;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        make();
        Rng rng(seed);
        std::vector<Block> blocks{Block{genesis, {}}};
        for (int i = 0; i < 60; ++i) {
            const Block& parent = blocks[rng.uniform(blocks.size())];
            blocks.push_back(
                child(parent.header, 1 + rng.uniform(1'000'000), static_cast<std::uint8_t>(i)));
        }
        std::vector<std::size_t> order(blocks.size() - 1);
        std::iota(order.begin(), order.end(), 1);
        std::shuffle(order.begin(), order.end(), rng);

        std::set<Hash256> have_body{genesis.hash()};
        std::vector<Hash256> active{genesis.hash()};  // what a caller following the plans holds
        std::map<Hash256, const Block*> by_hash;
        for (const Block& block : blocks) {
            by_hash[block.hash()] = &block;
        }
        auto follow = [&](const Events& events) {
            for (const NewBestTip& plan : events.tips) {
                for (const Hash256& hash : plan.revert) {
                    ASSERT_EQ(active.back(), hash);
                    active.pop_back();
                }
                ASSERT_EQ(active.back(), plan.fork_point);
                for (const Hash256& hash : plan.apply) {
                    ASSERT_EQ(by_hash.at(hash)->header.previous_hash, active.back());
                    active.push_back(hash);
                }
            }
        };
        for (std::size_t index : order) {
            const Block& block = blocks[index];
            if (rng.uniform(3) == 0 && tree->contains(block.header.previous_hash)) {
                follow(add_header(block.header));
            }
            follow(add(block));
            have_body.insert(block.hash());
            if (rng.uniform(5) == 0) {
                follow(add(block));  // a duplicate changes nothing
            }
        }
        // All blocks are in; the heaviest one (weights are random, ties unlikely) is the tip.
        Work best_work;
        Hash256 best{};
        for (const Block& block : blocks) {
            const auto work = tree->chain_work(block.hash());
            ASSERT_TRUE(work.has_value());
            if (*work > best_work) {
                best_work = *work;
                best = block.hash();
            }
        }
        EXPECT_EQ(tree->tip_hash(), best) << "seed " << seed;
        EXPECT_EQ(active.back(), best);
        EXPECT_EQ(active.size(), tree->height() + 1);
        for (std::size_t h = 0; h < active.size(); ++h) {
            EXPECT_EQ(*tree->active_at(h), active[h]);
        }
        EXPECT_EQ(tree->orphan_count(), 0U);
    }
}

TEST(ForkChoiceError, HasNamesAndMessages) {
    EXPECT_EQ(name(ForkChoiceError::fork_too_deep), "fork_too_deep");
    EXPECT_STREQ(code(ForkChoiceError::orphan_too_large).category().name(), "fork_choice");
    EXPECT_EQ(code(ForkChoiceError::unknown_parent).message(), "parent header unknown");
}

}  // namespace
}  // namespace chainmesh::chain
