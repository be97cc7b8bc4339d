#pragma once
// The gossipsub v1.1 router (libp2p specs pubsub/gossipsub/gossipsub-v1.0.md, -v1.1.md,
// pubsub/README.md; libp2p-interop.md §9, §10) as a pure engine: RPC bodies, connection
// events, validation results and heartbeats in; RPC bodies to send, messages to validate and
// deliver, dials and penalties out. No I/O, no clock (time is an argument), randomness from
// the Rng it is given.
//
// Driver contract. One outbound `/meshsub/1.1.0` stream per peer carries our RPCs, one
// length-prefixed RPC per SendRpc, in order; RPCs read from the peer's inbound stream go to
// on_rpc (pitfall 13). After every input call, drain take_actions() and re-arm the timer for
// next_heartbeat(). Every ValidateMessage must be answered with report_validation (an
// unanswered one is dropped as ignored after seen_ttl).
//
// Rules, each with its reason:
// - Hello: a peer's first RPC from us carries all our subscriptions. Rationale: the peer
//   learns where to send before any message flows (js sends SUBSCRIBE then GRAFT).
// - Coalescing: everything one input produces for a peer (subscriptions, messages, control)
//   leaves as one RPC, split only when it would pass max_rpc_bytes. Heartbeat GRAFT, PRUNE and
//   IHAVE therefore go out once per peer per heartbeat.
// - JOIN(topic): mesh = fanout peers, then other subscribers, up to D (score >= 0, not in
//   backoff, not direct); GRAFT each. LEAVE: PRUNE every mesh peer with backoff =
//   unsubscribe_backoff, and back off from them for as long.
// - Mesh upkeep each heartbeat, per subscribed topic: drop peers with negative score (PRUNE,
//   no PX); below D_lo graft up to D; above D_hi keep the D_score best by score, then random,
//   down to D, with at least D_out outbound (PRUNE with PX the rest); with ≥ D_lo but fewer
//   than D_out outbound, graft outbound peers; every opportunistic_graft_ticks, if the median
//   mesh score is below the opportunistic threshold, graft up to opportunistic_graft_peers
//   peers scoring above the median. Candidates: connected subscribers, not in backoff, not
//   direct, score >= 0.
// - Fanout (publishing to a topic we are not in, flood_publish off): up to D subscribers with
//   score >= publish threshold, topped up each heartbeat, forgotten fanout_ttl after our last
//   publish to it.
// - Gossip: each heartbeat, per mesh or fanout topic with ids in the last mcache_gossip
//   windows, IHAVE to max(D_lazy, gossip_factor × eligible) random eligible peers: subscribers
//   outside the mesh/fanout, not direct, score >= gossip threshold. At most max_ihave_length
//   ids (a random subset when there are more).
// - IHAVE received: ignored below the gossip threshold, beyond max_ihave_messages per peer per
//   heartbeat, for topics we are not in, or once we asked the peer for max_ihave_length ids
//   this heartbeat. Ids not in the seen cache (which holds messages being validated too) are
//   requested (IWANT, at most max_ihave_length per peer per heartbeat, a random subset when
//   more); one random id of each request becomes a promise: if no copy of it arrives from
//   anyone within iwant_followup_time, the advertiser takes a P₇ penalty of 1.
// - IWANT received: answered from the message cache, each message at most
//   gossip_retransmission times per peer; ignored below the gossip threshold.
// - GRAFT received: ignored for topics we are not in (v1.1 anti-spam) or from peers not
//   subscribed to the topic; from a direct peer → PRUNE; in backoff → PRUNE, backoff renewed,
//   P₇ +1 (+1 more when within graft_flood_threshold of the prune that started it); score < 0
//   → PRUNE; mesh ≥ D_hi and the peer inbound → PRUNE with PX; else it joins the mesh.
// - PRUNE received: leave the mesh; back off for the PRUNE's `backoff` (default prune_backoff,
//   capped at max_backoff); if the pruner's score ≥ accept_px threshold, ConnectPeer for up
//   to prune_peers unknown, unconnected peer ids from its PX list.
// - PX we send (when pruning for oversubscription or refusing a GRAFT with a full mesh, and
//   do_px is set, and the pruned peer's score ≥ 0): up to prune_peers other connected
//   subscribers of the topic with score ≥ 0, peer ids only (no signed records).
// - Messages received: topics we are not subscribed to are dropped; data over
//   max_message_bytes is dropped and counted (oversized). StrictSign: from (a valid peer id),
//   an 8-byte seqno and a signature must be present, `key` (when present) must be the key of
//   `from`, else `from` must inline its key, and the signature must verify over
//   Message::signing_bytes(); StrictNoSign: from, seqno, signature and key must be absent.
//   Failing → rejected, P₄, and *not* marked seen (Rationale: a forged copy must not hide the
//   real message). The seen check comes first, so duplicates cost no signature check.
//   A first, policy-valid copy is marked seen and becomes ValidateMessage, held until
//   report_validation; beyond max_pending_validation messages or
//   max_pending_validation_bytes of data it is ignored instead.
// - Validation: accept → DeliverMessage, into the message cache, forwarded to mesh and direct
//   peers of the topic except the propagation source and the author; reject → P₄ for the
//   source and for peers that sent copies meanwhile; ignore → dropped silently.
// - Our own publish: signed (StrictSign; seqno strictly increasing from config.seqno_start or
//   a random start), marked seen, delivered locally when we are subscribed (no validation), and
//   sent with flood_publish to every subscriber scoring ≥ publish threshold (plus direct
//   peers), else to the mesh (subscribed) or fanout.
// - Graylist: RPCs from peers scoring below the graylist threshold are dropped whole (direct
//   peers excepted).
// - Outbound queue bound: the driver says nothing about sockets, so the router bounds what it
//   emits: per peer, the bytes sent since the last heartbeat plus those waiting in this input's
//   RPC. A forward, an IWANT answer or an IHAVE that would take that past
//   max_peer_queue_bytes is dropped and counted (dropped_sends). Our own publishes and
//   GRAFT/PRUNE/subscriptions are never dropped (they still count toward the total).
// - Bad input: an RPC over max_rpc_bytes or one that does not decode → PenalizePeer and the
//   RPC is dropped; entries with topics longer than max_topic_bytes or message ids longer than
//   MAX_MESSAGE_ID_BYTES are skipped.
//
// Bounds: seen cache ≤ max_seen_messages ids for seen_ttl; message cache ≤ mcache_len windows
// and ≤ max_mcache_bytes of encoded messages (a message beyond it is forwarded but not
// cached); pending validation ≤ max_pending_validation and max_pending_validation_bytes;
// topics per peer ≤ max_peer_topics; promises ≤ max_ihave_messages per peer per heartbeat,
// each kept ≤ iwant_followup_time; backoffs ≤ peers × topics, dropped once expired; score
// state as PeerScore says. Per message: O(mesh + direct peers) to forward, O(topic
// subscribers) to flood-publish. Per heartbeat: O(topics × subscribers + peers × topics).
//
// Not implemented: IDONTWANT is parsed and ignored (we speak /meshsub/1.1.0); floodsub peers;
// signed peer records in PX; keys other than Ed25519 in StrictSign verification.

