#pragma once
// The full wire stack over in-memory byte pipes, for small runs (issue 5). Every node runs the
// real pubsub::GossipRouter, and every byte between two routers goes through the real sans-I/O
// engines, in the order the TCP host chains them (net/detail/upgrade.cpp, connection.cpp,
// node/gossip_service.cpp; libp2p-interop.md §1):
//
//   multistream `/noise` → Noise XX (libp2p payload) → inside Noise: multistream
//   `/yamux/1.0.0` → yamux (dialer = client) → per node one outbound stream, multistream
//   `/meshsub/1.1.0`, then RPCs framed uvarint(length) ‖ protobuf.
//
// Everything is deterministic from WireNetworkConfig::seed: one Rng draws, in event order, the
// Ed25519 identities, each router's Rng (a fork), the X25519 static and ephemeral keys of every
// handshake (X25519KeyPair::from_private, never generate()) and every pipe latency. Virtual
// time (EventQueue), no sockets, threads or wall clock. Same seed, same bytes.
//
// Rules, each with its rationale:
// - add_link(a, b): a dials b. Both ends start at once (the listener's multistream header and
//   the dialer's header + `/noise` proposal leave together). Rationale: what TCP does right
//   after connect; the SYN round trip is not modelled.
// - Bytes travel a pipe per direction through schedule_transfer (link.hpp): latency, bandwidth,
//   in order. The LinkConfig's loss fields are ignored: a pipe never loses or reorders bytes.
//   Rationale: TCP turns loss into delay, and the stack above assumes a reliable byte stream.
// - A node announces the peer to its router (on_peer_connected; outbound for the dialer) once
//   its own outbound meshsub stream is negotiated, and reads the peer's inbound meshsub stream
//   only from then on (until then its bytes wait in yamux, bounded by the window). Rationale:
//   the router drops RPCs from unknown peers, so the peer's hello must not be read earlier.
// - One connection per peer pair carries a router's RPCs: the first whose stream is ready.
//   A later one stays idle and takes over when the first closes. Rationale: the router knows
//   peers, not connections.
// - Errors: a decode error at any layer (multistream, noise handshake or decrypt, yamux, an RPC
//   frame over GossipConfig::max_rpc_bytes), a go-away or a reset of a meshsub stream closes
//   that end at once and records why ("<layer>: <description>"); a close travels the pipe behind
//   the bytes already in flight (like a TCP FIN/RST) and closes the other end ("closed by peer").
//   Bytes arriving at a closed end are dropped. A router that had the peer sees
//   on_peer_disconnected. Rationale: one bad frame must never crash the node, and the peer
//   must learn of the close. A second inbound stream is reset (one per peer is all gossip
//   needs, and it bounds what a peer can make us buffer).
// - PenalizePeer closes the connection ("gossip: <reason>"), as GossipService disconnects.
//   ValidateMessage is accepted after validation_delay. ConnectPeer (PX) is only counted.
// - Faults: corrupt_next(from, to) flips one byte in the body of the next Noise transport frame
//   `from` sends to `to` (the receiver's AEAD check fails); add_link_expecting dials with a
//   wrong expected peer id (the dialer's handshake fails with peer_id_mismatch).
//
// Bounds: per end, the multistream, Noise and yamux engines bound their own buffers; the RPC
// reassembly buffer holds at most one frame (≤ max_rpc_bytes plus a varint) plus one read of
// RPC_READ_CHUNK_BYTES; unsent bytes per stream are what the router emitted (the router bounds
// that by max_peer_queue_bytes per heartbeat). Connections ≤ add_link calls. Events per
// run_until ≤ max_events. Per message one record of node_count delivery times.
//
// Not modelled: TCP connect and its SYN round trip, packet loss, the host's identify and ping
// protocols and keep-alive, idle timeouts, crashes, partitions and redials (gossip_network.hpp
// covers those at the message level, much faster).

#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/crypto/peer_id.hpp>
#include <chainmesh/crypto/x25519.hpp>
#include <chainmesh/pubsub/gossip_router.hpp>
#include <chainmesh/sim/event_queue.hpp>
#include <chainmesh/sim/link.hpp>
#include <chainmesh/sim/message_log.hpp>
#include <chainmesh/sim/topology.hpp>
#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/instant.hpp>
#include <chainmesh/util/rng.hpp>
#include <chainmesh/wire/yamux.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace chainmesh::sim {

using ConnectionId = std::size_t;

