// Host benchmarks against raw loopback TCP measured in the same run:
//   1. one stream's throughput over noise + yamux, against a raw TCP stream;
//   2. full upgrades (TCP connect + multistream + noise XX + yamux) per second, against bare
//      TCP connects per second;
//   3. ping round trip over a yamux stream, against a raw TCP 32-byte ping-pong.
// Sender and receiver run on separate io_context threads, as two nodes would.

#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/net/host.hpp>
#include <chainmesh/protocols/ping.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <future>
#include <thread>

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace chainmesh;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view SINK = "/bench/sink/1.0.0";
constexpr std::size_t TRANSFER_BYTES = std::size_t{1} << 30;  // 1 GiB
constexpr std::size_t CHUNK_BYTES = 256 * 1024;
constexpr int HANDSHAKES = 300;
constexpr int PINGS = 2000;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// A thread running an io_context until the guard is released.
struct Node {
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    std::thread thread{[this] { io.run(); }};
    ~Node() {
        work.reset();
        io.stop();
        thread.join();
    }
    // Runs `body` on this node's thread and waits for it. Blocking here is what makes a
    // capturing lambda coroutine safe as `body`: its closure outlives the wait.
    template <class T>
    T run(asio::awaitable<T> body) {
        return asio::co_spawn(io, std::move(body), asio::use_future).get();
    }
};

net::HostConfig loopback() {
    net::HostConfig config;
    config.listen_addrs.push_back(*wire::Multiaddr::parse("/ip4/127.0.0.1/tcp/0"));
    return config;
}

asio::awaitable<void> sink(net::Stream stream) {
    Bytes buffer;
    for (;;) {
        buffer.clear();
        auto n = co_await stream.read_some(buffer, CHUNK_BYTES);
        if (!n || *n == 0) {
            break;
        }
    }
    // One byte back says "all received".
    const std::uint8_t ack = 1;
    co_await stream.write(ByteView(&ack, 1));
    stream.close_write();
}

// Baseline servers. Coroutines that outlive the statement that starts them are plain
// functions: a capturing lambda's captures would die before the coroutine resumes.
asio::awaitable<std::size_t> receive_all(tcp::acceptor& acceptor) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    std::vector<std::uint8_t> buffer(CHUNK_BYTES);
    std::size_t total = 0;
    for (;;) {
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer),
                                                       asio::as_tuple(asio::use_awaitable));
        total += n;
        if (ec) {
            co_return total;
        }
    }
}

asio::awaitable<void> accept_forever(tcp::acceptor& acceptor) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec) {
            co_return;
        }
    }
}

asio::awaitable<void> echo_32_bytes(tcp::acceptor& acceptor) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    std::array<std::uint8_t, 32> buffer{};
    for (;;) {
        auto [ec, n] = co_await asio::async_read(socket, asio::buffer(buffer),
                                                 asio::as_tuple(asio::use_awaitable));
        if (ec) {
            co_return;
        }
        co_await asio::async_write(socket, asio::buffer(buffer), asio::use_awaitable);
    }
}