#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/crypto/peer_id.hpp>
#include <chainmesh/pubsub/message_id.hpp>
#include <chainmesh/pubsub/peer_score.hpp>
#include <chainmesh/pubsub/rpc.hpp>
#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/instant.hpp>
#include <chainmesh/util/result.hpp>
#include <chainmesh/util/rng.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace chainmesh::pubsub {

inline constexpr std::string_view GOSSIPSUB_PROTOCOL_ID = "/meshsub/1.1.0";
inline constexpr std::string_view GOSSIPSUB_V10_PROTOCOL_ID = "/meshsub/1.0.0";
inline constexpr std::size_t MAX_MESSAGE_ID_BYTES = 256;

inline constexpr std::size_t MIB = 1024 * 1024;
inline constexpr std::size_t KIB = 1024;

enum class SigningPolicy { strict_sign, strict_no_sign };

struct GossipConfig {
    // Overlay (gossipsub-v1.0.md, -v1.1.md).
    std::size_t d = 6;
    std::size_t d_lo = 4;
    std::size_t d_hi = 12;
    std::size_t d_lazy = 6;
    std::size_t d_score = 4;
    std::size_t d_out = 2;
    Duration heartbeat_interval = std::chrono::seconds{1};
    Duration fanout_ttl = std::chrono::seconds{60};
    std::size_t mcache_len = 5;
    std::size_t mcache_gossip = 3;
    Duration seen_ttl = std::chrono::seconds{120};
    Duration prune_backoff = std::chrono::seconds{60};
    Duration unsubscribe_backoff = std::chrono::seconds{10};
    Duration max_backoff = std::chrono::hours{1};  // cap on a backoff a peer asks of us
    Duration graft_flood_threshold = std::chrono::seconds{10};
    double gossip_factor = 0.25;
    std::size_t max_ihave_length = 5000;
    std::size_t max_ihave_messages = 10;
    Duration iwant_followup_time = std::chrono::seconds{3};
    std::size_t gossip_retransmission = 3;
    std::size_t opportunistic_graft_ticks = 60;
    std::size_t opportunistic_graft_peers = 2;
    bool flood_publish = true;
    bool do_px = true;
    std::size_t prune_peers = 16;
    std::size_t direct_connect_ticks = 300;  // re-dial missing direct peers this often

