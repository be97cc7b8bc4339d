#include <toml++/toml.h>

#include <algorithm>
#include <chainmesh/sim/scenario.hpp>

#include <chainmesh/discovery/peer_slots.hpp>
#include <chainmesh/sim/chain_network.hpp>
#include <chainmesh/sim/wire_network.hpp>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <sstream>

namespace chainmesh::sim {

namespace {

using namespace std::chrono_literals;

constexpr std::size_t SHOWN_MAX = 60;
const pubsub::Topic SIM_TOPIC = "/chainmesh/sim";
constexpr std::string_view SPAM_MARKER = "INVALID";

// ---------------------------------------------------------------------------------------------
// Parsing

// A value from the file, made safe for a one-line message: text in double quotes (so that an
// empty value shows), numbers as short as they round-trip, tables and arrays as TOML.
std::string shown(const toml::node& node) {
    std::string raw;
    if (const auto text = node.value_exact<std::string>()) {
        raw = "\"" + *text + "\"";
    } else if (const auto real = node.value_exact<double>()) {
        char digits[32];
        std::snprintf(digits, sizeof digits, "%.15g", *real);
        raw = digits;
    } else {
        std::ostringstream out;
        out << toml::node_view<const toml::node>(node);
        raw = out.str();
    }
    std::string masked;
    for (const char c : raw.substr(0, SHOWN_MAX)) {
        const auto byte = static_cast<unsigned char>(c);
        masked += byte < 0x20 || byte == 0x7f ? '?' : c;
    }
    return raw.size() > SHOWN_MAX ? masked + "..." : masked;
}

[[noreturn]] void fail(const std::string& key, const toml::node& value, const std::string& why) {
    throw ScenarioError(key + " = " + shown(value) + ": " + why);
}

std::string number_text(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    return text;
}

Duration seconds_of(double seconds) {
    return Duration{static_cast<std::int64_t>(std::llround(seconds * 1e9))};
}

Duration millis_of(double millis) {
    return Duration{static_cast<std::int64_t>(std::llround(millis * 1e6))};
}

// One table: every read names a key as known; finish() refuses the rest.
class TableReader {
public:
    TableReader(const toml::table& table, std::string path)
        : m_table(table), m_path(std::move(path)) {}

    std::string key_path(std::string_view key) const {
        return m_path.empty() ? std::string(key) : m_path + "." + std::string(key);
    }

    const toml::node* find(std::string_view key) {
        m_known.insert(std::string(key));
        return m_table.get(key);
    }

