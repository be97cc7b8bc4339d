#include <chainmesh/sim/gossip_network.hpp>

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <deque>
#include <variant>

namespace chainmesh::sim {

struct GossipNetwork::Node {
    explicit Node(crypto::Identity id) : identity(std::move(id)) {}

    crypto::Identity identity;
    std::unique_ptr<pubsub::GossipRouter> router;  // null while down
    std::uint64_t incarnation = 0;  // bumped on crash: stale events see a different value
    bool honest = true;
    std::optional<Instant> armed_heartbeat;
    std::set<NodeIndex> links;
    std::uint64_t bytes_sent = 0;
    std::uint64_t rpcs_sent = 0;
    std::uint64_t duplicates_before_crash = 0;
    Duration slowdown{0};
};

namespace {

std::string node_ip(NodeIndex node) {
    // Distinct addresses, so that P₆ (IP colocation) never fires between honest nodes.
    char text[32];
    std::snprintf(text, sizeof text, "10.%u.%u.%u", (node >> 16) & 0xffu, (node >> 8) & 0xffu,
                  node & 0xffu);
    return text;
}

long long to_micros(Duration d) {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

}  // namespace

GossipNetwork::GossipNetwork(NetworkConfig config, Hooks hooks)
    : m_config(std::move(config)), m_hooks(std::move(hooks)), m_rng(m_config.seed) {
    assert(pubsub::config_error(m_config.gossip).empty());
    const std::size_t n = m_config.node_count;
    m_group.assign(n, -1);
    m_nodes.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        crypto::Ed25519Seed seed{};
        m_rng.fill(seed);
        m_nodes.push_back(
            std::make_unique<Node>(crypto::Identity(crypto::Ed25519PrivateKey::from_seed(seed))));
        m_index.emplace(m_nodes.back()->identity.peer_id(), static_cast<NodeIndex>(i));
    }
    for (std::size_t i = 0; i < n; ++i) {
        start_router(static_cast<NodeIndex>(i));
    }
}

GossipNetwork::~GossipNetwork() = default;

std::pair<NodeIndex, NodeIndex> GossipNetwork::link_key(NodeIndex a, NodeIndex b) {
    return {std::min(a, b), std::max(a, b)};
}

std::optional<NodeIndex> GossipNetwork::index_of(const crypto::PeerId& peer) const {
    const auto it = m_index.find(peer);
    if (it == m_index.end()) {
        return std::nullopt;
    }
    return it->second;
}

const crypto::PeerId& GossipNetwork::peer_id(NodeIndex node) const {
    return m_nodes.at(node)->identity.peer_id();
}

const pubsub::GossipRouter* GossipNetwork::router(NodeIndex node) const {
    return m_nodes.at(node)->router.get();
}

void GossipNetwork::start_router(NodeIndex node) {
    Node& n = *m_nodes[node];
    pubsub::GossipConfig gossip = m_config.gossip;
    // Grows across restarts, so that peers accept the new incarnation's seqnos (pitfall 2).
    gossip.seqno_start = static_cast<std::uint64_t>(now().time_since_epoch().count()) + 1;
    n.router = std::make_unique<pubsub::GossipRouter>(std::move(gossip), n.identity, m_rng.fork());
    n.armed_heartbeat.reset();
    for (const auto& topic : m_config.topics) {
        n.router->subscribe(topic, now());
    }
    after_input(node);
}

void GossipNetwork::connect_routers(NodeIndex a, NodeIndex b) {
    Node& na = *m_nodes[a];
    Node& nb = *m_nodes[b];
    if (!na.router || !nb.router) {
        return;
    }
    na.router->on_peer_connected(nb.identity.peer_id(), true, node_ip(b), now());
    after_input(a);
    nb.router->on_peer_connected(na.identity.peer_id(), false, node_ip(a), now());
    after_input(b);
    if (m_application) {
        m_application->on_connected(a, b);
        m_application->on_connected(b, a);
    }
}

void GossipNetwork::after_input(NodeIndex node) {
    Node& n = *m_nodes[node];
    if (!n.router) {
        return;
    }
    if (m_config.check_router_invariants) {
        n.router->check_invariants();
    }
    for (auto& action : n.router->take_actions()) {
        if (auto* send_rpc = std::get_if<pubsub::SendRpc>(&action)) {
            if (const auto to = index_of(send_rpc->peer)) {
                send(node, *to, std::move(send_rpc->rpc));
            }
        } else if (auto* validate = std::get_if<pubsub::ValidateMessage>(&action)) {
            auto result = m_application ? m_application->validate(node, *validate)
                                        : pubsub::ValidationResult::accept;
            if (m_hooks.invalid && m_hooks.invalid(node, *validate)) {
                result = pubsub::ValidationResult::reject;
            }
            const auto incarnation = n.incarnation;
            m_queue.schedule(now() + m_config.validation_delay + n.slowdown,
                             [this, node, incarnation, result, id = validate->id] {
                                 answer_validation(node, incarnation, id, result);
                             });
        } else if (auto* deliver = std::get_if<pubsub::DeliverMessage>(&action)) {
            m_messages.on_deliver(deliver->id, node, now());
        } else if (std::holds_alternative<pubsub::ConnectPeer>(action)) {
            ++m_px_connects;
        } else if (std::holds_alternative<pubsub::PenalizePeer>(action)) {
            ++m_penalties;
        }
    }
    arm_heartbeat(node);
}

void GossipNetwork::answer_validation(NodeIndex node, std::uint64_t incarnation,
                                      const pubsub::MessageId& id,
                                      pubsub::ValidationResult result) {
    Node& n = *m_nodes[node];
    if (!n.router || n.incarnation != incarnation) {
        return;  // crashed meanwhile: the new router never asked
    }
    n.router->report_validation(id, result, now());
    after_input(node);
}

void GossipNetwork::arm_heartbeat(NodeIndex node) {
    Node& n = *m_nodes[node];
    const Instant at = n.router->next_heartbeat();
    if (n.armed_heartbeat == at) {
        return;
    }
    n.armed_heartbeat = at;
    const auto incarnation = n.incarnation;
    m_queue.schedule(at, [this, node, incarnation, at] {
        Node& h = *m_nodes[node];
        if (!h.router || h.incarnation != incarnation || h.armed_heartbeat != at) {
            return;  // superseded by a later arming, or the node crashed
        }
        h.armed_heartbeat.reset();
        h.router->on_heartbeat(now());
        after_input(node);
    });
}

void GossipNetwork::send(NodeIndex from, NodeIndex to, Bytes rpc) {
    Node& src = *m_nodes[from];
    src.bytes_sent += rpc.size();
    ++src.rpcs_sent;
    if (m_hooks.drop_send && m_hooks.drop_send(from, to, rpc)) {
        ++m_rpcs_hooked;
        return;
    }
    const std::size_t size = rpc.size();
    transfer(from, to, size, [this, from, to, rpc = std::move(rpc)] {
        m_nodes[to]->router->on_rpc(m_nodes[from]->identity.peer_id(), rpc, now());
        after_input(to);
    });
}

void GossipNetwork::send_direct(NodeIndex from, NodeIndex to, Bytes data) {
    m_nodes.at(from)->bytes_sent += data.size();
    const std::size_t size = data.size();
    transfer(from, to, size, [this, from, to, data = std::move(data)] {
        if (m_application) {
            m_application->on_direct(from, to, data);
        }
    });
}

void GossipNetwork::transfer(NodeIndex from, NodeIndex to, std::size_t bytes,
                             std::function<void()> arrive) {
    const auto link = m_links.find(link_key(from, to));
    if (link == m_links.end() || !reachable(from, to)) {
        ++m_rpcs_partitioned;
        return;
    }
    const LossOutcome loss = draw_loss(link->second, m_rng);
    m_rpcs_retransmitted += loss.delivered ? loss.retransmits : 0;
    if (!loss.delivered) {
        ++m_rpcs_lost;
        return;
    }
    const Instant arrival = schedule_transfer(link->second, m_directions[{from, to}], bytes,
                                              now(), m_rng, loss.delay + m_nodes[to]->slowdown);
    const auto from_incarnation = m_nodes[from]->incarnation;
    const auto to_incarnation = m_nodes[to]->incarnation;
    m_queue.schedule(arrival, [this, from, to, from_incarnation, to_incarnation,
                               arrive = std::move(arrive)] {
        const Node& s = *m_nodes[from];
        const Node& d = *m_nodes[to];
        if (!d.router || d.incarnation != to_incarnation || s.incarnation != from_incarnation ||
            !reachable(from, to)) {
            ++m_rpcs_partitioned;
            return;
        }
        arrive();
    });
}

void GossipNetwork::add_link(NodeIndex a, NodeIndex b) {
    add_link(a, b, m_config.link);
}

void GossipNetwork::add_link(NodeIndex a, NodeIndex b, LinkConfig config) {
    assert(a < m_nodes.size() && b < m_nodes.size() && a != b);
    if (!m_links.emplace(link_key(a, b), std::move(config)).second) {
        return;
    }
    m_nodes[a]->links.insert(b);
    m_nodes[b]->links.insert(a);
    connect_routers(a, b);
}

void GossipNetwork::add_links(const Links& links) {
    for (const auto& [a, b] : links) {
        add_link(a, b);
    }
}

void GossipNetwork::connect_full() {
    add_links(full_links(m_nodes.size()));
}

void GossipNetwork::connect_line() {
    add_links(line_links(m_nodes.size()));
}

void GossipNetwork::connect_random_regular(std::size_t degree) {
    make_random_regular(m_nodes.size(), degree, m_rng,
                        [this](NodeIndex a, NodeIndex b) { add_link(a, b); });
}

void GossipNetwork::set_partition(std::vector<std::vector<NodeIndex>> groups) {
    m_group.assign(m_nodes.size(), -1);
    for (std::size_t g = 0; g < groups.size(); ++g) {
        for (const NodeIndex node : groups[g]) {
            m_group.at(node) = static_cast<std::int64_t>(g);
        }
    }
}

void GossipNetwork::heal() {
    m_group.assign(m_nodes.size(), -1);
}

void GossipNetwork::schedule_partition(Instant at, std::vector<std::vector<NodeIndex>> groups) {
    m_queue.schedule(at, [this, groups = std::move(groups)] { set_partition(groups); });
}

void GossipNetwork::schedule_heal(Instant at) {
    m_queue.schedule(at, [this] { heal(); });
}

void GossipNetwork::crash(NodeIndex node) {
    Node& n = *m_nodes.at(node);
    if (!n.router) {
        return;
    }
    n.duplicates_before_crash += n.router->stats().duplicates;
    n.router.reset();
    ++n.incarnation;
    n.armed_heartbeat.reset();
    if (m_application) {
        m_application->on_crash(node);
    }
    for (const NodeIndex peer : n.links) {
        m_directions.erase({node, peer});
        m_directions.erase({peer, node});
        Node& p = *m_nodes[peer];
        if (p.router) {
            p.router->on_peer_disconnected(n.identity.peer_id(), now());
            after_input(peer);
            if (m_application) {
                m_application->on_disconnected(peer, node);
            }
        }
    }
}

void GossipNetwork::restart(NodeIndex node) {
    Node& n = *m_nodes.at(node);
    if (n.router) {
        return;
    }
    start_router(node);
    if (m_application) {
        m_application->on_restart(node);
    }
    for (const NodeIndex peer : n.links) {
        connect_routers(node, peer);  // the restarted node dials out
    }
}

void GossipNetwork::schedule_crash(Instant at, NodeIndex node) {
    m_queue.schedule(at, [this, node] { crash(node); });
}

void GossipNetwork::schedule_restart(Instant at, NodeIndex node) {
    m_queue.schedule(at, [this, node] { restart(node); });
}

void GossipNetwork::set_slowdown(NodeIndex node, Duration extra) {
    m_nodes.at(node)->slowdown = extra;
}

void GossipNetwork::schedule_unsubscribe(Instant at, NodeIndex node, pubsub::Topic topic) {
    m_queue.schedule(at, [this, node, topic = std::move(topic)] {
        Node& n = *m_nodes.at(node);
        if (n.router) {
            n.router->unsubscribe(topic, now());
            after_input(node);
        }
    });
}

void GossipNetwork::set_honest(NodeIndex node, bool honest) {
    m_nodes.at(node)->honest = honest;
}

void GossipNetwork::schedule_publish(Instant at, NodeIndex node, Bytes data) {
    assert(!m_config.topics.empty());
    schedule_publish(at, node, m_config.topics.front(), std::move(data));
}

void GossipNetwork::schedule_publish(Instant at, NodeIndex node, const pubsub::Topic& topic,
                                     Bytes data) {
    assert(node < m_nodes.size());
    m_queue.schedule(
        at, [this, node, topic, data = std::move(data)] { publish_now(node, topic, data); });
}

void GossipNetwork::publish(NodeIndex node, const pubsub::Topic& topic, Bytes data) {
    publish_now(node, topic, std::move(data));
}

void GossipNetwork::schedule(Instant at, EventQueue::Callback callback) {
    m_queue.schedule(at, std::move(callback));
}

bool GossipNetwork::is_honest(NodeIndex node) const {
    return m_nodes.at(node)->honest;
}

const std::set<NodeIndex>& GossipNetwork::links(NodeIndex node) const {
    return m_nodes.at(node)->links;
}

void GossipNetwork::publish_now(NodeIndex node, const pubsub::Topic& topic, Bytes data) {
    Node& n = *m_nodes[node];
    if (!n.router) {
        return;  // a down node publishes nothing
    }
    auto id = n.router->publish(topic, std::move(data), now());
    if (id) {
        const std::size_t index = m_messages.add(*id, node, topic, now(), m_nodes.size());
        if (n.honest) {
            for (const NodeIndex member : component(node, topic)) {
                if (member != node && m_nodes[member]->honest) {
                    m_messages.at(index).expected.insert(member);
                }
            }
        }
        if (std::find(m_config.unchecked_topics.begin(), m_config.unchecked_topics.end(),
                      topic) == m_config.unchecked_topics.end()) {
            m_queue.schedule(now() + m_config.delivery_bound,
                             [this, index] { check_delivery(index); });
        }
    }
    after_input(node);
}

bool GossipNetwork::reachable(NodeIndex a, NodeIndex b) const {
    return m_links.contains(link_key(a, b)) && m_nodes[a]->router && m_nodes[b]->router &&
           m_group[a] == m_group[b];
}

std::vector<NodeIndex> GossipNetwork::component(NodeIndex node) const {
    return component_of(node, nullptr);
}

std::vector<NodeIndex> GossipNetwork::component(NodeIndex node, const pubsub::Topic& topic) const {
    return component_of(node, &topic);
}

std::vector<NodeIndex> GossipNetwork::component_of(NodeIndex node,
                                                   const pubsub::Topic* topic) const {
    // The start counts even when it crashed since: its copies left already.
    std::vector<bool> seen(m_nodes.size(), false);
    std::vector<NodeIndex> members;
    std::deque<NodeIndex> queue{node};
    seen[node] = true;
    while (!queue.empty()) {
        const NodeIndex at = queue.front();
        queue.pop_front();
        members.push_back(at);
        for (const NodeIndex peer : m_nodes[at]->links) {
            const auto& router = m_nodes[peer]->router;
            const bool relays = router && (!topic || router->is_subscribed(*topic));
            if (!seen[peer] && relays && m_group[peer] == m_group[at]) {
                seen[peer] = true;
                queue.push_back(peer);
            }
        }
    }
    std::sort(members.begin(), members.end());
    return members;
}

void GossipNetwork::check_delivery(std::size_t message) {
    const MessageRecord& record = m_messages.at(message);
    const auto members = component(record.publisher, record.topic);
    for (const NodeIndex node : record.expected) {
        const bool still_reachable = std::binary_search(members.begin(), members.end(), node);
        if (!still_reachable || !m_nodes[node]->honest || record.delivered[node]) {
            continue;
        }
        char text[200];
        std::snprintf(text, sizeof text,
                      "seed %llu: message %zu from node %u not delivered to node %u within %lld "
                      "us",
                      static_cast<unsigned long long>(m_config.seed), message, record.publisher,
                      node, to_micros(m_config.delivery_bound));
        record_violation(text);
    }
}

void GossipNetwork::record_violation(std::string text) {
    ++m_violation_count;
    if (m_violations.size() < MAX_VIOLATION_TEXTS) {
        m_violations.push_back(std::move(text));
    }
}

std::uint64_t GossipNetwork::run_until(Instant end) {
    std::uint64_t ran = 0;
    while (const auto next = m_queue.next_time()) {
        if (*next > end) {
            break;
        }
        if (ran >= m_config.max_events) {
            char text[120];
            std::snprintf(text, sizeof text, "seed %llu: event cap %llu reached",
                          static_cast<unsigned long long>(m_config.seed),
                          static_cast<unsigned long long>(m_config.max_events));
            record_violation(text);
            break;
        }
        m_queue.run_next();
        ++ran;
    }
    m_queue.advance_to(end);
    return ran;
}

std::optional<Instant> GossipNetwork::delivery_time(std::size_t message, NodeIndex node) const {
    return m_messages.at(message).delivered.at(node);
}

Metrics GossipNetwork::metrics() const {
    Metrics m;
    m.node_count = m_nodes.size();
    // Messages on unchecked topics are not expected everywhere (a block that came by sync
    // first is ignored): counting them would make the ratio say nothing.
    std::vector<const MessageRecord*> checked;
    for (const auto& record : m_messages.records()) {
        if (std::find(m_config.unchecked_topics.begin(), m_config.unchecked_topics.end(),
                      record.topic) == m_config.unchecked_topics.end()) {
            checked.push_back(&record);
        }
    }
    m.message_count = checked.size();
    const DeliveryStats stats = delivery_stats(checked, m.node_count);
    m.deliveries = stats.deliveries;
    m.delivery_ratio = stats.delivery_ratio;
    m.latency_p50 = stats.p50;
    m.latency_p90 = stats.p90;
    m.latency_p99 = stats.p99;
    m.latency_max = stats.max;
    std::uint64_t duplicates = 0;
    for (const auto& node : m_nodes) {
        duplicates += node->duplicates_before_crash;
        if (node->router) {
            duplicates += node->router->stats().duplicates;
        }
        m.bytes_sent_total += node->bytes_sent;
        m.bytes_sent_max = std::max(m.bytes_sent_max, node->bytes_sent);
        m.rpcs_sent += node->rpcs_sent;
    }
    if (m.node_count > 0 && m.message_count > 0) {
        m.duplicates_per_message_per_node =
            static_cast<double>(duplicates) / static_cast<double>(m.message_count * m.node_count);
    }
    if (m.node_count > 0) {
        m.bytes_sent_mean = m.bytes_sent_total / m.node_count;
    }
    m.rpcs_lost = m_rpcs_lost;
    m.rpcs_retransmitted = m_rpcs_retransmitted;
    m.rpcs_partitioned = m_rpcs_partitioned;
    m.rpcs_hooked = m_rpcs_hooked;
    m.penalties = m_penalties;
    m.px_connects = m_px_connects;
    m.events = m_queue.events_run();
    m.violations = m_violation_count;
    return m;
}

std::string format_metrics(const Metrics& m) {
    std::string out;
    char line[128];
    const auto add = [&](const char* name, unsigned long long value) {
        std::snprintf(line, sizeof line, "%s %llu\n", name, value);
        out += line;
    };
    const auto add_real = [&](const char* name, double value) {
        std::snprintf(line, sizeof line, "%s %.6f\n", name, value);
        out += line;
    };
    add("nodes", m.node_count);
    add("messages", m.message_count);
    add("deliveries", m.deliveries);
    add_real("delivery_ratio", m.delivery_ratio);
    add("latency_p50_us", static_cast<unsigned long long>(to_micros(m.latency_p50)));
    add("latency_p90_us", static_cast<unsigned long long>(to_micros(m.latency_p90)));
    add("latency_p99_us", static_cast<unsigned long long>(to_micros(m.latency_p99)));
    add("latency_max_us", static_cast<unsigned long long>(to_micros(m.latency_max)));
    add_real("duplicates_per_message_per_node", m.duplicates_per_message_per_node);
    add("bytes_sent_total", m.bytes_sent_total);
    add("bytes_sent_mean", m.bytes_sent_mean);
    add("bytes_sent_max", m.bytes_sent_max);
    add("rpcs_sent", m.rpcs_sent);
    add("rpcs_lost", m.rpcs_lost);
    add("rpcs_retransmitted", m.rpcs_retransmitted);
    add("rpcs_partitioned", m.rpcs_partitioned);
    add("rpcs_hooked", m.rpcs_hooked);
    add("penalties", m.penalties);
    add("px_connects", m.px_connects);
    add("events", m.events);
    add("violations", m.violations);
    return out;
}

}  // namespace chainmesh::sim