    // Bounds.
    std::size_t max_message_bytes = 4 * MIB;  // a message's data
    std::size_t max_rpc_bytes = 4 * MIB + 64 * KIB;
    RpcLimits rpc_limits;
    std::size_t max_pending_validation = 8192;
    std::size_t max_pending_validation_bytes = 64 * MIB;
    std::size_t max_peer_queue_bytes = 32 * MIB;
    std::size_t max_seen_messages = 1 << 18;
    std::size_t max_mcache_bytes = 256 * MIB;
    std::size_t max_peer_topics = 1024;
    std::size_t max_topic_bytes = 1024;

    // Messages.
    SigningPolicy signing = SigningPolicy::strict_sign;
    // Empty: the policy's default, js_message_id under StrictSign (interop with js-libp2p),
    // content_message_id under StrictNoSign. Must be the same on every node (pitfall 1).
    MessageIdFn id_fn;
    // First seqno of our messages; empty: drawn from the Rng. A driver that restarts should
    // pass something that grows across restarts (go uses wall-clock nanoseconds), because
    // kubo drops seqnos at or below the last it saw from a peer (pitfall 2).
    std::optional<std::uint64_t> seqno_start;

    ScoreParams score;
    ScoreThresholds thresholds;
};

// Empty when the configuration is usable, else a sentence naming what is wrong. The router's
// constructor aborts on a bad configuration, so startup code calls this first.
std::string config_error(const GossipConfig& config);

enum class ValidationResult { accept, reject, ignore };

// Actions, drained with take_actions().
struct SendRpc {  // one encoded RPC body (no length prefix)
    crypto::PeerId peer;
    Bytes rpc;
};
struct ValidateMessage {  // answer with report_validation(id, ...)
    MessageId id;
    crypto::PeerId propagation_source;
    Topic topic;
    Bytes data;
    std::optional<crypto::PeerId> author;  // empty under StrictNoSign
};
struct DeliverMessage {  // accepted (or our own): hand to the application
    MessageId id;
    Topic topic;
    Bytes data;
    std::optional<crypto::PeerId> author;
};
struct ConnectPeer {  // learned from PX; the driver decides whether and how to dial
    crypto::PeerId peer;
};
struct PenalizePeer {  // malformed or oversized RPC; the driver may disconnect
    crypto::PeerId peer;
    std::string reason;
};
using GossipAction =
    std::variant<SendRpc, ValidateMessage, DeliverMessage, ConnectPeer, PenalizePeer>;

