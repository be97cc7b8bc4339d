#include <gtest/gtest.h>

#include <algorithm>
#include <chainmesh/sim/wire_network.hpp>
#include <chainmesh/util/uvarint.hpp>
#include <chainmesh/wire/multistream.hpp>
#include <chainmesh/wire/noise.hpp>
#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace chainmesh::sim {
namespace {

using namespace std::chrono_literals;

Instant at(Duration d) {
    return Instant{d};
}

// Long and distinctive, so that finding it in a byte stream cannot be chance.
std::string marker(std::size_t n) {
    return "wire-plaintext-marker-" + std::to_string(n) + "-the-quick-brown-fox";
}

Bytes payload(std::size_t n) {
    return to_bytes(marker(n));
}

WireNetworkConfig base_config(std::uint64_t seed, std::size_t nodes) {
    WireNetworkConfig c;
    c.seed = seed;
    c.node_count = nodes;
    c.link.latency = LatencyModel::uniform_latency(5ms, 25ms);
    c.validation_delay = 1ms;
    return c;
}

// `count` messages from rotating nodes, one every 100 ms from `start`.
void publish_many(WireNetwork& net, std::size_t count, Duration start) {
    for (std::size_t i = 0; i < count; ++i) {
        const auto node = static_cast<NodeIndex>(i % net.node_count());
        net.schedule_publish(at(start + i * 100ms), node, payload(i));
    }
}

bool contains(const Bytes& haystack, std::string_view needle) {
    const ByteView n = as_bytes(needle);
    return std::search(haystack.begin(), haystack.end(), n.begin(), n.end()) != haystack.end();
}

void expect_all_delivered(const WireNetwork& net) {
    for (std::size_t m = 0; m < net.message_count(); ++m) {
        EXPECT_EQ(net.delivered_count(m), net.node_count()) << "message " << m;
    }
}

TEST(WireNetwork, FullMeshOfFiveDeliversEveryMessageAndMeshes) {
    WireNetwork net(base_config(1, 5));
    net.connect_full();
    net.run_until(at(2s));
    ASSERT_EQ(net.connection_count(), 10u);
    for (ConnectionId id = 0; id < net.connection_count(); ++id) {
        EXPECT_EQ(net.connection(id).state, ConnectionState::established)
            << id << ": " << net.connection(id).error;
    }
    publish_many(net, 20, 2s);
    net.run_until(at(10s));

    ASSERT_EQ(net.message_count(), 20u);
    expect_all_delivered(net);
    const WireMetrics m = net.metrics();
    EXPECT_EQ(m.deliveries, 20u * 4u);
    EXPECT_DOUBLE_EQ(m.delivery_ratio, 1.0);
    EXPECT_EQ(m.connections_failed, 0u);
    EXPECT_EQ(m.connections_closed, 0u);
    EXPECT_EQ(m.rpcs_unsent, 0u);
    EXPECT_EQ(m.penalties, 0u);
    EXPECT_FALSE(m.event_cap_reached);
    // Four peers are below D, so after the heartbeats every router meshes with all of them.
    for (NodeIndex n = 0; n < 5; ++n) {
        // No RPC reached a router before it knew the sender (the hello would be lost).
        EXPECT_EQ(net.router(n).stats().dropped_rpcs, 0u) << "node " << n;
        EXPECT_EQ(net.router(n).mesh_peers("/chainmesh/sim").size(), 4u) << "node " << n;
        for (NodeIndex p = 0; p < 5; ++p) {
            if (p != n) {
                EXPECT_TRUE(net.router(n).is_connected(net.peer_id(p)));
            }
        }
    }
}

// One run: its formatted metrics and a hash of every byte that crossed a pipe.
std::pair<std::string, std::uint64_t> replay(std::uint64_t seed) {
    std::uint64_t hash = 14695981039346656037ull;  // FNV-1a
    WireTaps taps;
    taps.wire = [&hash](NodeIndex from, NodeIndex to, ByteView bytes) {
        hash = (hash ^ from ^ (std::uint64_t{to} << 32)) * 1099511628211ull;
        for (const auto b : bytes) {
            hash = (hash ^ b) * 1099511628211ull;
        }
    };
    WireNetwork net(base_config(seed, 5), std::move(taps));
    net.connect_full();
    publish_many(net, 10, 2s);
    net.run_until(at(6s));
    return {format_metrics(net.metrics()), hash};
}

TEST(WireNetwork, SameSeedReplaysTheSameRunByteForByte) {
    const auto first = replay(7);
    const auto second = replay(7);
    EXPECT_EQ(first.first, second.first);
    // Equal ciphertexts mean every Noise key came from the seeded Rng, not the OS.
    EXPECT_EQ(first.second, second.second);
    EXPECT_NE(first.first.find("deliveries 40\n"), std::string::npos) << first.first;
    const auto other = replay(8);
    EXPECT_NE(first.second, other.second);
}

TEST(WireNetwork, PipesCarryOnlyCiphertextWithOverhead) {
    std::map<std::pair<NodeIndex, NodeIndex>, Bytes> wire;
    Bytes rpcs;
    WireTaps taps;
    taps.wire = [&wire](NodeIndex from, NodeIndex to, ByteView bytes) {
        append(wire[{from, to}], bytes);
    };
    taps.rpc = [&rpcs](NodeIndex, NodeIndex, ByteView rpc) { append(rpcs, rpc); };
    WireNetwork net(base_config(3, 4), std::move(taps));
    net.connect_full();
    publish_many(net, 8, 2s);
    net.run_until(at(6s));
    expect_all_delivered(net);

    for (NodeIndex n = 0; n < 4; ++n) {
        EXPECT_GT(net.rpc_bytes_sent(n), 0u);
        EXPECT_GT(net.wire_bytes_sent(n), net.rpc_bytes_sent(n)) << "node " << n;
    }
    const WireMetrics m = net.metrics();
    EXPECT_GT(m.wire_bytes_total, m.rpc_bytes_total);
    ASSERT_EQ(wire.size(), 12u);  // every direction of 6 connections carried bytes
    for (std::size_t i = 0; i < 8; ++i) {
        EXPECT_TRUE(contains(rpcs, marker(i))) << "control: the RPC bodies carry message " << i;
        for (const auto& [direction, bytes] : wire) {
            EXPECT_FALSE(contains(bytes, marker(i)))
                << "message " << i << " in plaintext from " << direction.first << " to "
                << direction.second;
        }
    }
}

TEST(WireNetwork, CorruptedCiphertextClosesExactlyThatConnection) {
    WireNetwork net(base_config(5, 5));
    net.connect_ring();  // 0-1, 1-2, 2-3, 3-4, 4-0
    ASSERT_EQ(net.connection_count(), 5u);
    net.schedule(at(2s), [&net] { net.corrupt_next(1, 2); });
    // Node 1 publishes first: its RPC to node 2 is the frame that gets corrupted.
    for (std::size_t i = 0; i < 10; ++i) {
        net.schedule_publish(at(2s + 100ms + i * 100ms), static_cast<NodeIndex>((1 + i) % 5),
                             payload(i));
    }
    net.run_until(at(10s));

    const ConnectionInfo& broken = net.connection(1);
    EXPECT_EQ(broken.dialer, 1u);
    EXPECT_EQ(broken.listener, 2u);
    EXPECT_EQ(broken.state, ConnectionState::closed);
    ASSERT_TRUE(broken.closed_by.has_value());
    EXPECT_EQ(*broken.closed_by, 2u);  // the receiver's decrypt failed
    EXPECT_NE(broken.error.find("noise"), std::string::npos) << broken.error;
    EXPECT_NE(broken.error.find("authentication"), std::string::npos) << broken.error;
    for (const ConnectionId id : {0u, 2u, 3u, 4u}) {
        EXPECT_EQ(net.connection(id).state, ConnectionState::established) << id;
    }
    EXPECT_FALSE(net.router(1).is_connected(net.peer_id(2)));
    EXPECT_FALSE(net.router(2).is_connected(net.peer_id(1)));
    EXPECT_TRUE(net.router(1).is_connected(net.peer_id(0)));
    EXPECT_TRUE(net.router(2).is_connected(net.peer_id(3)));
    const WireMetrics m = net.metrics();
    EXPECT_EQ(m.corruptions, 1u);
    EXPECT_EQ(m.connections_closed, 1u);
    // The rest of the ring is a line: everything still arrives everywhere.
    ASSERT_EQ(net.message_count(), 10u);
    expect_all_delivered(net);
}

TEST(WireNetwork, WrongExpectedPeerIdFailsTheHandshake) {
    WireNetwork net(base_config(9, 3));
    const ConnectionId wrong = net.add_link_expecting(0, 1, net.peer_id(2));
    const ConnectionId good = net.add_link(0, 2);
    net.run_until(at(3s));

    const ConnectionInfo& info = net.connection(wrong);
    EXPECT_EQ(info.state, ConnectionState::failed);
    EXPECT_FALSE(info.established_at.has_value());
    ASSERT_TRUE(info.closed_by.has_value());
    EXPECT_EQ(*info.closed_by, 0u);  // the dialer refused the answer
    EXPECT_NE(info.error.find("noise"), std::string::npos) << info.error;
    EXPECT_NE(info.error.find("not the peer that was dialed"), std::string::npos) << info.error;
    EXPECT_FALSE(net.router(0).is_connected(net.peer_id(1)));
    EXPECT_FALSE(net.router(1).is_connected(net.peer_id(0)));

    EXPECT_EQ(net.connection(good).state, ConnectionState::established);
    EXPECT_TRUE(net.router(0).is_connected(net.peer_id(2)));
    const WireMetrics m = net.metrics();
    EXPECT_EQ(m.connections_failed, 1u);
    EXPECT_EQ(m.connections_established, 1u);
}

TEST(WireNetwork, LineOfFourDeliversEndToEnd) {
    WireNetwork net(base_config(11, 4));
    net.connect_line();
    net.schedule_publish(at(2s), 0, payload(0));
    net.schedule_publish(at(2s + 300ms), 3, payload(1));
    net.run_until(at(6s));

    ASSERT_EQ(net.message_count(), 2u);
    expect_all_delivered(net);
    // Three hops of at least 5 ms each.
    EXPECT_GE(*net.delivery_time(0, 3) - at(2s), Duration{15ms});
    EXPECT_GE(*net.delivery_time(1, 0) - at(2s + 300ms), Duration{15ms});
    EXPECT_FALSE(net.router(0).is_connected(net.peer_id(3)));
    EXPECT_EQ(net.metrics().connections_established, 3u);
}

// --- WireConnection, driven by hand -----------------------------------------------------------

crypto::Identity identity(std::uint8_t tag) {
    crypto::Ed25519Seed seed{};
    seed.fill(tag);
    return crypto::Identity(crypto::Ed25519PrivateKey::from_seed(seed));
}

crypto::X25519KeyPair x25519(std::uint8_t tag) {
    crypto::X25519Key key{};
    key.fill(tag);
    return crypto::X25519KeyPair::from_private(key);
}

struct Pair {
    Pair(std::size_t dialer_max_rpc, std::size_t listener_max_rpc)
        : dialer_identity(identity(1)),
          listener_identity(identity(2)),
          dialer(WireRole::dialer, dialer_identity, x25519(3), x25519(4),
                 listener_identity.peer_id(), dialer_max_rpc),
          listener(WireRole::listener, listener_identity, x25519(5), x25519(6), std::nullopt,
                   listener_max_rpc) {
        dialer.start();
        listener.start();
    }

