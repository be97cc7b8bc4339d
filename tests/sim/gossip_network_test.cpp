#include <chainmesh/sim/event_queue.hpp>
#include <chainmesh/sim/gossip_network.hpp>
#include <chainmesh/sim/link.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace chainmesh::sim {
namespace {

using namespace std::chrono_literals;

Instant at(Duration d) {
    return Instant{d};
}

Bytes payload(std::size_t n) {
    const std::string text = "message " + std::to_string(n);
    return Bytes(text.begin(), text.end());
}

NetworkConfig base_config(std::uint64_t seed, std::size_t nodes) {
    NetworkConfig c;
    c.seed = seed;
    c.node_count = nodes;
    c.link.latency = LatencyModel::uniform_latency(10ms, 50ms);
    c.validation_delay = 1ms;
    c.delivery_bound = 5s;
    return c;
}

// Publishes `count` messages from rotating nodes, one every 200 ms from `start`.
void publish_many(GossipNetwork& net, std::size_t count, Duration start, std::size_t first = 0) {
    for (std::size_t i = 0; i < count; ++i) {
        const auto node = static_cast<NodeIndex>((i * 7 + 3) % net.node_count());
        net.schedule_publish(at(start + i * 200ms), node, payload(first + i));
    }
}

TEST(EventQueue, RunsInTimeOrderThenInsertionOrder) {
    EventQueue q;
    std::vector<int> order;
    q.schedule(at(2ms), [&] { order.push_back(3); });
    q.schedule(at(1ms), [&] { order.push_back(1); });
    q.schedule(at(1ms), [&] { order.push_back(2); });
    q.schedule(at(2ms), [&] {
        order.push_back(4);
        q.schedule(at(0ms), [&] { order.push_back(5); });  // the past runs now
    });
    while (q.run_next()) {
    }
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4, 5}));
    EXPECT_EQ(q.now(), at(2ms));
    EXPECT_EQ(q.events_run(), 5u);
}

TEST(Link, LatencyModelsStayInRange) {
    Rng rng(7);
    const auto fixed = LatencyModel::fixed_latency(25ms);
    const auto uniform = LatencyModel::uniform_latency(10ms, 20ms);
    const auto lognormal = LatencyModel::lognormal_latency(50ms, 0.6, 400ms);
    for (int i = 0; i < 1000; ++i) {
        EXPECT_EQ(fixed.sample(rng), Duration{25ms});
        const auto u = uniform.sample(rng);
        EXPECT_GE(u, Duration{10ms});
        EXPECT_LE(u, Duration{20ms});
        const auto l = lognormal.sample(rng);
        EXPECT_GT(l, Duration{0});
        EXPECT_LE(l, Duration{400ms});
    }
}

TEST(Link, BandwidthSerialisesAndOrderIsKept) {
    Rng rng(1);
    LinkConfig config;
    config.latency = LatencyModel::fixed_latency(10ms);
    config.bandwidth_bytes_per_second = 1000;  // 1 byte per ms
    LinkDirection direction;
    // 100 bytes: leaves at 100 ms, arrives at 110 ms; the next waits for the first to leave.
    EXPECT_EQ(schedule_transfer(config, direction, 100, at(0ms), rng), at(110ms));
    EXPECT_EQ(schedule_transfer(config, direction, 50, at(20ms), rng), at(160ms));
    EXPECT_EQ(schedule_transfer(config, direction, 10, at(500ms), rng), at(520ms));

    LinkConfig jitter;
    jitter.latency = LatencyModel::uniform_latency(1ms, 100ms);
    LinkDirection ordered;
    Instant last{};
    for (int i = 0; i < 200; ++i) {
        const Instant arrival = schedule_transfer(jitter, ordered, 10, at(i * 1ms), rng);
        EXPECT_GE(arrival, last);
        last = arrival;
    }
}