inline constexpr std::size_t RPC_READ_CHUNK_BYTES = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// One end of a connection, sans I/O: bytes in (on_data), bytes out (take_output), RPCs and
// state changes out (take_events). Drives multistream → Noise → multistream → yamux → the
// meshsub streams. After any error the end is closed: it ignores input and emits nothing more.
// The driver drains take_output() and take_events() after every call.

enum class WireRole { dialer, listener };

class WireConnection {
public:
    struct Upgraded {  // Noise and yamux are up; the remote peer is authenticated
        crypto::PeerId remote;
    };
    struct StreamReady {};  // our outbound meshsub stream is negotiated: send_rpc() works
    struct RpcReceived {    // one RPC body from the peer's stream (after StreamReady only)
        Bytes rpc;
    };
    struct Closed {  // an error closed this end (not emitted for close())
        std::string reason;
    };
    using Event = std::variant<Upgraded, StreamReady, RpcReceived, Closed>;

    struct Output {
        Bytes bytes;
        std::size_t ciphertext_from = 0;  // bytes before this offset are not transport frames
    };

    // `expected_remote`: for the dialer, the peer id it means to reach.
    WireConnection(WireRole role, const crypto::Identity& identity,
                   crypto::X25519KeyPair static_key, crypto::X25519KeyPair ephemeral_key,
                   std::optional<crypto::PeerId> expected_remote, std::size_t max_rpc_bytes,
                   wire::YamuxConfig yamux = {});
    ~WireConnection();
    WireConnection(WireConnection&&) noexcept;
    WireConnection& operator=(WireConnection&&) noexcept;

    // Queues the first bytes (multistream header, and the dialer's proposal). Call once.
    void start();
    // Bytes read from the pipe.
    void on_data(ByteView data);
    // One RPC body; framed and written on our outbound stream. False (and nothing sent) before
    // StreamReady or once closed.
    bool send_rpc(ByteView rpc);
    // A local close (the peer closed, a penalty): no event, no more output.
    void close(std::string reason);

    Output take_output();
    std::vector<Event> take_events();

    bool closed() const;
    const std::string& close_reason() const;
    bool upgraded() const;
    bool stream_ready() const;
    const std::optional<crypto::PeerId>& remote_peer() const;

private:
    struct State;
    std::unique_ptr<State> m_state;
};

// ---------------------------------------------------------------------------------------------
// The network.

struct WireNetworkConfig {
    std::uint64_t seed = 1;
    std::size_t node_count = 0;
    pubsub::GossipConfig gossip;
    pubsub::Topic topic = "/chainmesh/sim";  // every node subscribes at start
    LinkConfig link;                         // latency and bandwidth; loss is ignored
    Duration validation_delay{0};
    wire::YamuxConfig yamux;
    bool check_router_invariants = true;
    std::uint64_t max_events = 5'000'000;  // per run_until
};

enum class ConnectionState {
    connecting,   // upgrade under way on at least one end
    established,  // both ends upgraded
    failed,       // closed before both ends were upgraded
    closed,       // closed after being established
};
std::string_view describe(ConnectionState state);

struct ConnectionInfo {
    NodeIndex dialer = 0;
    NodeIndex listener = 0;
    ConnectionState state = ConnectionState::connecting;
    std::optional<NodeIndex> closed_by;  // the end that closed first
    std::string error;                   // its reason; empty while open
    std::optional<Instant> established_at;
    std::optional<Instant> closed_at;  // when the first end closed
};

// Optional observers, called in event order.
struct WireTaps {
    // Every chunk put on a pipe (after any corruption).
    std::function<void(NodeIndex from, NodeIndex to, ByteView bytes)> wire;
    // Every RPC body a router hands to a connection.
    std::function<void(NodeIndex from, NodeIndex to, ByteView rpc)> rpc;
};

struct WireMetrics {
    std::size_t node_count = 0;
    std::size_t message_count = 0;
    std::uint64_t deliveries = 0;  // (message, node ≠ publisher) pairs delivered
    double delivery_ratio = 0.0;   // deliveries / (messages × (nodes − 1))
    Duration latency_p50{0};
    Duration latency_p90{0};
    Duration latency_p99{0};
    Duration latency_max{0};
    std::uint64_t connections = 0;
    std::uint64_t connections_established = 0;  // ever reached established
    std::uint64_t connections_failed = 0;
    std::uint64_t connections_closed = 0;
    std::uint64_t wire_bytes_total = 0;  // every byte put on a pipe
    std::uint64_t wire_bytes_max = 0;    // per node
    std::uint64_t rpc_bytes_total = 0;   // RPC bodies the routers sent (no framing)
    std::uint64_t rpcs_sent = 0;
    std::uint64_t rpcs_unsent = 0;  // SendRpc with no ready connection to the peer
    std::uint64_t corruptions = 0;
    std::uint64_t penalties = 0;
    std::uint64_t px_connects = 0;
    std::uint64_t events = 0;
    bool event_cap_reached = false;
};

