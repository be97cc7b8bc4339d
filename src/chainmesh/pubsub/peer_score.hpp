#pragma once
// Gossipsub v1.1 peer scoring (gossipsub-v1.1.md "Peer Scoring"; libp2p-interop.md §10): a
// local, never-shared score per peer that the router consults for mesh upkeep, gossip,
// publishing, PX and graylisting.
//
//   Score(p) = TopicCap(Σ_t w_t·(w₁P₁ + w₂P₂ + w₃P₃ + w₃bP₃b + w₄P₄)) + w₅P₅ + w₆P₆ + w₇P₇
//
// - P₁ time in mesh: floor(time since GRAFT / quantum), capped.
// - P₂ first message deliveries: +1 when the peer is the first to deliver a message that then
//   validates; capped at increment; decays.
// - P₃ mesh message delivery deficit²: counts first and near-first deliveries by a mesh peer
//   (during validation, or within `mesh_message_deliveries_window` after it); the deficit
//   against the threshold applies only after the peer has been in the mesh for `activation`.
// - P₃b mesh failure penalty: on PRUNE (or disconnect) of a mesh peer with an active
//   deficit, deficit² is added; sticky, decays.
// - P₄ invalid messages²: +1 per message the peer delivered that was rejected (by signature
//   checks or the application), including copies it sent while the message was validating or
//   after the rejection.
// - P₅ application score, set by the application.
// - P₆ IP colocation surplus²: peers sharing one IP beyond the threshold; whitelisted IPs
//   and unknown ("") IPs never count. Only connected peers count.
// - P₇ behaviour penalty (counter - threshold)²: the router adds to the counter (GRAFT in
//   backoff, broken IWANT promises); decays.
// A topic without TopicScoreParams contributes nothing, and no state is kept for it.
//
// Decay: every `decay_interval` each decaying counter is multiplied by its factor and set to
// 0 below `decay_to_zero`; refresh() catches up on every interval elapsed since its last run.
//
// Disconnect: a peer with a positive score is forgotten at once (Rationale: keeping positive
// scores across reconnects only helps a peer bank goodwill); otherwise its counters are kept
// for `retain_score` (first deliveries zeroed, mesh failure applied) so that reconnecting does
// not wash a bad score. Rationale: as go-libp2p does.
//
// Bounds: state per connected peer is O(configured topics); retained peers ≤
// max_retained_peers (the oldest are forgotten first); delivery records ≤ the `max_records`
// given at construction, each naming at most MAX_DELIVERY_PEERS peers, forgotten after
// `record_ttl`. score() is O(the peer's configured topics); refresh() is O(peers × topics).

#include <chainmesh/crypto/peer_id.hpp>
#include <chainmesh/pubsub/message_id.hpp>
#include <chainmesh/pubsub/rpc.hpp>
#include <chainmesh/pubsub/time_cache.hpp>
#include <chainmesh/util/instant.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace chainmesh::pubsub {

// Peers remembered per delivery record beyond the first; the rest of the copies earn no
// near-first credit and escape the duplicate-of-invalid penalty.
inline constexpr std::size_t MAX_DELIVERY_PEERS = 64;

struct TopicScoreParams {
    double topic_weight = 1.0;
    // P₁
    double time_in_mesh_weight = 0.01;
    Duration time_in_mesh_quantum = std::chrono::seconds{1};
    double time_in_mesh_cap = 3600.0;
    // P₂
    double first_message_deliveries_weight = 1.0;
    double first_message_deliveries_decay = 0.5;
    double first_message_deliveries_cap = 100.0;
    // P₃: off by default, because its threshold depends on the topic's message rate.
    double mesh_message_deliveries_weight = 0.0;
    double mesh_message_deliveries_decay = 0.5;
    double mesh_message_deliveries_threshold = 1.0;
    double mesh_message_deliveries_cap = 100.0;
    Duration mesh_message_deliveries_activation = std::chrono::seconds{5};
    Duration mesh_message_deliveries_window = std::chrono::milliseconds{10};
    // P₃b
    double mesh_failure_penalty_weight = 0.0;
    double mesh_failure_penalty_decay = 0.5;
    // P₄
    double invalid_message_deliveries_weight = -10.0;
    double invalid_message_deliveries_decay = 0.99;
};

struct ScoreParams {
    std::unordered_map<Topic, TopicScoreParams> topics;
    double topic_score_cap = 0.0;  // 0: no cap; else the most the topics add together
    // P₅
    double app_specific_weight = 1.0;
    // P₆. Loopback is whitelisted by default: every peer of a local test shares it (pitfall 17).
    double ip_colocation_factor_weight = -5.0;
    double ip_colocation_factor_threshold = 10.0;
    std::unordered_set<std::string> ip_colocation_factor_whitelist{"127.0.0.1", "::1"};
    // P₇
    double behaviour_penalty_weight = -10.0;
    double behaviour_penalty_threshold = 0.0;
    double behaviour_penalty_decay = 0.99;

    Duration decay_interval = std::chrono::seconds{1};
    double decay_to_zero = 0.01;
    Duration retain_score = std::chrono::seconds{3600};
    std::size_t max_retained_peers = 8192;
};