TEST(Link, LossDropsOrRetransmits) {
    Rng rng(3);
    LinkConfig none;
    EXPECT_TRUE(draw_loss(none, rng).delivered);

    LinkConfig always;
    always.loss = 1.0;
    const auto dropped = draw_loss(always, rng);
    EXPECT_FALSE(dropped.delivered);
    always.loss_retransmits = true;
    always.retransmit_timeout = 100ms;
    const auto given_up = draw_loss(always, rng);
    EXPECT_FALSE(given_up.delivered);
    EXPECT_EQ(given_up.retransmits, MAX_RETRANSMITS);

    LinkConfig half;
    half.loss = 0.5;
    half.loss_retransmits = true;
    half.retransmit_timeout = 100ms;
    for (int i = 0; i < 200; ++i) {
        const auto outcome = draw_loss(half, rng);
        if (outcome.delivered) {
            // 100 + 200 + 400 + ... ms for `retransmits` losses.
            const auto expected = 100ms * ((std::int64_t{1} << outcome.retransmits) - 1);
            EXPECT_EQ(outcome.delay, Duration{expected});
        }
    }
}

std::string run_metrics(std::uint64_t seed) {
    auto config = base_config(seed, 20);
    config.link.latency = LatencyModel::lognormal_latency(40ms, 0.5, 500ms);
    config.link.loss = 0.02;
    GossipNetwork net(config);
    net.connect_random_regular(6);
    publish_many(net, 10, 1s);
    net.run_until(at(8s));
    return format_metrics(net.metrics());
}

TEST(GossipNetwork, SameSeedSameBytes) {
    const std::string first = run_metrics(42);
    const std::string second = run_metrics(42);
    EXPECT_EQ(first, second);
    EXPECT_NE(first, run_metrics(43));
    EXPECT_NE(first.find("delivery_ratio"), std::string::npos);
    std::printf("%s", first.c_str());
}

TEST(GossipNetwork, FiftyNodesTwentyMessagesAllDelivered) {
    GossipNetwork net(base_config(5, 50));
    net.connect_random_regular(8);
    publish_many(net, 20, 2s);
    net.run_until(at(11s));
    const auto m = net.metrics();
    EXPECT_EQ(m.message_count, 20u);
    EXPECT_EQ(m.deliveries, 20u * 49u);
    EXPECT_DOUBLE_EQ(m.delivery_ratio, 1.0);
    EXPECT_EQ(net.violation_count(), 0u) << (net.violations().empty() ? "" : net.violations()[0]);
    EXPECT_GT(m.latency_p50, Duration{0});
    EXPECT_LE(m.latency_p50, m.latency_p90);
    EXPECT_LE(m.latency_p90, m.latency_p99);
    EXPECT_LT(m.latency_p99, Duration{1s});
    EXPECT_GT(m.bytes_sent_mean, 0u);
}

TEST(GossipNetwork, PartitionStopsDeliveryAndHealingRestoresIt) {
    const std::size_t n = 20;
    GossipNetwork net(base_config(9, n));
    net.connect_random_regular(6);
    std::vector<NodeIndex> left;
    std::vector<NodeIndex> right;
    for (NodeIndex i = 0; i < n; ++i) {
        (i < n / 2 ? left : right).push_back(i);
    }
    net.schedule_partition(at(2s), {left, right});
    net.schedule_publish(at(3s), 0, payload(0));  // left side, during the partition
    net.schedule_heal(at(10s));
    net.schedule_publish(at(12s), 0, payload(1));   // after healing
    net.schedule_publish(at(12s), 15, payload(2));  // from the other side
    net.run_until(at(20s));

    ASSERT_EQ(net.message_count(), 3u);
    for (NodeIndex i = 0; i < n; ++i) {
        EXPECT_EQ(net.delivery_time(0, i).has_value(), i < n / 2) << "node " << i;
        EXPECT_TRUE(net.delivery_time(1, i).has_value()) << "node " << i;
        EXPECT_TRUE(net.delivery_time(2, i).has_value()) << "node " << i;
    }
    // The partition cut the component, so the missed half was not expected: no violation.
    EXPECT_EQ(net.violation_count(), 0u) << (net.violations().empty() ? "" : net.violations()[0]);
    EXPECT_GT(net.metrics().rpcs_partitioned, 0u);
}

