#include <chainmesh/pubsub/gossip_router.hpp>
#include <chainmesh/pubsub/time_cache.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace chainmesh::pubsub {

namespace {

using crypto::PeerId;
using PeerSet = std::unordered_set<PeerId>;

// IWANT requesters remembered per cached message; beyond them a message is not re-sent.
constexpr std::size_t MAX_IWANT_REQUESTERS = 64;

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "gossip router invariant violated: %s\n", what);
        std::abort();
    }
}

template <class T>
void shuffle(std::vector<T>& items, Rng& rng) {
    for (std::size_t i = items.size(); i > 1; --i) {
        std::swap(items[i - 1], items[rng.uniform(i)]);
    }
}

// Keeps the first `n` items (resize() would need a default constructor to shrink).
template <class T>
void truncate(std::vector<T>& items, std::size_t n) {
    if (items.size() > n) {
        items.erase(items.begin() + static_cast<std::ptrdiff_t>(n), items.end());
    }
}

std::uint64_t whole_seconds_up(Duration d) {
    const auto s = std::chrono::ceil<std::chrono::seconds>(d).count();
    return s < 0 ? 0 : static_cast<std::uint64_t>(s);
}

std::size_t ids_bytes(const std::vector<MessageId>& ids) {
    std::size_t n = 0;
    for (const MessageId& id : ids) {
        n += field_bytes(id.size());
    }
    return n;
}

// A message held until the application validates it.
struct PendingMessage {
    Message message;
    PeerId source;
    std::optional<PeerId> author;
    Instant received;
};

struct CachedMessage {
    std::shared_ptr<const Bytes> encoded;
    std::vector<std::pair<PeerId, std::size_t>> iwant_counts;
};

struct PeerState {
    bool outbound = false;
    std::unordered_set<Topic> topics;
    std::size_t ihave_received = 0;  // IHAVE-carrying RPCs this heartbeat
    std::size_t iwant_asked = 0;     // ids we asked this peer for this heartbeat
    std::size_t window_bytes = 0;    // bytes emitted to the peer since the last heartbeat
};

// What one input produces for one peer; leaves as one RPC (or a few, if large) in flush().
struct Outbox {
    std::vector<SubOpts> subscriptions;
    std::vector<std::shared_ptr<const Bytes>> messages;
    ControlMessage control;
    std::size_t bytes = 0;  // estimate of the encoded size
};

struct Backoff {
    Instant start;
    Instant expiry;
};

}  // namespace

std::string config_error(const GossipConfig& c) {
    if (!(c.d_lo <= c.d && c.d <= c.d_hi)) {
        return "gossipsub degrees must satisfy d_lo <= d <= d_hi";
    }
    if (c.d_out > 0 && (c.d_out >= c.d_lo || c.d_out > c.d / 2)) {
        return "d_out must be below d_lo and at most d / 2";
    }
    if (c.d_score > c.d) {
        return "d_score must be at most d";
    }
    if (c.mcache_len == 0 || c.mcache_gossip > c.mcache_len) {
        return "mcache_len must be positive and at least mcache_gossip";
    }
    if (c.heartbeat_interval <= Duration::zero() || c.seen_ttl <= Duration::zero() ||
        c.fanout_ttl <= Duration::zero() || c.iwant_followup_time <= Duration::zero()) {
        return "heartbeat_interval, seen_ttl, fanout_ttl and iwant_followup_time must be positive";
    }
    if (c.prune_backoff < Duration::zero() || c.unsubscribe_backoff < Duration::zero() ||
        c.max_backoff < c.prune_backoff) {
        return "backoffs must be non-negative and max_backoff at least prune_backoff";
    }
    if (!(c.gossip_factor >= 0.0 && c.gossip_factor <= 1.0)) {
        return "gossip_factor must be within [0, 1]";
    }
    if (c.max_rpc_bytes < c.max_message_bytes + 4 * KIB) {
        return "max_rpc_bytes must leave 4 KiB above max_message_bytes for the envelope";
    }
    if (c.max_pending_validation == 0 || c.max_seen_messages == 0 || c.max_ihave_length == 0 ||
        c.max_peer_topics == 0 || c.max_topic_bytes == 0 || c.opportunistic_graft_ticks == 0 ||
        c.direct_connect_ticks == 0) {
        return "bounds and tick periods must be positive";
    }
    return score_config_error(c.score, c.thresholds);
}

struct GossipRouter::State {
    GossipConfig config;
    crypto::Identity identity;
    Bytes self_bytes;
    Bytes self_key;
    Rng rng;
    MessageIdHasher hasher;
    MessageIdFn id_fn;
    PeerScore score;
    TimeCache<MessageId, MessageIdHasher> seen;

    std::unordered_map<PeerId, PeerState> peers;
    std::unordered_map<Topic, PeerSet> topic_peers;  // connected subscribers per topic
    std::unordered_map<Topic, PeerSet> mesh;         // keys: our subscriptions
    std::unordered_map<Topic, PeerSet> fanout;
    std::unordered_map<Topic, Instant> fanout_last_publish;
    std::unordered_map<Topic, std::unordered_map<PeerId, Backoff>> backoff;
    PeerSet direct;

    std::unordered_map<MessageId, CachedMessage, MessageIdHasher> mcache;
    std::deque<std::unordered_map<Topic, std::vector<MessageId>>> mcache_windows;  // newest first
    std::size_t mcache_bytes = 0;

    std::unordered_map<MessageId, PendingMessage, MessageIdHasher> pending;
    std::size_t pending_bytes = 0;

    // IWANT promises: message id → (advertiser, deadline).
    std::unordered_map<MessageId, std::vector<std::pair<PeerId, Instant>>, MessageIdHasher>
        promises;
    std::size_t promise_entries = 0;

    std::unordered_map<PeerId, Outbox> outboxes;
    std::vector<GossipAction> actions;

    std::uint64_t next_seqno = 0;
    std::optional<Instant> next_heartbeat;
    std::uint64_t heartbeat_ticks = 0;
    std::size_t over_limit_grafts = 0;  // outbound GRAFTs accepted at D_hi since the heartbeat
    Stats stats;

    static GossipConfig validated(GossipConfig c) {
        if (auto error = config_error(c); !error.empty()) {
            std::fprintf(stderr, "gossipsub configuration: %s\n", error.c_str());
            std::abort();
        }
        return c;
    }

