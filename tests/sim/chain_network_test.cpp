// The chain simulator: real fork choice, pow and sync engines on a simulated network.
#include <chainmesh/sim/chain_network.hpp>

#include <gtest/gtest.h>

#include <string>

namespace chainmesh::sim {
namespace {

using namespace std::chrono_literals;

Instant at(Duration d) {
    return Instant{d};
}

ChainConfig small_chain(std::uint64_t seed, std::size_t nodes) {
    ChainConfig config;
    config.network.seed = seed;
    config.network.node_count = nodes;
    config.network.link.latency = LatencyModel::fixed_latency(20ms);
    config.block_interval = 1s;
    // The routers' own checks are the gossip tests' job; here they would triple the time.
    config.network.check_router_invariants = false;
    return config;
}

std::string report(const ChainNetwork& chain) {
    std::string text = format_chain_metrics(chain.metrics());
    for (NodeIndex node = 0; node < chain.network().node_count(); ++node) {
        if (const auto tip = chain.tip(node)) {
            text += std::to_string(tip->height) + ":" + std::to_string(tip->hash[0]) + " ";
        }
    }
    return text;
}

TEST(ChainNetworkTest, MinersAgreeOnOneChainOnceMiningStops) {
    auto config = small_chain(1, 10);
    config.mining_stop = at(40s);
    ChainNetwork chain(config);
    chain.network().connect_random_regular(4);
    chain.run_until(at(60s));
    const auto m = chain.metrics();
    EXPECT_TRUE(chain.tips_agree()) << report(chain);
    EXPECT_GE(m.min_height, 15u) << report(chain);
    EXPECT_EQ(m.min_height, m.max_height);
    EXPECT_GT(m.blocks_mined, 20u);
    EXPECT_EQ(chain.violation_count(), 0u) << chain.violations().front();
    ASSERT_TRUE(chain.agreed_since());
    EXPECT_LE(*chain.agreed_since(), at(45s));
}

TEST(ChainNetworkTest, HalvesThatMinedApartConvergeAfterTheHeal) {
    auto config = small_chain(7, 16);
    config.mining_stop = at(70s);
    ChainNetwork chain(config);
    chain.network().connect_random_regular(4);
    std::vector<NodeIndex> half;
    for (NodeIndex node = 0; node < 8; ++node) {
        half.push_back(node);
    }
    chain.network().schedule_partition(at(10s), {half});
    chain.network().schedule_heal(at(40s));
    chain.run_until(at(39s));
    EXPECT_FALSE(chain.tips_agree()) << "the halves should have grown apart";
    chain.run_until(at(90s));
    const auto m = chain.metrics();
    EXPECT_TRUE(chain.tips_agree()) << report(chain);
    EXPECT_GT(m.reorgs, 0u) << "one half must have given up its branch";
    EXPECT_GT(m.deepest_reorg, 1u);
    EXPECT_EQ(chain.violation_count(), 0u) << chain.violations().front();
    EXPECT_TRUE(chain.first_agreement_after(at(40s)));
}

TEST(ChainNetworkTest, ACrashedNodeRestartsFromItsDiskAndSyncsTheRest) {
    auto config = small_chain(3, 8);
    config.mining_stop = at(60s);
    config.miners = {0, 1, 2, 3};
    ChainNetwork chain(config);
    chain.network().connect_random_regular(3);
    chain.network().schedule_crash(at(15s), 7);
    chain.network().schedule_restart(at(45s), 7);
    chain.run_until(at(14s));
    const auto before = chain.tip(7);
    ASSERT_TRUE(before);
    chain.run_until(at(45s));
    ASSERT_TRUE(chain.tip(7));
    EXPECT_GE(chain.tip(7)->height, before->height) << "the restart must load the disk";
    chain.run_until(at(80s));
    EXPECT_TRUE(chain.tips_agree()) << report(chain);
    EXPECT_GT(chain.metrics().blocks_synced, 0u);
    EXPECT_EQ(chain.violation_count(), 0u) << chain.violations().front();
}

TEST(ChainNetworkTest, InvalidBlocksFromAByzantineNodeAreRefusedAndPenalised) {
    auto config = small_chain(5, 10);
    config.mining_stop = at(40s);
    ChainNetwork chain(config);
    chain.network().connect_random_regular(4);
    chain.network().set_honest(9, false);
    for (int i = 0; i < 10; ++i) {
        chain.schedule_invalid_block(at(5s + i * 3s), 9);
    }
    chain.run_until(at(60s));
    const auto m = chain.metrics();
    EXPECT_EQ(m.invalid_blocks_made, 10u);
    EXPECT_EQ(m.invalid_applied, 0u);
    EXPECT_GT(m.penalties_bad_data, 0u);
    EXPECT_EQ(chain.violation_count(), 0u) << chain.violations().front();
    EXPECT_TRUE(chain.tips_agree()) << report(chain);
}

TEST(ChainNetworkTest, ATrustingNodeIsCaughtApplyingInvalidBlocks) {
    auto config = small_chain(5, 10);
    config.mining_stop = at(40s);
    ChainNetwork chain(config);
    chain.network().connect_random_regular(4);
    chain.network().set_honest(9, false);
    chain.set_trusting(2, true);  // declared honest: the check must catch it
    chain.network().add_link(9, 2);
    for (int i = 0; i < 10; ++i) {
        chain.schedule_invalid_block(at(5s + i * 3s), 9);
    }
    chain.run_until(at(60s));
    EXPECT_GT(chain.metrics().invalid_applied, 0u);
    EXPECT_GT(chain.violation_count(), 0u);
}

TEST(ChainNetworkTest, TheSameSeedReplaysTheSameRun) {
    const auto run = [](std::uint64_t seed) {
        auto config = small_chain(seed, 12);
        config.mining_stop = at(30s);
        ChainNetwork chain(config);
        chain.network().connect_random_regular(4);
        chain.network().schedule_partition(at(5s), {{0, 1, 2, 3, 4, 5}});
        chain.network().schedule_heal(at(20s));
        chain.run_until(at(45s));
        return report(chain);
    };
    EXPECT_EQ(run(11), run(11));
    EXPECT_NE(run(11), run(12));
}

TEST(ChainNetworkTest, TransfersReachEveryMempoolAndTheChain) {
    auto config = small_chain(5, 8);
    config.mining_stop = at(30s);
    config.wallets = 16;
    ChainNetwork chain(config);
    chain.network().connect_random_regular(3);
    for (std::size_t i = 0; i < 40; ++i) {
        chain.schedule_transaction(at(2s + 200ms * static_cast<std::int64_t>(i)),
                                   static_cast<NodeIndex>(i % 8));
    }
    chain.run_until(at(45s));
    const auto m = chain.metrics();
    EXPECT_EQ(m.transactions_made, 40u) << report(chain);
    EXPECT_EQ(m.transactions_confirmed, 40u) << report(chain);
    // Each reached (nearly) every mempool before a block took it.
    EXPECT_GT(m.transactions_admitted, 40u * 4) << report(chain);
    EXPECT_TRUE(chain.tips_agree()) << report(chain);
    EXPECT_EQ(chain.violation_count(), 0u) << chain.violations().front();
}

TEST(ChainNetworkTest, ATransferSubmittedToACutOffNodeIsRebroadcastAfterTheHeal) {
    // Node 0 does not mine; while it is cut off, its transfer's gossip is lost for good
    // (the heal comes after the message cache forgot it). Only a rebroadcast gets it mined.
    auto config = small_chain(11, 6);
    config.mining_stop = at(60s);
    config.miners = {1, 2, 3, 4, 5};
    config.wallets = 4;
    ChainNetwork chain(config);
    chain.network().connect_full();
    chain.network().schedule_partition(at(5s), {{0}});
    chain.schedule_transaction(at(6s), 0);
    chain.network().schedule_heal(at(25s));
    chain.run_until(at(24s));
    EXPECT_EQ(chain.metrics().transactions_made, 1u);
    EXPECT_EQ(chain.metrics().transactions_confirmed, 0u);
    chain.run_until(at(70s));
    EXPECT_EQ(chain.metrics().transactions_confirmed, 1u) << report(chain);
    EXPECT_EQ(chain.violation_count(), 0u) << chain.violations().front();
}

TEST(ChainNetworkTest, BadlySignedTransfersAreRefusedAndTheirRelayPenalised) {
    auto config = small_chain(9, 8);
    config.mining_stop = at(20s);
    config.wallets = 4;
    ChainNetwork chain(config);
    chain.network().connect_random_regular(3);
    chain.network().set_honest(7, false);
    for (std::size_t i = 0; i < 5; ++i) {
        chain.schedule_invalid_transaction(at(2s + 1s * static_cast<std::int64_t>(i)), 7);
    }
    chain.run_until(at(25s));
    const auto m = chain.metrics();
    EXPECT_EQ(m.invalid_transactions_made, 5u);
    EXPECT_EQ(m.invalid_tx_admitted, 0u);
    EXPECT_GE(m.penalties_bad_data, 5u * 3);  // each of node 7's neighbours, each time
    EXPECT_EQ(m.honest_penalised, 0u);
}

}  // namespace
}  // namespace chainmesh::sim