double raw_tcp_throughput() {
    Node server;
    Node client;
    tcp::acceptor acceptor(server.io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto endpoint = acceptor.local_endpoint();
    auto received = asio::co_spawn(server.io, receive_all(acceptor), asio::use_future);
    const auto start = Clock::now();
    client.run([&]() -> asio::awaitable<void> {
        tcp::socket socket(client.io);
        co_await socket.async_connect(endpoint, asio::use_awaitable);
        std::vector<std::uint8_t> chunk(CHUNK_BYTES, 0x5a);
        for (std::size_t sent = 0; sent < TRANSFER_BYTES; sent += CHUNK_BYTES) {
            co_await asio::async_write(socket, asio::buffer(chunk), asio::use_awaitable);
        }
        socket.shutdown(tcp::socket::shutdown_send);
    }());
    const std::size_t total = received.get();
    return static_cast<double>(total) / seconds_since(start) / 1e6;
}

double host_throughput() {
    Node server_node;
    Node client_node;
    net::Host server(server_node.io, crypto::Identity::generate(), loopback());
    net::Host client(client_node.io, crypto::Identity::generate(), loopback());
    server.set_handler(std::string(SINK), [](net::Stream s) { return sink(std::move(s)); });
    server.start();
    client.start();
    const auto addr = server.listen_addrs().front().with_peer_id(server.peer_id());
    const auto seconds = client_node.run([&]() -> asio::awaitable<double> {
        co_await client.dial(addr);
        std::vector<std::string> protocol{std::string(SINK)};
        auto stream = co_await client.new_stream(server.peer_id(), protocol);
        if (!stream) {
            throw std::runtime_error("cannot open the sink stream");
        }
        Bytes chunk(CHUNK_BYTES, 0x5a);
        const auto start = Clock::now();
        for (std::size_t sent = 0; sent < TRANSFER_BYTES; sent += CHUNK_BYTES) {
            if (!co_await stream->write(chunk)) {
                throw std::runtime_error("write failed");
            }
        }
        stream->close_write();
        Bytes ack;
        co_await stream->read_some(ack, 1);
        co_return seconds_since(start);
    }());
    server_node.run([&]() -> asio::awaitable<void> {
        server.stop();
        co_return;
    }());
    client_node.run([&]() -> asio::awaitable<void> {
        client.stop();
        co_return;
    }());
    return static_cast<double>(TRANSFER_BYTES) / seconds / 1e6;
}

double raw_connects_per_second() {
    Node server;
    Node client;
    tcp::acceptor acceptor(server.io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto endpoint = acceptor.local_endpoint();
    asio::co_spawn(server.io, accept_forever(acceptor), asio::detached);
    const auto start = Clock::now();
    client.run([&]() -> asio::awaitable<void> {
        for (int i = 0; i < HANDSHAKES; ++i) {
            tcp::socket socket(client.io);
            co_await socket.async_connect(endpoint, asio::use_awaitable);
        }
    }());
    const double rate = HANDSHAKES / seconds_since(start);
    server.run([&]() -> asio::awaitable<void> {
        acceptor.close();
        co_return;
    }());
    return rate;
}

double host_handshakes_per_second() {
    Node server_node;
    Node client_node;
    net::HostConfig config = loopback();
    config.max_connections = config.max_inbound_connections = config.max_connections_per_ip =
        HANDSHAKES + 10;
    net::Host server(server_node.io, crypto::Identity::generate(), config);
    server.start();
    const auto addr = server.listen_addrs().front().with_peer_id(server.peer_id());
    const auto start = Clock::now();
    client_node.run([&]() -> asio::awaitable<void> {
        for (int i = 0; i < HANDSHAKES; ++i) {
            // A fresh host per dial: a new identity and a full handshake every time.
            net::Host client(client_node.io, crypto::Identity::generate(), net::HostConfig{});
            client.start();
            if (!co_await client.dial(addr)) {
                throw std::runtime_error("dial failed");
            }
            client.stop();
        }
    }());
    const double rate = HANDSHAKES / seconds_since(start);
    server_node.run([&]() -> asio::awaitable<void> {
        server.stop();
        co_return;
    }());
    return rate;
}

double raw_ping_microseconds() {
    Node server;
    Node client;
    tcp::acceptor acceptor(server.io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto endpoint = acceptor.local_endpoint();
    asio::co_spawn(server.io, echo_32_bytes(acceptor), asio::detached);
    return client.run([&]() -> asio::awaitable<double> {
        tcp::socket socket(client.io);
        co_await socket.async_connect(endpoint, asio::use_awaitable);
        socket.set_option(tcp::no_delay(true));
        std::array<std::uint8_t, 32> buffer{};
        const auto start = Clock::now();
        for (int i = 0; i < PINGS; ++i) {
            co_await asio::async_write(socket, asio::buffer(buffer), asio::use_awaitable);
            co_await asio::async_read(socket, asio::buffer(buffer), asio::use_awaitable);
        }
        co_return seconds_since(start) / PINGS * 1e6;
    }());
}

double host_ping_microseconds() {
    Node server_node;
    Node client_node;
    net::Host server(server_node.io, crypto::Identity::generate(), loopback());
    net::Host client(client_node.io, crypto::Identity::generate(), loopback());
    server.start();
    client.start();
    const auto addr = server.listen_addrs().front().with_peer_id(server.peer_id());
    const double micros = client_node.run([&]() -> asio::awaitable<double> {
        co_await client.dial(addr);
        std::vector<std::string> protocol{std::string(protocols::PING_PROTOCOL_ID)};
        auto stream = co_await client.new_stream(server.peer_id(), protocol);
        if (!stream) {
            throw std::runtime_error("cannot open a ping stream");
        }
        const auto start = Clock::now();
        for (int i = 0; i < PINGS; ++i) {
            if (!co_await net::ping_on_stream(*stream)) {
                throw std::runtime_error("ping failed");
            }
        }
        const double result = seconds_since(start) / PINGS * 1e6;
        stream->close_write();
        client.stop();
        co_return result;
    }());
    server_node.run([&]() -> asio::awaitable<void> {
        server.stop();
        co_return;
    }());
    return micros;
}

}  // namespace

int main() {
    spdlog::set_level(spdlog::level::warn);
    fmt::print("chainmesh host benchmarks (loopback, sender and receiver on separate threads)\n");

    const double raw = raw_tcp_throughput();
    const double host = host_throughput();
    fmt::print("stream throughput, 1 GiB:   noise+yamux {:8.0f} MB/s   raw TCP {:8.0f} MB/s   "
               "ratio {:.2f}\n",
               host, raw, host / raw);

    const double connects = raw_connects_per_second();
    const double handshakes = host_handshakes_per_second();
    fmt::print("connections per second:     full upgrade {:7.0f}/s     raw TCP {:8.0f}/s     "
               "ratio {:.3f}\n",
               handshakes, connects, handshakes / connects);

    const double raw_rtt = raw_ping_microseconds();
    const double host_rtt = host_ping_microseconds();
    fmt::print("ping round trip:            yamux stream {:7.1f} us     raw TCP {:8.1f} us     "
               "ratio {:.2f}\n",
               host_rtt, raw_rtt, host_rtt / raw_rtt);
    return 0;
}