TEST(GossipNetwork, GossipRepairsMessagesPublishedJustBeforeHealing) {
    const std::size_t n = 12;
    GossipNetwork net(base_config(11, n));
    net.connect_full();
    std::vector<NodeIndex> left{0, 1, 2, 3, 4, 5};
    std::vector<NodeIndex> right{6, 7, 8, 9, 10, 11};
    net.schedule_partition(at(2s), {left, right});
    net.schedule_publish(at(5s), 0, payload(0));
    net.schedule_heal(at(5500ms));  // within mcache_gossip heartbeats: IHAVE/IWANT repair
    net.run_until(at(12s));
    for (NodeIndex i = 0; i < n; ++i) {
        EXPECT_TRUE(net.delivery_time(0, i).has_value()) << "node " << i;
    }
    EXPECT_GT(net.router(7)->stats().iwant_sent + net.router(8)->stats().iwant_sent +
                  net.router(9)->stats().iwant_sent + net.router(10)->stats().iwant_sent +
                  net.router(11)->stats().iwant_sent + net.router(6)->stats().iwant_sent,
              0u);
}

TEST(GossipNetwork, TenPercentLossStillDelivers) {
    auto config = base_config(21, 30);
    config.link.loss = 0.10;
    GossipNetwork net(config);
    net.connect_random_regular(8);
    publish_many(net, 20, 2s);
    net.run_until(at(11s));
    const auto m = net.metrics();
    EXPECT_GT(m.rpcs_lost, 0u);
    EXPECT_GE(m.delivery_ratio, 0.99) << format_metrics(m);
}

// Streams over TCP turn loss into delay: with retransmits every seed delivers everything.
TEST(GossipNetwork, LossyLinksWithRetransmitsDeliverEverything) {
    for (const double loss : {0.01, 0.10, 0.30}) {
        for (std::uint64_t seed = 100; seed < 102; ++seed) {
            auto config = base_config(seed, 20);
            config.link.loss = loss;
            config.link.loss_retransmits = true;
            GossipNetwork net(config);
            net.connect_random_regular(6);
            publish_many(net, 10, 1s);
            net.run_until(at(9s));
            const auto m = net.metrics();
            EXPECT_DOUBLE_EQ(m.delivery_ratio, 1.0) << "loss " << loss << " seed " << seed;
            EXPECT_EQ(m.violations, 0u) << "loss " << loss << " seed " << seed;
            EXPECT_GT(m.rpcs_retransmitted, 0u);
        }
    }
}

TEST(GossipNetwork, CrashAndRestart) {
    GossipNetwork net(base_config(31, 10));
    net.connect_full();
    net.schedule_crash(at(2s), 4);
    net.schedule_publish(at(3s), 0, payload(0));
    net.schedule_restart(at(6s), 4);
    net.schedule_publish(at(9s), 4, payload(1));  // the restarted node publishes again
    net.schedule_publish(at(9s), 1, payload(2));
    net.run_until(at(16s));
    ASSERT_EQ(net.message_count(), 3u);
    EXPECT_FALSE(net.delivery_time(0, 4).has_value());  // down while it flowed
    for (NodeIndex i = 0; i < 10; ++i) {
        EXPECT_TRUE(net.delivery_time(1, i).has_value()) << "node " << i;
        EXPECT_TRUE(net.delivery_time(2, i).has_value()) << "node " << i;
    }
    EXPECT_EQ(net.violation_count(), 0u) << (net.violations().empty() ? "" : net.violations()[0]);
}

TEST(GossipNetwork, SlowNodeStillReceivesButLater) {
    auto config = base_config(61, 8);
    config.link.latency = LatencyModel::fixed_latency(20ms);
    GossipNetwork net(config);
    net.connect_full();
    net.set_slowdown(5, 400ms);
    net.schedule_publish(at(2s), 0, payload(0));
    net.run_until(at(8s));
    for (NodeIndex i = 1; i < 8; ++i) {
        ASSERT_TRUE(net.delivery_time(0, i).has_value()) << "node " << i;
        const Duration latency = *net.delivery_time(0, i) - at(2s);
        if (i == 5) {
            EXPECT_GE(latency, Duration{420ms});
        } else {
            EXPECT_LT(latency, Duration{100ms});  // flood publish: one hop, 20 ms + validation
        }
    }
}