    State(GossipConfig c, const crypto::Identity& id, Rng r)
        : config(validated(std::move(c))),
          identity(id),
          self_bytes(id.peer_id().bytes()),
          self_key(id.public_key().encode()),
          rng(std::move(r)),
          hasher{rng.next_u64(), rng.next_u64()},
          score(config.score, config.seen_ttl, config.max_seen_messages, hasher),
          seen(config.seen_ttl, config.max_seen_messages, hasher),
          mcache(16, hasher),
          pending(16, hasher),
          promises(16, hasher) {
        id_fn = config.id_fn;
        if (!id_fn) {
            id_fn = config.signing == SigningPolicy::strict_sign ? MessageIdFn(js_message_id)
                                                                  : MessageIdFn(content_message_id);
        }
        next_seqno = config.seqno_start ? *config.seqno_start : (rng.next_u64() >> 2);
        mcache_windows.emplace_front();
    }

    // ---- time and helpers ----------------------------------------------------------------

    void touch(Instant now) {
        if (!next_heartbeat) {
            next_heartbeat = now + config.heartbeat_interval;
        }
    }

    bool is_self(const PeerId& peer) const { return peer.bytes() == self_bytes; }

    double peer_score(const PeerId& peer) const { return score.score(peer); }

    const PeerSet* subscribers(const Topic& topic) const {
        auto it = topic_peers.find(topic);
        return it == topic_peers.end() ? nullptr : &it->second;
    }

    bool in_backoff(const Topic& topic, const PeerId& peer) const {
        auto t = backoff.find(topic);
        return t != backoff.end() && t->second.contains(peer);
    }

    void add_backoff(const Topic& topic, const PeerId& peer, Duration duration, Instant now) {
        Backoff& b = backoff[topic][peer];
        const Instant expiry = now + duration;
        if (b.expiry < expiry) {
            b = Backoff{now, expiry};
        }
    }

    Outbox& outbox(const PeerId& peer) { return outboxes[peer]; }

    // Whether `extra` more bytes to the peer stay within the outbound bound.
    bool within_queue_bound(const PeerId& peer, std::size_t extra) {
        auto it = peers.find(peer);
        if (it == peers.end()) {
            return false;
        }
        const std::size_t queued = it->second.window_bytes + outbox(peer).bytes;
        return queued + extra <= config.max_peer_queue_bytes;
    }

    // Queues a message for the peer; a droppable one over the queue bound is counted and
    // dropped.
    void send_message(const PeerId& peer, const std::shared_ptr<const Bytes>& encoded,
                      bool droppable) {
        const std::size_t size = field_bytes(encoded->size());
        if (droppable && !within_queue_bound(peer, size)) {
            ++stats.dropped_sends;
            return;
        }
        Outbox& ob = outbox(peer);
        ob.messages.push_back(encoded);
        ob.bytes += size;
    }

    void send_subscription(const PeerId& peer, const Topic& topic, bool subscribe) {
        Outbox& ob = outbox(peer);
        ob.subscriptions.push_back(SubOpts{subscribe, topic});
        ob.bytes += field_bytes(topic.size() + 4);
    }

    void send_graft(const PeerId& peer, const Topic& topic) {
        Outbox& ob = outbox(peer);
        ob.control.graft.push_back(ControlGraft{topic});
        ob.bytes += field_bytes(topic.size() + 4);
        ++stats.graft_sent;
    }

    std::vector<PeerInfo> px_peers(const Topic& topic, const PeerId& pruned) {
        std::vector<PeerId> candidates;
        if (const PeerSet* subs = subscribers(topic)) {
            for (const PeerId& p : *subs) {
                if (p != pruned && !direct.contains(p) && peer_score(p) >= 0) {
                    candidates.push_back(p);
                }
            }
        }
        shuffle(candidates, rng);
        truncate(candidates, config.prune_peers);
        std::vector<PeerInfo> out;
        out.reserve(candidates.size());
        for (const PeerId& p : candidates) {
            out.push_back(PeerInfo{p.bytes(), std::nullopt});
        }
        return out;
    }

    void send_prune(const PeerId& peer, const Topic& topic, Duration backoff_for, bool with_px) {
        ControlPrune prune{topic, {}, whole_seconds_up(backoff_for)};
        if (with_px && config.do_px && peer_score(peer) >= 0) {
            prune.peers = px_peers(topic, peer);
        }
        Outbox& ob = outbox(peer);
        ob.bytes += field_bytes(topic.size() + 16 + prune.peers.size() * 48);
        ob.control.prune.push_back(std::move(prune));
        ++stats.prune_sent;
    }

    // ---- mesh changes --------------------------------------------------------------------

    void graft(PeerSet& members, const PeerId& peer, const Topic& topic, Instant now) {
        members.insert(peer);
        score.graft(peer, topic, now);
        send_graft(peer, topic);
    }

    // Removes a mesh peer we decided to drop: PRUNE, backoff, score.
    void prune(PeerSet& members, const PeerId& peer, const Topic& topic, Duration backoff_for,
               bool with_px, Instant now) {
        members.erase(peer);
        score.prune(peer, topic, now);
        add_backoff(topic, peer, backoff_for, now);
        send_prune(peer, topic, backoff_for, with_px);
    }

    // Subscribers of `topic` outside `exclude`, not direct, not in backoff, passing `keep`.
    template <class Keep>
    std::vector<PeerId> graft_candidates(const Topic& topic, const PeerSet& exclude, Keep&& keep) {
        std::vector<PeerId> out;
        const PeerSet* subs = subscribers(topic);
        if (subs == nullptr) {
            return out;
        }
        for (const PeerId& p : *subs) {
            if (!exclude.contains(p) && !direct.contains(p) && !in_backoff(topic, p) && keep(p)) {
                out.push_back(p);
            }
        }
        shuffle(out, rng);
        return out;
    }

    // ---- message cache -------------------------------------------------------------------

    void mcache_put(const MessageId& id, const Topic& topic,
                    const std::shared_ptr<const Bytes>& encoded) {
        if (mcache_bytes + encoded->size() > config.max_mcache_bytes || mcache.contains(id)) {
            return;
        }
        mcache.emplace(id, CachedMessage{encoded, {}});
        mcache_bytes += encoded->size();
        mcache_windows.front()[topic].push_back(id);
    }

    void mcache_shift() {
        mcache_windows.emplace_front();
        while (mcache_windows.size() > config.mcache_len) {
            for (const auto& [topic, ids] : mcache_windows.back()) {
                for (const MessageId& id : ids) {
                    auto it = mcache.find(id);
                    if (it != mcache.end()) {
                        mcache_bytes -= it->second.encoded->size();
                        mcache.erase(it);
                    }
                }
            }
            mcache_windows.pop_back();
        }
    }

