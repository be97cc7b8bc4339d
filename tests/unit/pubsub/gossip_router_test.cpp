#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/pubsub/gossip_router.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <variant>

namespace chainmesh::pubsub {
namespace {

using namespace std::chrono_literals;
using crypto::Identity;
using crypto::PeerId;

const Topic TOPIC = "/chainmesh/test/block";

Identity identity(std::uint32_t n) {
    crypto::Ed25519Seed seed{};
    for (std::size_t i = 0; i < seed.size(); ++i) {
        seed[i] = static_cast<std::uint8_t>((n * 37 + i * 11 + (n >> 8)) & 0xff);
    }
    seed[0] = static_cast<std::uint8_t>(n);
    seed[1] = static_cast<std::uint8_t>(n >> 8);
    return Identity(crypto::Ed25519PrivateKey::from_seed(seed));
}

// A topic whose score is only P₄ (weight -10): exact numbers in tests.
TopicScoreParams invalid_only_topic() {
    TopicScoreParams p;
    p.time_in_mesh_weight = 0;
    p.first_message_deliveries_weight = 0;
    p.mesh_message_deliveries_weight = 0;
    p.mesh_failure_penalty_weight = 0;
    p.invalid_message_deliveries_weight = -10;
    p.invalid_message_deliveries_decay = 0.5;
    return p;
}

GossipConfig test_config() {
    GossipConfig c;
    c.score.topics[TOPIC] = invalid_only_topic();
    c.score.behaviour_penalty_decay = 0.5;
    c.score.ip_colocation_factor_weight = 0;
    return c;
}

Message signed_message(const Identity& author, const Topic& topic, std::string_view data,
                       std::uint64_t seqno) {
    Message m;
    m.from = author.peer_id().bytes();
    m.data = to_bytes(data);
    Bytes s;
    put_u64be(s, seqno);
    m.seqno = s;
    m.topic = topic;
    const auto signature = author.sign(m.signing_bytes());
    m.signature = Bytes(signature.begin(), signature.end());
    m.key = author.public_key().encode();
    return m;
}

Rpc subscribe_rpc(const Topic& topic, bool subscribe = true) {
    Rpc rpc;
    rpc.subscriptions.push_back({subscribe, topic});
    return rpc;
}

Rpc message_rpc(Message m) {
    Rpc rpc;
    rpc.messages.push_back(std::move(m));
    return rpc;
}

Rpc control_rpc(ControlMessage c) {
    Rpc rpc;
    rpc.control = std::move(c);
    return rpc;
}

// ---------------------------------------------------------------------------------------------
// One router driven directly, with hand-made peers.

class RouterHarness {
public:
    explicit RouterHarness(GossipConfig config = test_config(), std::uint64_t seed = 7)
        : m_self(identity(1000)), m_router(std::move(config), m_self, Rng(seed)) {}

    GossipRouter& router() { return m_router; }
    const Identity& self() const { return m_self; }
    Instant now() const { return m_now; }

    void connect(const Identity& peer, bool outbound = true, std::string ip = "") {
        m_router.on_peer_connected(peer.peer_id(), outbound, std::move(ip), m_now);
        collect();
    }
    void send(const Identity& from, const Rpc& rpc) { send_raw(from, rpc.encode()); }
    void send_raw(const Identity& from, ByteView body) {
        m_router.on_rpc(from.peer_id(), body, m_now);
        collect();
    }
    // A connected peer subscribed to TOPIC.
    void add_subscriber(const Identity& peer, bool outbound = true) {
        connect(peer, outbound);
        send(peer, subscribe_rpc(TOPIC));
    }
    void subscribe(const Topic& topic = TOPIC) {
        m_router.subscribe(topic, m_now);
        collect();
    }
    void unsubscribe(const Topic& topic = TOPIC) {
        m_router.unsubscribe(topic, m_now);
        collect();
    }
    Result<MessageId> publish(Bytes data, const Topic& topic = TOPIC) {
        auto id = m_router.publish(topic, std::move(data), m_now);
        collect();
        return id;
    }
    // Runs every heartbeat due within `d`, then sets the clock to now + d.
    void advance(Duration d) {
        const Instant end = m_now + d;
        while (m_router.next_heartbeat() <= end) {
            m_now = std::max(m_now, m_router.next_heartbeat());
            m_router.on_heartbeat(m_now);
            collect();
        }
        m_now = end;
    }
    void validate(const MessageId& id, ValidationResult result) {
        m_router.report_validation(id, result, m_now);
        collect();
    }

    template <class T>
    std::vector<T> actions() const {
        std::vector<T> out;
        for (const auto& a : m_actions) {
            if (const T* t = std::get_if<T>(&a)) {
                out.push_back(*t);
            }
        }
        return out;
    }
    // Every RPC sent to `peer` since the last clear(), decoded.
    std::vector<Rpc> sent_to(const Identity& peer) const {
        std::vector<Rpc> out;
        for (const SendRpc& s : actions<SendRpc>()) {
            if (s.peer == peer.peer_id()) {
                auto rpc = Rpc::decode(s.rpc, 1 << 24);
                EXPECT_TRUE(rpc);
                out.push_back(*rpc);
            }
        }
        return out;
    }
    std::vector<ControlPrune> prunes_to(const Identity& peer) const {
        std::vector<ControlPrune> out;
        for (const Rpc& rpc : sent_to(peer)) {
            if (rpc.control) {
                out.insert(out.end(), rpc.control->prune.begin(), rpc.control->prune.end());
            }
        }
        return out;
    }
    std::vector<Message> messages_to(const Identity& peer) const {
        std::vector<Message> out;
        for (const Rpc& rpc : sent_to(peer)) {
            out.insert(out.end(), rpc.messages.begin(), rpc.messages.end());
        }
        return out;
    }
    void clear() { m_actions.clear(); }
    double peer_score_penalty(const Identity& peer) const {
        return m_router.peer_score().snapshot(peer.peer_id()).value().behaviour_penalty;
    }
    bool in_mesh(const Identity& peer) const {
        const auto mesh = m_router.mesh_peers(TOPIC);
        return std::find(mesh.begin(), mesh.end(), peer.peer_id()) != mesh.end();
    }

private:
    void collect() {
        for (auto& a : m_router.take_actions()) {
            m_actions.push_back(std::move(a));
        }
        m_router.check_invariants();
    }

