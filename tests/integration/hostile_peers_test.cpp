// Raw TCP clients that misbehave at each stage of the upgrade pipeline, while a well-behaved
// peer keeps pinging the same host. Each misbehaving connection must be cut off within its
// stated bound, and every ping of the good peer must be answered.

#include "io_test_support.hpp"

#include <chainmesh/net/detail/upgrade.hpp>
#include <chainmesh/net/errors.hpp>
#include <chainmesh/net/signal.hpp>
#include <chainmesh/net/timeout.hpp>
#include <chainmesh/protocols/ping.hpp>
#include <chainmesh/util/uvarint.hpp>
#include <chainmesh/wire/multistream.hpp>
#include <chainmesh/wire/noise.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace chainmesh::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
using testing::run_coroutine;

constexpr auto HANDSHAKE_TIMEOUT = 1500ms;

HostConfig hostile_config() {
    HostConfig config = testing::loopback_config();
    config.handshake_timeout = HANDSHAKE_TIMEOUT;
    config.stream_negotiation_timeout = HANDSHAKE_TIMEOUT;
    config.max_refused_streams = 64;
    config.yamux.max_streams = 32;
    return config;
}

// Keeps pinging until told to stop; counts answers and failures.
struct GoodPeer {
    std::size_t answered = 0;
    std::size_t failed = 0;
    bool stop = false;

    asio::awaitable<void> run(Host& host, crypto::PeerId server) {
        asio::steady_timer pause(co_await asio::this_coro::executor);
        std::vector<std::string> protocol{std::string(protocols::PING_PROTOCOL_ID)};
        auto stream = co_await host.new_stream(server, protocol);
        if (!stream) {
            ++failed;
            co_return;
        }
        while (!stop) {
            auto rtt = co_await with_timeout(ping_on_stream(*stream), 10s);
            ++(rtt ? answered : failed);
            pause.expires_after(20ms);
            co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        stream->close_write();
    }
};

// Reads until the server closes the connection. Returns false if it is still open after
// `limit` (the server's bound plus slack).
asio::awaitable<bool> closed_within(tcp::socket& socket, std::chrono::milliseconds limit) {
    auto drain = [](tcp::socket& s) -> asio::awaitable<Result<void>> {
        std::array<std::uint8_t, 4096> buffer{};
        for (;;) {
            auto [ec, n] = co_await s.async_read_some(asio::buffer(buffer),
                                                      asio::as_tuple(asio::use_awaitable));
            if (ec) {
                co_return Result<void>{};
            }
        }
    };
    auto result = co_await with_timeout(drain(socket), limit);
    co_return result.has_value();
}

asio::awaitable<tcp::socket> connect_raw(const Host& server) {
    auto target = server.listen_addrs().front().tcp_target();
    tcp::socket socket(co_await asio::this_coro::executor);
    co_await socket.async_connect(
        tcp::endpoint(asio::ip::make_address(target->host), target->port), asio::use_awaitable);
    co_return socket;
}

asio::awaitable<void> write_all(tcp::socket& socket, ByteView data) {
    co_await asio::async_write(socket, asio::buffer(data.data(), data.size()),
                               asio::as_tuple(asio::use_awaitable));
}

Bytes noise_proposal() {
    Bytes out;
    wire::append_multistream_message(out, wire::MULTISTREAM_PROTOCOL_ID);
    wire::append_multistream_message(out, wire::NOISE_PROTOCOL_ID);
    return out;
}

class HostilePeersTest : public ::testing::Test {
protected:
    asio::io_context io;
    Host server{io, crypto::Identity::generate(), hostile_config()};
    Host good{io, crypto::Identity::generate(), testing::loopback_config()};
    GoodPeer pinger;

    void SetUp() override {
        server.start();
        good.start();
    }