    std::vector<MessageId> gossip_ids(const Topic& topic) const {
        std::vector<MessageId> ids;
        const std::size_t windows = std::min(config.mcache_gossip, mcache_windows.size());
        for (std::size_t w = 0; w < windows; ++w) {
            auto it = mcache_windows[w].find(topic);
            if (it != mcache_windows[w].end()) {
                ids.insert(ids.end(), it->second.begin(), it->second.end());
            }
        }
        return ids;
    }

    // ---- outgoing RPCs ---------------------------------------------------------------------

    // Control split into pieces that each encode within `limit` (only for huge heartbeats).
    static std::vector<ControlMessage> split_control(const ControlMessage& control,
                                                     std::size_t limit) {
        std::vector<ControlMessage> pieces(1);
        std::size_t used = 0;
        auto add = [&](auto member, const auto& entry) {
            ControlMessage single;
            (single.*member).push_back(entry);
            const std::size_t size = field_bytes(single.encode().size());
            if (used > 0 && used + size > limit) {
                pieces.emplace_back();
                used = 0;
            }
            (pieces.back().*member).push_back(entry);
            used += size;
        };
        for (const auto& e : control.ihave) {
            add(&ControlMessage::ihave, e);
        }
        for (const auto& e : control.iwant) {
            add(&ControlMessage::iwant, e);
        }
        for (const auto& e : control.graft) {
            add(&ControlMessage::graft, e);
        }
        for (const auto& e : control.prune) {
            add(&ControlMessage::prune, e);
        }
        for (const auto& e : control.idontwant) {
            add(&ControlMessage::idontwant, e);
        }
        return pieces;
    }

    std::vector<Bytes> build_rpcs(const Outbox& ob) const {
        const std::size_t limit = config.max_rpc_bytes;
        std::vector<ByteView> views;
        views.reserve(ob.messages.size());
        std::size_t total = 0;
        for (const auto& m : ob.messages) {
            views.emplace_back(*m);
            total += field_bytes(m->size());
        }
        Bytes single = encode_rpc(ob.subscriptions, {}, nullptr);
        total += single.size();
        const Bytes control_body = ob.control.empty() ? Bytes{} : ob.control.encode();
        if (!control_body.empty()) {
            total += field_bytes(control_body.size());
        }
        std::vector<Bytes> out;
        if (total <= limit) {
            out.push_back(encode_rpc(ob.subscriptions, views, &ob.control));
            return out;
        }
        // Too large for one RPC: subscriptions and messages first, packed greedily, then the
        // control in as few RPCs as fit (one control field per RPC).
        std::vector<ByteView> batch;
        std::size_t batch_bytes = single.size();
        bool subscriptions_pending = !ob.subscriptions.empty();
        auto emit = [&] {
            if (batch.empty() && !subscriptions_pending) {
                return;
            }
            const std::span<const SubOpts> subs =
                subscriptions_pending ? std::span<const SubOpts>(ob.subscriptions)
                                      : std::span<const SubOpts>();
            out.push_back(encode_rpc(subs, batch, nullptr));
            subscriptions_pending = false;
            batch.clear();
            batch_bytes = 0;
        };
        for (const ByteView m : views) {
            const std::size_t size = field_bytes(m.size());
            if (!batch.empty() && batch_bytes + size > limit) {
                emit();
            }
            batch.push_back(m);
            batch_bytes += size;
        }
        emit();
        if (!ob.control.empty()) {
            for (const ControlMessage& piece : split_control(ob.control, limit - 16)) {
                out.push_back(encode_rpc({}, {}, &piece));
            }
        }
        return out;
    }

    void flush() {
        for (auto& [peer, ob] : outboxes) {
            auto it = peers.find(peer);
            if (it == peers.end()) {
                continue;
            }
            for (Bytes& rpc : build_rpcs(ob)) {
                it->second.window_bytes += rpc.size();
                actions.emplace_back(SendRpc{peer, std::move(rpc)});
            }
        }
        outboxes.clear();
    }

    // ---- received RPCs ---------------------------------------------------------------------

    void handle_subscription(const PeerId& peer, PeerState& state, const SubOpts& sub,
                             Instant now) {
        if (sub.topic.size() > config.max_topic_bytes) {
            return;
        }
        if (sub.subscribe) {
            if (state.topics.size() >= config.max_peer_topics ||
                !state.topics.insert(sub.topic).second) {
                return;
            }
            topic_peers[sub.topic].insert(peer);
            return;
        }
        if (state.topics.erase(sub.topic) == 0) {
            return;
        }
        forget_subscriber(peer, sub.topic, now);
    }

    void forget_subscriber(const PeerId& peer, const Topic& topic, Instant now) {
        auto tp = topic_peers.find(topic);
        if (tp != topic_peers.end()) {
            tp->second.erase(peer);
            if (tp->second.empty()) {
                topic_peers.erase(tp);
            }
        }
        auto m = mesh.find(topic);
        if (m != mesh.end() && m->second.erase(peer) > 0) {
            score.prune(peer, topic, now);
        }
        auto f = fanout.find(topic);
        if (f != fanout.end()) {
            f->second.erase(peer);
        }
    }

    void reject_unverified(const PeerId& from, const Topic& topic, Instant now) {
        ++stats.invalid;
        score.reject_unverified(from, topic, now);
    }

    bool signature_valid(const Message& m, const PeerId& author) const {
        std::optional<crypto::PublicKey> key;
        if (m.key) {
            auto decoded = crypto::PublicKey::decode(*m.key);
            if (!decoded || crypto::PeerId::from_public_key(*decoded) != author) {
                return false;
            }
            key = std::move(*decoded);
        } else {
            key = author.public_key();
            if (!key) {
                return false;
            }
        }
        return key->verify(m.signing_bytes(), *m.signature);
    }