    Identity m_self;
    GossipRouter m_router;
    Instant m_now = Instant{} + 1000s;
    std::vector<GossipAction> m_actions;
};

// ---------------------------------------------------------------------------------------------
// Several routers wired through an in-memory bus with zero latency and FIFO delivery.

class Network {
public:
    using Validator = std::function<ValidationResult(std::size_t node, const ValidateMessage&)>;
    // Returns true to drop an RPC on the link from → to.
    using LinkFilter = std::function<bool(std::size_t from, std::size_t to, const Bytes& rpc)>;

    Network(std::size_t size, const GossipConfig& config, std::uint64_t seed) {
        for (std::size_t i = 0; i < size; ++i) {
            m_identities.push_back(identity(static_cast<std::uint32_t>(i + 1)));
            m_index[m_identities.back().peer_id()] = i;
        }
        for (std::size_t i = 0; i < size; ++i) {
            m_routers.emplace_back(config, m_identities[i], Rng(seed * 1000 + i));
        }
        m_delivered.resize(size);
    }

    std::size_t size() const { return m_routers.size(); }
    GossipRouter& router(std::size_t i) { return m_routers[i]; }
    const PeerId& id(std::size_t i) const { return m_identities[i].peer_id(); }
    Instant now() const { return m_now; }
    void set_validator(Validator v) { m_validator = std::move(v); }
    void set_filter(LinkFilter f) { m_filter = std::move(f); }
    // Messages delivered to node i's application, by id.
    const std::map<MessageId, int>& delivered(std::size_t i) const { return m_delivered[i]; }

