#include <gtest/gtest.h>

#include <chainmesh/sim/eclipse_network.hpp>

namespace chainmesh::sim {
namespace {

using namespace std::chrono_literals;

EclipseConfig attack(std::uint64_t seed) {
    EclipseConfig config;
    config.seed = seed;
    config.duration = 300s;
    config.restart_at = 150s;
    return config;
}

TEST(EclipseNetwork, PeerSlotsKeepHonestPeersThroughTheAttackAndARestart) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        const EclipseMetrics m = run_eclipse(attack(seed));
        SCOPED_TRACE(format_eclipse_metrics(m));
        EXPECT_GT(m.samples, 200u);
        EXPECT_EQ(m.failing_samples, 0u);
        EXPECT_EQ(m.eclipsed_samples, 0u);
        // The attacker's one /16 holds at most one outbound and max_inbound_per_group inbound.
        EXPECT_LE(m.final_attacker_outbound, 1u);
        EXPECT_LE(m.final_attacker_inbound, EclipseConfig{}.slots.max_inbound_per_group);
        EXPECT_GE(m.min_honest_connections, EclipseConfig{}.slots.max_outbound / 2);
        // It tried hard, and the inbound cap turned it away.
        EXPECT_GT(m.attacker_attempts, 1000u);
        EXPECT_GT(m.refused, 1000u);
    }
}

TEST(EclipseNetwork, WithoutPeerSlotsTheVictimIsEclipsed) {
    EclipseConfig config = attack(1);
    config.slot_policy = false;
    const EclipseMetrics m = run_eclipse(config);
    SCOPED_TRACE(format_eclipse_metrics(m));
    EXPECT_GT(m.failing_samples, 0u);
    EXPECT_GT(m.max_attacker_share, 0.95);
    EXPECT_LE(m.final_honest_inbound + m.final_honest_outbound, 1u);
}

TEST(EclipseNetwork, EvictionMakesRoomForHonestNewcomersWhenTheInboundSlotsAreFull) {
    EclipseConfig config = attack(2);
    // Enough attacker ranges' worth of inbound cap to fill every inbound slot.
    config.slots.max_inbound = 8;
    config.slots.max_inbound_per_group = 8;
    config.honest_inbound_interval = 1s;
    const EclipseMetrics m = run_eclipse(config);
    SCOPED_TRACE(format_eclipse_metrics(m));
    EXPECT_GT(m.evicted_attacker, 0u);
    EXPECT_EQ(m.failing_samples, 0u);
}

TEST(EclipseNetwork, TheSameSeedGivesTheSameRun) {
    EXPECT_EQ(format_eclipse_metrics(run_eclipse(attack(7))),
              format_eclipse_metrics(run_eclipse(attack(7))));
    EXPECT_NE(format_eclipse_metrics(run_eclipse(attack(7))),
              format_eclipse_metrics(run_eclipse(attack(8))));
}

}  // namespace
}  // namespace chainmesh::sim