    void handle_message(const PeerId& from, Message message, Instant now) {
        if (!mesh.contains(message.topic)) {
            return;  // a topic we are not in: neither validated nor forwarded
        }
        const std::size_t data_bytes = message.data ? message.data->size() : 0;
        if (data_bytes > config.max_message_bytes) {
            ++stats.oversized;
            return;
        }
        std::optional<PeerId> author;
        if (config.signing == SigningPolicy::strict_sign) {
            if (!message.from || !message.seqno || message.seqno->size() != SEQNO_BYTES ||
                !message.signature) {
                reject_unverified(from, message.topic, now);
                return;
            }
            auto id = PeerId::from_bytes(*message.from);
            if (!id) {
                reject_unverified(from, message.topic, now);
                return;
            }
            author = std::move(*id);
        } else if (message.from || message.seqno || message.signature || message.key) {
            reject_unverified(from, message.topic, now);
            return;
        }
        MessageId id = id_fn(message);
        if (seen.contains(id)) {
            ++stats.duplicates;
            score.duplicate_message(from, id, now);
            return;
        }
        if (author && !signature_valid(message, *author)) {
            reject_unverified(from, message.topic, now);
            return;
        }
        if (author && is_self(*author)) {
            return;  // our own message, back after we forgot it: nothing to learn
        }
        seen.insert(id, now);
        fulfil_promise(id);
        if (pending.size() >= config.max_pending_validation ||
            pending_bytes + data_bytes > config.max_pending_validation_bytes) {
            ++stats.ignored;
            return;
        }
        score.validate_message(from, id, message.topic, now);
        actions.emplace_back(ValidateMessage{id, from, message.topic,
                                             message.data.value_or(Bytes{}), author});
        pending_bytes += data_bytes;
        pending.emplace(std::move(id),
                        PendingMessage{std::move(message), from, std::move(author), now});
    }

    void fulfil_promise(const MessageId& id) {
        auto it = promises.find(id);
        if (it != promises.end()) {
            promise_entries -= it->second.size();
            promises.erase(it);
        }
    }

    void handle_ihave(const PeerId& peer, PeerState& state,
                      const std::vector<ControlIHave>& ihaves, Instant now) {
        if (ihaves.empty() || peer_score(peer) < config.thresholds.gossip) {
            return;
        }
        if (++state.ihave_received > config.max_ihave_messages ||
            state.iwant_asked >= config.max_ihave_length) {
            return;
        }
        std::unordered_set<MessageId, MessageIdHasher> asked(16, hasher);
        std::vector<MessageId> wanted;
        for (const ControlIHave& ihave : ihaves) {
            if (!mesh.contains(ihave.topic)) {
                continue;
            }
            for (const MessageId& id : ihave.message_ids) {
                if (id.size() <= MAX_MESSAGE_ID_BYTES && !seen.contains(id) &&
                    asked.insert(id).second) {
                    wanted.push_back(id);
                }
            }
        }
        if (wanted.empty()) {
            return;
        }
        const std::size_t allowed = config.max_ihave_length - state.iwant_asked;
        if (wanted.size() > allowed) {
            shuffle(wanted, rng);
            truncate(wanted, allowed);
        }
        state.iwant_asked += wanted.size();
        // One random id of the request stands for the whole promise (gossipsub-v1.1.md, spam
        // protection): cheap to track, and a peer that breaks promises is caught on average.
        const MessageId& tracked = wanted[rng.uniform(wanted.size())];
        auto& entries = promises[tracked];
        const bool known = std::any_of(entries.begin(), entries.end(),
                                       [&](const auto& e) { return e.first == peer; });
        if (!known) {
            entries.emplace_back(peer, now + config.iwant_followup_time);
            ++promise_entries;
        }
        Outbox& ob = outbox(peer);
        ob.bytes += field_bytes(ids_bytes(wanted));
        ob.control.iwant.push_back(ControlIWant{std::move(wanted)});
        ++stats.iwant_sent;
    }

    void handle_iwant(const PeerId& peer, const std::vector<ControlIWant>& iwants) {
        if (iwants.empty() || peer_score(peer) < config.thresholds.gossip) {
            return;
        }
        for (const ControlIWant& iwant : iwants) {
            for (const MessageId& id : iwant.message_ids) {
                auto it = mcache.find(id);
                if (it == mcache.end()) {
                    continue;
                }
                auto& counts = it->second.iwant_counts;
                auto c = std::find_if(counts.begin(), counts.end(),
                                      [&](const auto& e) { return e.first == peer; });
                if (c == counts.end()) {
                    if (counts.size() >= MAX_IWANT_REQUESTERS) {
                        continue;
                    }
                    counts.emplace_back(peer, 0);
                    c = counts.end() - 1;
                }
                if (c->second >= config.gossip_retransmission) {
                    continue;
                }
                ++c->second;
                send_message(peer, it->second.encoded, true);
            }
        }
    }

    void handle_graft(const PeerId& peer, const PeerState& state,
                      const std::vector<ControlGraft>& grafts, Instant now) {
        for (const ControlGraft& g : grafts) {
            auto m = mesh.find(g.topic);
            if (m == mesh.end() || !state.topics.contains(g.topic) || m->second.contains(peer)) {
                continue;
            }
            if (direct.contains(peer)) {
                send_prune(peer, g.topic, config.prune_backoff, false);
                continue;
            }
            auto t = backoff.find(g.topic);
            if (t != backoff.end()) {
                auto b = t->second.find(peer);
                if (b != t->second.end() && now < b->second.expiry) {
                    double penalty = 1;
                    if (now < b->second.start + config.graft_flood_threshold) {
                        penalty += 1;  // re-GRAFT right after the PRUNE: flooding
                    }
                    score.add_penalty(peer, penalty);
                    add_backoff(g.topic, peer, config.prune_backoff, now);
                    send_prune(peer, g.topic, config.prune_backoff, false);
                    continue;
                }
            }
            if (peer_score(peer) < 0) {
                add_backoff(g.topic, peer, config.prune_backoff, now);
                send_prune(peer, g.topic, config.prune_backoff, false);
                continue;
            }
            if (m->second.size() >= config.d_hi) {
                if (!state.outbound) {
                    add_backoff(g.topic, peer, config.prune_backoff, now);
                    send_prune(peer, g.topic, config.prune_backoff, true);
                    continue;
                }
                ++over_limit_grafts;
            }
            m->second.insert(peer);
            score.graft(peer, g.topic, now);
        }
    }

    void handle_prune(const PeerId& peer, const std::vector<ControlPrune>& prunes, Instant now) {
        for (const ControlPrune& p : prunes) {
            auto m = mesh.find(p.topic);
            if (m == mesh.end()) {
                continue;
            }
            if (m->second.erase(peer) > 0) {
                score.prune(peer, p.topic, now);
            }
            Duration wait = config.prune_backoff;
            if (p.backoff_seconds) {
                const auto max_seconds = whole_seconds_up(config.max_backoff);
                wait = std::chrono::seconds{
                    static_cast<std::int64_t>(std::min(*p.backoff_seconds, max_seconds))};
            }
            add_backoff(p.topic, peer, wait, now);
            if (!p.peers.empty() && peer_score(peer) >= config.thresholds.accept_px) {
                connect_px(p.peers);
            }
        }
    }