    void connect(std::size_t dialer, std::size_t listener) {
        m_routers[dialer].on_peer_connected(id(listener), true, ip(listener), m_now);
        drain(dialer);
        m_routers[listener].on_peer_connected(id(dialer), false, ip(dialer), m_now);
        drain(listener);
        pump();
    }
    void disconnect(std::size_t a, std::size_t b) {
        m_routers[a].on_peer_disconnected(id(b), m_now);
        m_routers[b].on_peer_disconnected(id(a), m_now);
        pump();
    }
    void subscribe_all(const Topic& topic) {
        for (std::size_t i = 0; i < size(); ++i) {
            m_routers[i].subscribe(topic, m_now);
            drain(i);
        }
        pump();
    }
    MessageId publish(std::size_t node, const Topic& topic, std::string_view data) {
        auto id = m_routers[node].publish(topic, to_bytes(data), m_now);
        EXPECT_TRUE(id);
        drain(node);
        pump();
        return *id;
    }
    void run_for(Duration d) {
        const Instant end = m_now + d;
        for (;;) {
            Instant next = end;
            for (auto& r : m_routers) {
                next = std::min(next, r.next_heartbeat());
            }
            if (next >= end) {
                break;
            }
            m_now = std::max(m_now, next);
            for (std::size_t i = 0; i < size(); ++i) {
                if (m_routers[i].next_heartbeat() <= m_now) {
                    m_routers[i].on_heartbeat(m_now);
                    drain(i);
                }
            }
            pump();
            check_invariants();
        }
        m_now = end;
    }
    void check_invariants() const {
        for (const auto& r : m_routers) {
            r.check_invariants();
        }
    }

private:
    static std::string ip(std::size_t i) {
        return "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    }

    void drain(std::size_t node) {
        for (auto& action : m_routers[node].take_actions()) {
            if (auto* send = std::get_if<SendRpc>(&action)) {
                auto to = m_index.find(send->peer);
                ASSERT_NE(to, m_index.end());
                if (!m_filter || !m_filter(node, to->second, send->rpc)) {
                    m_queue.push_back({node, to->second, std::move(send->rpc)});
                }
            } else if (auto* validate = std::get_if<ValidateMessage>(&action)) {
                const auto result =
                    m_validator ? m_validator(node, *validate) : ValidationResult::accept;
                m_routers[node].report_validation(validate->id, result, m_now);
                drain(node);
            } else if (auto* deliver = std::get_if<DeliverMessage>(&action)) {
                ++m_delivered[node][deliver->id];
            }
        }
    }
    // Delivers everything in flight. Invariants (O(caches) per router) are checked after
    // every heartbeat round and by the tests, not per RPC.
    void pump() {
        while (!m_queue.empty()) {
            auto [from, to, rpc] = std::move(m_queue.front());
            m_queue.pop_front();
            m_routers[to].on_rpc(id(from), rpc, m_now);
            drain(to);
        }
    }

    struct InFlight {
        std::size_t from;
        std::size_t to;
        Bytes rpc;
    };
    std::vector<Identity> m_identities;
    std::map<PeerId, std::size_t> m_index;
    std::vector<GossipRouter> m_routers;
    std::vector<std::map<MessageId, int>> m_delivered;
    std::deque<InFlight> m_queue;
    Validator m_validator;
    LinkFilter m_filter;
    Instant m_now = Instant{} + 1000s;
};

// ---------------------------------------------------------------------------------------------

TEST(GossipRouter, FirstRpcToANewPeerCarriesOurSubscriptions) {
    RouterHarness h;
    h.subscribe("b");
    h.subscribe("a");
    const Identity p = identity(1);
    h.connect(p);
    const auto rpcs = h.sent_to(p);
    ASSERT_EQ(rpcs.size(), 1u);
    EXPECT_EQ(rpcs[0].subscriptions, (std::vector<SubOpts>{{true, "a"}, {true, "b"}}));
}

TEST(GossipRouter, MeshFormsAtDWithTwentyPeersAndStaysWithinBounds) {
    GossipConfig config = test_config();
    Network net(20, config, 1);
    for (std::size_t i = 0; i < net.size(); ++i) {
        for (std::size_t j = i + 1; j < net.size(); ++j) {
            net.connect(i, j);
        }
    }
    net.subscribe_all(TOPIC);  // nobody knows a subscriber yet: empty meshes
    for (std::size_t i = 0; i < net.size(); ++i) {
        EXPECT_TRUE(net.router(i).mesh_peers(TOPIC).empty());
    }
    // The first heartbeat runs everywhere at once: each router grafts D peers, and
    // accepts the GRAFTs of those that picked it (up to D_hi, beyond only outbound ones).
    net.run_for(1500ms);
    std::size_t total = 0;
    for (std::size_t i = 0; i < net.size(); ++i) {
        // D random picks, plus up to D_out outbound ones when the picks had too few.
        EXPECT_GE(net.router(i).stats().graft_sent, config.d) << "node " << i;
        EXPECT_LE(net.router(i).stats().graft_sent, config.d + config.d_out) << "node " << i;
        EXPECT_GE(net.router(i).mesh_peers(TOPIC).size(), config.d) << "node " << i;
    }
    for (int second = 0; second < 30; ++second) {
        net.run_for(1s);
        if (second < 3) {
            continue;  // oversubscribed meshes prune to D, undersubscribed ones re-graft
        }
        for (std::size_t i = 0; i < net.size(); ++i) {
            const auto size = net.router(i).mesh_peers(TOPIC).size();
            EXPECT_GE(size, config.d_lo) << "node " << i << " at " << second << " s";
            EXPECT_LE(size, config.d_hi) << "node " << i << " at " << second << " s";
        }
    }
    for (std::size_t i = 0; i < net.size(); ++i) {
        const auto mesh = net.router(i).mesh_peers(TOPIC);
        total += mesh.size();
        // GRAFT and PRUNE keep the mesh symmetric.
        for (const PeerId& p : mesh) {
            std::size_t j = 0;
            while (net.id(j) != p) {
                ++j;
            }
            const auto other = net.router(j).mesh_peers(TOPIC);
            EXPECT_NE(std::find(other.begin(), other.end(), net.id(i)), other.end());
        }
    }
    const double mean = static_cast<double>(total) / static_cast<double>(net.size());
    EXPECT_GE(mean, static_cast<double>(config.d));
    EXPECT_LE(mean, static_cast<double>(config.d_hi));
}

// Ten routers on a ring with chords: every node reaches every other only through the mesh.
Network ring_network(const GossipConfig& config, std::uint64_t seed) {
    Network net(10, config, seed);
    for (std::size_t i = 0; i < net.size(); ++i) {
        net.connect(i, (i + 1) % net.size());
        net.connect(i, (i + 3) % net.size());
    }
    net.subscribe_all(TOPIC);
    net.run_for(5s);
    return net;
}

TEST(GossipRouter, PublishedMessageReachesAllTenRoutersOnce) {
    for (bool flood : {true, false}) {
        GossipConfig config = test_config();
        config.flood_publish = flood;
        Network net = ring_network(config, 2);
        const MessageId id = net.publish(0, TOPIC, "block 1");
        net.run_for(2s);
        std::uint64_t duplicates = 0;
        for (std::size_t i = 0; i < net.size(); ++i) {
            ASSERT_EQ(net.delivered(i).count(id), 1u) << "node " << i << " flood " << flood;
            EXPECT_EQ(net.delivered(i).at(id), 1) << "node " << i;
            duplicates += net.router(i).stats().duplicates;
        }
        EXPECT_GT(duplicates, 0u);  // the ring has cycles: copies arrived and were suppressed
        EXPECT_EQ(net.router(0).stats().published, 1u);
        net.check_invariants();
    }
}

TEST(GossipRouter, DuplicatesAreNotValidatedOrDeliveredAgain) {
    RouterHarness h;
    h.subscribe();
    const Identity a = identity(1), b = identity(2), author = identity(3);
    h.add_subscriber(a);
    h.add_subscriber(b);
    const Message m = signed_message(author, TOPIC, "x", 1);
    h.send(a, message_rpc(m));
    h.send(b, message_rpc(m));
    h.send(a, message_rpc(m));
    EXPECT_EQ(h.actions<ValidateMessage>().size(), 1u);
    EXPECT_EQ(h.router().stats().duplicates, 2u);
    h.validate(h.actions<ValidateMessage>()[0].id, ValidationResult::accept);
    h.send(b, message_rpc(m));
    EXPECT_EQ(h.actions<DeliverMessage>().size(), 1u);
    EXPECT_EQ(h.router().stats().duplicates, 3u);
}

TEST(GossipRouter, InvalidSignatureIsRejectedWithP4AndDoesNotPoisonTheSeenCache) {
    RouterHarness h;
    h.subscribe();
    const Identity forger = identity(1), author = identity(2);
    h.add_subscriber(forger);
    Message forged = signed_message(author, TOPIC, "real", 5);
    forged.data = to_bytes("fake");  // same id (key ‖ seqno), signature no longer matches
    h.send(forger, message_rpc(forged));
    EXPECT_TRUE(h.actions<ValidateMessage>().empty());
    EXPECT_EQ(h.router().stats().invalid, 1u);
    EXPECT_DOUBLE_EQ(h.router().score(forger.peer_id()), -10.0);

    // Missing seqno, short seqno, missing signature, key of someone else: all rejected.
    Message no_seqno = signed_message(author, TOPIC, "a", 6);
    no_seqno.seqno.reset();
    Message short_seqno = signed_message(author, TOPIC, "a", 6);
    short_seqno.seqno = Bytes{1};
    Message unsigned_message = signed_message(author, TOPIC, "a", 6);
    unsigned_message.signature.reset();
    Message wrong_key = signed_message(author, TOPIC, "a", 6);
    wrong_key.key = forger.public_key().encode();
    Rpc batch;  // one RPC: the forger is graylisted after it
    batch.messages = {no_seqno, short_seqno, unsigned_message, wrong_key};
    h.send(forger, batch);
    EXPECT_EQ(h.router().stats().invalid, 5u);
    EXPECT_TRUE(h.actions<ValidateMessage>().empty());

    // The real message, same id, still gets through.
    const Identity honest = identity(3);
    h.add_subscriber(honest);
    h.send(honest, message_rpc(signed_message(author, TOPIC, "real", 5)));
    ASSERT_EQ(h.actions<ValidateMessage>().size(), 1u);
    EXPECT_EQ(h.actions<ValidateMessage>()[0].data, to_bytes("real"));
    EXPECT_EQ(h.actions<ValidateMessage>()[0].author, author.peer_id());
    EXPECT_EQ(h.actions<ValidateMessage>()[0].propagation_source, honest.peer_id());
    EXPECT_DOUBLE_EQ(h.router().score(honest.peer_id()), 0.0);
}

TEST(GossipRouter, KeyFieldIsOptionalForInlinedEd25519Keys) {
    RouterHarness h;
    h.subscribe();
    const Identity peer = identity(1), author = identity(2);
    h.add_subscriber(peer);
    Message m = signed_message(author, TOPIC, "go style", 1);
    m.key.reset();  // go omits it when the peer id inlines the key
    h.send(peer, message_rpc(m));
    EXPECT_EQ(h.actions<ValidateMessage>().size(), 1u);
    EXPECT_EQ(h.router().stats().invalid, 0u);
}

TEST(GossipRouter, ReportValidationAcceptRejectIgnore) {
    RouterHarness h;
    h.subscribe();
    const Identity source = identity(1), other = identity(2), author = identity(3);
    h.add_subscriber(source);
    h.add_subscriber(other);
    h.advance(1s);  // the heartbeat grafts them
    ASSERT_TRUE(h.in_mesh(source) && h.in_mesh(other));
    h.clear();

    h.send(source, message_rpc(signed_message(author, TOPIC, "bad", 1)));
    h.send(source, message_rpc(signed_message(author, TOPIC, "meh", 2)));
    h.send(source, message_rpc(signed_message(author, TOPIC, "good", 3)));
    const auto validations = h.actions<ValidateMessage>();
    ASSERT_EQ(validations.size(), 3u);
    EXPECT_EQ(h.router().pending_validation_count(), 3u);
    h.clear();

    h.validate(validations[0].id, ValidationResult::reject);
    EXPECT_TRUE(h.actions<DeliverMessage>().empty());
    EXPECT_TRUE(h.messages_to(other).empty());
    EXPECT_EQ(h.router().stats().invalid, 1u);
    EXPECT_DOUBLE_EQ(h.router().score(source.peer_id()), -10.0);

    h.validate(validations[1].id, ValidationResult::ignore);
    EXPECT_TRUE(h.actions<DeliverMessage>().empty());
    EXPECT_TRUE(h.messages_to(other).empty());
    EXPECT_EQ(h.router().stats().ignored, 1u);
    EXPECT_DOUBLE_EQ(h.router().score(source.peer_id()), -10.0);

    h.validate(validations[2].id, ValidationResult::accept);
    const auto delivered = h.actions<DeliverMessage>();
    ASSERT_EQ(delivered.size(), 1u);
    EXPECT_EQ(delivered[0].data, to_bytes("good"));
    EXPECT_EQ(delivered[0].author, author.peer_id());
    ASSERT_EQ(h.messages_to(other).size(), 1u);  // forwarded to the mesh...
    EXPECT_TRUE(h.messages_to(source).empty());  // ...but never back to the source
    EXPECT_EQ(h.router().pending_validation_count(), 0u);

    // A late or unknown report changes nothing.
    h.clear();
    h.validate(validations[2].id, ValidationResult::reject);
    EXPECT_TRUE(h.actions<SendRpc>().empty());
    EXPECT_EQ(h.router().stats().invalid, 1u);
}

TEST(GossipRouter, NeverForwardsToTheAuthor) {
    RouterHarness h;
    h.subscribe();
    const Identity source = identity(1), author = identity(2);
    h.add_subscriber(source);
    h.add_subscriber(author);
    h.advance(1s);
    ASSERT_TRUE(h.in_mesh(source) && h.in_mesh(author));
    h.clear();
    h.send(source, message_rpc(signed_message(author, TOPIC, "x", 1)));
    h.validate(h.actions<ValidateMessage>()[0].id, ValidationResult::accept);
    EXPECT_EQ(h.actions<DeliverMessage>().size(), 1u);
    EXPECT_TRUE(h.messages_to(author).empty());
    EXPECT_TRUE(h.messages_to(source).empty());
}

TEST(GossipRouter, PendingValidationIsBounded) {
    GossipConfig config = test_config();
    config.max_pending_validation = 2;
    RouterHarness h(config);
    h.subscribe();
    const Identity peer = identity(1), author = identity(2);
    h.add_subscriber(peer);
    for (std::uint64_t seqno = 1; seqno <= 3; ++seqno) {
        h.send(peer, message_rpc(signed_message(author, TOPIC, "m", seqno)));
    }
    EXPECT_EQ(h.actions<ValidateMessage>().size(), 2u);
    EXPECT_EQ(h.router().stats().ignored, 1u);
    // An unanswered validation is dropped as ignored after seen_ttl.
    h.advance(config.seen_ttl + 2s);
    EXPECT_EQ(h.router().pending_validation_count(), 0u);
    EXPECT_EQ(h.router().stats().ignored, 3u);
}

TEST(GossipRouter, GraftDuringBackoffGetsPruneAndBehaviourPenalty) {
    GossipConfig config = test_config();
    config.score.behaviour_penalty_decay = 0.999;
    RouterHarness h(config);
    h.subscribe();
    const Identity peer = identity(1);
    h.add_subscriber(peer);
    h.advance(1s);
    ASSERT_TRUE(h.in_mesh(peer));

    ControlMessage prune;
    prune.prune.push_back({TOPIC, {}, 60});
    h.send(peer, control_rpc(prune));
    EXPECT_FALSE(h.in_mesh(peer));
    h.clear();

    ControlMessage graft;
    graft.graft.push_back({TOPIC});
    h.send(peer, control_rpc(graft));  // right after the PRUNE: flood, penalty 2
    EXPECT_FALSE(h.in_mesh(peer));
    auto prunes = h.prunes_to(peer);
    ASSERT_EQ(prunes.size(), 1u);
    EXPECT_EQ(prunes[0].topic, TOPIC);
    EXPECT_EQ(prunes[0].backoff_seconds, 60u);
    EXPECT_TRUE(prunes[0].peers.empty());
    EXPECT_DOUBLE_EQ(h.peer_score_penalty(peer), 2.0);
    EXPECT_LT(h.router().score(peer.peer_id()), -39.0);  // -10 · 2², barely decayed

    h.advance(20s);  // still inside the renewed backoff, past the flood threshold: +1
    h.clear();
    h.send(peer, control_rpc(graft));
    EXPECT_EQ(h.prunes_to(peer).size(), 1u);
    EXPECT_NEAR(h.peer_score_penalty(peer), 2.0 * std::pow(0.999, 20) + 1, 1e-9);
    EXPECT_FALSE(h.in_mesh(peer));
}

TEST(GossipRouter, PruneWithPxProducesConnectPeerOnlyFromTrustedPruners) {
    RouterHarness h;
    h.subscribe();
    const Identity trusted = identity(1), stranger = identity(2);
    h.add_subscriber(trusted);
    h.add_subscriber(stranger);
    h.router().set_application_score(trusted.peer_id(), 100);  // above accept_px (10)
    const Identity x = identity(10), y = identity(11);
    ControlPrune prune{TOPIC, {}, 60};
    prune.peers = {{x.peer_id().bytes(), std::nullopt},
                   {to_bytes("not a peer id"), std::nullopt},
                   {h.self().peer_id().bytes(), std::nullopt},   // ourselves
                   {stranger.peer_id().bytes(), std::nullopt},  // already connected
                   {y.peer_id().bytes(), to_bytes("record")},
                   {x.peer_id().bytes(), std::nullopt}};        // twice
    ControlMessage c;
    c.prune.push_back(prune);
    h.clear();
    h.send(stranger, control_rpc(c));
    EXPECT_TRUE(h.actions<ConnectPeer>().empty());  // score 0 < accept_px
    h.send(trusted, control_rpc(c));
    const auto connects = h.actions<ConnectPeer>();
    ASSERT_EQ(connects.size(), 2u);
    EXPECT_EQ(connects[0].peer, x.peer_id());
    EXPECT_EQ(connects[1].peer, y.peer_id());
    EXPECT_FALSE(h.in_mesh(trusted));
}

TEST(GossipRouter, InboundGraftIntoAFullMeshGetsPruneWithPx) {
    GossipConfig config = test_config();
    config.d = 3;
    config.d_lo = 2;
    config.d_hi = 3;
    config.d_score = 1;
    config.d_out = 1;
    config.d_lazy = 2;
    RouterHarness h(config);
    h.subscribe();  // nobody to graft yet
    std::vector<Identity> peers;
    for (std::uint32_t n = 1; n <= 5; ++n) {
        peers.push_back(identity(n));
        h.add_subscriber(peers.back(), false);
    }
    ControlMessage graft;
    graft.graft.push_back({TOPIC});
    h.clear();
    for (const Identity& p : peers) {
        h.send(p, control_rpc(graft));
    }
    EXPECT_EQ(h.router().mesh_peers(TOPIC).size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_TRUE(h.prunes_to(peers[i]).empty());
    }
    for (std::size_t i = 3; i < 5; ++i) {
        const auto prunes = h.prunes_to(peers[i]);
        ASSERT_EQ(prunes.size(), 1u);
        EXPECT_EQ(prunes[0].backoff_seconds, 60u);
        EXPECT_EQ(prunes[0].peers.size(), 4u);  // the other subscribers, not the pruned one
        for (const PeerInfo& info : prunes[0].peers) {
            EXPECT_NE(info.peer_id, peers[i].peer_id().bytes());
        }
    }
    // An outbound peer is accepted above D_hi (v1.1 outbound quota)...
    const Identity outbound = identity(9);
    h.add_subscriber(outbound, true);
    h.send(outbound, control_rpc(graft));
    EXPECT_EQ(h.router().mesh_peers(TOPIC).size(), 4u);
    // ...and the heartbeat prunes the mesh back to D, keeping D_out outbound peers.
    h.clear();
    h.advance(1s);
    EXPECT_EQ(h.router().mesh_peers(TOPIC).size(), 3u);
    EXPECT_TRUE(h.in_mesh(outbound));
}

TEST(GossipRouter, HeartbeatKeepsDOutOutboundPeersWhenPruning) {
    GossipConfig config = test_config();
    config.d = 4;
    config.d_lo = 3;
    config.d_hi = 5;
    config.d_score = 2;
    config.d_out = 2;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        RouterHarness h(config, seed);
        h.subscribe();
        std::vector<Identity> outbound;
        ControlMessage graft;
        graft.graft.push_back({TOPIC});
        for (std::uint32_t n = 1; n <= 5; ++n) {  // five inbound peers fill the mesh to D_hi
            h.add_subscriber(identity(n), false);
            h.send(identity(n), control_rpc(graft));
        }
        for (std::uint32_t n = 6; n <= 7; ++n) {  // two outbound ones GRAFT above it
            outbound.push_back(identity(n));
            h.add_subscriber(outbound.back(), true);
            h.send(outbound.back(), control_rpc(graft));
        }
        ASSERT_EQ(h.router().mesh_peers(TOPIC).size(), 7u);
        h.advance(1s);
        EXPECT_EQ(h.router().mesh_peers(TOPIC).size(), 4u) << "seed " << seed;
        EXPECT_TRUE(h.in_mesh(outbound[0]) && h.in_mesh(outbound[1])) << "seed " << seed;
    }
}

// Node `lossy` never receives a message from its mesh peers: forwards on mesh links are lost,
// so it can only learn messages from gossip (IHAVE from non-mesh peers, then IWANT).
TEST(GossipRouter, IhaveIwantRepairsMessagesLostOnMeshLinks) {
    GossipConfig config = test_config();
    config.flood_publish = false;
    config.d = 2;
    config.d_lo = 1;
    config.d_hi = 3;
    config.d_score = 1;
    config.d_out = 0;
    config.d_lazy = 3;
    Network net(8, config, 3);
    for (std::size_t i = 0; i < net.size(); ++i) {
        for (std::size_t j = i + 1; j < net.size(); ++j) {
            net.connect(i, j);
        }
    }
    net.subscribe_all(TOPIC);
    net.run_for(3s);
    const std::size_t lossy = 7;
    net.set_filter([&](std::size_t from, std::size_t to, const Bytes& rpc) {
        if (to != lossy) {
            return false;
        }
        const auto mesh = net.router(lossy).mesh_peers(TOPIC);
        const bool mesh_link = std::find(mesh.begin(), mesh.end(), net.id(from)) != mesh.end();
        auto decoded = Rpc::decode(rpc, 1 << 24);
        return mesh_link && decoded && !decoded->messages.empty();
    });
    std::vector<MessageId> ids;
    for (int n = 0; n < 5; ++n) {
        ids.push_back(net.publish(static_cast<std::size_t>(n % 3), TOPIC, "m" + std::to_string(n)));
    }
    net.run_for(3100ms);  // mcache_gossip heartbeats of IHAVE → IWANT → message
    for (const MessageId& id : ids) {
        EXPECT_EQ(net.delivered(lossy).count(id), 1u);
        for (std::size_t i = 0; i < net.size(); ++i) {
            EXPECT_EQ(net.delivered(i).count(id), 1u) << "node " << i;
        }
    }
    EXPECT_GT(net.router(lossy).stats().iwant_sent, 0u);
    EXPECT_EQ(net.router(lossy).stats().broken_promises, 0u);
    net.check_invariants();
}

TEST(GossipRouter, IhaveIsIgnoredForTopicsWeAreNotInAndBeyondTheLimits) {
    GossipConfig config = test_config();
    config.max_ihave_messages = 2;
    config.max_ihave_length = 3;
    RouterHarness h(config);
    h.subscribe();
    const Identity peer = identity(1);
    h.add_subscriber(peer);
    auto ihave = [](const Topic& topic, std::vector<std::string> ids) {
        ControlMessage c;
        ControlIHave entry{topic, {}};
        for (const auto& id : ids) {
            entry.message_ids.push_back(to_bytes(id));
        }
        c.ihave.push_back(entry);
        return control_rpc(c);
    };
    auto asked = [&] {
        std::size_t n = 0;
        for (const Rpc& rpc : h.sent_to(peer)) {
            if (rpc.control) {
                for (const auto& iwant : rpc.control->iwant) {
                    n += iwant.message_ids.size();
                }
            }
        }
        return n;
    };
    h.clear();
    h.send(peer, ihave("other topic", {"a"}));
    EXPECT_EQ(asked(), 0u);
    h.send(peer, ihave(TOPIC, {"a", "b", "c", "d", "e"}));  // only 3 ids per heartbeat
    EXPECT_EQ(asked(), 3u);
    h.send(peer, ihave(TOPIC, {"f"}));  // third IHAVE this heartbeat: over the message limit
    EXPECT_EQ(asked(), 3u);
    h.advance(1s);
    h.clear();
    h.send(peer, ihave(TOPIC, {"g"}));
    EXPECT_EQ(asked(), 1u);
}

TEST(GossipRouter, BrokenIwantPromiseIsPenalised) {
    RouterHarness h;
    h.subscribe();
    const Identity liar = identity(1), honest = identity(2), author = identity(3);
    h.add_subscriber(liar);
    h.add_subscriber(honest);
    const Message real = signed_message(author, TOPIC, "real", 1);
    const MessageId real_id = js_message_id(real);
    ControlMessage c;
    c.ihave.push_back({TOPIC, {to_bytes("bogus id")}});
    h.clear();
    h.send(liar, control_rpc(c));
    ControlMessage c2;
    c2.ihave.push_back({TOPIC, {real_id}});
    h.send(honest, control_rpc(c2));
    for (const Identity* p : {&liar, &honest}) {
        const auto rpcs = h.sent_to(*p);
        ASSERT_EQ(rpcs.size(), 1u);
        ASSERT_TRUE(rpcs[0].control);
        ASSERT_EQ(rpcs[0].control->iwant.size(), 1u);
    }
    EXPECT_EQ(h.router().promise_count(), 2u);
    h.send(honest, message_rpc(real));  // keeps its promise
    EXPECT_EQ(h.router().promise_count(), 1u);
    h.advance(2s);
    EXPECT_EQ(h.router().stats().broken_promises, 0u);
    h.advance(2s);  // past iwant_followup_time (3 s)
    EXPECT_EQ(h.router().stats().broken_promises, 1u);
    EXPECT_GT(h.peer_score_penalty(liar), 0.0);
    EXPECT_LT(h.router().score(liar.peer_id()), 0.0);
    EXPECT_EQ(h.router().peer_score().snapshot(honest.peer_id())->behaviour_penalty, 0.0);
    EXPECT_EQ(h.router().promise_count(), 0u);
}

TEST(GossipRouter, IwantIsAnsweredFromTheCacheALimitedNumberOfTimes) {
    RouterHarness h;
    const Identity peer = identity(1);
    h.add_subscriber(peer);
    auto id = h.publish(to_bytes("cached"));
    ASSERT_TRUE(id);
    ControlMessage c;
    c.iwant.push_back({{*id, to_bytes("unknown")}});
    h.clear();
    for (int i = 0; i < 5; ++i) {
        h.send(peer, control_rpc(c));
    }
    EXPECT_EQ(h.messages_to(peer).size(), 3u);  // gossip_retransmission
    // After mcache_len heartbeats the message has left the cache.
    const Identity late = identity(2);
    h.add_subscriber(late);
    h.advance(6s);
    h.clear();
    h.send(late, control_rpc(c));
    EXPECT_TRUE(h.messages_to(late).empty());
}

TEST(GossipRouter, FanoutServesPublishingAndExpires) {
    GossipConfig config = test_config();
    config.flood_publish = false;
    RouterHarness h(config);
    for (std::uint32_t n = 1; n <= 10; ++n) {
        h.add_subscriber(identity(n));
    }
    h.clear();
    ASSERT_TRUE(h.publish(to_bytes("x")));
    const auto fanout = h.router().fanout_peers(TOPIC);
    EXPECT_EQ(fanout.size(), config.d);
    std::size_t receivers = 0;
    for (std::uint32_t n = 1; n <= 10; ++n) {
        receivers += h.messages_to(identity(n)).size();
    }
    EXPECT_EQ(receivers, config.d);
    EXPECT_TRUE(h.actions<DeliverMessage>().empty());  // not subscribed
    h.advance(30s);
    EXPECT_EQ(h.router().fanout_peers(TOPIC), fanout);  // stable while in use
    h.advance(31s);
    EXPECT_TRUE(h.router().fanout_peers(TOPIC).empty());  // 60 s after the last publish
}

TEST(GossipRouter, SubscribingTakesFanoutPeersIntoTheMesh) {
    GossipConfig config = test_config();
    config.flood_publish = false;
    RouterHarness h(config);
    for (std::uint32_t n = 1; n <= 10; ++n) {
        h.add_subscriber(identity(n));
    }
    ASSERT_TRUE(h.publish(to_bytes("x")));
    const auto fanout = h.router().fanout_peers(TOPIC);
    h.subscribe();
    EXPECT_EQ(h.router().mesh_peers(TOPIC), fanout);
    EXPECT_TRUE(h.router().fanout_peers(TOPIC).empty());
}

TEST(GossipRouter, UnsubscribeSendsPruneWithTheUnsubscribeBackoff) {
    RouterHarness h;
    h.subscribe();
    const Identity a = identity(1), b = identity(2), c = identity(3);
    h.add_subscriber(a);
    h.add_subscriber(b);
    h.connect(c);  // connected, not a subscriber
    h.advance(1s);
    ASSERT_EQ(h.router().mesh_peers(TOPIC).size(), 2u);
    h.clear();
    h.unsubscribe();
    EXPECT_FALSE(h.router().is_subscribed(TOPIC));
    EXPECT_TRUE(h.router().mesh_peers(TOPIC).empty());
    for (const Identity* p : {&a, &b}) {
        const auto rpcs = h.sent_to(*p);
        ASSERT_EQ(rpcs.size(), 1u);  // subscription change and PRUNE in one RPC
        EXPECT_EQ(rpcs[0].subscriptions, (std::vector<SubOpts>{{false, TOPIC}}));
        const auto prunes = h.prunes_to(*p);
        ASSERT_EQ(prunes.size(), 1u);
        EXPECT_EQ(prunes[0].topic, TOPIC);
        EXPECT_EQ(prunes[0].backoff_seconds, 10u);
        EXPECT_TRUE(prunes[0].peers.empty());
    }
    EXPECT_TRUE(h.prunes_to(c).empty());
    EXPECT_EQ(h.sent_to(c).size(), 1u);  // the unsubscription only
    EXPECT_EQ(h.router().stats().prune_sent, 2u);
    // Joining again within the backoff grafts nobody; after it, the mesh re-forms.
    h.subscribe();
    EXPECT_TRUE(h.router().mesh_peers(TOPIC).empty());
    h.advance(13s);
    EXPECT_EQ(h.router().mesh_peers(TOPIC).size(), 2u);
}

TEST(GossipRouter, GraylistedPeersAreIgnored) {
    RouterHarness h;
    h.subscribe();
    const Identity bad = identity(1), author = identity(2);
    h.add_subscriber(bad);
    h.advance(1s);
    ASSERT_TRUE(h.in_mesh(bad));
    Message forged = signed_message(author, TOPIC, "x", 1);
    forged.signature->at(0) ^= 1;
    for (int i = 0; i < 3; ++i) {
        h.send(bad, message_rpc(forged));  // P₄ = 3² · -10 = -90 < graylist (-80)
    }
    ASSERT_LT(h.router().score(bad.peer_id()), -80.0);
    const auto dropped = h.router().stats().dropped_rpcs;
    h.clear();
    h.send(bad, message_rpc(signed_message(author, TOPIC, "valid", 2)));
    h.send(bad, subscribe_rpc("another topic"));
    EXPECT_TRUE(h.actions<ValidateMessage>().empty());
    EXPECT_EQ(h.router().stats().dropped_rpcs, dropped + 2);
    EXPECT_TRUE(h.router().topic_peers("another topic").empty());
    // The heartbeat drops it from the mesh: negative score.
    h.advance(1s);
    EXPECT_FALSE(h.in_mesh(bad));
}

TEST(GossipRouter, ScoreDecaysBackToZero) {
    RouterHarness h;  // P₄ decay 0.5 per second, decay_to_zero 0.01
    h.subscribe();
    const Identity bad = identity(1), author = identity(2);
    h.add_subscriber(bad);
    Message forged = signed_message(author, TOPIC, "x", 1);
    forged.data = to_bytes("y");
    h.send(bad, message_rpc(forged));
    EXPECT_DOUBLE_EQ(h.router().score(bad.peer_id()), -10.0);
    h.advance(2s);
    EXPECT_DOUBLE_EQ(h.router().score(bad.peer_id()), -2.5);
    h.advance(10s);
    EXPECT_EQ(h.router().score(bad.peer_id()), 0.0);
}

TEST(GossipRouter, MessagesOverTheSizeLimitAreDropped) {
    GossipConfig config = test_config();
    config.max_message_bytes = 100;
    config.max_rpc_bytes = 100 + 4 * KIB;
    RouterHarness h(config);
    h.subscribe();
    const Identity peer = identity(1), author = identity(2);
    h.add_subscriber(peer);
    auto too_big = h.publish(Bytes(101, 1));
    ASSERT_FALSE(too_big);
    EXPECT_EQ(too_big.error(), PubsubError::message_too_large);
    EXPECT_TRUE(h.publish(Bytes(100, 1)));

    h.send(peer, message_rpc(signed_message(author, TOPIC, std::string(101, 'x'), 1)));
    EXPECT_TRUE(h.actions<ValidateMessage>().empty());
    EXPECT_EQ(h.router().stats().oversized, 1u);
    h.send(peer, message_rpc(signed_message(author, TOPIC, std::string(100, 'x'), 2)));
    EXPECT_EQ(h.actions<ValidateMessage>().size(), 1u);

    // A whole RPC over max_rpc_bytes: dropped and the driver told.
    const Bytes huge(config.max_rpc_bytes + 1, 0);
    h.send_raw(peer, huge);
    const auto penalties = h.actions<PenalizePeer>();
    ASSERT_EQ(penalties.size(), 1u);
    EXPECT_EQ(penalties[0].peer, peer.peer_id());
    // So is garbage.
    h.send_raw(peer, Bytes{0xff, 0xff});
    EXPECT_EQ(h.actions<PenalizePeer>().size(), 2u);
    EXPECT_EQ(h.router().stats().dropped_rpcs, 2u);
}

TEST(GossipRouter, SeqnoIsStrictlyIncreasing) {
    RouterHarness h;
    const Identity peer = identity(1);
    h.add_subscriber(peer);
    h.clear();
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(h.publish(to_bytes("same data")));
    }
    const auto messages = h.messages_to(peer);
    ASSERT_EQ(messages.size(), 5u);
    for (std::size_t i = 1; i < messages.size(); ++i) {
        EXPECT_EQ(get_u64be(messages[i].seqno->data()),
                  get_u64be(messages[i - 1].seqno->data()) + 1);
    }
}

TEST(GossipRouter, OwnPublishIsDeliveredLocallyAndFloodedAboveThePublishThreshold) {
    GossipConfig config = test_config();
    config.thresholds.graylist = -1000;  // keep the bad peer's RPCs flowing
    RouterHarness h(config);
    h.subscribe();
    const Identity good = identity(1), meh = identity(2), bad = identity(3), author = identity(4);
    for (const Identity* p : {&good, &meh, &bad}) {
        h.add_subscriber(*p);
    }
    Message forged = signed_message(author, TOPIC, "x", 1);
    forged.data = to_bytes("y");
    for (int i = 0; i < 2; ++i) {
        h.send(meh, message_rpc(forged));  // -40: above publish (-50)
    }
    for (int i = 0; i < 3; ++i) {
        h.send(bad, message_rpc(forged));  // -90: below it
    }
    ASSERT_DOUBLE_EQ(h.router().score(meh.peer_id()), -40.0);
    ASSERT_DOUBLE_EQ(h.router().score(bad.peer_id()), -90.0);
    h.clear();
    ASSERT_TRUE(h.publish(to_bytes("mine")));
    EXPECT_EQ(h.messages_to(good).size(), 1u);
    EXPECT_EQ(h.messages_to(meh).size(), 1u);  // flood reaches peers outside the mesh too
    EXPECT_TRUE(h.messages_to(bad).empty());
    const auto delivered = h.actions<DeliverMessage>();
    ASSERT_EQ(delivered.size(), 1u);
    EXPECT_EQ(delivered[0].author, h.self().peer_id());
    EXPECT_EQ(delivered[0].data, to_bytes("mine"));
    EXPECT_TRUE(h.actions<ValidateMessage>().empty());
    EXPECT_EQ(h.router().stats().published, 1u);
}

TEST(GossipRouter, QueueBoundDropsForwardsButNeverOwnPublishes) {
    GossipConfig config = test_config();
    config.max_peer_queue_bytes = 600;
    RouterHarness h(config);
    h.subscribe();
    const Identity source = identity(1), slow = identity(2), author = identity(3);
    h.add_subscriber(source);
    h.add_subscriber(slow);
    h.advance(1s);
    ASSERT_TRUE(h.in_mesh(slow));
    h.clear();
    for (std::uint64_t seqno = 1; seqno <= 6; ++seqno) {
        h.send(source, message_rpc(signed_message(author, TOPIC, std::string(150, 'f'), seqno)));
        h.validate(h.actions<ValidateMessage>().back().id, ValidationResult::accept);
    }
    const std::size_t forwarded = h.messages_to(slow).size();
    EXPECT_GE(forwarded, 1u);
    EXPECT_LT(forwarded, 6u);
    EXPECT_EQ(h.router().stats().dropped_sends, 6u - forwarded);
    h.clear();
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(h.publish(Bytes(300, 2)));
    }
    EXPECT_EQ(h.messages_to(slow).size(), 3u);
    EXPECT_EQ(h.router().stats().dropped_sends, 6u - forwarded);
    // The window resets at the heartbeat.
    h.advance(1s);
    h.clear();
    h.send(source, message_rpc(signed_message(author, TOPIC, std::string(150, 'f'), 99)));
    h.validate(h.actions<ValidateMessage>().back().id, ValidationResult::accept);
    EXPECT_EQ(h.messages_to(slow).size(), 1u);
}