TEST(GossipNetwork, NodesOutsideTheTopicAreNotExpected) {
    GossipNetwork net(base_config(71, 6));
    net.connect_full();
    net.schedule_unsubscribe(at(1s), 5, "/chainmesh/sim");
    net.schedule_publish(at(3s), 0, payload(0));
    net.run_until(at(9s));
    for (NodeIndex i = 0; i < 5; ++i) {
        EXPECT_TRUE(net.delivery_time(0, i).has_value()) << "node " << i;
    }
    EXPECT_FALSE(net.delivery_time(0, 5).has_value());
    EXPECT_EQ(net.violation_count(), 0u) << (net.violations().empty() ? "" : net.violations()[0]);
}

TEST(GossipNetwork, ByzantineInvalidMessagesAreNotDelivered) {
    Hooks hooks;
    hooks.invalid = [](NodeIndex, const pubsub::ValidateMessage& v) {
        return !v.data.empty() && v.data[0] == 'X';
    };
    GossipNetwork net(base_config(41, 10), hooks);
    net.connect_full();
    net.set_honest(9, false);
    net.schedule_publish(at(2s), 9, to_bytes("X bad"));
    net.schedule_publish(at(3s), 0, payload(1));
    net.run_until(at(10s));
    ASSERT_EQ(net.message_count(), 2u);
    for (NodeIndex i = 0; i < 9; ++i) {
        EXPECT_FALSE(net.delivery_time(0, i).has_value()) << "node " << i;
        EXPECT_TRUE(net.delivery_time(1, i).has_value()) << "node " << i;
    }
    EXPECT_EQ(net.violation_count(), 0u);
}

// Control: a relay that never sends on down the line (node 2 drops everything to node 3) cuts
// the line in two, yet the checker still counts it honest, so the delivery invariant must
// report the misses.
TEST(GossipNetwork, BrokenRelayFailsTheDeliveryInvariant) {
    Hooks hooks;
    hooks.drop_send = [](NodeIndex from, NodeIndex to, ByteView) { return from == 2 && to == 3; };
    GossipNetwork net(base_config(51, 5), hooks);
    net.connect_line();
    net.schedule_publish(at(2s), 0, payload(0));
    net.run_until(at(10s));
    EXPECT_TRUE(net.delivery_time(0, 1).has_value());
    EXPECT_TRUE(net.delivery_time(0, 2).has_value());
    EXPECT_FALSE(net.delivery_time(0, 3).has_value());
    EXPECT_FALSE(net.delivery_time(0, 4).has_value());
    ASSERT_EQ(net.violation_count(), 2u);
    EXPECT_NE(net.violations()[0].find("seed 51"), std::string::npos);
    EXPECT_NE(net.violations()[0].find("node 3"), std::string::npos);
    EXPECT_EQ(net.metrics().violations, 2u);
}

TEST(Topology, RandomRegularLinksAreDistinctConnectedAndNearTheDegree) {
    Rng rng(5);
    const std::size_t n = 60;
    const Links links = random_regular_links(n, 6, rng);
    std::set<std::pair<NodeIndex, NodeIndex>> pairs;
    std::vector<std::size_t> degree(n, 0);
    std::vector<std::vector<NodeIndex>> adjacent(n);
    for (const auto& [a, b] : links) {
        ASSERT_NE(a, b);
        EXPECT_TRUE(pairs.emplace(std::min(a, b), std::max(a, b)).second) << a << "-" << b;
        ++degree[a];
        ++degree[b];
        adjacent[a].push_back(b);
        adjacent[b].push_back(a);
    }
    for (std::size_t node = 0; node < n; ++node) {
        EXPECT_GE(degree[node], 6u) << node;
        EXPECT_LE(degree[node], 6u + 2) << node;  // picked only while below degree + 2
    }
    std::vector<bool> seen(n, false);
    std::vector<NodeIndex> stack{0};
    seen[0] = true;
    while (!stack.empty()) {
        const NodeIndex node = stack.back();
        stack.pop_back();
        for (const NodeIndex next : adjacent[node]) {
            if (!seen[next]) {
                seen[next] = true;
                stack.push_back(next);
            }
        }
    }
    EXPECT_EQ(std::count(seen.begin(), seen.end(), true), static_cast<std::ptrdiff_t>(n));
    Rng again(5);
    EXPECT_EQ(random_regular_links(n, 6, again), links);
    EXPECT_EQ(full_links(4).size(), 6u);
    EXPECT_EQ(line_links(4), (Links{{0, 1}, {1, 2}, {2, 3}}));
}

}  // namespace
}  // namespace chainmesh::sim