    void connect_px(const std::vector<PeerInfo>& infos) {
        std::size_t asked = 0;
        PeerSet requested;
        for (const PeerInfo& info : infos) {
            if (asked == config.prune_peers) {
                break;
            }
            auto id = PeerId::from_bytes(info.peer_id);
            if (!id || is_self(*id) || peers.contains(*id) || !requested.insert(*id).second) {
                continue;
            }
            actions.emplace_back(ConnectPeer{*id});
            ++asked;
        }
    }

    void on_rpc(const PeerId& from, ByteView body, Instant now) {
        touch(now);
        auto it = peers.find(from);
        if (it == peers.end()) {
            ++stats.dropped_rpcs;
            return;
        }
        if (!direct.contains(from) && peer_score(from) < config.thresholds.graylist) {
            ++stats.dropped_rpcs;
            return;
        }
        auto rpc = Rpc::decode(body, config.max_rpc_bytes, config.rpc_limits);
        if (!rpc) {
            ++stats.dropped_rpcs;
            actions.emplace_back(PenalizePeer{from, rpc.error().message()});
            return;
        }
        PeerState& state = it->second;
        for (const SubOpts& sub : rpc->subscriptions) {
            handle_subscription(from, state, sub, now);
        }
        for (Message& m : rpc->messages) {
            handle_message(from, std::move(m), now);
        }
        if (rpc->control) {
            handle_ihave(from, state, rpc->control->ihave, now);
            handle_iwant(from, rpc->control->iwant);
            handle_graft(from, state, rpc->control->graft, now);
            handle_prune(from, rpc->control->prune, now);
        }
        flush();
    }

    // ---- validation and publishing ---------------------------------------------------------

    void forward(const Topic& topic, const std::shared_ptr<const Bytes>& encoded,
                 const PeerId& source, const std::optional<PeerId>& author) {
        auto skip = [&](const PeerId& p) { return p == source || (author && p == *author); };
        auto m = mesh.find(topic);
        if (m != mesh.end()) {
            for (const PeerId& p : m->second) {
                if (!skip(p)) {
                    send_message(p, encoded, true);
                }
            }
        }
        const PeerSet* subs = subscribers(topic);
        for (const PeerId& p : direct) {
            if (subs != nullptr && subs->contains(p) && !skip(p)) {
                send_message(p, encoded, true);
            }
        }
    }

    void report_validation(const MessageId& id, ValidationResult result, Instant now) {
        touch(now);
        auto it = pending.find(id);
        if (it == pending.end()) {
            return;
        }
        PendingMessage held = std::move(it->second);
        pending.erase(it);
        pending_bytes -= held.message.data ? held.message.data->size() : 0;
        switch (result) {
            case ValidationResult::accept: {
                score.deliver_message(id, now);
                if (!mesh.contains(held.message.topic)) {
                    break;  // we left the topic while it validated
                }
                ++stats.delivered;
                auto encoded = std::make_shared<const Bytes>(held.message.encode());
                mcache_put(id, held.message.topic, encoded);
                forward(held.message.topic, encoded, held.source, held.author);
                actions.emplace_back(DeliverMessage{id, held.message.topic,
                                                    std::move(held.message.data).value_or(Bytes{}),
                                                    held.author});
                break;
            }
            case ValidationResult::reject:
                ++stats.invalid;
                score.reject_message(id, now);
                break;
            case ValidationResult::ignore:
                ++stats.ignored;
                score.ignore_message(id, now);
                break;
        }
        flush();
    }

    Result<MessageId> publish(const Topic& topic, Bytes data, Instant now) {
        touch(now);
        if (data.size() > config.max_message_bytes) {
            return PubsubError::message_too_large;
        }
        Message m;
        m.topic = topic;
        m.data = std::move(data);
        if (config.signing == SigningPolicy::strict_sign) {
            m.from = self_bytes;
            Bytes seqno;
            put_u64be(seqno, next_seqno);
            m.seqno = std::move(seqno);
            const auto signature = identity.sign(m.signing_bytes());
            m.signature = Bytes(signature.begin(), signature.end());
            m.key = self_key;  // as js does, even though an Ed25519 id inlines it
        }
        MessageId id = id_fn(m);
        if (!seen.insert(id, now)) {
            return PubsubError::duplicate_message;
        }
        ++next_seqno;  // only once the seqno is spent: strictly increasing on the wire
        auto encoded = std::make_shared<const Bytes>(m.encode());
        mcache_put(id, topic, encoded);

        std::vector<PeerId> targets;
        const PeerSet* subs = subscribers(topic);
        auto mesh_it = mesh.find(topic);
        if (config.flood_publish) {
            if (subs != nullptr) {
                for (const PeerId& p : *subs) {
                    if (direct.contains(p) || peer_score(p) >= config.thresholds.publish) {
                        targets.push_back(p);
                    }
                }
            }
        } else {
            const PeerSet* chosen = nullptr;
            if (mesh_it != mesh.end()) {
                chosen = &mesh_it->second;
            } else {
                auto [f, created] = fanout.try_emplace(topic);
                if (created) {
                    PeerSet none;
                    auto candidates = graft_candidates(topic, none, [&](const PeerId& p) {
                        return peer_score(p) >= config.thresholds.publish;
                    });
                    for (std::size_t i = 0; i < candidates.size() && i < config.d; ++i) {
                        f->second.insert(candidates[i]);
                    }
                }
                fanout_last_publish[topic] = now;
                chosen = &f->second;
            }
            targets.assign(chosen->begin(), chosen->end());
            if (subs != nullptr) {
                for (const PeerId& p : direct) {
                    if (subs->contains(p)) {
                        targets.push_back(p);
                    }
                }
            }
        }
        for (const PeerId& p : targets) {
            send_message(p, encoded, false);
        }
        ++stats.published;
        if (mesh_it != mesh.end()) {
            actions.emplace_back(DeliverMessage{id, topic, *m.data, identity.peer_id()});
        }
        flush();
        return id;
    }

    // ---- subscriptions -----------------------------------------------------------------------

