#pragma once
// Simulation scenarios (issue 5): a TOML file names the network, its faults and its workload;
// run_scenario(scenario, seed) drives a GossipNetwork through it and judges the run.
//
// Rules:
// - Pure: no I/O, no clock, no global state. The seed is the only input besides the scenario,
//   so one (scenario, seed) gives one report, byte for byte. Rationale: a failing seed printed
//   by CI must replay on a laptop.
// - The network's Rng (topology, identities, latency, loss) is seeded with `seed`; choices the
//   scenario leaves to chance (random publishers, random crash or slow victims, random
//   partitions, churn, random byzantine nodes) draw from a second Rng seeded from `seed`, so
//   that changing the workload does not change the topology.
// - Parsing refuses what it does not know: an unknown table or key, a value of the wrong type
//   or out of range, a node index beyond `nodes`, a run too short for its own delivery checks.
//   Each refusal is a ScenarioError with one line naming the key and the value. Rationale: a
//   typo in a scenario must not quietly test something else.
// - Invariants judged after the run:
//   delivery       GossipNetwork's own check: each honest message reached, within
//                  delivery_bound, every honest subscriber in the publisher's component.
//   byzantine_score (spam_invalid only) every honest node still linked to a spammer at the end
//                  scores it below zero, and at least one such pair exists.
//   honest_delivery (spam_invalid only) messages from honest publishers reached ≥ 99 % of the
//                  (honest publisher, other honest node) pairs, despite the spam.
//   With [chain] (chain_network.hpp), also:
//   tip_convergence every honest up node has the same tip at chain.mining_stop +
//                  convergence_bound (the report gives how long after the mining stop, or
//                  after the last heal, they first agreed);
//   no_invalid_block no honest node applied an invalid block (byzantine behaviour
//                  invalid_blocks publishes them; chain.trusting nodes, left honest, are the
//                  control that must trip it);
//   no_honest_penalty no honest node penalised another honest node for bad data;
//   no_invalid_transaction (with chain.transactions or byzantine invalid_transactions) no
//                  honest node admitted an invalid transaction to its mempool;
//   transactions_confirmed (with chain.transactions) at least chain.min_confirmed of them
//                  are on the chain of an honest node at the end.
//   Chain topics are left out of `delivery` (a block that came by sync first is ignored).
//   With [wire] the gossip workload runs over the full wire stack, judged by:
//   delivery       every message reached, within delivery_bound, every node joined to its
//                  publisher by connections still up at the end;
//   wire_integrity every connection came up; exactly the ones that carried a corrupted frame
//                  closed, each with a Noise error; no other closed.
//   With [eclipse] (eclipse_network.hpp) the run is the attack alone, judged by one:
//   eclipse_resistance from warmup after the attack starts (or after the victim restarts)
//                  the victim always keeps at least min_honest honest connections.
//   A run passes when every invariant holds; [expect] result says whether it should.
// - Byzantine nodes are marked dishonest, so the invariants cover honest nodes only, unless
//   [byzantine] declared_honest is set: the control scenario's broken relay then counts as
//   honest, and the delivery check must catch it.
//
// Bounds: scenario text ≤ SCENARIO_TEXT_MAX_BYTES; nodes ≤ SCENARIO_NODES_MAX; publishes
// (messages + spam) ≤ SCENARIO_MESSAGES_MAX and nodes × publishes ≤ SCENARIO_RECORDS_MAX;
// faults ≤ SCENARIO_FAULTS_MAX; duration ≤ SCENARIO_DURATION_MAX. A run holds the network
// (GossipNetwork's bounds) plus one small step per publish and fault; a message's data is made
// only when it is published. Events are capped by GossipNetwork's max_events.
//
// Threading: none; run_scenario may run on several threads at once with separate scenarios
// or the same const one.

#include <chainmesh/sim/chain_network.hpp>
#include <chainmesh/sim/eclipse_network.hpp>
#include <chainmesh/sim/gossip_network.hpp>
#include <chainmesh/sim/link.hpp>
#include <chainmesh/util/instant.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace chainmesh::sim {

inline constexpr std::size_t SCENARIO_TEXT_MAX_BYTES = 1 << 20;
inline constexpr std::size_t SCENARIO_NODES_MAX = 100'000;
inline constexpr std::size_t SCENARIO_MESSAGES_MAX = 1'000'000;
inline constexpr std::size_t SCENARIO_FAULTS_MAX = 10'000;
// nodes x publishes: the network keeps one delivery time per node per message (16 bytes each).
inline constexpr std::size_t SCENARIO_RECORDS_MAX = 50'000'000;
inline constexpr std::chrono::hours SCENARIO_DURATION_MAX{24};
inline constexpr std::size_t SCENARIO_MESSAGE_MIN_BYTES = 32;  // room for the unique header
inline constexpr std::size_t SCENARIO_VIOLATIONS_SHOWN = 5;    // per report
inline constexpr double HONEST_DELIVERY_MIN = 0.99;

class ScenarioError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class TopologyKind { random_regular, line, full };
enum class FaultKind { partition, heal, crash, restart, slow };
enum class ByzantineBehaviour { none, spam_invalid, drop_relay, invalid_blocks, invalid_transactions };