    std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max) {
        const toml::node* node = find(key);
        if (node == nullptr) {
            return std::nullopt;
        }
        const auto value = node->value_exact<std::int64_t>();
        if (!value || *value < min || *value > max) {
            fail(key_path(key), *node,
                 "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
        }
        return value;
    }

    std::optional<double> real(std::string_view key, double min, double max) {
        const toml::node* node = find(key);
        if (node == nullptr) {
            return std::nullopt;
        }
        std::optional<double> value;
        if (node->is_floating_point() || node->is_integer()) {
            value = node->value<double>();
        }
        if (!value || !std::isfinite(*value) || *value < min || *value > max) {
            fail(key_path(key), *node,
                 "expected a number from " + number_text(min) + " to " + number_text(max));
        }
        return value;
    }

    std::optional<bool> flag(std::string_view key) {
        const toml::node* node = find(key);
        if (node == nullptr) {
            return std::nullopt;
        }
        if (!node->is_boolean()) {
            fail(key_path(key), *node, "expected true or false");
        }
        return node->value<bool>();
    }

    // One of `choices`; the message lists them.
    std::optional<std::size_t> choice(std::string_view key,
                                      std::initializer_list<std::string_view> choices) {
        const toml::node* node = find(key);
        if (node == nullptr) {
            return std::nullopt;
        }
        const auto value = node->value<std::string>();
        std::size_t index = 0;
        std::string listed;
        for (const auto c : choices) {
            if (value && *value == c) {
                return index;
            }
            listed += (listed.empty() ? "\"" : ", \"") + std::string(c) + "\"";
            ++index;
        }
        fail(key_path(key), *node, "expected one of " + listed);
    }

    std::optional<Duration> seconds(std::string_view key, double max_s) {
        const auto value = real(key, 0.0, max_s);
        return value ? std::optional(seconds_of(*value)) : std::nullopt;
    }

    std::optional<Duration> millis(std::string_view key, double max_ms) {
        const auto value = real(key, 0.0, max_ms);
        return value ? std::optional(millis_of(*value)) : std::nullopt;
    }

    const toml::table* table(std::string_view key) {
        const toml::node* node = find(key);
        if (node == nullptr) {
            return nullptr;
        }
        if (!node->is_table()) {
            fail(key_path(key), *node, "expected a table");
        }
        return node->as_table();
    }

    void finish() const {
        for (const auto& [key, value] : m_table) {
            if (m_known.contains(std::string(key.str()))) {
                continue;
            }
            if (value.is_table()) {
                throw ScenarioError("[" + key_path(key.str()) + "]: unknown table");
            }
            if (value.is_array_of_tables()) {
                throw ScenarioError("[[" + key_path(key.str()) + "]]: unknown table");
            }
            fail(key_path(key.str()), value, "unknown key");
        }
    }

private:
    const toml::table& m_table;
    std::string m_path;
    std::set<std::string> m_known;
};

constexpr double DURATION_MAX_S = static_cast<double>(
    std::chrono::duration_cast<std::chrono::seconds>(SCENARIO_DURATION_MAX).count());
constexpr double DELAY_MAX_MS = 3'600'000.0;  // one hour: a link or node slower is a partition

NodeIndex node_index(const toml::node& node, const std::string& key, std::size_t nodes) {
    const auto value = node.value_exact<std::int64_t>();
    if (!value || *value < 0 || static_cast<std::uint64_t>(*value) >= nodes) {
        fail(key, node, "expected a node index from 0 to " + std::to_string(nodes - 1));
    }
    return static_cast<NodeIndex>(*value);
}

// [3, 7, 9] or "A..B" (inclusive).
std::vector<NodeIndex> node_list(const toml::node& node, const std::string& key,
                                 std::size_t nodes) {
    std::vector<NodeIndex> out;
    if (const auto* array = node.as_array()) {
        if (array->size() > nodes) {
            fail(key, node, "more entries than nodes");
        }
        for (std::size_t i = 0; i < array->size(); ++i) {
            out.push_back(node_index(*array->get(i), key + "[" + std::to_string(i) + "]", nodes));
        }
    } else if (const auto text = node.value_exact<std::string>()) {
        const auto dots = text->find("..");
        unsigned long long low = 0;
        unsigned long long high = 0;
        int used = 0;
        const bool parsed = dots != std::string::npos &&
                            std::sscanf(text->c_str(), "%llu..%llu%n", &low, &high, &used) == 2 &&
                            static_cast<std::size_t>(used) == text->size() &&
                            text->find_first_not_of("0123456789.") == std::string::npos;
        if (!parsed || low > high || high >= nodes) {
            fail(key, node,
                 "expected \"A..B\" with A <= B < " + std::to_string(nodes) + ", or a list");
        }
        for (auto i = low; i <= high; ++i) {
            out.push_back(static_cast<NodeIndex>(i));
        }
    } else {
        fail(key, node, "expected a list of node indices or \"A..B\"");
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

// `nodes` (list or range) and/or `random` (a count) in one table.
NodeSelection node_selection(TableReader& reader, std::string_view nodes_key,
                             std::size_t node_count, bool allow_random_word = false) {
    NodeSelection selection;
    if (const toml::node* listed = reader.find(nodes_key)) {
        if (!allow_random_word || listed->value_exact<std::string>() != "random") {
            selection.listed = node_list(*listed, reader.key_path(nodes_key), node_count);
        }
    }
    if (const auto random = reader.integer("random", 0, static_cast<std::int64_t>(node_count))) {
        if (!selection.listed.empty()) {
            fail(reader.key_path("random"), *reader.find("random"),
                 "name the nodes or a random count, not both");
        }
        selection.random = static_cast<std::size_t>(*random);
    }
    return selection;
}

void parse_network(TableReader& r, Scenario& s) {
    s.nodes = static_cast<std::size_t>(
        r.integer("nodes", 2, static_cast<std::int64_t>(SCENARIO_NODES_MAX)).value_or(0));
    if (s.nodes == 0) {
        throw ScenarioError("network.nodes is missing: name how many nodes to simulate");
    }
    if (const toml::node* seed = r.find("seed")) {
        const auto value = seed->value_exact<std::int64_t>();
        if (!value || *value < 0) {
            fail("network.seed", *seed, "expected an integer from 0 to 2^63-1");
        }
        s.seed = static_cast<std::uint64_t>(*value);
    }
    s.duration = r.seconds("duration_s", DURATION_MAX_S).value_or(Duration{0});
    if (s.duration <= Duration{0}) {
        throw ScenarioError("network.duration_s is missing or 0: name how long the run lasts");
    }
    s.delivery_bound = r.seconds("delivery_bound_s", DURATION_MAX_S).value_or(s.delivery_bound);
    s.validation_delay = r.millis("validation_delay_ms", DELAY_MAX_MS).value_or(s.validation_delay);
    if (const auto heartbeat = r.millis("heartbeat_ms", 60'000.0)) {
        if (*heartbeat < 10ms) {
            fail("network.heartbeat_ms", *r.find("heartbeat_ms"), "expected at least 10");
        }
        s.heartbeat_interval = *heartbeat;
        pubsub::GossipConfig gossip;
        gossip.heartbeat_interval = *heartbeat;
        if (const auto problem = pubsub::config_error(gossip); !problem.empty()) {
            fail("network.heartbeat_ms", *r.find("heartbeat_ms"), problem);
        }
    }
    s.topic_scoring = r.flag("topic_scoring").value_or(s.topic_scoring);
    s.check_router_invariants =
        r.flag("check_router_invariants").value_or(s.check_router_invariants);
    r.finish();
}

void parse_topology(TableReader& r, Scenario& s) {
    if (const auto kind = r.choice("kind", {"random_regular", "line", "full"})) {
        s.topology = static_cast<TopologyKind>(*kind);
    }
    if (const auto degree = r.integer("degree", 1, 1000)) {
        s.degree = static_cast<std::size_t>(*degree);
    }
    if (s.topology == TopologyKind::full && s.nodes > 2000) {
        fail("topology.kind", *r.find("kind"),
             "a full mesh of " + std::to_string(s.nodes) + " nodes is too many links (2000 max)");
    }
    r.finish();
}

void parse_latency(TableReader& r, Scenario& s) {
    LinkConfig& link = s.link;
    const auto model = r.choice("model", {"fixed", "uniform", "lognormal"}).value_or(0);
    // Every model's keys are read (so none is "unknown"), then checked against the model.
    const auto ms = r.millis("ms", DELAY_MAX_MS);
    const auto min_ms = r.millis("min_ms", DELAY_MAX_MS);
    const auto max_ms = r.millis("max_ms", DELAY_MAX_MS);
    const auto median_ms = r.millis("median_ms", DELAY_MAX_MS);
    const auto sigma = r.real("sigma", 0.0, 5.0);
    const auto cap_ms = r.millis("cap_ms", DELAY_MAX_MS);
    const auto misplaced = [&](std::string_view key, bool present, const char* model_name) {
        if (present) {
            fail("latency." + std::string(key), *r.find(key),
                 std::string("not a parameter of the ") + model_name + " model");
        }
    };
    switch (model) {
        case 0:
            misplaced("min_ms", min_ms.has_value(), "fixed");
            misplaced("max_ms", max_ms.has_value(), "fixed");
            misplaced("median_ms", median_ms.has_value(), "fixed");
            misplaced("sigma", sigma.has_value(), "fixed");
            misplaced("cap_ms", cap_ms.has_value(), "fixed");
            link.latency = LatencyModel::fixed_latency(ms.value_or(10ms));
            break;
        case 1: {
            misplaced("ms", ms.has_value(), "uniform");
            misplaced("median_ms", median_ms.has_value(), "uniform");
            misplaced("sigma", sigma.has_value(), "uniform");
            misplaced("cap_ms", cap_ms.has_value(), "uniform");
            const Duration low = min_ms.value_or(10ms);
            const Duration high = max_ms.value_or(low);
            if (high < low) {
                fail("latency.max_ms", *r.find("max_ms"), "below latency.min_ms");
            }
            link.latency = LatencyModel::uniform_latency(low, high);
            break;
        }
        default: {
            misplaced("ms", ms.has_value(), "lognormal");
            misplaced("min_ms", min_ms.has_value(), "lognormal");
            misplaced("max_ms", max_ms.has_value(), "lognormal");
            const Duration median = median_ms.value_or(50ms);
            const Duration cap = cap_ms.value_or(2s);
            if (cap < median) {
                fail("latency.cap_ms", *r.find("cap_ms"), "below latency.median_ms");
            }
            link.latency = LatencyModel::lognormal_latency(median, sigma.value_or(0.5), cap);
            break;
        }
    }
    link.loss = r.real("loss", 0.0, 0.9).value_or(0.0);
    link.loss_retransmits = r.flag("retransmits").value_or(false);
    link.retransmit_timeout =
        r.millis("retransmit_timeout_ms", 60'000.0).value_or(link.retransmit_timeout);
    if (link.retransmit_timeout <= Duration{0}) {
        fail("latency.retransmit_timeout_ms", *r.find("retransmit_timeout_ms"),
             "expected more than 0");
    }
    link.bandwidth_bytes_per_second = static_cast<std::uint64_t>(
        r.integer("bandwidth_bytes_per_s", 0, std::int64_t{1} << 40).value_or(0));
    r.finish();
}

void parse_workload(TableReader& r, Scenario& s) {
    WorkloadSpec& w = s.workload;
    w.messages = static_cast<std::size_t>(
        r.integer("messages", 0, static_cast<std::int64_t>(SCENARIO_MESSAGES_MAX)).value_or(0));
    w.publishers = node_selection(r, "publishers", s.nodes, true);
    w.interval = r.millis("interval_ms", DELAY_MAX_MS).value_or(w.interval);
    w.start = r.seconds("start_s", DURATION_MAX_S).value_or(w.start);
    const auto bytes =
        r.integer("message_bytes", static_cast<std::int64_t>(SCENARIO_MESSAGE_MIN_BYTES), 1 << 20);
    w.message_bytes = static_cast<std::size_t>(bytes.value_or(64));
    r.finish();
}

void parse_fault(TableReader& r, Scenario& s) {
    FaultSpec f;
    const auto kind = r.choice("kind", {"partition", "heal", "crash", "restart", "slow"});
    if (!kind) {
        throw ScenarioError(r.key_path("kind") +
                            " is missing: name partition, heal, crash, restart or slow");
    }
    f.kind = static_cast<FaultKind>(*kind);
    f.at = r.seconds("at_s", DURATION_MAX_S).value_or(Duration{0});
    f.duration = r.seconds("duration_s", DURATION_MAX_S);
    const bool wants_nodes =
        f.kind == FaultKind::crash || f.kind == FaultKind::restart || f.kind == FaultKind::slow;
    if (wants_nodes) {
        f.nodes = node_selection(r, "nodes", s.nodes);
        if (f.nodes.empty()) {
            throw ScenarioError(r.key_path("nodes") + " is missing: a " +
                                std::string(f.kind == FaultKind::slow    ? "slow"
                                            : f.kind == FaultKind::crash ? "crash"
                                                                         : "restart") +
                                " fault names nodes (a list, \"A..B\") or a random count");
        }
    }
    if (f.kind == FaultKind::slow) {
        const auto extra = r.millis("extra_ms", DELAY_MAX_MS);
        if (!extra) {
            throw ScenarioError(r.key_path("extra_ms") + " is missing: how much slower");
        }
        f.extra = *extra;
    }
    if (f.kind == FaultKind::partition) {
        if (const toml::node* groups = r.find("groups")) {
            const auto* array = groups->as_array();
            if (array == nullptr || array->empty() || array->size() > s.nodes) {
                fail(r.key_path("groups"), *groups,
                     "expected a list of groups, each a list of nodes or \"A..B\"");
            }
            std::set<NodeIndex> seen;
            for (std::size_t g = 0; g < array->size(); ++g) {
                const std::string key = r.key_path("groups") + "[" + std::to_string(g) + "]";
                auto group = node_list(*array->get(g), key, s.nodes);
                for (const NodeIndex node : group) {
                    if (!seen.insert(node).second) {
                        fail(key, *array->get(g),
                             "node " + std::to_string(node) + " is in two groups");
                    }
                }
                f.groups.push_back(std::move(group));
            }
        }
        f.random_split = r.real("random_split", 0.0, 1.0).value_or(0.0);
        if (f.groups.empty() == (f.random_split == 0.0)) {
            throw ScenarioError(r.key_path("groups") +
                                ": a partition names either groups or random_split (a share of "
                                "nodes cut off), exactly one");
        }
    }
    if (f.duration && (f.kind == FaultKind::heal || f.kind == FaultKind::restart)) {
        fail(r.key_path("duration_s"), *r.find("duration_s"),
             "only partition, crash and slow faults are undone after a duration");
    }
    r.finish();
    s.faults.push_back(std::move(f));
}

void parse_churn(TableReader& r, Scenario& s) {
    s.churn.fraction = r.real("fraction", 0.0, 0.9).value_or(0.0);
    s.churn.period = r.seconds("period_s", DURATION_MAX_S).value_or(s.churn.period);
    if (s.churn.period < 1s) {
        fail("churn.period_s", *r.find("period_s"), "expected at least 1");
    }
    s.churn.start = r.seconds("start_s", DURATION_MAX_S).value_or(s.churn.period);
    r.finish();
}

void parse_byzantine(TableReader& r, Scenario& s) {
    ByzantineSpec& b = s.byzantine;
    const auto behaviour =
        r.choice("behaviour",
                 {"spam_invalid", "drop_relay", "invalid_blocks", "invalid_transactions"});
    if (!behaviour) {
        throw ScenarioError(
            "byzantine.behaviour is missing: spam_invalid, drop_relay, invalid_blocks or "
            "invalid_transactions");
    }
    constexpr ByzantineBehaviour behaviours[] = {
        ByzantineBehaviour::spam_invalid, ByzantineBehaviour::drop_relay,
        ByzantineBehaviour::invalid_blocks, ByzantineBehaviour::invalid_transactions};
    b.behaviour = behaviours[*behaviour];
    b.nodes = node_selection(r, "nodes", s.nodes);
    if (b.nodes.empty()) {
        throw ScenarioError("byzantine.nodes is missing: a list, \"A..B\" or random = count");
    }
    if (b.nodes.listed.size() >= s.nodes || b.nodes.random >= s.nodes) {
        throw ScenarioError("byzantine.nodes: at least one node must stay honest");
    }
    b.declared_honest = r.flag("declared_honest").value_or(false);
    b.spam_messages = static_cast<std::size_t>(
        r.integer("spam_messages", 0, static_cast<std::int64_t>(SCENARIO_MESSAGES_MAX))
            .value_or(static_cast<std::int64_t>(b.spam_messages)));
    b.spam_interval = r.millis("spam_interval_ms", DELAY_MAX_MS).value_or(b.spam_interval);
    b.spam_start = r.seconds("spam_start_s", DURATION_MAX_S).value_or(b.spam_start);
    r.finish();
}

void parse_chain(TableReader& r, Scenario& s) {
    ChainSpec& c = s.chain;
    c.enabled = true;
    c.block_interval = r.seconds("block_interval_s", 3600.0).value_or(c.block_interval);
    if (c.block_interval < 10ms) {
        fail("chain.block_interval_s", *r.find("block_interval_s"), "expected at least 0.01");
    }
    c.miners = node_selection(r, "miners", s.nodes);
    const toml::node* stop = r.find("mining_stop_s");
    c.mining_stop = r.seconds("mining_stop_s", DURATION_MAX_S).value_or(Duration{0});
    if (stop == nullptr) {
        throw ScenarioError("chain.mining_stop_s is missing: tips are compared after it");
    }
    c.convergence_bound =
        r.seconds("convergence_bound_s", DURATION_MAX_S).value_or(c.convergence_bound);
    if (const toml::node* trusting = r.find("trusting")) {
        c.trusting.listed = node_list(*trusting, r.key_path("trusting"), s.nodes);
    }
    c.transactions = static_cast<std::size_t>(r.integer("transactions", 0, 100'000).value_or(0));
    c.transaction_interval =
        r.millis("transaction_interval_ms", DELAY_MAX_MS).value_or(c.transaction_interval);
    c.transactions_start =
        r.seconds("transactions_start_s", DURATION_MAX_S).value_or(c.transactions_start);
    c.wallets = static_cast<std::size_t>(
        r.integer("wallets", 1, 10'000).value_or(static_cast<std::int64_t>(c.wallets)));
    c.min_confirmed = r.real("min_confirmed", 0.0, 1.0).value_or(c.min_confirmed);
    r.finish();
}

void parse_eclipse(TableReader& r, Scenario& s) {
    s.eclipse.enabled = true;
    EclipseConfig& e = s.eclipse.config;
    e.honest_nodes = s.nodes;
    e.attacker_identities = static_cast<std::size_t>(
        r.integer("attacker_identities", 1, 60'000).value_or(
            static_cast<std::int64_t>(e.attacker_identities)));
    if (const toml::node* range = r.find("attacker_range")) {
        const auto text = range->value_exact<std::string>();
        unsigned a = 0;
        unsigned b = 0;
        char tail[8] = {};
        const bool parsed = text && std::sscanf(text->c_str(), "%u.%u.0.0/%7s", &a, &b, tail) == 3 &&
                            a < 256 && b < 256 && std::string_view(tail) == "16";
        if (!parsed ||
            !discovery::net_group(wire::Multiaddr::from_ip_tcp(
                Bytes{static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b), 0, 1}, 1))) {
            fail("eclipse.attacker_range", *range, "expected a public IPv4 /16 such as \"45.67.0.0/16\"");
        }
        e.attacker_prefix[0] = static_cast<std::uint8_t>(a);
        e.attacker_prefix[1] = static_cast<std::uint8_t>(b);
        if (a >= 20 && a < 20 + (s.nodes + 199) / 200) {
            fail("eclipse.attacker_range", *range,
                 "overlaps the honest peers' ranges (20.0.0.0 on, one /16 each)");
        }
    }
    e.attack_start = r.seconds("attack_start_s", DURATION_MAX_S).value_or(e.attack_start);
    e.connect_interval = r.millis("connect_interval_ms", DELAY_MAX_MS).value_or(e.connect_interval);
    if (e.connect_interval < 1ms) {
        fail("eclipse.connect_interval_ms", *r.find("connect_interval_ms"), "expected at least 1");
    }
    e.honest_lifetime = r.seconds("honest_lifetime_s", DURATION_MAX_S).value_or(e.honest_lifetime);
    e.honest_inbound_interval =
        r.seconds("honest_inbound_interval_s", DURATION_MAX_S).value_or(e.honest_inbound_interval);
    for (const auto& [key, value] : {std::pair{"honest_lifetime_s", e.honest_lifetime},
                                    std::pair{"honest_inbound_interval_s", e.honest_inbound_interval}}) {
        if (value < 100ms) {
            fail(r.key_path(key), *r.find(key), "expected at least 0.1");
        }
    }
    e.hearsay_pollution = r.real("hearsay_pollution", 0.0, 1.0).value_or(e.hearsay_pollution);
    e.restart_at = r.seconds("restart_at_s", DURATION_MAX_S);
    e.slot_policy = r.choice("policy", {"peer_slots", "none"}).value_or(0) == 0;
    e.min_honest = static_cast<std::size_t>(
        r.integer("min_honest", 0, 1000).value_or(static_cast<std::int64_t>(e.min_honest)));
    e.warmup = r.seconds("warmup_s", DURATION_MAX_S).value_or(e.warmup);
    e.bootstrap = static_cast<std::size_t>(
        r.integer("bootstrap", 1, 1000).value_or(static_cast<std::int64_t>(e.bootstrap)));
    e.slots.max_outbound = static_cast<std::size_t>(
        r.integer("max_outbound", 1, 1000).value_or(static_cast<std::int64_t>(e.slots.max_outbound)));
    e.slots.max_inbound = static_cast<std::size_t>(
        r.integer("max_inbound", 0, 10'000).value_or(static_cast<std::int64_t>(e.slots.max_inbound)));
    e.slots.max_inbound_per_group = static_cast<std::size_t>(
        r.integer("max_inbound_per_group", 1, 10'000)
            .value_or(static_cast<std::int64_t>(e.slots.max_inbound_per_group)));
    // The control's single pool: the same number of connections in all.
    e.max_peers = e.slots.max_outbound + e.slots.max_inbound;
    e.min_peers = e.slots.max_outbound;
    r.finish();
}

void parse_wire(TableReader& r, Scenario& s) {
    s.wire.enabled = true;
    s.wire.corruptions =
        static_cast<std::size_t>(r.integer("corruptions", 0, 100).value_or(0));
    r.finish();
}

void check_wire(const Scenario& s) {
    const auto refuse = [](const std::string& what) {
        throw ScenarioError("[wire] runs gossip over the wire stack only: it takes no " + what);
    };
    if (s.nodes > WIRE_NODES_MAX) {
        throw ScenarioError("network.nodes = " + std::to_string(s.nodes) +
                            ": [wire] runs are small, at most " + std::to_string(WIRE_NODES_MAX) +
                            " nodes (the message-level simulator takes thousands)");
    }
    if (s.link.loss > 0.0) {
        throw ScenarioError("latency.loss = " + number_text(s.link.loss) +
                            ": [wire] pipes are reliable byte streams (TCP turns loss into "
                            "delay); model loss without [wire]");
    }
    if (!s.faults.empty()) {
        refuse("[[faults]] (name wire.corruptions instead)");
    }
    if (s.churn.fraction > 0.0) {
        refuse("[churn]");
    }
    if (s.byzantine.behaviour != ByzantineBehaviour::none) {
        refuse("[byzantine]");
    }
    if (s.chain.enabled) {
        refuse("[chain]");
    }
    if (s.eclipse.enabled) {
        refuse("[eclipse]");
    }
    if (s.wire.corruptions > 0 && s.workload.messages == 0) {
        throw ScenarioError("wire.corruptions = " + std::to_string(s.wire.corruptions) +
                            ": needs workload.messages, during which frames are corrupted");
    }
}

void check_eclipse(const Scenario& s) {
    const auto refuse = [](const std::string& what) {
        throw ScenarioError("[eclipse] models connections only: it takes no " + what);
    };
    if (s.workload.messages > 0) {
        refuse("workload.messages");
    }
    if (!s.faults.empty()) {
        refuse("[[faults]] (name eclipse.restart_at_s instead)");
    }
    if (s.churn.fraction > 0.0) {
        refuse("[churn] (eclipse.honest_lifetime_s is its churn)");
    }
    if (s.byzantine.behaviour != ByzantineBehaviour::none) {
        refuse("[byzantine] (the attacker is eclipse.attacker_identities)");
    }
    if (s.chain.enabled) {
        refuse("[chain]");
    }
    const Duration judged = s.eclipse.config.attack_start + s.eclipse.config.warmup;
    if (judged >= s.duration) {
        throw ScenarioError("network.duration_s = " + number_text(std::chrono::duration<double>(s.duration).count()) +
                            ": too short; nothing is judged before eclipse.attack_start_s plus "
                            "eclipse.warmup_s");
    }
}

void check_timing(const Scenario& s) {
    if (s.chain.enabled && s.chain.mining_stop + s.chain.convergence_bound > s.duration) {
        const auto secs = [](Duration d) {
            return number_text(std::chrono::duration<double>(d).count());
        };
        throw ScenarioError("network.duration_s = " + secs(s.duration) +
                            ": too short; chain.mining_stop_s " + secs(s.chain.mining_stop) +
                            " plus chain.convergence_bound_s " + secs(s.chain.convergence_bound) +
                            " must fit in the run");
    }
    if (s.byzantine.behaviour == ByzantineBehaviour::invalid_blocks && !s.chain.enabled) {
        throw ScenarioError("byzantine.behaviour = \"invalid_blocks\" needs a [chain] table");
    }
    if (s.byzantine.behaviour == ByzantineBehaviour::invalid_transactions && !s.chain.enabled) {
        throw ScenarioError(
            "byzantine.behaviour = \"invalid_transactions\" needs a [chain] table");
    }
    if (s.chain.transactions > 0) {
        const Duration last = s.chain.transactions_start +
                              s.chain.transaction_interval *
                                  static_cast<std::int64_t>(s.chain.transactions - 1);
        if (last >= s.chain.mining_stop) {
            throw ScenarioError("chain.transactions = " + std::to_string(s.chain.transactions) +
                                ": the last is sent at " +
                                number_text(std::chrono::duration<double>(last).count()) +
                                " s, not before chain.mining_stop_s; nothing would mine it");
        }
    }
    // Delivery checks run at publish + bound: a run that stops earlier checks nothing.
    Duration last{0};
    if (s.workload.messages > 0) {
        last = s.workload.start +
               s.workload.interval * static_cast<std::int64_t>(s.workload.messages - 1);
    }
    if (s.byzantine.behaviour == ByzantineBehaviour::spam_invalid &&
        s.byzantine.spam_messages > 0) {
        last = std::max(last, s.byzantine.spam_start +
                                  s.byzantine.spam_interval *
                                      static_cast<std::int64_t>(s.byzantine.spam_messages - 1));
    }
    if (last + s.delivery_bound > s.duration) {
        const auto secs = [](Duration d) {
            return number_text(std::chrono::duration<double>(d).count());
        };
        throw ScenarioError("network.duration_s = " + secs(s.duration) +
                            ": too short; the last publish at " + secs(last) +
                            " s plus delivery_bound_s " + secs(s.delivery_bound) +
                            " must fit in the run");
    }
    // Publishes in total, and the network's delivery records (one time per node per message).
    const std::size_t spammers = s.byzantine.behaviour != ByzantineBehaviour::spam_invalid ? 0
                                 : s.byzantine.nodes.random > 0 ? s.byzantine.nodes.random
                                                                : s.byzantine.nodes.listed.size();
    const double publishes =
        static_cast<double>(s.workload.messages) +
        static_cast<double>(s.byzantine.spam_messages) * static_cast<double>(spammers);
    if (publishes > static_cast<double>(SCENARIO_MESSAGES_MAX)) {
        throw ScenarioError(
            "workload.messages + byzantine.spam_messages x spammers = " + number_text(publishes) +
            ": the limit is " + std::to_string(SCENARIO_MESSAGES_MAX));
    }
    if (publishes * static_cast<double>(s.nodes) > static_cast<double>(SCENARIO_RECORDS_MAX)) {
        throw ScenarioError("network.nodes = " + std::to_string(s.nodes) + " with " +
                            number_text(publishes) +
                            " publishes: too many delivery records (nodes x publishes at most " +
                            std::to_string(SCENARIO_RECORDS_MAX) + ")");
    }
    if (s.topology == TopologyKind::random_regular && s.degree >= s.nodes) {
        throw ScenarioError("topology.degree = " + std::to_string(s.degree) +
                            ": must be below network.nodes (" + std::to_string(s.nodes) + ")");
    }
}

// ---------------------------------------------------------------------------------------------
// Running

// `count` distinct nodes out of `n`, drawn with a partial Fisher-Yates shuffle, sorted.
std::vector<NodeIndex> draw_nodes(Rng& rng, std::size_t n, std::size_t count) {
    std::vector<NodeIndex> pool(n);
    for (NodeIndex i = 0; i < n; ++i) {
        pool[i] = i;
    }
    count = std::min(count, pool.size());
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t j = i + static_cast<std::size_t>(rng.uniform(pool.size() - i));
        std::swap(pool[i], pool[j]);
    }
    pool.resize(count);
    std::sort(pool.begin(), pool.end());
    return pool;
}

std::vector<NodeIndex> resolve(const NodeSelection& selection, Rng& rng, std::size_t n) {
    return selection.random > 0 ? draw_nodes(rng, n, selection.random) : selection.listed;
}

// Unique per message, then padded: the id function and the hooks only look at the head.
Bytes message_data(std::string_view head, std::size_t index, NodeIndex publisher,
                   std::size_t bytes) {
    std::string text = std::string(head) + " " + std::to_string(index) + " from " +
                       std::to_string(publisher) + " ";
    if (text.size() < bytes) {
        text.append(bytes - text.size(), '.');
    }
    return Bytes(text.begin(), text.end());
}

// One thing the driver does at an instant. The data is made when it is published, so that the
// list stays small however large the messages are.
struct Step {
    Duration at{0};
    NodeIndex node = 0;
    std::string_view head;             // "M" or SPAM_MARKER; empty for a slowdown
    std::size_t index = 0;             // message number within its kind
    std::optional<Duration> slowdown;  // set instead: a slow fault starting or ending
};

std::string seconds_text(Duration d) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f", std::chrono::duration<double>(d).count());
    return text;
}

}  // namespace

Scenario parse_scenario(std::string_view toml_text) {
    if (toml_text.size() > SCENARIO_TEXT_MAX_BYTES) {
        throw ScenarioError("scenario is " + std::to_string(toml_text.size()) +
                            " bytes; the limit is " + std::to_string(SCENARIO_TEXT_MAX_BYTES));
    }
    toml::table root;
    try {
        root = toml::parse(toml_text);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        throw ScenarioError("TOML syntax, line " + std::to_string(where.line) + " column " +
                            std::to_string(where.column) + ": " + std::string(e.description()));
    }
    Scenario s;
    TableReader top(root, "");
    if (const toml::node* name = top.find("name")) {
        const auto text = name->value_exact<std::string>();
        if (!text || text->size() > 100) {
            fail("name", *name, "expected a text of at most 100 bytes");
        }
        s.name = *text;
    }
    const toml::table* network = top.table("network");
    if (network == nullptr) {
        throw ScenarioError("[network] is missing: it names nodes and duration_s");
    }
    {
        TableReader r(*network, "network");
        parse_network(r, s);
    }
    if (const auto* t = top.table("topology")) {
        TableReader r(*t, "topology");
        parse_topology(r, s);
    }
    if (const auto* t = top.table("latency")) {
        TableReader r(*t, "latency");
        parse_latency(r, s);
    }
    if (const auto* t = top.table("workload")) {
        TableReader r(*t, "workload");
        parse_workload(r, s);
    }
    if (const toml::node* faults = top.find("faults")) {
        const auto* array = faults->as_array();
        if (array == nullptr || !array->is_array_of_tables() ||
            array->size() > SCENARIO_FAULTS_MAX) {
            fail("faults", *faults,
                 "expected [[faults]] tables, at most " + std::to_string(SCENARIO_FAULTS_MAX));
        }
        for (std::size_t i = 0; i < array->size(); ++i) {
            TableReader r(*array->get(i)->as_table(), "faults[" + std::to_string(i) + "]");
            parse_fault(r, s);
        }
    }
    if (const auto* t = top.table("churn")) {
        TableReader r(*t, "churn");
        parse_churn(r, s);
    }
    if (const auto* t = top.table("byzantine")) {
        TableReader r(*t, "byzantine");
        parse_byzantine(r, s);
    }
    if (const auto* t = top.table("chain")) {
        TableReader r(*t, "chain");
        parse_chain(r, s);
    }
    if (const auto* t = top.table("eclipse")) {
        TableReader r(*t, "eclipse");
        parse_eclipse(r, s);
    }
    if (const auto* t = top.table("wire")) {
        TableReader r(*t, "wire");
        parse_wire(r, s);
    }
    if (const auto* t = top.table("expect")) {
        TableReader r(*t, "expect");
        s.expect_pass = r.choice("result", {"pass", "fail"}).value_or(0) == 0;
        r.finish();
    }
    top.finish();
    if (s.eclipse.enabled) {
        check_eclipse(s);
    }
    if (s.wire.enabled) {
        check_wire(s);
    }
    check_timing(s);
    return s;
}

namespace {

std::string report_tail(const ScenarioResult& result, const Scenario& s, std::uint64_t seed) {
    std::string report;
    for (const auto& invariant : result.invariants) {
        report += "invariant " + invariant.name + (invariant.passed ? " pass: " : " FAIL: ") +
                  invariant.detail + "\n";
    }
    for (const auto& violation : result.violations) {
        report += "violation " + violation + "\n";
    }
    report += std::string("result ") + (result.passed ? "pass" : "fail") + " (expected " +
              (s.expect_pass ? "pass" : "fail") + ")\n";
    report += "seed " + std::to_string(seed) + "\n";
    return report;
}

ScenarioResult run_eclipse_scenario(const Scenario& s, std::uint64_t seed) {
    EclipseConfig config = s.eclipse.config;
    config.seed = seed;
    config.duration = s.duration;
    const EclipseMetrics m = run_eclipse(config);

    ScenarioResult result;
    result.seed = seed;
    result.metrics.node_count = s.nodes + 1;
    result.metrics.events = m.events;
    result.eclipse = m;
    InvariantResult resistance{"eclipse_resistance", m.failing_samples == 0 && m.samples > 0, ""};
    char text[240];
    std::snprintf(text, sizeof text,
                  "%llu of %llu samples below %zu honest connections (fewest %zu, %llu with none); "
                  "the attacker held at most %.1f%% of the victim's connections",
                  static_cast<unsigned long long>(m.failing_samples),
                  static_cast<unsigned long long>(m.samples), config.min_honest,
                  m.min_honest_connections, static_cast<unsigned long long>(m.eclipsed_samples),
                  100.0 * m.max_attacker_share);
    resistance.detail = text;
    if (m.first_failure) {
        resistance.detail += "; first at " + seconds_text(*m.first_failure) + " s";
    }
    result.invariants.push_back(std::move(resistance));
    result.passed = result.invariants.front().passed;
    result.met_expectation = result.passed == s.expect_pass;
    result.report = "scenario " + (s.name.empty() ? std::string("-") : s.name) + "\n" +
                    "policy " + (config.slot_policy ? "peer_slots" : "none") + "\n" +
                    format_eclipse_metrics(m) + report_tail(result, s, seed);
    return result;
}

ScenarioResult run_wire_scenario(const Scenario& s, std::uint64_t seed) {
    WireNetworkConfig config;
    config.seed = seed;
    config.node_count = s.nodes;
    config.topic = SIM_TOPIC;
    config.link = s.link;
    config.validation_delay = s.validation_delay;
    config.check_router_invariants = s.check_router_invariants;
    config.gossip.heartbeat_interval = s.heartbeat_interval;
    if (s.topic_scoring) {
        config.gossip.score.topics[SIM_TOPIC] = pubsub::TopicScoreParams{};
    }
    WireNetwork net(config);
    Rng choices(seed ^ 0x5ce9a110c0ffee11ULL);
    const std::size_t n = s.nodes;

    const Links edges = s.topology == TopologyKind::full   ? full_links(n)
                        : s.topology == TopologyKind::line ? line_links(n)
                                                           : random_regular_links(n, s.degree, choices);
    net.add_links(edges);

    std::vector<NodeIndex> publishers = resolve(s.workload.publishers, choices, n);
    const bool random_publishers = publishers.empty();
    for (std::size_t i = 0; i < s.workload.messages; ++i) {
        const NodeIndex node = random_publishers ? static_cast<NodeIndex>(choices.uniform(n))
                                                 : publishers[i % publishers.size()];
        net.schedule_publish(
            Instant{} + s.workload.start + s.workload.interval * static_cast<std::int64_t>(i),
            node, message_data("M", i, node, s.workload.message_bytes));
    }
    // Corruptions on random links, in a random direction, during the workload.
    std::set<std::pair<NodeIndex, NodeIndex>> corrupted;  // (low, high)
    const Duration window =
        s.workload.interval * static_cast<std::int64_t>(std::max<std::size_t>(s.workload.messages, 1));
    for (std::size_t c = 0; c < s.wire.corruptions && !edges.empty(); ++c) {
        // Plain variables, not a structured binding: clang 14 cannot capture those.
        const auto edge = edges[choices.uniform(edges.size())];
        NodeIndex from = edge.first;
        NodeIndex to = edge.second;
        if (choices.uniform(2) == 1) {
            std::swap(from, to);
        }
        const Duration at = s.workload.start +
                            Duration{static_cast<std::int64_t>(choices.uniform_real() *
                                                               static_cast<double>(window.count()))};
        corrupted.emplace(std::min(from, to), std::max(from, to));
        net.schedule(Instant{} + at, [&net, from, to] { net.corrupt_next(from, to); });
    }
    net.run_until(Instant{} + s.duration);
    const WireMetrics wm = net.metrics();

    // Components over the connections still up at the end.
    std::vector<std::vector<NodeIndex>> adjacent(n);
    std::size_t bad_closes = 0;
    std::size_t noise_closes = 0;
    std::string first_bad;
    for (ConnectionId id = 0; id < net.connection_count(); ++id) {
        const ConnectionInfo& info = net.connection(id);
        const bool on_corrupted =
            corrupted.contains({std::min(info.dialer, info.listener), std::max(info.dialer, info.listener)});
        if (info.state == ConnectionState::established) {
            adjacent[info.dialer].push_back(info.listener);
            adjacent[info.listener].push_back(info.dialer);
        } else if (on_corrupted && info.state == ConnectionState::closed &&
                   info.error.find("noise") != std::string::npos) {
            ++noise_closes;
        } else {
            ++bad_closes;
            if (first_bad.empty()) {
                first_bad = "; " + std::to_string(info.dialer) + "-" +
                            std::to_string(info.listener) + " " +
                            std::string(describe(info.state)) + ": " + info.error;
            }
        }
    }
    std::vector<std::size_t> component(n, SIZE_MAX);
    for (NodeIndex start = 0; start < n; ++start) {
        if (component[start] != SIZE_MAX) {
            continue;
        }
        std::vector<NodeIndex> stack{start};
        component[start] = start;
        while (!stack.empty()) {
            const NodeIndex node = stack.back();
            stack.pop_back();
            for (const NodeIndex next : adjacent[node]) {
                if (component[next] == SIZE_MAX) {
                    component[next] = start;
                    stack.push_back(next);
                }
            }
        }
    }

    ScenarioResult result;
    result.seed = seed;
    std::uint64_t misses = 0;
    std::string first_miss;
    for (std::size_t m = 0; m < net.message_count(); ++m) {
        const NodeIndex publisher = net.publisher(m);
        const Instant published = net.published_at(m);
        for (NodeIndex node = 0; node < n; ++node) {
            if (node == publisher) {
                continue;
            }
            const auto at = net.delivery_time(m, node);
            if (component[node] == component[publisher] &&
                (!at || *at - published > s.delivery_bound)) {
                ++misses;
                if (first_miss.empty()) {
                    first_miss = "message " + std::to_string(m) + " from node " +
                                 std::to_string(publisher) + " missed node " +
                                 std::to_string(node) + "; replay with --seed " +
                                 std::to_string(seed);
                }
            }
        }
    }
    Metrics& metrics = result.metrics;
    metrics.node_count = n;
    metrics.message_count = net.message_count();
    metrics.deliveries = wm.deliveries;
    metrics.delivery_ratio = wm.delivery_ratio;
    metrics.latency_p50 = wm.latency_p50;
    metrics.latency_p90 = wm.latency_p90;
    metrics.latency_p99 = wm.latency_p99;
    metrics.latency_max = wm.latency_max;
    metrics.bytes_sent_total = wm.wire_bytes_total;
    metrics.bytes_sent_mean = n == 0 ? 0 : wm.wire_bytes_total / n;
    metrics.bytes_sent_max = wm.wire_bytes_max;
    metrics.rpcs_sent = wm.rpcs_sent;
    metrics.penalties = wm.penalties;
    metrics.px_connects = wm.px_connects;
    metrics.events = wm.events;
    metrics.violations = misses;
    result.honest_delivery_ratio = wm.delivery_ratio;

    InvariantResult delivery{"delivery", misses == 0 && !wm.event_cap_reached, ""};
    delivery.detail = misses == 0
                          ? "every message reached every node joined to its publisher within " +
                                seconds_text(s.delivery_bound) + " s"
                          : std::to_string(misses) + " misses; the first: " + first_miss;
    if (wm.event_cap_reached) {
        delivery.detail += "; the run hit its event cap";
    }
    result.invariants.push_back(std::move(delivery));
    InvariantResult integrity{"wire_integrity",
                              bad_closes == 0 && noise_closes == wm.corruptions, ""};
    integrity.detail = std::to_string(net.connection_count()) + " connections, " +
                       std::to_string(wm.corruptions) + " corrupted frames, " +
                       std::to_string(noise_closes) + " closed by Noise, " +
                       std::to_string(bad_closes) + " failed or closed otherwise" + first_bad;
    result.invariants.push_back(std::move(integrity));
    if (!first_miss.empty()) {
        result.violations.push_back(first_miss);
    }
    result.passed = std::all_of(result.invariants.begin(), result.invariants.end(),
                                [](const InvariantResult& i) { return i.passed; });
    result.met_expectation = result.passed == s.expect_pass;
    char line[64];
    std::snprintf(line, sizeof line, "wire_overhead %.4f\n",
                  wm.rpc_bytes_total == 0 ? 0.0
                                          : static_cast<double>(wm.wire_bytes_total) /
                                                static_cast<double>(wm.rpc_bytes_total));
    result.report = "scenario " + (s.name.empty() ? std::string("-") : s.name) + "\n" +
                    "stack wire\n" + format_metrics(wm) + line + report_tail(result, s, seed);
    return result;
}

}  // namespace

ScenarioResult run_scenario(const Scenario& s, std::uint64_t seed) {
    if (s.eclipse.enabled) {
        return run_eclipse_scenario(s, seed);
    }
    if (s.wire.enabled) {
        return run_wire_scenario(s, seed);
    }
    NetworkConfig config;
    config.seed = seed;
    config.node_count = s.nodes;
    config.topics = {SIM_TOPIC};
    config.link = s.link;
    config.validation_delay = s.validation_delay;
    config.delivery_bound = s.delivery_bound;
    config.check_router_invariants = s.check_router_invariants;
    config.gossip.heartbeat_interval = s.heartbeat_interval;
    if (s.topic_scoring) {
        config.gossip.score.topics[SIM_TOPIC] = pubsub::TopicScoreParams{};
    }

    // The scenario's own choices, apart from the network's Rng (see the header).
    Rng choices(seed ^ 0x5ce9a110c0ffee11ULL);
    const std::size_t n = s.nodes;
    std::vector<bool> byzantine(n, false);
    for (const NodeIndex node : resolve(s.byzantine.nodes, choices, n)) {
        byzantine[node] = true;
    }

    Hooks hooks;
    if (s.byzantine.behaviour == ByzantineBehaviour::spam_invalid) {
        hooks.invalid = [](NodeIndex, const pubsub::ValidateMessage& v) {
            return std::string_view(reinterpret_cast<const char*>(v.data.data()), v.data.size())
                .starts_with(SPAM_MARKER);
        };
    } else if (s.byzantine.behaviour == ByzantineBehaviour::drop_relay) {
        hooks.drop_send = [&byzantine](NodeIndex from, NodeIndex, ByteView) {
            return static_cast<bool>(byzantine[from]);
        };
    }

    // With a chain, the network lives inside the ChainNetwork.
    std::unique_ptr<ChainNetwork> chain;
    std::unique_ptr<GossipNetwork> plain;
    if (s.chain.enabled) {
        ChainConfig chain_config;
        chain_config.network = config;
        chain_config.block_interval = s.chain.block_interval;
        chain_config.miners = resolve(s.chain.miners, choices, n);
        chain_config.mining_stop = Instant{s.chain.mining_stop};
        chain_config.check_engine_invariants = s.check_router_invariants;
        if (s.chain.transactions > 0 ||
            s.byzantine.behaviour == ByzantineBehaviour::invalid_transactions) {
            chain_config.wallets = s.chain.wallets;
        }
        chain = std::make_unique<ChainNetwork>(std::move(chain_config), hooks);
    } else {
        plain = std::make_unique<GossipNetwork>(config, hooks);
    }
    GossipNetwork& net = chain ? chain->network() : *plain;
    switch (s.topology) {
        case TopologyKind::random_regular:
            net.connect_random_regular(s.degree);
            break;
        case TopologyKind::line:
            net.connect_line();
            break;
        case TopologyKind::full:
            net.connect_full();
            break;
    }
    if (!s.byzantine.declared_honest) {
        for (NodeIndex node = 0; node < n; ++node) {
            if (byzantine[node]) {
                net.set_honest(node, false);
            }
        }
    }
    const auto at = [](Duration d) { return Instant{d}; };
    if (chain) {
        for (const NodeIndex node : s.chain.trusting.listed) {
            chain->set_trusting(node, true);
            // The control must meet the invalid blocks: honest relays refuse them.
            for (NodeIndex b = 0; b < n; ++b) {
                if (byzantine[b] && b != node) {
                    net.add_link(b, node);
                }
            }
        }
        if (s.byzantine.behaviour == ByzantineBehaviour::invalid_blocks ||
            s.byzantine.behaviour == ByzantineBehaviour::invalid_transactions) {
            const bool blocks = s.byzantine.behaviour == ByzantineBehaviour::invalid_blocks;
            for (std::size_t i = 0; i < s.byzantine.spam_messages; ++i) {
                for (NodeIndex node = 0; node < n; ++node) {
                    if (!byzantine[node]) {
                        continue;
                    }
                    const Instant when = at(s.byzantine.spam_start +
                                            s.byzantine.spam_interval * static_cast<std::int64_t>(i));
                    if (blocks) {
                        chain->schedule_invalid_block(when, node);
                    } else {
                        chain->schedule_invalid_transaction(when, node);
                    }
                }
            }
        }
        // Each transfer goes to a random honest node (it may be down then: no transfer).
        std::vector<NodeIndex> honest_nodes;
        for (NodeIndex node = 0; node < n; ++node) {
            if (!byzantine[node]) {
                honest_nodes.push_back(node);
            }
        }
        for (std::size_t i = 0; i < s.chain.transactions; ++i) {
            chain->schedule_transaction(
                at(s.chain.transactions_start +
                   s.chain.transaction_interval * static_cast<std::int64_t>(i)),
                honest_nodes[choices.uniform(honest_nodes.size())]);
        }
    }

    // Faults the network schedules itself; slowdowns and publishes go on the driver's list.
    std::vector<Step> steps;
    for (const FaultSpec& f : s.faults) {
        switch (f.kind) {
            case FaultKind::partition: {
                auto groups = f.groups;
                if (groups.empty()) {
                    const auto cut = static_cast<std::size_t>(
                        std::llround(f.random_split * static_cast<double>(n)));
                    groups.push_back(draw_nodes(choices, n, cut));
                }
                net.schedule_partition(at(f.at), std::move(groups));
                if (f.duration) {
                    net.schedule_heal(at(f.at + *f.duration));
                }
                break;
            }
            case FaultKind::heal:
                net.schedule_heal(at(f.at));
                break;
            case FaultKind::crash:
            case FaultKind::restart: {
                for (const NodeIndex node : resolve(f.nodes, choices, n)) {
                    if (f.kind == FaultKind::crash) {
                        net.schedule_crash(at(f.at), node);
                        if (f.duration) {
                            net.schedule_restart(at(f.at + *f.duration), node);
                        }
                    } else {
                        net.schedule_restart(at(f.at), node);
                    }
                }
                break;
            }
            case FaultKind::slow:
                for (const NodeIndex node : resolve(f.nodes, choices, n)) {
                    steps.push_back({f.at, node, {}, 0, f.extra});
                    if (f.duration) {
                        steps.push_back({f.at + *f.duration, node, {}, 0, Duration{0}});
                    }
                }
                break;
        }
    }
    if (s.churn.fraction > 0.0) {
        const auto count =
            static_cast<std::size_t>(std::llround(s.churn.fraction * static_cast<double>(n)));
        std::vector<NodeIndex> down;
        for (Duration t = s.churn.start; t < s.duration; t += s.churn.period) {
            for (const NodeIndex node : down) {
                net.schedule_restart(at(t), node);
            }
            down = draw_nodes(choices, n, count);
            for (const NodeIndex node : down) {
                net.schedule_crash(at(t), node);
            }
        }
    }

    std::vector<bool> dishonest(n, false);
    if (!s.byzantine.declared_honest) {
        dishonest = byzantine;
    }
    std::vector<NodeIndex> publishers = resolve(s.workload.publishers, choices, n);
    const bool random_publishers = publishers.empty();
    if (random_publishers) {
        for (NodeIndex node = 0; node < n; ++node) {
            if (!dishonest[node]) {
                publishers.push_back(node);
            }
        }
    }
    for (std::size_t i = 0; i < s.workload.messages; ++i) {
        const NodeIndex node = random_publishers ? publishers[choices.uniform(publishers.size())]
                                                 : publishers[i % publishers.size()];
        steps.push_back({s.workload.start + s.workload.interval * static_cast<std::int64_t>(i),
                         node,
                         "M",
                         i,
                         {}});
    }
    if (s.byzantine.behaviour == ByzantineBehaviour::spam_invalid) {
        std::vector<NodeIndex> spammers;
        for (NodeIndex node = 0; node < n; ++node) {
            if (byzantine[node]) {
                spammers.push_back(node);
            }
        }
        std::size_t index = 0;
        for (std::size_t i = 0; i < s.byzantine.spam_messages; ++i) {
            for (const NodeIndex node : spammers) {
                steps.push_back({s.byzantine.spam_start +
                                     s.byzantine.spam_interval * static_cast<std::int64_t>(i),
                                 node,
                                 SPAM_MARKER,
                                 index++,
                                 {}});
            }
        }
    }
    std::stable_sort(steps.begin(), steps.end(),
                     [](const Step& a, const Step& b) { return a.at < b.at; });

    // Publishes run one at a time, so that each recorded message is known by its publisher:
    // run to the instant, publish, run the instant again (the publish and what it set off at
    // once), and see whether a message was recorded (a down node publishes nothing).
    const auto run_until = [&](Instant end) {
        return chain ? chain->run_until(end) : net.run_until(end);
    };
    std::vector<NodeIndex> publisher_of;  // per recorded message
    for (const Step& step : steps) {
        run_until(at(step.at));
        if (step.slowdown) {
            net.set_slowdown(step.node, *step.slowdown);
            continue;
        }
        const std::size_t before = net.message_count();
        net.schedule_publish(
            at(step.at), step.node, SIM_TOPIC,
            message_data(step.head, step.index, step.node, s.workload.message_bytes));
        run_until(at(step.at));
        if (net.message_count() > before) {
            publisher_of.push_back(step.node);
        }
    }
    // Tips are judged at mining_stop + convergence_bound; the run then goes on to its end.
    std::optional<InvariantResult> convergence;
    if (chain) {
        const Instant judged = at(s.chain.mining_stop + s.chain.convergence_bound);
        run_until(judged);
        convergence = InvariantResult{"tip_convergence", chain->tips_agree(), ""};
        Duration last_heal{0};
        for (const FaultSpec& f : s.faults) {
            if (f.kind == FaultKind::heal) {
                last_heal = std::max(last_heal, f.at);
            } else if (f.kind == FaultKind::partition && f.duration) {
                last_heal = std::max(last_heal, f.at + *f.duration);
            }
        }
        const auto ms = [](Duration d) {
            return number_text(std::chrono::duration<double, std::milli>(d).count());
        };
        const auto metrics = chain->metrics();
        std::string detail = std::to_string(metrics.distinct_tips) +
                             " distinct tips among honest nodes up at " +
                             seconds_text(s.chain.mining_stop + s.chain.convergence_bound) +
                             " s (heights " + std::to_string(metrics.min_height) + ".." +
                             std::to_string(metrics.max_height) + ")";
        if (!convergence->passed) {
            // Name a few nodes off the most common tip, for the replay.
            std::map<Hash256, std::size_t> counts;
            for (NodeIndex node = 0; node < n; ++node) {
                if (const auto tip = chain->tip(node); tip && net.is_honest(node)) {
                    ++counts[tip->hash];
                }
            }
            const auto common = std::max_element(
                counts.begin(), counts.end(),
                [](const auto& a, const auto& b) { return a.second < b.second; });
            std::size_t named = 0;
            for (NodeIndex node = 0; node < n && named < 3 && common != counts.end(); ++node) {
                const auto tip = chain->tip(node);
                if (tip && net.is_honest(node) && tip->hash != common->first) {
                    detail += (named++ == 0 ? "; off the common tip: node " : ", node ") +
                              std::to_string(node) + " at height " + std::to_string(tip->height);
                }
            }
        }
        if (const auto agreed = chain->first_agreement_after(at(s.chain.mining_stop))) {
            detail += "; agreed " + ms(*agreed - at(s.chain.mining_stop)) +
                      " ms after the mining stopped";
        }
        if (last_heal > Duration{0}) {
            if (const auto agreed = chain->first_agreement_after(at(last_heal))) {
                detail += ", first " + ms(*agreed - at(last_heal)) + " ms after the last heal";
            }
        }
        convergence->detail = std::move(detail);
    }
    run_until(at(s.duration));

    ScenarioResult result;
    result.seed = seed;
    result.metrics = net.metrics();
    const auto& violations = net.violations();
    result.violations.assign(
        violations.begin(),
        violations.begin() +
            static_cast<std::ptrdiff_t>(std::min(violations.size(), SCENARIO_VIOLATIONS_SHOWN)));

    // Honest delivery: every honest node other than the publisher, components ignored.
    std::uint64_t honest_pairs = 0;
    std::uint64_t honest_delivered = 0;
    std::size_t honest_count = 0;
    for (NodeIndex node = 0; node < n; ++node) {
        honest_count += dishonest[node] ? 0 : 1;
    }
    for (std::size_t m = 0; m < publisher_of.size(); ++m) {
        if (dishonest[publisher_of[m]]) {
            continue;
        }
        honest_pairs += honest_count - 1;
        for (NodeIndex node = 0; node < n; ++node) {
            if (node != publisher_of[m] && !dishonest[node] && net.delivery_time(m, node)) {
                ++honest_delivered;
            }
        }
    }
    result.honest_delivery_ratio = honest_pairs == 0 ? 1.0
                                                     : static_cast<double>(honest_delivered) /
                                                           static_cast<double>(honest_pairs);

    {
        InvariantResult delivery{"delivery", net.violation_count() == 0, ""};
        if (delivery.passed) {
            delivery.detail =
                "every honest message reached every honest subscriber in its "
                "publisher's component within " +
                seconds_text(s.delivery_bound) + " s";
        } else {
            delivery.detail = std::to_string(net.violation_count()) + " violations; the first: " +
                              (violations.empty() ? std::string("?") : violations.front());
        }
        result.invariants.push_back(std::move(delivery));
    }
    if (s.byzantine.behaviour == ByzantineBehaviour::spam_invalid) {
        std::size_t pairs = 0;
        std::size_t negative = 0;
        double worst = std::numeric_limits<double>::lowest();
        std::string first_bad;
        for (NodeIndex b = 0; b < n; ++b) {
            if (!byzantine[b]) {
                continue;
            }
            for (NodeIndex h = 0; h < n; ++h) {
                if (byzantine[h] || !net.reachable(h, b)) {
                    continue;
                }
                ++pairs;
                const double score = net.router(h)->score(net.peer_id(b));
                worst = std::max(worst, score);
                if (score < 0.0) {
                    ++negative;
                } else if (first_bad.empty()) {
                    char text[120];
                    std::snprintf(text, sizeof text, "; node %u scores spammer %u at %.3f", h, b,
                                  score);
                    first_bad = text;
                }
            }
        }
        InvariantResult score{"byzantine_score", pairs > 0 && negative == pairs, ""};
        char text[200];
        std::snprintf(text, sizeof text,
                      "%zu of %zu (honest node, linked spammer) pairs score the spammer below 0",
                      negative, pairs);
        score.detail = std::string(text) + first_bad;
        if (pairs > 0 && score.passed) {
            std::snprintf(text, sizeof text, " (highest %.3f)", worst);
            score.detail += text;
        }
        result.invariants.push_back(std::move(score));

        InvariantResult honest{"honest_delivery",
                               result.honest_delivery_ratio >= HONEST_DELIVERY_MIN, ""};
        std::snprintf(text, sizeof text,
                      "honest messages reached %.6f of honest nodes (at least %.2f needed)",
                      result.honest_delivery_ratio, HONEST_DELIVERY_MIN);
        honest.detail = text;
        result.invariants.push_back(std::move(honest));
    }

    if (chain) {
        const auto m = chain->metrics();
        result.chain = m;
        result.invariants.push_back(std::move(*convergence));
        InvariantResult invalid{"no_invalid_block", m.invalid_applied == 0, ""};
        invalid.detail = std::to_string(m.invalid_blocks_made) + " invalid blocks made, " +
                         std::to_string(m.invalid_applied) + " applied by honest nodes";
        if (!invalid.passed && !chain->violations().empty()) {
            invalid.detail += "; the first: " + chain->violations().front();
        }
        result.invariants.push_back(std::move(invalid));
        if (s.chain.transactions > 0 ||
            s.byzantine.behaviour == ByzantineBehaviour::invalid_transactions) {
            InvariantResult invalid_tx{"no_invalid_transaction", m.invalid_tx_admitted == 0, ""};
            invalid_tx.detail = std::to_string(m.invalid_transactions_made) +
                                " invalid transactions made, " +
                                std::to_string(m.invalid_tx_admitted) +
                                " admitted by honest nodes";
            result.invariants.push_back(std::move(invalid_tx));
        }
        if (s.chain.transactions > 0) {
            const double share = m.transactions_made == 0
                                     ? 1.0
                                     : static_cast<double>(m.transactions_confirmed) /
                                           static_cast<double>(m.transactions_made);
            InvariantResult confirmed{"transactions_confirmed", share >= s.chain.min_confirmed,
                                      ""};
            char text[160];
            std::snprintf(text, sizeof text,
                          "%llu of %llu transfers on the final chain (%.4f, at least %.4f needed)",
                          static_cast<unsigned long long>(m.transactions_confirmed),
                          static_cast<unsigned long long>(m.transactions_made), share,
                          s.chain.min_confirmed);
            confirmed.detail = text;
            result.invariants.push_back(std::move(confirmed));
        }
        InvariantResult penalty{"no_honest_penalty", m.honest_penalised == 0, ""};
        penalty.detail = std::to_string(m.penalties_bad_data) + " bad-data penalties, " +
                         std::to_string(m.honest_penalised) + " of them between honest nodes";
        result.invariants.push_back(std::move(penalty));
        for (std::size_t i = 0;
             i < chain->violations().size() && result.violations.size() < SCENARIO_VIOLATIONS_SHOWN;
             ++i) {
            result.violations.push_back(chain->violations()[i]);
        }
    }

    result.passed = std::all_of(result.invariants.begin(), result.invariants.end(),
                                [](const InvariantResult& i) { return i.passed; });
    result.met_expectation = result.passed == s.expect_pass;

    std::string report = "scenario " + (s.name.empty() ? std::string("-") : s.name) + "\n";
    report += format_metrics(result.metrics);
    if (chain) {
        report += format_chain_metrics(chain->metrics());
    }
    char line[64];
    std::snprintf(line, sizeof line, "honest_delivery_ratio %.6f\n", result.honest_delivery_ratio);
    report += line;
    report += report_tail(result, s, seed);
    result.report = std::move(report);
    return result;
}

std::string summary_line(const ScenarioResult& r) {
    char text[256];
    if (r.eclipse) {
        std::snprintf(text, sizeof text,
                      "seed %llu %s%s fewest honest %zu attacker share max %.4f "
                      "samples below %llu",
                      static_cast<unsigned long long>(r.seed), r.passed ? "pass" : "fail",
                      r.met_expectation ? "" : " (UNEXPECTED)", r.eclipse->min_honest_connections,
                      r.eclipse->max_attacker_share,
                      static_cast<unsigned long long>(r.eclipse->failing_samples));
        return text;
    }
    if (r.chain) {
        // A chain run's delivery ratio covers only the scenario's own messages: show the chain.
        std::snprintf(text, sizeof text,
                      "seed %llu %s%s height %llu..%llu tips %zu reorgs %llu deepest %llu "
                      "transfers %llu/%llu violations %llu",
                      static_cast<unsigned long long>(r.seed), r.passed ? "pass" : "fail",
                      r.met_expectation ? "" : " (UNEXPECTED)",
                      static_cast<unsigned long long>(r.chain->min_height),
                      static_cast<unsigned long long>(r.chain->max_height), r.chain->distinct_tips,
                      static_cast<unsigned long long>(r.chain->reorgs),
                      static_cast<unsigned long long>(r.chain->deepest_reorg),
                      static_cast<unsigned long long>(r.chain->transactions_confirmed),
                      static_cast<unsigned long long>(r.chain->transactions_made),
                      static_cast<unsigned long long>(r.metrics.violations));
        return text;
    }
    const auto ms = [](Duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
    std::snprintf(text, sizeof text,
                  "seed %llu %s%s delivery %.4f honest %.4f p50 %.1f ms p99 %.1f ms "
                  "violations %llu",
                  static_cast<unsigned long long>(r.seed), r.passed ? "pass" : "fail",
                  r.met_expectation ? "" : " (UNEXPECTED)", r.metrics.delivery_ratio,
                  r.honest_delivery_ratio, ms(r.metrics.latency_p50), ms(r.metrics.latency_p99),
                  static_cast<unsigned long long>(r.metrics.violations));
    return text;
}

}  // namespace chainmesh::sim