    void subscribe(const Topic& topic, Instant now) {
        touch(now);
        if (mesh.contains(topic)) {
            return;
        }
        for (const auto& [peer, state] : peers) {
            send_subscription(peer, topic, true);
        }
        PeerSet& members = mesh[topic];
        std::vector<PeerId> chosen;
        auto f = fanout.find(topic);
        if (f != fanout.end()) {
            for (const PeerId& p : f->second) {
                if (chosen.size() < config.d && peer_score(p) >= 0 && !in_backoff(topic, p)) {
                    chosen.push_back(p);
                }
            }
            fanout.erase(f);
            fanout_last_publish.erase(topic);
        }
        if (chosen.size() < config.d) {
            const PeerSet already(chosen.begin(), chosen.end());
            for (const PeerId& p : graft_candidates(
                     topic, already, [&](const PeerId& q) { return peer_score(q) >= 0; })) {
                if (chosen.size() == config.d) {
                    break;
                }
                chosen.push_back(p);
            }
        }
        for (const PeerId& p : chosen) {
            graft(members, p, topic, now);
        }
        flush();
    }

    void unsubscribe(const Topic& topic, Instant now) {
        touch(now);
        auto m = mesh.find(topic);
        if (m == mesh.end()) {
            return;
        }
        for (const auto& [peer, state] : peers) {
            send_subscription(peer, topic, false);
        }
        const std::vector<PeerId> members(m->second.begin(), m->second.end());
        for (const PeerId& p : members) {
            prune(m->second, p, topic, config.unsubscribe_backoff, false, now);
        }
        mesh.erase(topic);
        flush();
    }

    // ---- connections -----------------------------------------------------------------------

    void on_peer_connected(const PeerId& peer, bool outbound, std::string ip, Instant now) {
        touch(now);
        if (is_self(peer) || peers.contains(peer)) {
            return;
        }
        peers.emplace(peer, PeerState{outbound, {}, 0, 0, 0});
        score.add_peer(peer, std::move(ip), now);
        std::vector<Topic> topics;
        topics.reserve(mesh.size());
        for (const auto& [topic, members] : mesh) {
            topics.push_back(topic);
        }
        std::sort(topics.begin(), topics.end());
        for (const Topic& topic : topics) {
            send_subscription(peer, topic, true);
        }
        flush();
    }

    void on_peer_disconnected(const PeerId& peer, Instant now) {
        touch(now);
        auto it = peers.find(peer);
        if (it == peers.end()) {
            return;
        }
        for (const Topic& topic : it->second.topics) {
            forget_subscriber(peer, topic, now);
        }
        outboxes.erase(peer);
        peers.erase(it);
        score.remove_peer(peer, now);
    }

    // ---- heartbeat ---------------------------------------------------------------------------

    void penalise_broken_promises(Instant now) {
        for (auto it = promises.begin(); it != promises.end();) {
            auto& entries = it->second;
            auto broken = std::remove_if(entries.begin(), entries.end(), [&](const auto& e) {
                if (e.second > now) {
                    return false;
                }
                score.add_penalty(e.first, 1);
                ++stats.broken_promises;
                return true;
            });
            promise_entries -= static_cast<std::size_t>(entries.end() - broken);
            entries.erase(broken, entries.end());
            it = entries.empty() ? promises.erase(it) : std::next(it);
        }
    }

    void maintain_mesh(const Topic& topic, PeerSet& members,
                       const std::unordered_map<PeerId, double>& scores, Instant now) {
        auto score_of = [&](const PeerId& p) {
            auto s = scores.find(p);
            return s == scores.end() ? 0.0 : s->second;
        };
        auto is_outbound = [&](const PeerId& p) {
            auto s = peers.find(p);
            return s != peers.end() && s->second.outbound;
        };

        // Negative scores leave first, without PX.
        std::vector<PeerId> negative;
        for (const PeerId& p : members) {
            if (score_of(p) < 0) {
                negative.push_back(p);
            }
        }
        for (const PeerId& p : negative) {
            prune(members, p, topic, config.prune_backoff, false, now);
        }

        if (members.size() < config.d_lo) {
            const std::size_t want = config.d - members.size();
            auto candidates =
                graft_candidates(topic, members, [&](const PeerId& p) { return score_of(p) >= 0; });
            for (std::size_t i = 0; i < candidates.size() && i < want; ++i) {
                graft(members, candidates[i], topic, now);
            }
        }

        if (members.size() > config.d_hi) {
            std::vector<PeerId> ranked(members.begin(), members.end());
            shuffle(ranked, rng);  // ties broken at random
            std::stable_sort(ranked.begin(), ranked.end(), [&](const PeerId& a, const PeerId& b) {
                return score_of(a) > score_of(b);
            });
            // The D_score best stay; the rest of the D survivors are drawn at random.
            auto random_part = ranked.begin() + static_cast<std::ptrdiff_t>(config.d_score);
            std::vector<PeerId> rest(random_part, ranked.end());
            shuffle(rest, rng);
            std::copy(rest.begin(), rest.end(), random_part);
            const std::size_t keep = config.d;
            // Outbound quota: swap outbound peers from the pruned tail into the kept set,
            // replacing inbound ones from the end of the kept set (the random picks first).
            std::size_t outbound = 0;
            for (std::size_t i = 0; i < keep; ++i) {
                outbound += is_outbound(ranked[i]) ? 1 : 0;
            }
            std::size_t victim = keep;
            for (std::size_t i = keep; i < ranked.size() && outbound < config.d_out; ++i) {
                if (!is_outbound(ranked[i])) {
                    continue;
                }
                while (victim > 0 && is_outbound(ranked[victim - 1])) {
                    --victim;
                }
                if (victim == 0) {
                    break;
                }
                --victim;
                std::swap(ranked[victim], ranked[i]);
                ++outbound;
            }
            for (std::size_t i = keep; i < ranked.size(); ++i) {
                prune(members, ranked[i], topic, config.prune_backoff, true, now);
            }
        }

        if (members.size() >= config.d_lo && config.d_out > 0) {
            std::size_t outbound = 0;
            for (const PeerId& p : members) {
                outbound += is_outbound(p) ? 1 : 0;
            }
            if (outbound < config.d_out) {
                auto candidates = graft_candidates(topic, members, [&](const PeerId& p) {
                    return is_outbound(p) && score_of(p) >= 0;
                });
                for (std::size_t i = 0; i < candidates.size() && outbound < config.d_out; ++i) {
                    graft(members, candidates[i], topic, now);
                    ++outbound;
                }
            }
        }

        if (heartbeat_ticks % config.opportunistic_graft_ticks == 0 && members.size() > 1) {
            std::vector<double> mesh_scores;
            mesh_scores.reserve(members.size());
            for (const PeerId& p : members) {
                mesh_scores.push_back(score_of(p));
            }
            std::sort(mesh_scores.begin(), mesh_scores.end());
            const double median = mesh_scores[mesh_scores.size() / 2];
            if (median < config.thresholds.opportunistic_graft) {
                auto candidates = graft_candidates(
                    topic, members, [&](const PeerId& p) { return score_of(p) > median; });
                for (std::size_t i = 0;
                     i < candidates.size() && i < config.opportunistic_graft_peers; ++i) {
                    graft(members, candidates[i], topic, now);
                }
            }
        }
    }