// Nodes named in the file, or `random` distinct nodes drawn per seed.
struct NodeSelection {
    std::vector<NodeIndex> listed;
    std::size_t random = 0;
    bool empty() const { return listed.empty() && random == 0; }
};

struct FaultSpec {
    Duration at{0};
    FaultKind kind = FaultKind::heal;
    NodeSelection nodes;                         // crash, restart, slow
    std::vector<std::vector<NodeIndex>> groups;  // partition, as named
    double random_split = 0.0;                   // partition: this share of nodes on one side
    Duration extra{0};                           // slow
    std::optional<Duration> duration;            // then undone: heal, restart, slowdown 0
};

struct WorkloadSpec {
    std::size_t messages = 0;
    NodeSelection publishers;  // empty: a random honest node per message
    Duration interval = std::chrono::milliseconds{100};
    Duration start = std::chrono::seconds{1};
    std::size_t message_bytes = 64;
};

// Every `period`, from `start`: the nodes churn took down restart, then `fraction` of all
// nodes, drawn afresh, crash.
struct ChurnSpec {
    double fraction = 0.0;
    Duration period = std::chrono::seconds{60};
    Duration start = std::chrono::seconds{60};
};

struct ByzantineSpec {
    ByzantineBehaviour behaviour = ByzantineBehaviour::none;
    NodeSelection nodes;
    bool declared_honest = false;    // control scenarios: the invariants must catch them
    std::size_t spam_messages = 20;  // spam_invalid: per byzantine node
    Duration spam_interval = std::chrono::milliseconds{100};
    Duration spam_start = std::chrono::seconds{1};
};

// A blockchain on the network (chain_network.hpp): pow miners, fork choice and sync.
struct ChainSpec {
    bool enabled = false;
    Duration block_interval = std::chrono::seconds{2};
    NodeSelection miners;  // empty: every node
    Duration mining_stop{0};
    Duration convergence_bound = std::chrono::seconds{30};  // after mining_stop
    NodeSelection trusting;  // control: nodes that keep blocks they failed to apply
    // Transfers from funded wallets, each submitted to a random honest up node.
    std::size_t transactions = 0;
    Duration transaction_interval = std::chrono::milliseconds{200};
    Duration transactions_start = std::chrono::seconds{2};
    std::size_t wallets = 64;
    double min_confirmed = 1.0;  // share of them on the final chain
};

// An eclipse attempt on one node (eclipse_network.hpp); network.nodes is the honest peers.
// Such a run models connections only: no gossip workload, faults, churn, byzantine or chain.
struct EclipseSpec {
    bool enabled = false;
    EclipseConfig config;  // seed and duration are set per run
};

// The gossip workload over the full wire stack (wire_network.hpp): every RPC crosses
// multistream, Noise and yamux on in-memory pipes. Small runs only; the links must be
// lossless (TCP turns loss into delay) and there are no faults but corrupted frames.
inline constexpr std::size_t WIRE_NODES_MAX = 64;
struct WireSpec {
    bool enabled = false;
    std::size_t corruptions = 0;  // frames with a flipped byte, on random links at random times
};

struct Scenario {
    std::string name;
    std::uint64_t seed = 1;  // when the caller names none
    std::size_t nodes = 0;
    Duration duration{0};
    Duration delivery_bound = std::chrono::seconds{10};
    Duration validation_delay = std::chrono::milliseconds{1};
    Duration heartbeat_interval = std::chrono::seconds{1};
    bool topic_scoring = true;  // TopicScoreParams for the topic, so that P₄ punishes spam
    bool check_router_invariants = true;
    TopologyKind topology = TopologyKind::random_regular;
    std::size_t degree = 8;
    LinkConfig link;
    WorkloadSpec workload;
    std::vector<FaultSpec> faults;
    ChurnSpec churn;
    ByzantineSpec byzantine;
    ChainSpec chain;
    EclipseSpec eclipse;
    WireSpec wire;
    bool expect_pass = true;
};

// Throws ScenarioError (one line naming the key and the value, or the TOML syntax error).
Scenario parse_scenario(std::string_view toml_text);

struct InvariantResult {
    std::string name;
    bool passed = false;
    std::string detail;  // one sentence
};

struct ScenarioResult {
    std::uint64_t seed = 0;
    Metrics metrics;
    double honest_delivery_ratio = 0.0;  // (honest publisher, other honest node) pairs
    std::vector<InvariantResult> invariants;
    std::optional<ChainMetrics> chain;      // a [chain] run's figures
    std::optional<EclipseMetrics> eclipse;  // an [eclipse] run's figures
    std::vector<std::string> violations;  // the first SCENARIO_VIOLATIONS_SHOWN
    bool passed = false;                  // every invariant held
    bool met_expectation = false;         // passed == scenario.expect_pass
    std::string report;                   // deterministic text, ends with "seed N\n"
};

ScenarioResult run_scenario(const Scenario& scenario, std::uint64_t seed);

// One line for a run over many seeds: seed, result, delivery, latency, violations.
std::string summary_line(const ScenarioResult& result);

}  // namespace chainmesh::sim
