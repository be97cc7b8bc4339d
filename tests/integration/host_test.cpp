// Two hosts in one process on loopback: connect, identify, ping, streams, limits, shutdown.

#include "io_test_support.hpp"

#include <chainmesh/net/errors.hpp>
#include <chainmesh/net/signal.hpp>
#include <chainmesh/net/timeout.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace chainmesh::net {
namespace {

namespace asio = boost::asio;
using testing::loopback_config;
using testing::run_coroutine;

constexpr std::string_view ECHO = "/test/echo/1.0.0";

asio::awaitable<void> echo(Stream stream) {
    Bytes buffer;
    for (;;) {
        buffer.clear();
        auto n = co_await stream.read_some(buffer, 65536);
        if (!n || *n == 0) {
            break;
        }
        if (!co_await stream.write(buffer)) {
            co_return;
        }
    }
    stream.close_write();
}

class HostTest : public ::testing::Test {
protected:
    asio::io_context io;
    Host server{io, crypto::Identity::generate(), loopback_config()};
    Host client{io, crypto::Identity::generate(), loopback_config()};

    void SetUp() override {
        server.set_handler(std::string(ECHO), [](Stream s) { return echo(std::move(s)); });
        server.start();
        client.start();
    }

    wire::Multiaddr server_addr() const {
        return server.listen_addrs().front().with_peer_id(server.peer_id());
    }
};

TEST_F(HostTest, DialsIdentifiesAndPingsBothWays) {
    std::vector<HostEvent> server_events;
    server.add_listener([&](const HostEvent& e) { server_events.push_back(e); });
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        auto peer = co_await client.dial(server_addr());
        EXPECT_TRUE(peer);
        EXPECT_EQ(*peer, server.peer_id());

        auto info = co_await client.wait_identified(server.peer_id());
        EXPECT_TRUE(info);
        EXPECT_EQ(info->agent_version, std::string(CHAINMESH_AGENT_VERSION));
        EXPECT_EQ(info->listen_addrs, server.listen_addrs());
        const auto& protos = info->protocols;
        EXPECT_NE(std::find(protos.begin(), protos.end(), std::string(ECHO)), protos.end());
        EXPECT_NE(std::find(protos.begin(), protos.end(), "/ipfs/ping/1.0.0"), protos.end());
        EXPECT_TRUE(info->observed_addr);
        if (info->observed_addr) {
            EXPECT_EQ(info->observed_addr->tcp_target()->host, "127.0.0.1");
        }

        auto back = co_await server.wait_identified(client.peer_id());
        EXPECT_TRUE(back);
        EXPECT_EQ(back->public_key, client.identity().public_key());

        auto rtt = co_await client.ping(server.peer_id());
        EXPECT_TRUE(rtt) << rtt.error().message();
        auto rtt_back = co_await server.ping(client.peer_id());
        EXPECT_TRUE(rtt_back) << rtt_back.error().message();
    }());
    ASSERT_GE(server_events.size(), 2u);
    EXPECT_TRUE(std::holds_alternative<PeerConnected>(server_events[0]));
    EXPECT_EQ(std::get<PeerConnected>(server_events[0]).direction, Direction::inbound);
}

TEST_F(HostTest, DialingTheWrongPeerIdFailsTheHandshake) {
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        const auto impostor = crypto::Identity::generate().peer_id();
        auto peer = co_await client.dial(server.listen_addrs().front().with_peer_id(impostor));
        EXPECT_FALSE(peer);
        EXPECT_FALSE(client.is_connected(server.peer_id()));
        EXPECT_EQ(client.stats().failed_handshakes, 1u);
    }());
}

TEST_F(HostTest, EchoesAMegabyteOnEachOfManyConcurrentStreams) {
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await client.dial(server_addr()));
        constexpr std::size_t STREAMS = 16;
        constexpr std::size_t BYTES = 1 << 20;
        std::size_t done = 0;
        Signal finished(co_await asio::this_coro::executor);
        for (std::size_t k = 0; k < STREAMS; ++k) {
            asio::co_spawn(
                io,
                [](Host& c, crypto::PeerId peer, std::size_t salt) -> asio::awaitable<bool> {
                    std::vector<std::string> protocol{std::string(ECHO)};
                    auto stream = co_await c.new_stream(peer, protocol);
                    if (!stream) {
                        co_return false;
                    }
                    Bytes sent(BYTES);
                    for (std::size_t i = 0; i < BYTES; ++i) {
                        sent[i] = static_cast<std::uint8_t>(i * 13 + salt);
                    }
                    // Write in the background while reading, as a real peer would.
                    asio::co_spawn(
                        co_await asio::this_coro::executor,
                        [](Stream s, Bytes data) -> asio::awaitable<void> {
                            co_await s.write(data);
                            s.close_write();
                        }(*stream, sent),
                        asio::detached);
                    auto received = co_await stream->read_to_end(2 * BYTES);
                    co_return received && *received == sent;
                }(client, server.peer_id(), k),
                [&](std::exception_ptr, bool ok) {
                    EXPECT_TRUE(ok);
                    ++done;
                    finished.notify();
                });
        }
        while (done < STREAMS) {
            co_await finished.wait();
        }
    }());
}

TEST_F(HostTest, UnsupportedProtocolIsRefusedCleanly) {
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await client.dial(server_addr()));
        std::vector<std::string> protocol{"/nobody/speaks/this"};
        auto stream = co_await client.new_stream(server.peer_id(), protocol);
        EXPECT_FALSE(stream);
        EXPECT_EQ(stream.error(), NetError::protocol_not_supported);
        // The connection survives a refused protocol.
        EXPECT_TRUE(co_await client.ping(server.peer_id()));
    }());
}