    void maintain_fanout(const std::unordered_map<PeerId, double>& scores, Instant now) {
        auto score_of = [&](const PeerId& p) {
            auto s = scores.find(p);
            return s == scores.end() ? 0.0 : s->second;
        };
        for (auto it = fanout.begin(); it != fanout.end();) {
            const Topic& topic = it->first;
            auto last = fanout_last_publish.find(topic);
            if (last == fanout_last_publish.end() || last->second + config.fanout_ttl <= now) {
                fanout_last_publish.erase(topic);
                it = fanout.erase(it);
                continue;
            }
            PeerSet& members = it->second;
            const PeerSet* subs = subscribers(topic);
            for (auto m = members.begin(); m != members.end();) {
                const bool keep = subs != nullptr && subs->contains(*m) &&
                                  score_of(*m) >= config.thresholds.publish;
                m = keep ? std::next(m) : members.erase(m);
            }
            if (members.size() < config.d && subs != nullptr) {
                std::vector<PeerId> candidates;
                for (const PeerId& p : *subs) {
                    if (!members.contains(p) && !direct.contains(p) &&
                        score_of(p) >= config.thresholds.publish) {
                        candidates.push_back(p);
                    }
                }
                shuffle(candidates, rng);
                for (std::size_t i = 0; i < candidates.size() && members.size() < config.d; ++i) {
                    members.insert(candidates[i]);
                }
            }
            ++it;
        }
    }

    void emit_gossip(const Topic& topic, const PeerSet& exclude,
                     const std::unordered_map<PeerId, double>& scores) {
        std::vector<MessageId> ids = gossip_ids(topic);
        if (ids.empty()) {
            return;
        }
        if (ids.size() > config.max_ihave_length) {
            shuffle(ids, rng);
            truncate(ids, config.max_ihave_length);
        }
        std::vector<PeerId> eligible;
        if (const PeerSet* subs = subscribers(topic)) {
            for (const PeerId& p : *subs) {
                auto s = scores.find(p);
                const double sc = s == scores.end() ? 0.0 : s->second;
                if (!exclude.contains(p) && !direct.contains(p) &&
                    sc >= config.thresholds.gossip) {
                    eligible.push_back(p);
                }
            }
        }
        const auto by_factor = static_cast<std::size_t>(
            config.gossip_factor * static_cast<double>(eligible.size()));
        const std::size_t target = std::max(config.d_lazy, by_factor);
        if (eligible.size() > target) {
            shuffle(eligible, rng);
            truncate(eligible, target);
        }
        const std::size_t size = field_bytes(topic.size() + ids_bytes(ids) + 2);
        for (const PeerId& p : eligible) {
            if (!within_queue_bound(p, size)) {
                ++stats.dropped_sends;
                continue;
            }
            Outbox& ob = outbox(p);
            ob.control.ihave.push_back(ControlIHave{topic, ids});
            ob.bytes += size;
            ++stats.ihave_sent;
        }
    }

    void on_heartbeat(Instant now) {
        touch(now);
        ++heartbeat_ticks;
        score.refresh(now);
        for (auto& [peer, state] : peers) {
            state.ihave_received = 0;
            state.iwant_asked = 0;
            state.window_bytes = 0;
        }
        over_limit_grafts = 0;
        penalise_broken_promises(now);

        // Backoffs are forgotten two heartbeats after they expire: the slack keeps us from
        // re-grafting a peer whose own clock for the backoff started a little after ours.
        const Duration slack = 2 * config.heartbeat_interval;
        for (auto t = backoff.begin(); t != backoff.end();) {
            std::erase_if(t->second, [&](const auto& e) { return e.second.expiry + slack < now; });
            t = t->second.empty() ? backoff.erase(t) : std::next(t);
        }

        std::unordered_map<PeerId, double> scores;
        scores.reserve(peers.size());
        for (const auto& [peer, state] : peers) {
            scores.emplace(peer, peer_score(peer));
        }
        for (auto& [topic, members] : mesh) {
            maintain_mesh(topic, members, scores, now);
        }
        maintain_fanout(scores, now);
        for (const auto& [topic, members] : mesh) {
            emit_gossip(topic, members, scores);
        }
        for (const auto& [topic, members] : fanout) {
            emit_gossip(topic, members, scores);
        }
        mcache_shift();

        // Validations never reported are dropped, as ignored, after the seen TTL.
        for (auto it = pending.begin(); it != pending.end();) {
            if (it->second.received + config.seen_ttl > now) {
                ++it;
                continue;
            }
            pending_bytes -= it->second.message.data ? it->second.message.data->size() : 0;
            score.ignore_message(it->first, now);
            ++stats.ignored;
            it = pending.erase(it);
        }
        seen.expire(now);

        if (heartbeat_ticks % config.direct_connect_ticks == 0) {
            for (const PeerId& p : direct) {
                if (!peers.contains(p)) {
                    actions.emplace_back(ConnectPeer{p});
                }
            }
        }
        next_heartbeat = now + config.heartbeat_interval;
        flush();
    }

    // ---- invariants --------------------------------------------------------------------------

