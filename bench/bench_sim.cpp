// Simulator benchmarks (issue 5): what the full wire stack costs in the simulator, against
// the message-level simulator measured in the same run on the same work.
//   1. one workload (16 nodes, random links of degree 4, uniform 10-80 ms latency, 200
//      messages of 256 bytes) through GossipNetwork (RPCs hop whole) and through WireNetwork
//      (every RPC framed, encrypted with Noise and multiplexed by yamux, Noise handshakes
//      included): simulated deliveries per CPU second for each and the ratio;
//   2. bytes on the wire over RPC bytes (framing, AEAD tags, yamux headers and window
//      updates);
//   3. the eclipse run of tests/sim/scenarios/eclipse.toml (300 simulated seconds): CPU time
//      and simulated seconds per CPU second.
// CPU time (CLOCK_PROCESS_CPUTIME_ID), best of ROUNDS, so that a busy machine skews less.

#include <chainmesh/sim/eclipse_network.hpp>
#include <chainmesh/sim/gossip_network.hpp>
#include <chainmesh/sim/wire_network.hpp>
#include <chainmesh/util/rng.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <time.h>

using namespace chainmesh;
using namespace chainmesh::sim;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t NODES = 16;
constexpr std::size_t DEGREE = 4;
constexpr std::size_t MESSAGES = 200;
constexpr std::size_t MESSAGE_BYTES = 256;
constexpr int ROUNDS = 3;

double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The best of ROUNDS runs of `run`, in CPU seconds.
double best_of(const std::function<void()>& run) {
    double best = 1e300;
    for (int i = 0; i < ROUNDS; ++i) {
        const double start = cpu_seconds();
        run();
        best = std::min(best, cpu_seconds() - start);
    }
    return best;
}

std::vector<std::pair<NodeIndex, NodeIndex>> edges() {
    Rng rng(99);
    std::set<std::pair<NodeIndex, NodeIndex>> out;
    for (NodeIndex i = 0; i < NODES; ++i) {
        const auto j = static_cast<NodeIndex>((i + 1) % NODES);
        out.emplace(std::min(i, j), std::max(i, j));
    }
    while (out.size() < NODES * DEGREE / 2) {
        const auto a = static_cast<NodeIndex>(rng.uniform(NODES));
        const auto b = static_cast<NodeIndex>(rng.uniform(NODES));
        if (a != b) {
            out.emplace(std::min(a, b), std::max(a, b));
        }
    }
    return {out.begin(), out.end()};
}

Bytes message(std::size_t i) {
    Bytes data(MESSAGE_BYTES, static_cast<std::uint8_t>('.'));
    const std::string head = "M " + std::to_string(i) + " ";
    std::copy(head.begin(), head.end(), data.begin());
    return data;
}

Instant publish_time(std::size_t i) {
    return Instant{} + 3s + 50ms * static_cast<std::int64_t>(i);
}

const Instant END = Instant{} + 3s + 50ms * static_cast<std::int64_t>(MESSAGES) + 10s;
const LinkConfig LINK{.latency = LatencyModel::uniform_latency(10ms, 80ms)};

struct Outcome {
    double deliveries = 0;
    std::uint64_t wire_bytes = 0;
    std::uint64_t rpc_bytes = 0;
};

Outcome run_message_level() {
    NetworkConfig config;
    config.seed = 1;
    config.node_count = NODES;
    config.link = LINK;
    config.check_router_invariants = false;
    GossipNetwork net(config);
    for (const auto& [a, b] : edges()) {
        net.add_link(a, b);
    }
    for (std::size_t i = 0; i < MESSAGES; ++i) {
        net.schedule_publish(publish_time(i), static_cast<NodeIndex>(i % NODES), message(i));
    }
    net.run_until(END);
    const Metrics m = net.metrics();
    return {static_cast<double>(m.deliveries), m.bytes_sent_total, m.bytes_sent_total};
}

Outcome run_wire_stack() {
    WireNetworkConfig config;
    config.seed = 1;
    config.node_count = NODES;
    config.link = LINK;
    config.check_router_invariants = false;
    WireNetwork net(config);
    for (const auto& [a, b] : edges()) {
        net.add_link(a, b);
    }
    for (std::size_t i = 0; i < MESSAGES; ++i) {
        net.schedule_publish(publish_time(i), static_cast<NodeIndex>(i % NODES), message(i));
    }
    net.run_until(END);
    const WireMetrics m = net.metrics();
    return {static_cast<double>(m.deliveries), m.wire_bytes_total, m.rpc_bytes_total};
}

}  // namespace

int main() {
    fmt::print("simulator: {} nodes, degree {}, {} messages of {} bytes, best of {} (CPU time)\n",
               NODES, DEGREE, MESSAGES, MESSAGE_BYTES, ROUNDS);
    Outcome message_level;
    Outcome wire_stack;
    const double message_s = best_of([&] { message_level = run_message_level(); });
    const double wire_s = best_of([&] { wire_stack = run_wire_stack(); });
    const double message_rate = message_level.deliveries / message_s;
    const double wire_rate = wire_stack.deliveries / wire_s;
    fmt::print("  message level (baseline): {:>10.0f} deliveries/CPU-s ({} deliveries, {:.3f} s)\n",
               message_rate, message_level.deliveries, message_s);
    fmt::print("  full wire stack:          {:>10.0f} deliveries/CPU-s ({} deliveries, {:.3f} s)\n",
               wire_rate, wire_stack.deliveries, wire_s);
    fmt::print("  ratio wire / message level: {:.3f}\n", wire_rate / message_rate);
    fmt::print("  bytes on the pipes / RPC bytes: {:.3f} ({} / {})\n",
               static_cast<double>(wire_stack.wire_bytes) /
                   static_cast<double>(std::max<std::uint64_t>(wire_stack.rpc_bytes, 1)),
               wire_stack.wire_bytes, wire_stack.rpc_bytes);

    EclipseConfig eclipse;
    eclipse.duration = 300s;
    eclipse.restart_at = 150s;
    EclipseMetrics result;
    const double eclipse_s = best_of([&] { result = run_eclipse(eclipse); });
    fmt::print("eclipse: 40 honest peers, 500 attacker identities, 300 simulated s: {:.3f} CPU s "
               "({:.0f} simulated s per CPU s, {} events), fewest honest connections {}\n",
               eclipse_s, 300.0 / eclipse_s, result.events, result.min_honest_connections);
}
