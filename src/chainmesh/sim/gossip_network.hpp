#pragma once
// A simulated network of nodes, each running the real pubsub::GossipRouter at the message
// level, in virtual time (issue 5, DESIGN.md §2). Same seed, same run, byte for byte.
//
// What it does, as the router's driver (see the contract atop gossip_router.hpp):
// - SendRpc → the RPC's bytes travel the link to the peer (link.hpp: latency, loss, bandwidth,
//   in order per direction) and arrive as on_rpc, unless the link is partitioned, either end is
//   down, or a byzantine hook drops it.
// - next_heartbeat() → one heartbeat event per node, re-armed after every input.
// - ValidateMessage → report_validation(accept) after `validation_delay`, or reject when the
//   `invalid` hook says so.
// - DeliverMessage → recorded with its virtual time, for metrics and invariants.
// - ConnectPeer (PX) and PenalizePeer are counted; the first slice keeps the topology fixed.
//
// Randomness: one Rng seeded from `seed`. Node identities (Ed25519 seeds), each router's Rng
// (a fork), the topology builders, latency and loss all draw from it, in event order.
//
// Partitions: a list of node groups; nodes in different groups (a node in no group is in a
// group of its own with the other unlisted nodes) cannot reach each other. RPCs already in
// flight across a new partition are dropped when they arrive. Connections stay up (the router
// sees silence, as with a partition shorter than a TCP timeout).
//
// Slow nodes: set_slowdown adds a delay to every RPC a node receives (kept in order per link
// direction) and to its validations.
//
// Crash: the router and its state are lost, in-flight RPCs to and from the node are dropped
// and its peers see a disconnect. Restart: a fresh router with the same identity (seqno_start
// from the virtual time, so that peers accept its new seqnos), resubscribed, reconnected to
// its links' up ends.
//
// Invariants, checked as the run goes:
// - router.check_invariants() after every input (when check_router_invariants is set; it
//   aborts on a broken rule).
// - Delivery: a message published by an honest node reaches, within `delivery_bound`, every
//   honest node subscribed to its topic that was up and in the publisher's connected
//   component of subscribers (only subscribers relay) both at publish time and at the
//   deadline. A miss is recorded in violations() with the seed that replays it, not aborted
//   on, so that a control scenario can assert that the check bites.
//
// Bounds: events ≤ max_events per run_until; per message one record of N delivery times;
// violation texts ≤ MAX_VIOLATION_TEXTS (the count goes on).

#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/pubsub/gossip_router.hpp>
#include <chainmesh/sim/event_queue.hpp>
#include <chainmesh/sim/link.hpp>
#include <chainmesh/sim/message_log.hpp>
#include <chainmesh/sim/topology.hpp>
#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/instant.hpp>
#include <chainmesh/util/rng.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace chainmesh::sim {

inline constexpr std::size_t MAX_VIOLATION_TEXTS = 1000;

struct NetworkConfig {
    std::uint64_t seed = 1;
    std::size_t node_count = 0;
    pubsub::GossipConfig gossip;
    std::vector<pubsub::Topic> topics{"/chainmesh/sim"};  // every node subscribes to these
    LinkConfig link;                                      // for links added without one
    Duration validation_delay{0};
    Duration delivery_bound = std::chrono::seconds{10};
    bool check_router_invariants = true;
    // Topics left out of the delivery check: an application may rightly ignore a message it
    // already has (chain_network.hpp: a block that came by sync first); its own invariants
    // judge those.
    std::vector<pubsub::Topic> unchecked_topics;
    std::uint64_t max_events = 50'000'000;  // per run_until
};

// Byzantine and fault hooks; empty functions do nothing.
struct Hooks {
    // True: `node` answers this ValidateMessage with reject.
    std::function<bool(NodeIndex node, const pubsub::ValidateMessage&)> invalid;
    // True: the RPC from `from` to `to` is dropped before it reaches the link.
    std::function<bool(NodeIndex from, NodeIndex to, ByteView rpc)> drop_send;
};