    void check_invariants() const {
        require(outboxes.empty(), "outboxes are flushed after every input");
        std::size_t subscriptions = 0;
        for (const auto& [peer, state] : peers) {
            require(!is_self(peer), "we are not our own peer");
            require(state.topics.size() <= config.max_peer_topics, "topics per peer bounded");
            for (const Topic& topic : state.topics) {
                const PeerSet* subs = subscribers(topic);
                require(subs != nullptr && subs->contains(peer), "topic index has the peer");
            }
            subscriptions += state.topics.size();
        }
        std::size_t indexed = 0;
        for (const auto& [topic, subs] : topic_peers) {
            require(!subs.empty(), "no empty topic entries");
            indexed += subs.size();
        }
        require(indexed == subscriptions, "topic index matches peer subscriptions");
        const std::size_t mesh_max =
            config.d_hi + config.d_out + config.opportunistic_graft_peers + over_limit_grafts;
        for (const auto& [topic, members] : mesh) {
            require(members.size() <= mesh_max, "mesh size within D_hi (+ quota grafts)");
            const PeerSet* subs = subscribers(topic);
            for (const PeerId& p : members) {
                require(peers.contains(p), "mesh peers are connected");
                require(subs != nullptr && subs->contains(p), "mesh peers subscribe to the topic");
                require(!direct.contains(p), "direct peers stay out of the mesh");
            }
        }
        require(fanout.size() == fanout_last_publish.size(), "fanout publish times tracked");
        for (const auto& [topic, members] : fanout) {
            require(!mesh.contains(topic), "fanout only for topics we are not in");
            require(fanout_last_publish.contains(topic), "fanout has a publish time");
            require(members.size() <= config.d, "fanout at most D");
            const PeerSet* subs = subscribers(topic);
            for (const PeerId& p : members) {
                require(subs != nullptr && subs->contains(p), "fanout peers subscribe");
            }
        }
        require(seen.consistent() && seen.size() <= config.max_seen_messages, "seen bounded");
        require(mcache_windows.size() >= 1 && mcache_windows.size() <= config.mcache_len,
                "mcache windows bounded");
        std::size_t windowed = 0;
        for (const auto& window : mcache_windows) {
            for (const auto& [topic, ids] : window) {
                windowed += ids.size();
                for (const MessageId& id : ids) {
                    require(mcache.contains(id), "windowed ids are cached");
                }
            }
        }
        require(windowed == mcache.size(), "each cached message in one window");
        std::size_t cached_bytes = 0;
        for (const auto& [id, entry] : mcache) {
            cached_bytes += entry.encoded->size();
            require(entry.iwant_counts.size() <= MAX_IWANT_REQUESTERS, "IWANT requesters bounded");
        }
        require(cached_bytes == mcache_bytes && mcache_bytes <= config.max_mcache_bytes,
                "mcache bytes bounded");
        require(pending.size() <= config.max_pending_validation, "pending validation bounded");
        std::size_t held = 0;
        for (const auto& [id, p] : pending) {
            held += p.message.data ? p.message.data->size() : 0;
            require(seen.contains(id) || seen.size() == config.max_seen_messages,
                    "pending messages were marked seen");
        }
        require(held == pending_bytes && held <= config.max_pending_validation_bytes,
                "pending bytes bounded");
        std::size_t promised = 0;
        for (const auto& [id, entries] : promises) {
            require(!entries.empty(), "no empty promise entries");
            promised += entries.size();
        }
        require(promised == promise_entries, "promise count");
        score.check_invariants();
    }
};

GossipRouter::GossipRouter(GossipConfig config, const crypto::Identity& identity, Rng rng)
    : m_state(std::make_unique<State>(std::move(config), identity, std::move(rng))) {}
GossipRouter::~GossipRouter() = default;
GossipRouter::GossipRouter(GossipRouter&&) noexcept = default;
GossipRouter& GossipRouter::operator=(GossipRouter&&) noexcept = default;

void GossipRouter::on_peer_connected(const crypto::PeerId& peer, bool outbound, std::string ip,
                                     Instant now) {
    m_state->on_peer_connected(peer, outbound, std::move(ip), now);
}

void GossipRouter::on_peer_disconnected(const crypto::PeerId& peer, Instant now) {
    m_state->on_peer_disconnected(peer, now);
}

void GossipRouter::on_rpc(const crypto::PeerId& from, ByteView rpc, Instant now) {
    m_state->on_rpc(from, rpc, now);
}

void GossipRouter::on_heartbeat(Instant now) { m_state->on_heartbeat(now); }

void GossipRouter::report_validation(const MessageId& id, ValidationResult result, Instant now) {
    m_state->report_validation(id, result, now);
}

Result<MessageId> GossipRouter::publish(const Topic& topic, Bytes data, Instant now) {
    return m_state->publish(topic, std::move(data), now);
}

void GossipRouter::subscribe(const Topic& topic, Instant now) { m_state->subscribe(topic, now); }

void GossipRouter::unsubscribe(const Topic& topic, Instant now) {
    m_state->unsubscribe(topic, now);
}

void GossipRouter::add_direct_peer(const crypto::PeerId& peer) {
    State& st = *m_state;
    if (st.is_self(peer) || !st.direct.insert(peer).second) {
        return;
    }
    for (auto& [topic, members] : st.mesh) {
        if (members.erase(peer) > 0) {
            st.score.prune(peer, topic, Instant{});
        }
    }
    for (auto& [topic, members] : st.fanout) {
        members.erase(peer);
    }
    if (!st.peers.contains(peer)) {
        st.actions.emplace_back(ConnectPeer{peer});
    }
}

void GossipRouter::set_application_score(const crypto::PeerId& peer, double score) {
    m_state->score.set_application_score(peer, score);
}

std::vector<GossipAction> GossipRouter::take_actions() {
    std::vector<GossipAction> out;
    out.swap(m_state->actions);
    return out;
}

Instant GossipRouter::next_heartbeat() const {
    return m_state->next_heartbeat.value_or(Instant{});
}

namespace {
std::vector<crypto::PeerId> sorted_members(const std::unordered_map<Topic, PeerSet>& map,
                                           const Topic& topic) {
    std::vector<crypto::PeerId> out;
    auto it = map.find(topic);
    if (it != map.end()) {
        out.assign(it->second.begin(), it->second.end());
        std::sort(out.begin(), out.end());
    }
    return out;
}
}  // namespace

std::vector<crypto::PeerId> GossipRouter::mesh_peers(const Topic& topic) const {
    return sorted_members(m_state->mesh, topic);
}

std::vector<crypto::PeerId> GossipRouter::fanout_peers(const Topic& topic) const {
    return sorted_members(m_state->fanout, topic);
}

std::vector<crypto::PeerId> GossipRouter::topic_peers(const Topic& topic) const {
    return sorted_members(m_state->topic_peers, topic);
}

double GossipRouter::score(const crypto::PeerId& peer) const {
    return m_state->score.score(peer);
}

const PeerScore& GossipRouter::peer_score() const { return m_state->score; }

bool GossipRouter::is_subscribed(const Topic& topic) const {
    return m_state->mesh.contains(topic);
}

bool GossipRouter::is_connected(const crypto::PeerId& peer) const {
    return m_state->peers.contains(peer);
}

std::size_t GossipRouter::seen_count() const { return m_state->seen.size(); }
std::size_t GossipRouter::mcache_count() const { return m_state->mcache.size(); }
std::size_t GossipRouter::pending_validation_count() const { return m_state->pending.size(); }
std::size_t GossipRouter::promise_count() const { return m_state->promise_entries; }

GossipRouter::Stats GossipRouter::stats() const { return m_state->stats; }

void GossipRouter::check_invariants() const { m_state->check_invariants(); }

}  // namespace chainmesh::pubsub