// Text, one `name value` per line; fixed formatting, so the same run prints the same bytes.
std::string format_metrics(const WireMetrics& metrics);

class WireNetwork {
public:
    explicit WireNetwork(WireNetworkConfig config, WireTaps taps = {});
    ~WireNetwork();
    WireNetwork(const WireNetwork&) = delete;
    WireNetwork& operator=(const WireNetwork&) = delete;

    // `a` dials `b` now; the upgrade then runs over the pipe as the clock advances.
    ConnectionId add_link(NodeIndex a, NodeIndex b);
    ConnectionId add_link(NodeIndex a, NodeIndex b, LinkConfig config);
    // `a` dials `b` but expects `expected` to answer: a wrong id fails the dialer's handshake.
    ConnectionId add_link_expecting(NodeIndex a, NodeIndex b, crypto::PeerId expected);
    void add_links(const Links& links);  // each `a` dials its `b`
    void connect_full();
    void connect_line();
    void connect_ring();

    // Fault: the next transport frame `from` sends to `to` gets one byte flipped. Arms once
    // per call; applies to whichever open connection carries it.
    void corrupt_next(NodeIndex from, NodeIndex to);

    void schedule_publish(Instant at, NodeIndex node, Bytes data);
    void schedule(Instant at, EventQueue::Callback callback);

    // Runs events up to and including `end`, then sets the clock to `end`. Stops early at
    // max_events (metrics().event_cap_reached). Returns the number of events run.
    std::uint64_t run_until(Instant end);
    Instant now() const { return m_queue.now(); }

    // Results.
    std::size_t node_count() const { return m_nodes.size(); }
    const crypto::PeerId& peer_id(NodeIndex node) const;
    const pubsub::GossipRouter& router(NodeIndex node) const;
    std::size_t message_count() const { return m_messages.size(); }
    // Delivery time of published message `message` (in publish order) at `node`.
    std::optional<Instant> delivery_time(std::size_t message, NodeIndex node) const;
    std::size_t delivered_count(std::size_t message) const;  // nodes, publisher included
    NodeIndex publisher(std::size_t message) const { return m_messages.at(message).publisher; }
    Instant published_at(std::size_t message) const { return m_messages.at(message).published; }
    std::uint64_t wire_bytes_sent(NodeIndex node) const;
    std::uint64_t rpc_bytes_sent(NodeIndex node) const;
    const ConnectionInfo& connection(ConnectionId id) const;
    std::size_t connection_count() const { return m_connections.size(); }
    WireMetrics metrics() const;

private:
    struct Node;
    struct Connection;

    ConnectionId dial(NodeIndex a, NodeIndex b, LinkConfig config,
                      std::optional<crypto::PeerId> expected);
    crypto::X25519KeyPair draw_x25519();
    // Moves an end's output onto its pipe and handles its events, until it has neither.
    void pump(ConnectionId id, int side);
    void send_bytes(ConnectionId id, int side, WireConnection::Output output);
    void end_closed(ConnectionId id, int side, const std::string& reason);
    void stream_ready(ConnectionId id, int side);
    void after_input(NodeIndex node);
    void arm_heartbeat(NodeIndex node);
    void send_rpc(NodeIndex from, const crypto::PeerId& to, Bytes rpc);
    void publish_now(NodeIndex node, Bytes data);
    std::optional<NodeIndex> index_of(const crypto::PeerId& peer) const;

    WireNetworkConfig m_config;
    WireTaps m_taps;
    Rng m_rng;
    EventQueue m_queue;
    std::vector<std::unique_ptr<Node>> m_nodes;
    std::map<crypto::PeerId, NodeIndex> m_index;
    std::vector<std::unique_ptr<Connection>> m_connections;
    std::map<std::pair<NodeIndex, NodeIndex>, std::size_t> m_corrupt_armed;  // (from, to)
    MessageLog m_messages;
    std::uint64_t m_rpcs_unsent = 0;
    std::uint64_t m_corruptions = 0;
    std::uint64_t m_penalties = 0;
    std::uint64_t m_px_connects = 0;
    bool m_event_cap_reached = false;
};

}  // namespace chainmesh::sim