// The application above the routers (chain_network.hpp): it validates messages, exchanges
// its own request/response bytes over the same links, and follows connections, crashes and
// restarts. Called from inside the network's events, in event order.
class Application {
public:
    virtual ~Application() = default;
    // The answer is reported to the router after validation_delay (plus any slowdown).
    virtual pubsub::ValidationResult validate(NodeIndex node, const pubsub::ValidateMessage& m) = 0;
    // Bytes sent with send_direct, arriving at `to`.
    virtual void on_direct(NodeIndex from, NodeIndex to, const Bytes& data) = 0;
    // `node`'s router now has `peer` (each end of a link gets a call).
    virtual void on_connected(NodeIndex node, NodeIndex peer) = 0;
    virtual void on_disconnected(NodeIndex node, NodeIndex peer) = 0;
    // Memory lost; a restart comes before the restarted node's on_connected calls.
    virtual void on_crash(NodeIndex node) = 0;
    virtual void on_restart(NodeIndex node) = 0;
};

struct Metrics {
    std::size_t node_count = 0;
    std::size_t message_count = 0;  // on checked topics (NetworkConfig::unchecked_topics)
    std::uint64_t deliveries = 0;   // (message, node ≠ publisher) pairs delivered
    double delivery_ratio = 0.0;   // deliveries / (messages × (nodes - 1))
    Duration latency_p50{0};
    Duration latency_p90{0};
    Duration latency_p99{0};
    Duration latency_max{0};
    double duplicates_per_message_per_node = 0.0;
    std::uint64_t bytes_sent_total = 0;
    std::uint64_t bytes_sent_mean = 0;  // per node
    std::uint64_t bytes_sent_max = 0;
    std::uint64_t rpcs_sent = 0;
    std::uint64_t rpcs_lost = 0;           // link loss
    std::uint64_t rpcs_retransmitted = 0;  // losses turned into delay (loss_retransmits)
    std::uint64_t rpcs_partitioned = 0;    // dropped by a partition or a down end
    std::uint64_t rpcs_hooked = 0;         // dropped by Hooks::drop_send
    std::uint64_t penalties = 0;
    std::uint64_t px_connects = 0;
    std::uint64_t events = 0;
    std::uint64_t violations = 0;
};

// Text, one `name value` per line; fixed formatting, so the same run prints the same bytes.
std::string format_metrics(const Metrics& metrics);

class GossipNetwork {
public:
    explicit GossipNetwork(NetworkConfig config, Hooks hooks = {});
    ~GossipNetwork();
    GossipNetwork(const GossipNetwork&) = delete;
    GossipNetwork& operator=(const GossipNetwork&) = delete;

    // Topology (connects the routers now; call before or during a run).
    void add_link(NodeIndex a, NodeIndex b);
    void add_link(NodeIndex a, NodeIndex b, LinkConfig config);
    void add_links(const Links& links);
    void connect_full();
    void connect_line();
    // topology.hpp's make_random_regular, drawing from the network's Rng.
    void connect_random_regular(std::size_t degree);

    // Faults, now or scheduled.
    void set_partition(std::vector<std::vector<NodeIndex>> groups);
    void heal();
    void schedule_partition(Instant at, std::vector<std::vector<NodeIndex>> groups);
    void schedule_heal(Instant at);
    void crash(NodeIndex node);
    void restart(NodeIndex node);
    void schedule_crash(Instant at, NodeIndex node);
    void schedule_restart(Instant at, NodeIndex node);
    // A slow node: every RPC it receives and every validation it runs takes `extra` longer.
    void set_slowdown(NodeIndex node, Duration extra);
    // Byzantine nodes are left out of the delivery invariant (as receivers and publishers).
    void set_honest(NodeIndex node, bool honest);

    // Workload. A restarted node subscribes to config.topics again.
    void schedule_unsubscribe(Instant at, NodeIndex node, pubsub::Topic topic);
    void schedule_publish(Instant at, NodeIndex node, Bytes data);
    void schedule_publish(Instant at, NodeIndex node, const pubsub::Topic& topic, Bytes data);