TEST_F(HostTest, DisconnectIsSeenByBothSides) {
    std::vector<std::string> reasons;
    server.add_listener([&](const HostEvent& e) {
        if (const auto* d = std::get_if<PeerDisconnected>(&e)) {
            reasons.push_back(d->reason);
        }
    });
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await client.dial(server_addr()));
        EXPECT_TRUE(co_await server.wait_identified(client.peer_id()));
        Signal gone(co_await asio::this_coro::executor);
        server.add_listener([&](const HostEvent& e) {
            if (std::holds_alternative<PeerDisconnected>(e)) {
                gone.notify();
            }
        });
        client.disconnect(server.peer_id(), "test");
        while (server.is_connected(client.peer_id())) {
            co_await gone.wait();
        }
        EXPECT_FALSE(client.is_connected(server.peer_id()));
        auto ping = co_await client.ping(server.peer_id());
        EXPECT_EQ(ping.error(), NetError::not_connected);
    }());
    ASSERT_EQ(reasons.size(), 1u);
}

TEST_F(HostTest, RefusesConnectionsPastThePerIpLimit) {
    HostConfig config = loopback_config();
    config.max_connections_per_ip = 2;
    Host limited(io, crypto::Identity::generate(), config);
    limited.start();
    const auto addr = limited.listen_addrs().front().with_peer_id(limited.peer_id());
    std::vector<std::unique_ptr<Host>> dialers;
    for (int i = 0; i < 3; ++i) {
        dialers.push_back(std::make_unique<Host>(io, crypto::Identity::generate(), HostConfig{}));
        dialers.back()->start();
    }
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await dialers[0]->dial(addr));
        EXPECT_TRUE(co_await dialers[1]->dial(addr));
        auto third = co_await dialers[2]->dial(addr);
        EXPECT_FALSE(third);
        EXPECT_EQ(limited.stats().refused_connections, 1u);
        EXPECT_EQ(limited.stats().inbound, 2u);
    }());
}

TEST_F(HostTest, ListensOnSeveralAddressesAndIsReachableOnEach) {
    HostConfig config;
    config.listen_addrs = {*wire::Multiaddr::parse("/ip4/127.0.0.1/tcp/0"),
                           *wire::Multiaddr::parse("/ip6/::1/tcp/0")};
    Host both(io, crypto::Identity::generate(), config);
    both.start();
    const auto addrs = both.listen_addrs();
    ASSERT_EQ(addrs.size(), 2u);
    EXPECT_EQ(addrs[0].tcp_target()->kind, wire::TcpTarget::Kind::ip4);
    EXPECT_EQ(addrs[1].tcp_target()->kind, wire::TcpTarget::Kind::ip6);
    Host other(io, crypto::Identity::generate(), HostConfig{});
    other.start();
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await client.dial(addrs[0].with_peer_id(both.peer_id())));
        EXPECT_TRUE(co_await other.dial(addrs[1].with_peer_id(both.peer_id())));
        auto rtt = co_await other.ping(both.peer_id());
        EXPECT_TRUE(rtt);
        EXPECT_EQ(both.connected_peers().size(), 2u);
    }());
}

TEST_F(HostTest, RefusesToListenOnWhatItCannotBind) {
    HostConfig config;
    config.listen_addrs = {*wire::Multiaddr::parse("/dns4/localhost/tcp/0")};
    Host bad(io, crypto::Identity::generate(), config);
    EXPECT_THROW(bad.start(), std::runtime_error);
    HostConfig taken;
    taken.listen_addrs = {server.listen_addrs().front()};  // already bound by the fixture
    Host clash(io, crypto::Identity::generate(), taken);
    try {
        clash.start();
        FAIL() << "bound a port that is in use";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(server.listen_addrs().front().to_string()),
                  std::string::npos)
            << e.what();
    }
}

TEST_F(HostTest, StopSaysGoAwayAndClosesEverything) {
    const auto addr = server_addr();
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await client.dial(addr));
        EXPECT_TRUE(co_await client.wait_identified(server.peer_id()));
        Signal gone(co_await asio::this_coro::executor);
        client.add_listener([&](const HostEvent& e) {
            if (std::holds_alternative<PeerDisconnected>(e)) {
                gone.notify();
            }
        });
        server.stop();
        while (client.is_connected(server.peer_id())) {
            co_await gone.wait();
        }
        EXPECT_TRUE(server.listen_addrs().empty());
        auto again = co_await client.dial(addr);
        EXPECT_FALSE(again);
    }());
}

TEST(HostShutdown, LeavesNothingPendingSoTheIoContextRunsDry) {
    // Keep-alives an hour apart: a timer left waiting after stop() would hold the io_context
    // for that long, and run_for would come back at its hang limit instead of running dry.
    auto config = loopback_config();
    config.keepalive_interval = std::chrono::hours(1);
    config.idle_timeout = std::chrono::hours(2);
    asio::io_context io;
    Host a{io, crypto::Identity::generate(), config};
    Host b{io, crypto::Identity::generate(), config};
    a.start();
    b.start();
    const auto addr = b.listen_addrs().front().with_peer_id(b.peer_id());
    run_coroutine(io, [&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await a.dial(addr));
        EXPECT_TRUE(co_await a.wait_identified(b.peer_id()));
    }());
    a.stop();
    b.stop();
    io.restart();
    io.run_for(testing::TEST_HANG_LIMIT);
    EXPECT_TRUE(io.stopped()) << "work was still pending after both hosts stopped";
}

}  // namespace
}  // namespace chainmesh::net
