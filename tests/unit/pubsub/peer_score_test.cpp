#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/pubsub/peer_score.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <string>

namespace chainmesh::pubsub {
namespace {

using namespace std::chrono_literals;

const Topic TOPIC = "t";

crypto::PeerId peer(std::uint8_t n) {
    crypto::Ed25519Seed seed{};
    seed.fill(n);
    return crypto::Identity(crypto::Ed25519PrivateKey::from_seed(seed)).peer_id();
}

MessageId id(int n) { return to_bytes("msg-" + std::to_string(n)); }

Instant at(Duration d) { return Instant{} + 1000s + d; }

// Every weight zero: tests switch on the component they look at.
TopicScoreParams silent_topic() {
    TopicScoreParams p;
    p.time_in_mesh_weight = 0;
    p.first_message_deliveries_weight = 0;
    p.mesh_message_deliveries_weight = 0;
    p.mesh_failure_penalty_weight = 0;
    p.invalid_message_deliveries_weight = 0;
    return p;
}

ScoreParams silent_params(TopicScoreParams topic = silent_topic()) {
    ScoreParams p;
    p.topics[TOPIC] = topic;
    p.app_specific_weight = 0;
    p.ip_colocation_factor_weight = 0;
    p.behaviour_penalty_weight = 0;
    p.decay_to_zero = 0.1;
    return p;
}

class PeerScoreTest : public ::testing::Test {
protected:
    void make(ScoreParams params) {
        m_score.emplace(std::move(params), 120s, 1000);
        m_score->refresh(at(0s));  // starts the decay clock
    }
    // A message first delivered by `from`, then validated with `result` at the same instant.
    void deliver(const crypto::PeerId& from, int n, Instant now) {
        m_score->validate_message(from, id(n), TOPIC, now);
        m_score->deliver_message(id(n), now);
    }
    void TearDown() override {
        if (m_score) {
            m_score->check_invariants();
        }
    }
    PeerScore& s() { return *m_score; }