    // Moves bytes both ways, `chunk` bytes per on_data call, until both are quiet.
    void exchange(std::size_t chunk) {
        for (bool moved = true; moved;) {
            moved = move(dialer, listener, listener_events, chunk) |
                    move(listener, dialer, dialer_events, chunk);
        }
    }

    static bool move(WireConnection& from, WireConnection& to,
                     std::vector<WireConnection::Event>& to_events, std::size_t chunk) {
        const Bytes bytes = from.take_output().bytes;
        for (std::size_t pos = 0; pos < bytes.size(); pos += chunk) {
            to.on_data(ByteView(bytes).subspan(pos, std::min(chunk, bytes.size() - pos)));
        }
        for (auto& e : to.take_events()) {
            to_events.push_back(std::move(e));
        }
        return !bytes.empty();
    }

    crypto::Identity dialer_identity;
    crypto::Identity listener_identity;
    WireConnection dialer;
    WireConnection listener;
    std::vector<WireConnection::Event> dialer_events;
    std::vector<WireConnection::Event> listener_events;
};

template <class E>
std::vector<E> events_of(const std::vector<WireConnection::Event>& events) {
    std::vector<E> out;
    for (const auto& e : events) {
        if (const auto* x = std::get_if<E>(&e)) {
            out.push_back(*x);
        }
    }
    return out;
}

TEST(WireConnection, UpgradesAndCarriesRpcsDeliveredOneByteAtATime) {
    Pair pair(4096, 4096);
    EXPECT_FALSE(pair.dialer.send_rpc(to_bytes("too early")));
    pair.exchange(1);
    ASSERT_TRUE(pair.dialer.stream_ready()) << pair.dialer.close_reason();
    ASSERT_TRUE(pair.listener.stream_ready()) << pair.listener.close_reason();
    ASSERT_EQ(pair.dialer.remote_peer(), pair.listener_identity.peer_id());
    ASSERT_EQ(pair.listener.remote_peer(), pair.dialer_identity.peer_id());
    EXPECT_EQ(events_of<WireConnection::Upgraded>(pair.dialer_events).size(), 1u);
    EXPECT_EQ(events_of<WireConnection::StreamReady>(pair.listener_events).size(), 1u);

    ASSERT_TRUE(pair.dialer.send_rpc(to_bytes("first")));
    ASSERT_TRUE(pair.dialer.send_rpc(Bytes(3000, 0xab)));
    ASSERT_TRUE(pair.listener.send_rpc(to_bytes("back")));
    pair.exchange(1);
    const auto to_listener = events_of<WireConnection::RpcReceived>(pair.listener_events);
    ASSERT_EQ(to_listener.size(), 2u);
    EXPECT_EQ(to_listener[0].rpc, to_bytes("first"));
    EXPECT_EQ(to_listener[1].rpc, Bytes(3000, 0xab));
    const auto to_dialer = events_of<WireConnection::RpcReceived>(pair.dialer_events);
    ASSERT_EQ(to_dialer.size(), 1u);
    EXPECT_EQ(to_dialer[0].rpc, to_bytes("back"));
}

// A peer that uses lazy select sends its first RPC with its stream proposal, before it has
// answered ours. The RPC must wait until our own stream is ready (our router knows the peer).
TEST(WireConnection, RpcsFromALazyPeerWaitUntilOurStreamIsReady) {
    const crypto::Identity peer_identity = identity(1);
    const crypto::Identity our_identity = identity(2);
    WireConnection listener(WireRole::listener, our_identity, x25519(5), x25519(6), std::nullopt,
                            4096);
    listener.start();

    // The peer, made of the real engines driven by hand.
    wire::MultistreamDialer security({std::string(wire::NOISE_PROTOCOL_ID)});
    listener.on_data(security.start());
    auto chosen = security.on_data(listener.take_output().bytes);
    ASSERT_TRUE(chosen && chosen->protocol);
    wire::NoiseHandshake handshake(wire::NoiseRole::initiator, peer_identity, x25519(3), x25519(4),
                                   our_identity.peer_id());
    listener.on_data(handshake.start());
    auto done = handshake.on_data(listener.take_output().bytes);
    ASSERT_TRUE(done && done->complete);
    wire::NoiseTransport transport = handshake.take_transport();
    wire::MultistreamDialer muxer({std::string(wire::YAMUX_PROTOCOL_ID)});
    Bytes out = done->output;
    ASSERT_TRUE(transport.encrypt(muxer.start(), out));
    listener.on_data(out);
    Bytes plaintext;
    ASSERT_TRUE(transport.decrypt(listener.take_output().bytes, plaintext));
    auto muxed = muxer.on_data(plaintext);
    ASSERT_TRUE(muxed && muxed->protocol);
    wire::YamuxSession yamux(wire::YamuxRole::client);

    auto stream = yamux.open_stream();
    ASSERT_TRUE(stream);
    Bytes lazy;
    wire::append_multistream_message(lazy, wire::MULTISTREAM_PROTOCOL_ID);
    wire::append_multistream_message(lazy, pubsub::GOSSIPSUB_PROTOCOL_ID);
    util::append_uvarint(lazy, 5);
    append(lazy, std::string_view("hello"));
    ASSERT_TRUE(yamux.write(*stream, lazy));
    out.clear();
    ASSERT_TRUE(transport.encrypt(yamux.take_output(), out));
    listener.on_data(out);
    auto events = listener.take_events();
    EXPECT_EQ(events_of<WireConnection::Upgraded>(events).size(), 1u);
    EXPECT_TRUE(events_of<WireConnection::RpcReceived>(events).empty());
    EXPECT_FALSE(listener.stream_ready());

    // Now the peer accepts our stream: StreamReady first, then the held RPC.
    ASSERT_TRUE(yamux.on_data(muxed->remainder));
    plaintext.clear();
    ASSERT_TRUE(transport.decrypt(listener.take_output().bytes, plaintext));
    ASSERT_TRUE(yamux.on_data(plaintext));
    std::optional<wire::StreamId> ours;
    for (const auto& e : yamux.take_events()) {
        if (const auto* opened = std::get_if<wire::StreamOpened>(&e)) {
            ours = opened->id;
        }
    }
    ASSERT_TRUE(ours);
    Bytes proposal;
    yamux.read(*ours, proposal, 1024);
    wire::MultistreamListener accept({std::string(pubsub::GOSSIPSUB_PROTOCOL_ID)});
    Bytes answer = accept.start();
    auto accepted = accept.on_data(proposal);
    ASSERT_TRUE(accepted && accepted->protocol);
    append(answer, accepted->output);
    ASSERT_TRUE(yamux.write(*ours, answer));
    out.clear();
    ASSERT_TRUE(transport.encrypt(yamux.take_output(), out));
    listener.on_data(out);
    events = listener.take_events();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_TRUE(std::holds_alternative<WireConnection::StreamReady>(events[0]));
    ASSERT_TRUE(std::holds_alternative<WireConnection::RpcReceived>(events[1]));
    EXPECT_EQ(std::get<WireConnection::RpcReceived>(events[1]).rpc, to_bytes("hello"));
}

TEST(WireConnection, FrameOverTheRpcLimitClosesTheReceiver) {
    Pair pair(1 << 20, 1000);
    pair.exchange(4096);
    ASSERT_TRUE(pair.dialer.stream_ready());
    ASSERT_TRUE(pair.dialer.send_rpc(Bytes(1001, 1)));
    pair.exchange(4096);
    EXPECT_TRUE(pair.listener.closed());
    EXPECT_NE(pair.listener.close_reason().find("exceeds the limit of 1000"), std::string::npos)
        << pair.listener.close_reason();
    EXPECT_TRUE(events_of<WireConnection::RpcReceived>(pair.listener_events).empty());
    EXPECT_EQ(events_of<WireConnection::Closed>(pair.listener_events).size(), 1u);
    EXPECT_FALSE(pair.listener.send_rpc(to_bytes("after close")));
}

TEST(WireConnection, GarbageBeforeTheUpgradeClosesWithAMultistreamError) {
    Pair pair(4096, 4096);
    (void)pair.dialer.take_output();
    // A whole length-prefixed message without the trailing newline multistream requires.
    pair.listener.on_data(Bytes{0x05, 'h', 'e', 'l', 'l', 'o'});
    EXPECT_TRUE(pair.listener.closed());
    EXPECT_NE(pair.listener.close_reason().find("multistream"), std::string::npos)
        << pair.listener.close_reason();
    pair.listener.on_data(to_bytes("more"));  // ignored, no crash
    EXPECT_EQ(events_of<WireConnection::Closed>(pair.listener.take_events()).size(), 1u);
}

}  // namespace
}  // namespace chainmesh::sim