    // Runs `attack` while the good peer pings; then checks the good peer was never failed.
    void run_attack(std::function<asio::awaitable<void>()> attack) {
        run_coroutine(io, [&]() -> asio::awaitable<void> {
            const auto addr = server.listen_addrs().front().with_peer_id(server.peer_id());
            EXPECT_TRUE(co_await good.dial(addr));
            Signal pinger_done(co_await asio::this_coro::executor);
            bool finished = false;
            asio::co_spawn(io, pinger.run(good, server.peer_id()), [&](std::exception_ptr) {
                finished = true;
                pinger_done.notify();
            });
            co_await attack();
            pinger.stop = true;
            while (!finished) {
                co_await pinger_done.wait();
            }
        }());
        EXPECT_GT(pinger.answered, 0u);
        EXPECT_EQ(pinger.failed, 0u);
        EXPECT_TRUE(good.is_connected(server.peer_id()));
    }
};

TEST_F(HostilePeersTest, GarbageIsCutOff) {
    run_attack([&]() -> asio::awaitable<void> {
        auto socket = co_await connect_raw(server);
        Bytes garbage(4096);
        for (std::size_t i = 0; i < garbage.size(); ++i) {
            garbage[i] = static_cast<std::uint8_t>(i * 7 + 3);
        }
        co_await write_all(socket, garbage);
        EXPECT_TRUE(co_await closed_within(socket, HANDSHAKE_TIMEOUT + 2s));
    });
    EXPECT_GE(server.stats().failed_handshakes, 1u);
}

TEST_F(HostilePeersTest, EndlessMultistreamLineIsCutOff) {
    run_attack([&]() -> asio::awaitable<void> {
        auto socket = co_await connect_raw(server);
        Bytes line;
        wire::append_multistream_message(line, wire::MULTISTREAM_PROTOCOL_ID);
        util::append_uvarint(line, 1u << 30);  // a "line" of a gigabyte, never ending
        line.resize(line.size() + 64 * 1024, 'a');
        co_await write_all(socket, line);
        EXPECT_TRUE(co_await closed_within(socket, HANDSHAKE_TIMEOUT + 2s));
    });
}

TEST_F(HostilePeersTest, OversizedNoiseFrameIsCutOff) {
    run_attack([&]() -> asio::awaitable<void> {
        auto socket = co_await connect_raw(server);
        Bytes bytes = noise_proposal();
        // Noise msg1 must be 32 bytes; send the largest frame the length field allows.
        put_u16be(bytes, 0xffff);
        bytes.resize(bytes.size() + 0xffff, 0x42);
        co_await write_all(socket, bytes);
        EXPECT_TRUE(co_await closed_within(socket, HANDSHAKE_TIMEOUT + 2s));
    });
}

TEST_F(HostilePeersTest, HandshakeThatStallsHalfwayIsCutOffAtTheDeadline) {
    run_attack([&]() -> asio::awaitable<void> {
        auto socket = co_await connect_raw(server);
        Bytes bytes = noise_proposal();
        // A valid msg1 (an ephemeral key), then silence.
        const auto ephemeral = crypto::X25519KeyPair::generate();
        put_u16be(bytes, 32);
        append(bytes, ephemeral.public_key);
        co_await write_all(socket, bytes);
        EXPECT_TRUE(co_await closed_within(socket, HANDSHAKE_TIMEOUT + 2s));
    });
    EXPECT_GE(server.stats().failed_handshakes, 1u);
}

TEST_F(HostilePeersTest, FloodOfStreamOpensIsRefusedThenCutOff) {
    run_attack([&]() -> asio::awaitable<void> {
        auto socket = co_await connect_raw(server);
        const auto attacker = crypto::Identity::generate();
        auto upgraded = co_await detail::upgrade_connection(socket, true, attacker, server.peer_id());
        EXPECT_TRUE(upgraded) << upgraded.error().message();
        if (!upgraded) {
            co_return;
        }
        // 10,000 SYNs on fresh odd ids, never negotiating anything.
        Bytes frames;
        for (std::uint32_t id = 1; id < 20000; id += 2) {
            frames.push_back(0);  // version
            frames.push_back(1);  // window update
            put_u16be(frames, 0x1);  // SYN
            put_u32be(frames, id);
            put_u32be(frames, 0);
        }
        Bytes framed;
        EXPECT_TRUE(upgraded->transport.encrypt(frames, framed));
        co_await write_all(socket, framed);
        EXPECT_TRUE(co_await closed_within(socket, 5s));
    });
}

TEST_F(HostilePeersTest, ManyConnectionsFromOneAddressAreRefusedPastTheLimit) {
    run_attack([&]() -> asio::awaitable<void> {
        // The good peer holds one slot; open raw connections until the host refuses them.
        std::vector<tcp::socket> sockets;
        std::size_t closed = 0;
        const std::size_t limit = HostConfig{}.max_connections_per_ip;
        for (std::size_t i = 0; i < limit + 4; ++i) {
            sockets.push_back(co_await connect_raw(server));
        }
        // Those past the limit are closed at once; the rest stall and hit the deadline.
        for (auto& s : sockets) {
            closed += co_await closed_within(s, HANDSHAKE_TIMEOUT + 2s) ? 1 : 0;
        }
        EXPECT_EQ(closed, sockets.size());
        EXPECT_GE(server.stats().refused_connections, 4u);
    });
}

}  // namespace
}  // namespace chainmesh::net