    std::optional<PeerScore> m_score;
    const crypto::PeerId m_a = peer(1);
    const crypto::PeerId m_b = peer(2);
    const crypto::PeerId m_c = peer(3);
};

TEST_F(PeerScoreTest, UnknownPeersScoreZero) {
    make(ScoreParams{});
    EXPECT_EQ(s().score(m_a), 0.0);
    EXPECT_FALSE(s().snapshot(m_a));
}

TEST_F(PeerScoreTest, TimeInMeshCountsWholeQuantaUpToTheCap) {
    auto topic = silent_topic();
    topic.time_in_mesh_weight = 2;
    topic.time_in_mesh_quantum = 1s;
    topic.time_in_mesh_cap = 10;
    make(silent_params(topic));
    s().add_peer(m_a, "", at(0s));
    EXPECT_EQ(s().score(m_a), 0.0);
    s().graft(m_a, TOPIC, at(0s));
    s().refresh(at(3500ms));
    EXPECT_EQ(s().score(m_a), 6.0);
    s().refresh(at(100s));
    EXPECT_EQ(s().score(m_a), 20.0);
    s().prune(m_a, TOPIC, at(100s));
    EXPECT_EQ(s().score(m_a), 0.0);
}

TEST_F(PeerScoreTest, FirstDeliveriesAreCappedAndDecayToZero) {
    auto topic = silent_topic();
    topic.first_message_deliveries_weight = 1;
    topic.first_message_deliveries_cap = 3;
    topic.first_message_deliveries_decay = 0.5;
    make(silent_params(topic));
    s().add_peer(m_a, "", at(0s));
    for (int n = 0; n < 5; ++n) {
        deliver(m_a, n, at(0s));
    }
    EXPECT_EQ(s().score(m_a), 3.0);
    s().refresh(at(1s));
    EXPECT_EQ(s().score(m_a), 1.5);
    // Four more intervals in one call: 1.5 · 0.5⁴ = 0.09375, under decay_to_zero (0.1).
    s().refresh(at(5s));
    EXPECT_EQ(s().score(m_a), 0.0);
    EXPECT_EQ(s().snapshot(m_a)->topics.at(TOPIC).first_message_deliveries, 0.0);
}

TEST_F(PeerScoreTest, RefreshCatchesUpOnEveryElapsedInterval) {
    auto topic = silent_topic();
    topic.first_message_deliveries_weight = 1;
    topic.first_message_deliveries_cap = 1000;
    topic.first_message_deliveries_decay = 0.9;
    make(silent_params(topic));
    s().add_peer(m_a, "", at(0s));
    for (int n = 0; n < 100; ++n) {
        deliver(m_a, n, at(0s));
    }
    s().refresh(at(500ms));  // before the first interval ends: nothing
    EXPECT_EQ(s().score(m_a), 100.0);
    s().refresh(at(3s));  // intervals ending at 1 s, 2 s and 3 s
    EXPECT_NEAR(s().score(m_a), 100 * 0.9 * 0.9 * 0.9, 1e-9);
}

TEST_F(PeerScoreTest, MeshDeliveryDeficitAppliesAfterActivation) {
    auto topic = silent_topic();
    topic.mesh_message_deliveries_weight = -1;
    topic.mesh_message_deliveries_threshold = 4;
    topic.mesh_message_deliveries_cap = 10;
    topic.mesh_message_deliveries_decay = 0.99;
    topic.mesh_message_deliveries_activation = 2s;
    topic.mesh_message_deliveries_window = 10ms;
    make(silent_params(topic));
    s().add_peer(m_a, "", at(0s));
    s().add_peer(m_b, "", at(0s));
    s().graft(m_a, TOPIC, at(0s));
    s().graft(m_b, TOPIC, at(0s));
    // a delivers first; b's copy during validation and one 5 ms after count as near-first;
    // c is not in the mesh; b's copy of a second message 50 ms late does not count.
    s().validate_message(m_a, id(1), TOPIC, at(0s));
    s().duplicate_message(m_b, id(1), at(0s));
    s().deliver_message(id(1), at(0s));
    deliver(m_a, 2, at(0s));
    s().duplicate_message(m_b, id(2), at(5ms));
    deliver(m_a, 3, at(0s));
    s().duplicate_message(m_b, id(3), at(50ms));
    EXPECT_EQ(s().score(m_a), 0.0);  // not active yet
    s().refresh(at(2500ms));
    const double decay = 0.99 * 0.99;  // two intervals have passed
    EXPECT_NEAR(s().score(m_a), -std::pow(4 - 3 * decay, 2), 1e-9);
    EXPECT_NEAR(s().score(m_b), -std::pow(4 - 2 * decay, 2), 1e-9);
}

TEST_F(PeerScoreTest, PruneWithDeficitLeavesAStickyFailurePenalty) {
    auto topic = silent_topic();
    topic.mesh_message_deliveries_weight = -1;
    topic.mesh_message_deliveries_threshold = 3;
    topic.mesh_message_deliveries_activation = 1s;
    topic.mesh_failure_penalty_weight = -2;
    topic.mesh_failure_penalty_decay = 0.5;
    make(silent_params(topic));
    s().add_peer(m_a, "", at(0s));
    s().graft(m_a, TOPIC, at(0s));
    s().refresh(at(1500ms));
    EXPECT_EQ(s().score(m_a), -9.0);  // deficit 3
    s().prune(m_a, TOPIC, at(1500ms));
    EXPECT_EQ(s().score(m_a), -18.0);  // P₃ gone, P₃b = 9 with weight -2
    s().refresh(at(2s));
    EXPECT_EQ(s().score(m_a), -9.0);
    // Pruning inside the activation window costs nothing.
    s().add_peer(m_b, "", at(2s));
    s().graft(m_b, TOPIC, at(2s));
    s().prune(m_b, TOPIC, at(2500ms));
    EXPECT_EQ(s().score(m_b), 0.0);
}

TEST_F(PeerScoreTest, InvalidMessagesCountSquaredAndCatchLateCopies) {
    auto topic = silent_topic();
    topic.invalid_message_deliveries_weight = -1;
    make(silent_params(topic));
    for (const auto& p : {m_a, m_b, m_c}) {
        s().add_peer(p, "", at(0s));
    }
    s().validate_message(m_a, id(1), TOPIC, at(0s));
    s().duplicate_message(m_b, id(1), at(0s));  // a copy while validating
    s().reject_message(id(1), at(0s));
    s().duplicate_message(m_c, id(1), at(1s));  // a copy after the rejection
    EXPECT_EQ(s().score(m_a), -1.0);
    EXPECT_EQ(s().score(m_b), -1.0);
    EXPECT_EQ(s().score(m_c), -1.0);
    s().reject_unverified(m_a, TOPIC, at(1s));
    EXPECT_EQ(s().score(m_a), -4.0);
    // Ignored messages cost nothing, nor do copies of them.
    s().validate_message(m_b, id(2), TOPIC, at(1s));
    s().ignore_message(id(2), at(1s));
    s().duplicate_message(m_c, id(2), at(1s));
    EXPECT_EQ(s().score(m_b), -1.0);
    EXPECT_EQ(s().score(m_c), -1.0);
}

TEST_F(PeerScoreTest, UnconfiguredTopicsContributeNothing) {
    auto topic = silent_topic();
    topic.invalid_message_deliveries_weight = -1;
    make(silent_params(topic));
    s().add_peer(m_a, "", at(0s));
    s().validate_message(m_a, id(1), "other", at(0s));
    s().reject_message(id(1), at(0s));
    s().reject_unverified(m_a, "other", at(0s));
    EXPECT_EQ(s().score(m_a), 0.0);
    EXPECT_EQ(s().record_count(), 0u);
}

TEST_F(PeerScoreTest, TopicWeightAndCap) {
    auto topic = silent_topic();
    topic.topic_weight = 0.5;
    topic.first_message_deliveries_weight = 1;
    topic.first_message_deliveries_cap = 100;
    topic.invalid_message_deliveries_weight = -1;
    auto params = silent_params(topic);
    params.topic_score_cap = 5;
    make(params);
    s().add_peer(m_a, "", at(0s));
    for (int n = 0; n < 8; ++n) {
        deliver(m_a, n, at(0s));
    }
    EXPECT_EQ(s().score(m_a), 4.0);
    for (int n = 8; n < 20; ++n) {
        deliver(m_a, n, at(0s));
    }
    EXPECT_EQ(s().score(m_a), 5.0);  // 0.5 · 20 = 10, capped
    for (int n = 0; n < 5; ++n) {
        s().reject_unverified(m_a, TOPIC, at(0s));
    }
    EXPECT_EQ(s().score(m_a), 0.5 * (20 - 25));  // negative totals are not capped
}

TEST_F(PeerScoreTest, ApplicationScoreIsWeighted) {
    auto params = silent_params();
    params.app_specific_weight = 2;
    make(params);
    s().add_peer(m_a, "", at(0s));
    s().set_application_score(m_a, -3);
    EXPECT_EQ(s().score(m_a), -6.0);
}

TEST_F(PeerScoreTest, IpColocationPenalisesTheSurplusExceptWhitelisted) {
    auto params = silent_params();
    params.ip_colocation_factor_weight = -1;
    params.ip_colocation_factor_threshold = 2;
    params.ip_colocation_factor_whitelist = {"10.9.9.9"};
    make(params);
    std::vector<crypto::PeerId> peers;
    for (std::uint8_t n = 10; n < 14; ++n) {
        peers.push_back(peer(n));
        s().add_peer(peers.back(), "10.0.0.1", at(0s));
    }
    s().add_peer(m_a, "10.0.0.2", at(0s));
    for (const auto& p : peers) {
        EXPECT_EQ(s().score(p), -4.0);  // 4 peers, threshold 2
    }
    EXPECT_EQ(s().score(m_a), 0.0);
    s().remove_peer(peers[0], at(0s));
    EXPECT_EQ(s().score(peers[1]), -1.0);
    for (std::uint8_t n = 20; n < 25; ++n) {
        s().add_peer(peer(n), "10.9.9.9", at(0s));
        EXPECT_EQ(s().score(peer(n)), 0.0);
    }
    s().add_peer(m_b, "", at(0s));
    s().add_peer(m_c, "", at(0s));
    EXPECT_EQ(s().score(m_c), 0.0);  // unknown IPs never count
}

TEST_F(PeerScoreTest, BehaviourPenaltyAboveThresholdSquaredAndDecays) {
    auto params = silent_params();
    params.behaviour_penalty_weight = -1;
    params.behaviour_penalty_threshold = 1;
    params.behaviour_penalty_decay = 0.5;
    make(params);
    s().add_peer(m_a, "", at(0s));
    s().add_penalty(m_a, 1);
    EXPECT_EQ(s().score(m_a), 0.0);
    s().add_penalty(m_a, 2);
    EXPECT_EQ(s().score(m_a), -4.0);
    s().refresh(at(1s));  // 1.5: 0.5 over the threshold
    EXPECT_EQ(s().score(m_a), -0.25);
    s().refresh(at(10s));
    EXPECT_EQ(s().snapshot(m_a)->behaviour_penalty, 0.0);
    EXPECT_EQ(s().score(m_a), 0.0);
}

TEST_F(PeerScoreTest, NegativeScoresSurviveReconnectUntilRetainScoreEnds) {
    auto params = silent_params();
    params.behaviour_penalty_weight = -1;
    params.behaviour_penalty_decay = 0.999;
    params.decay_to_zero = 0.001;
    params.retain_score = 30s;
    make(params);
    s().add_peer(m_a, "10.0.0.1", at(0s));
    s().add_penalty(m_a, 2);
    s().remove_peer(m_a, at(0s));
    ASSERT_TRUE(s().snapshot(m_a));
    EXPECT_FALSE(s().snapshot(m_a)->connected);
    s().refresh(at(10s));
    s().add_peer(m_a, "10.0.0.1", at(10s));
    EXPECT_LT(s().score(m_a), -3.9);  // 2 · 0.999^10, squared
    s().remove_peer(m_a, at(10s));
    s().refresh(at(39s));
    EXPECT_TRUE(s().snapshot(m_a));
    s().refresh(at(40s));
    EXPECT_FALSE(s().snapshot(m_a));
    EXPECT_EQ(s().score(m_a), 0.0);
}

TEST_F(PeerScoreTest, PositiveScoresAreForgottenOnDisconnect) {
    auto params = silent_params();
    params.app_specific_weight = 1;
    make(params);
    s().add_peer(m_a, "", at(0s));
    s().set_application_score(m_a, 5);
    s().remove_peer(m_a, at(0s));
    EXPECT_FALSE(s().snapshot(m_a));
    s().add_peer(m_a, "", at(1s));
    EXPECT_EQ(s().score(m_a), 0.0);
}

TEST_F(PeerScoreTest, RetainedPeersAreBounded) {
    auto params = silent_params();
    params.behaviour_penalty_weight = -1;
    params.max_retained_peers = 3;
    make(params);
    for (std::uint8_t n = 30; n < 36; ++n) {
        s().add_peer(peer(n), "", at(std::chrono::seconds{n}));
        s().add_penalty(peer(n), 1);
        s().remove_peer(peer(n), at(std::chrono::seconds{n}));
    }
    EXPECT_EQ(s().peer_count(), 3u);
    EXPECT_FALSE(s().snapshot(peer(30)));  // the oldest went first
    EXPECT_TRUE(s().snapshot(peer(35)));
}

TEST_F(PeerScoreTest, DisconnectAppliesMeshFailureAndDropsFirstDeliveries) {
    auto topic = silent_topic();  // counters move even with zero weights
    topic.mesh_message_deliveries_threshold = 5;
    topic.mesh_message_deliveries_activation = 1s;
    topic.mesh_failure_penalty_weight = -1;
    make(silent_params(topic));
    s().add_peer(m_a, "", at(0s));
    s().graft(m_a, TOPIC, at(0s));
    deliver(m_a, 1, at(0s));  // first and mesh delivery: 1
    s().refresh(at(2s));
    s().remove_peer(m_a, at(2s));
    auto snap = s().snapshot(m_a);
    ASSERT_TRUE(snap);
    const auto& t = snap->topics.at(TOPIC);
    EXPECT_FALSE(t.in_mesh);
    EXPECT_EQ(t.first_message_deliveries, 0.0);
    EXPECT_NEAR(t.mesh_failure_penalty, std::pow(5 - 0.25, 2), 1e-9);  // decay 0.5, two intervals
}

TEST(ScoreConfig, ChecksTheSpecConstraints) {
    EXPECT_EQ(score_config_error(ScoreParams{}, ScoreThresholds{}), "");
    ScoreThresholds t;
    t.graylist = t.publish;
    EXPECT_NE(score_config_error(ScoreParams{}, t), "");
    t = {};
    t.gossip = 1;
    EXPECT_NE(score_config_error(ScoreParams{}, t), "");
    ScoreParams p;
    p.behaviour_penalty_decay = 1.0;
    EXPECT_NE(score_config_error(p, {}), "");
    p = {};
    p.topics["x"].invalid_message_deliveries_weight = 1;
    EXPECT_NE(score_config_error(p, {}), "");
    p = {};
    p.topics["x"].mesh_message_deliveries_cap = 0.5;  // below the threshold of 1
    EXPECT_NE(score_config_error(p, {}), "");
}

}  // namespace
}  // namespace chainmesh::pubsub