class GossipRouter {
public:
    GossipRouter(GossipConfig config, const crypto::Identity& identity, Rng rng);
    ~GossipRouter();
    GossipRouter(GossipRouter&&) noexcept;
    GossipRouter& operator=(GossipRouter&&) noexcept;

    // A pubsub stream to the peer is usable (outbound: we dialed). `ip` feeds P₆; empty when
    // unknown. Connecting a connected peer again is ignored.
    void on_peer_connected(const crypto::PeerId& peer, bool outbound, std::string ip, Instant now);
    void on_peer_disconnected(const crypto::PeerId& peer, Instant now);
    // One RPC body read from the peer's inbound stream.
    void on_rpc(const crypto::PeerId& from, ByteView rpc, Instant now);
    // Call at next_heartbeat().
    void on_heartbeat(Instant now);
    void report_validation(const MessageId& id, ValidationResult result, Instant now);
    // Signs (StrictSign), delivers locally when subscribed, and sends. Errors:
    // message_too_large, duplicate_message (StrictNoSign: the same content again).
    Result<MessageId> publish(const Topic& topic, Bytes data, Instant now);
    void subscribe(const Topic& topic, Instant now);
    void unsubscribe(const Topic& topic, Instant now);
    // Explicit peering (v1.1): always forwarded to, never in a mesh, never graylisted.
    // The driver keeps the connection; the router asks for it with ConnectPeer when missing.
    void add_direct_peer(const crypto::PeerId& peer);
    // P₅, the application's opinion of a peer (e.g. high for bootstrappers, for PX).
    void set_application_score(const crypto::PeerId& peer, double score);

    std::vector<GossipAction> take_actions();
    Instant next_heartbeat() const;

    // Queries for tests, metrics and the simulator.
    std::vector<crypto::PeerId> mesh_peers(const Topic& topic) const;
    std::vector<crypto::PeerId> fanout_peers(const Topic& topic) const;
    std::vector<crypto::PeerId> topic_peers(const Topic& topic) const;  // known subscribers
    double score(const crypto::PeerId& peer) const;
    const PeerScore& peer_score() const;
    bool is_subscribed(const Topic& topic) const;
    bool is_connected(const crypto::PeerId& peer) const;
    std::size_t seen_count() const;
    std::size_t mcache_count() const;
    std::size_t pending_validation_count() const;
    std::size_t promise_count() const;
    struct Stats {
        std::uint64_t published = 0;
        std::uint64_t delivered = 0;
        std::uint64_t duplicates = 0;
        std::uint64_t invalid = 0;
        std::uint64_t ignored = 0;
        std::uint64_t dropped_rpcs = 0;   // graylisted, oversized, malformed, unknown peer
        std::uint64_t oversized = 0;      // messages over max_message_bytes
        std::uint64_t dropped_sends = 0;  // forwards, IWANT answers, IHAVEs over the queue bound
        std::uint64_t ihave_sent = 0;     // IHAVE entries (topic, ids) sent
        std::uint64_t iwant_sent = 0;
        std::uint64_t graft_sent = 0;
        std::uint64_t prune_sent = 0;
        std::uint64_t broken_promises = 0;
    };
    Stats stats() const;

    // Aborts when a structural rule is broken: mesh ⊆ connected subscribers and ⊆ our
    // topics, mesh sizes within bounds, fanout disjoint from our topics, caches bounded.
    void check_invariants() const;

private:
    struct State;
    std::unique_ptr<State> m_state;
};

}  // namespace chainmesh::pubsub