TEST(GossipRouter, StrictNoSignUsesContentIdsAndRejectsAuthorFields) {
    GossipConfig config = test_config();
    config.signing = SigningPolicy::strict_no_sign;
    RouterHarness h(config);
    h.subscribe();
    const Identity peer = identity(1), author = identity(2);
    h.add_subscriber(peer);
    h.clear();
    Message plain;
    plain.topic = TOPIC;
    plain.data = to_bytes("block");
    h.send(peer, message_rpc(plain));
    const auto v = h.actions<ValidateMessage>();
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].id, content_message_id(plain));
    EXPECT_FALSE(v[0].author.has_value());
    h.send(peer, message_rpc(signed_message(author, TOPIC, "signed", 1)));
    EXPECT_EQ(h.router().stats().invalid, 1u);
    // Our publishes carry no author fields, and the same content twice is a duplicate.
    h.clear();
    auto id = h.publish(to_bytes("mine"));
    ASSERT_TRUE(id);
    auto again = h.publish(to_bytes("mine"));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), PubsubError::duplicate_message);
    const auto sent = h.messages_to(peer);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_FALSE(sent[0].from || sent[0].seqno || sent[0].signature || sent[0].key);
    EXPECT_EQ(content_message_id(sent[0]), *id);
}

TEST(GossipRouter, DirectPeersGetEveryMessageAndNeverJoinTheMesh) {
    RouterHarness h;
    const Identity direct = identity(1), source = identity(2), author = identity(3);
    h.router().add_direct_peer(direct.peer_id());
    auto early = h.router().take_actions();
    ASSERT_EQ(early.size(), 1u);  // not connected: asks the driver to dial
    EXPECT_TRUE(std::holds_alternative<ConnectPeer>(early[0]));
    h.subscribe();
    h.add_subscriber(direct);
    h.add_subscriber(source);
    h.advance(1s);
    EXPECT_FALSE(h.in_mesh(direct));
    ControlMessage graft;
    graft.graft.push_back({TOPIC});
    h.clear();
    h.send(direct, control_rpc(graft));
    EXPECT_EQ(h.prunes_to(direct).size(), 1u);
    EXPECT_FALSE(h.in_mesh(direct));
    h.send(source, message_rpc(signed_message(author, TOPIC, "x", 1)));
    h.validate(h.actions<ValidateMessage>().back().id, ValidationResult::accept);
    EXPECT_EQ(h.messages_to(direct).size(), 1u);
}