    // For an Application: set once, before the run; it must outlive the network.
    void set_application(Application* application) { m_application = application; }
    // Now, from inside an event. A down node publishes nothing.
    void publish(NodeIndex node, const pubsub::Topic& topic, Bytes data);
    // Application bytes from `from` to `to` over their link: the same latency, loss,
    // partitions and ordering as RPCs; dropped when no link joins them.
    void send_direct(NodeIndex from, NodeIndex to, Bytes data);
    void schedule(Instant at, EventQueue::Callback callback);
    bool is_up(NodeIndex node) const { return router(node) != nullptr; }
    bool is_honest(NodeIndex node) const;
    const std::set<NodeIndex>& links(NodeIndex node) const;

    // Runs events up to and including `end`, then sets the clock to `end`. A message's
    // delivery check runs at its publish time + delivery_bound: run at least that far.
    // Returns the number of events run; stops early (and records a violation) at max_events.
    std::uint64_t run_until(Instant end);
    Instant now() const { return m_queue.now(); }

    // Results.
    Metrics metrics() const;
    // The first MAX_VIOLATION_TEXTS violations, each naming the seed that replays it.
    const std::vector<std::string>& violations() const { return m_violations; }
    std::uint64_t violation_count() const { return m_violation_count; }
    std::size_t node_count() const { return m_nodes.size(); }
    const crypto::PeerId& peer_id(NodeIndex node) const;
    // Null while the node is down.
    const pubsub::GossipRouter* router(NodeIndex node) const;
    bool reachable(NodeIndex a, NodeIndex b) const;  // one hop: linked, up, same group
    // Up nodes reachable from `node` in hops (`node` itself counts even when down); with a
    // topic, only through nodes subscribed to it.
    std::vector<NodeIndex> component(NodeIndex node) const;
    std::vector<NodeIndex> component(NodeIndex node, const pubsub::Topic& topic) const;
    // Delivery time of published message `message` (in publish order) at `node`.
    std::optional<Instant> delivery_time(std::size_t message, NodeIndex node) const;
    std::size_t message_count() const { return m_messages.size(); }

private:
    struct Node;

    void start_router(NodeIndex node);
    void connect_routers(NodeIndex a, NodeIndex b);
    void after_input(NodeIndex node);
    void send(NodeIndex from, NodeIndex to, Bytes rpc);
    void arm_heartbeat(NodeIndex node);
    void answer_validation(NodeIndex node, std::uint64_t incarnation, const pubsub::MessageId& id,
                           pubsub::ValidationResult result);
    // Through the link model; `arrive` runs at the far end if both ends are still up and
    // reachable then.
    void transfer(NodeIndex from, NodeIndex to, std::size_t bytes,
                  std::function<void()> arrive);
    void publish_now(NodeIndex node, const pubsub::Topic& topic, Bytes data);
    void check_delivery(std::size_t message);
    void record_violation(std::string text);
    std::optional<NodeIndex> index_of(const crypto::PeerId& peer) const;
    static std::pair<NodeIndex, NodeIndex> link_key(NodeIndex a, NodeIndex b);
    std::vector<NodeIndex> component_of(NodeIndex node, const pubsub::Topic* topic) const;

    NetworkConfig m_config;
    Hooks m_hooks;
    Application* m_application = nullptr;
    Rng m_rng;
    EventQueue m_queue;
    std::vector<std::unique_ptr<Node>> m_nodes;
    std::unordered_map<crypto::PeerId, NodeIndex> m_index;
    std::map<std::pair<NodeIndex, NodeIndex>, LinkConfig> m_links;          // key: (low, high)
    std::map<std::pair<NodeIndex, NodeIndex>, LinkDirection> m_directions;  // (from, to)
    std::vector<std::int64_t> m_group;  // partition group per node; -1 unlisted
    MessageLog m_messages;  // expected: honest subscribers in the component, not the publisher
    std::vector<std::string> m_violations;  // the first MAX_VIOLATION_TEXTS
    std::uint64_t m_violation_count = 0;
    std::uint64_t m_rpcs_lost = 0;
    std::uint64_t m_rpcs_retransmitted = 0;
    std::uint64_t m_rpcs_partitioned = 0;
    std::uint64_t m_rpcs_hooked = 0;
    std::uint64_t m_penalties = 0;
    std::uint64_t m_px_connects = 0;
};

}  // namespace chainmesh::sim