struct ScoreThresholds {
    double gossip = -10.0;       // below: no gossip to or from the peer
    double publish = -50.0;      // below: our own messages are not sent to the peer
    double graylist = -80.0;     // below: the peer's RPCs are ignored
    double accept_px = 10.0;     // at or above: PX from the peer's PRUNE is followed
    double opportunistic_graft = 20.0;  // median mesh score below: graft better peers
};

// Empty when the parameters meet the spec's constraints, else what is wrong.
std::string score_config_error(const ScoreParams& params, const ScoreThresholds& thresholds);

// A peer's counters, for tests and metrics.
struct TopicScoreSnapshot {
    bool in_mesh = false;
    double first_message_deliveries = 0;
    double mesh_message_deliveries = 0;
    double mesh_failure_penalty = 0;
    double invalid_message_deliveries = 0;
};
struct PeerScoreSnapshot {
    bool connected = false;
    double application_score = 0;
    double behaviour_penalty = 0;
    std::map<Topic, TopicScoreSnapshot> topics;
};

class PeerScore {
public:
    PeerScore(ScoreParams params, Duration record_ttl, std::size_t max_records,
              MessageIdHasher hasher = {});

    // Connection lifecycle. `ip` may be empty when unknown.
    void add_peer(const crypto::PeerId& peer, std::string ip, Instant now);
    void remove_peer(const crypto::PeerId& peer, Instant now);

    // Mesh membership, as the router changes it.
    void graft(const crypto::PeerId& peer, const Topic& topic, Instant now);
    void prune(const crypto::PeerId& peer, const Topic& topic, Instant now);

    // Message events. validate_message: first receipt of a message that passed the signature
    // policy, now awaiting validation. duplicate_message: any later copy.
    void validate_message(const crypto::PeerId& from, const MessageId& id, const Topic& topic,
                          Instant now);
    void duplicate_message(const crypto::PeerId& from, const MessageId& id, Instant now);
    void deliver_message(const MessageId& id, Instant now);  // validation accepted
    void reject_message(const MessageId& id, Instant now);   // validation rejected: P₄
    void ignore_message(const MessageId& id, Instant now);   // validation ignored: nothing
    // A message that failed before it had an id (signature policy): P₄ for the sender only.
    void reject_unverified(const crypto::PeerId& from, const Topic& topic, Instant now);

    void add_penalty(const crypto::PeerId& peer, double count);
    void set_application_score(const crypto::PeerId& peer, double score);

    // Decay and expiry; call at least once per decay interval (the router does every heartbeat).
    void refresh(Instant now);

    // 0 for a peer we know nothing about.
    double score(const crypto::PeerId& peer) const;
    std::optional<PeerScoreSnapshot> snapshot(const crypto::PeerId& peer) const;
    std::size_t peer_count() const { return m_peers.size(); }
    std::size_t record_count() const { return m_records.size(); }
    const ScoreParams& params() const { return m_params; }

    void check_invariants() const;

private:
    struct TopicStats {
        bool in_mesh = false;
        Instant graft_time{};
        double first_message_deliveries = 0;
        double mesh_message_deliveries = 0;
        double mesh_failure_penalty = 0;
        double invalid_message_deliveries = 0;
    };
    struct PeerStats {
        bool connected = true;
        Instant expire{};
        std::string ip;
        double application_score = 0;
        double behaviour_penalty = 0;
        std::unordered_map<Topic, TopicStats> topics;  // configured topics only
    };
    enum class DeliveryStatus { pending, valid, invalid, ignored };
    using TopicEntry = std::pair<const Topic, TopicScoreParams>;
    struct DeliveryRecord {
        const TopicEntry* topic = nullptr;
        DeliveryStatus status = DeliveryStatus::pending;
        Instant validated{};
        crypto::PeerId first;
        std::vector<crypto::PeerId> peers;  // later copies, at most MAX_DELIVERY_PEERS
    };

    void touch(Instant now);
    TopicStats* topic_stats(const crypto::PeerId& peer, const Topic& topic);
    double deficit(const TopicStats& ts, const TopicScoreParams& p) const;
    void apply_mesh_failure(TopicStats& ts, const TopicScoreParams& p) const;
    void mark_first_delivery(const crypto::PeerId& peer, const Topic& topic);
    void mark_mesh_delivery(const crypto::PeerId& peer, const Topic& topic);
    void mark_invalid_delivery(const crypto::PeerId& peer, const Topic& topic);
    void decay(double intervals);
    void forget_ip(const PeerStats& stats);

    ScoreParams m_params;
    std::unordered_map<crypto::PeerId, PeerStats> m_peers;
    std::unordered_map<std::string, std::size_t> m_ip_peers;  // connected peers per IP
    std::set<std::pair<Instant, crypto::PeerId>> m_retained;   // disconnected, by expiry
    TimeMap<MessageId, DeliveryRecord, MessageIdHasher> m_records;
    Instant m_now{};
    std::optional<Instant> m_next_decay;
};

}  // namespace chainmesh::pubsub