TEST(GossipRouter, UnsubscribedPeersLeaveTheMeshAndDisconnectsAreForgotten) {
    RouterHarness h;
    h.subscribe();
    const Identity a = identity(1), b = identity(2);
    h.add_subscriber(a);
    h.add_subscriber(b);
    h.advance(1s);
    ASSERT_TRUE(h.in_mesh(a) && h.in_mesh(b));
    h.send(a, subscribe_rpc(TOPIC, false));
    EXPECT_FALSE(h.in_mesh(a));
    EXPECT_EQ(h.router().topic_peers(TOPIC).size(), 1u);
    h.router().on_peer_disconnected(b.peer_id(), h.now());
    EXPECT_FALSE(h.in_mesh(b));
    EXPECT_TRUE(h.router().topic_peers(TOPIC).empty());
    EXPECT_FALSE(h.router().is_connected(b.peer_id()));
    h.router().check_invariants();
}

TEST(GossipRouter, ManyMessagesFlowThroughATwentyNodeNetwork) {
    GossipConfig config = test_config();
    Network net(20, config, 9);
    for (std::size_t i = 0; i < net.size(); ++i) {
        for (std::size_t k = 1; k <= 4; ++k) {
            net.connect(i, (i + k * 3 + 1) % net.size());
        }
    }
    net.subscribe_all(TOPIC);
    net.run_for(3s);
    std::vector<MessageId> ids;
    for (int n = 0; n < 100; ++n) {
        ids.push_back(net.publish(static_cast<std::size_t>(n) % net.size(), TOPIC,
                                  "tx " + std::to_string(n)));
        if (n % 25 == 24) {
            net.check_invariants();
            net.run_for(1s);
        }
    }
    net.run_for(2s);
    for (std::size_t i = 0; i < net.size(); ++i) {
        EXPECT_EQ(net.delivered(i).size(), ids.size()) << "node " << i;
        EXPECT_LE(net.router(i).mcache_count(), ids.size());
    }
    net.check_invariants();
}

}  // namespace
}  // namespace chainmesh::pubsub
