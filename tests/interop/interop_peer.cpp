// chainmesh_interop_peer: the C++ side of the interop tests, with the same command line and
// JSON-lines output as js_peer.mjs, so scenario.mjs can put either in either role.
//
//   chainmesh_interop_peer listen [--listen ADDR] [--connect ADDR]... [--gossip TOPIC]
//   chainmesh_interop_peer dial ADDR [--listen ADDR] [--connect ADDR]... [--gossip TOPIC]
//                                    [--ping N] [--echo-bytes B] [--echo-streams S]
//
// Serves ping, identify and the echo protocol /chainmesh/echo/1.0.0. Listen mode runs until
// stdin closes; dial mode exits 0 after its checks pass, 1 on the first failure. With
// --gossip, the peer joins the topic, prints gossip and mesh events, answers the JSON-line
// commands publish, scores and mesh from stdin, and runs until stdin closes in either mode
// (the contract is in README.md).

#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/net/host.hpp>
#include <chainmesh/net/signal.hpp>
#include <chainmesh/net/timeout.hpp>
#include <chainmesh/node/gossip_service.hpp>
#include <chainmesh/util/log.hpp>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <iostream>
#include <random>

namespace asio = boost::asio;
using namespace chainmesh;
using nlohmann::json;

namespace {

constexpr std::string_view ECHO_PROTOCOL_ID = "/chainmesh/echo/1.0.0";
constexpr std::size_t ECHO_CHUNK_BYTES = 64 * 1024;

void emit(const json& event) { std::cout << event.dump() << "\n" << std::flush; }

std::uint8_t pattern_byte(std::size_t i, std::size_t stream) {
    return static_cast<std::uint8_t>((i * 31 + stream * 7) & 0xff);
}

json identified_event(const crypto::PeerId& peer, const protocols::IdentifyMessage& info) {
    json addrs = json::array();
    for (const auto& a : info.listen_addrs) {
        addrs.push_back(a.to_string());
    }
    return {{"event", "identified"},
            {"peer_id", peer.to_string()},
            {"agent_version", info.agent_version.value_or("")},
            {"protocol_version", info.protocol_version.value_or("")},
            {"protocols", info.protocols},
            {"listen_addrs", addrs},
            {"observed_addr", info.observed_addr ? info.observed_addr->to_string() : ""}};
}

asio::awaitable<void> serve_echo(net::Stream stream) {
    Bytes buffer;
    for (;;) {
        buffer.clear();
        auto n = co_await stream.read_some(buffer, ECHO_CHUNK_BYTES);
        if (!n || *n == 0) {
            break;
        }
        if (!co_await stream.write(buffer)) {
            co_return;
        }
    }
    stream.close_write();
}

asio::awaitable<Result<void>> echo_write(net::Stream stream, std::size_t bytes, std::size_t k) {
    Bytes chunk;
    for (std::size_t sent = 0; sent < bytes;) {
        const std::size_t n = std::min(ECHO_CHUNK_BYTES, bytes - sent);
        chunk.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            chunk[i] = pattern_byte(sent + i, k);
        }
        if (auto w = co_await stream.write(chunk); !w) {
            co_return w.error();
        }
        sent += n;
    }
    stream.close_write();
    co_return Result<void>{};
}

asio::awaitable<Result<void>> echo_read(net::Stream stream, std::size_t bytes, std::size_t k) {
    Bytes buffer;
    std::size_t received = 0;
    for (;;) {
        buffer.clear();
        auto n = co_await stream.read_some(buffer, ECHO_CHUNK_BYTES);
        if (!n) {
            co_return n.error();
        }
        if (*n == 0) {
            break;
        }
        for (std::size_t i = 0; i < *n; ++i) {
            if (received + i >= bytes || buffer[i] != pattern_byte(received + i, k)) {
                co_return net::NetError::ping_mismatch;
            }
        }
        received += *n;
    }
    if (received != bytes) {
        co_return net::NetError::stream_closed;
    }
    co_return Result<void>{};
}

asio::awaitable<std::string> echo_one(net::Host& host, crypto::PeerId peer, std::size_t bytes,
                                      std::size_t k) {
    using namespace asio::experimental::awaitable_operators;
    std::vector<std::string> protocol{std::string(ECHO_PROTOCOL_ID)};
    auto stream = co_await host.new_stream(peer, protocol);
    if (!stream) {
        co_return "open echo stream: " + stream.error().message();
    }
    auto [written, read] = co_await (echo_write(*stream, bytes, k) && echo_read(*stream, bytes, k));
    if (!written) {
        co_return "echo write: " + written.error().message();
    }
    if (!read) {
        co_return "echo read (byte mismatch or short): " + read.error().message();
    }
    co_return std::string();
}

struct Options {
    std::string mode;
    std::string target;
    std::vector<std::string> listen{"/ip4/127.0.0.1/tcp/0"};
    std::vector<std::string> connect;
    std::string gossip_topic;
    int pings = 0;
    std::size_t echo_bytes = 0;
    std::size_t echo_streams = 1;
};

// The gossip side of the contract: events for deliveries and mesh changes, and the stdin
// commands. Scores use the router's own parameters (small local-test mesh, IP colocation off).
class GossipPeer {
public:
    GossipPeer(asio::io_context& io, net::Host& host, asio::thread_pool& workers, std::string topic)
        : m_host(host),
          m_service(io, host, config(topic), Rng(std::random_device{}()), workers),
          m_topic(std::move(topic)) {
        m_service.start();
        m_service.subscribe(m_topic, [this](const pubsub::DeliverMessage& m) {
            if (m.author && *m.author == m_host.peer_id()) {
                return;  // our own publish
            }
            emit({{"event", "gossip"},
                  {"topic", m.topic},
                  {"data", std::string(as_string(m.data))},
                  {"from", m.author ? m.author->to_string() : ""}});
        });
        m_service.add_heartbeat_listener([this] { print_mesh_if_changed(); });
    }

    // Returns false on a command the contract does not allow.
    bool handle(const std::string& line) {
        const json command = json::parse(line, nullptr, false);
        if (command.is_discarded() || !command.is_object() || !command.contains("cmd")) {
            return false;
        }
        const std::string cmd = command["cmd"].is_string() ? command["cmd"].get<std::string>() : "";
        if (cmd == "publish") {
            if (!command.contains("data") || !command["data"].is_string() ||
                command.value("topic", std::string()) != m_topic) {
                return false;
            }
            const std::string data = command["data"];
            if (!m_service.publish(m_topic, to_bytes(data))) {
                return false;
            }
            emit({{"event", "published"}, {"topic", m_topic}, {"data", data}});
        } else if (cmd == "scores") {
            json scores = json::object();
            for (const auto& peer : m_host.connected_peers()) {
                scores[peer.to_string()] = m_service.router().score(peer);
            }
            emit({{"event", "scores"}, {"scores", scores}});
        } else if (cmd == "mesh") {
            m_printed_mesh = mesh();
            emit({{"event", "mesh"}, {"topic", m_topic}, {"peers", m_printed_mesh}});
        } else {
            return false;
        }
        return true;
    }

private:
    // Mirrors the js peer's scoring so "nobody scores anyone below 0" means the same on both
    // sides: small rewards, and penalties that cost 10 and last minutes.
    static pubsub::GossipConfig config(const std::string& topic) {
        pubsub::GossipConfig c;
        c.d = 4;
        c.d_lo = 2;
        c.d_hi = 6;
        c.d_out = 1;
        c.d_lazy = 4;
        c.d_score = 2;
        c.heartbeat_interval = std::chrono::milliseconds(700);
        c.flood_publish = false;  // messages must travel the mesh, as the js peer's do
        c.score.ip_colocation_factor_weight = 0;
        pubsub::TopicScoreParams params;
        params.first_message_deliveries_weight = 0.01;
        params.first_message_deliveries_cap = 100;
        c.score.topics[topic] = params;
        return c;
    }

    std::vector<std::string> mesh() const {
        std::vector<std::string> peers;
        for (const auto& peer : m_service.router().mesh_peers(m_topic)) {
            peers.push_back(peer.to_string());
        }
        std::sort(peers.begin(), peers.end());
        return peers;
    }

    void print_mesh_if_changed() {
        auto now = mesh();
        if (now != m_printed_mesh) {
            m_printed_mesh = now;
            emit({{"event", "mesh"}, {"topic", m_topic}, {"peers", now}});
        }
    }

    net::Host& m_host;
    node::GossipService m_service;
    std::string m_topic;
    std::vector<std::string> m_printed_mesh;
};

asio::awaitable<bool> connect_all(net::Host& host, const Options& options) {
    for (const auto& text : options.connect) {
        auto addr = wire::Multiaddr::parse(text);
        if (!addr || !addr->peer_id()) {
            emit({{"event", "error"}, {"message", "bad --connect address " + text}});
            co_return false;
        }
        auto dialed = co_await net::with_timeout(host.dial(*addr), std::chrono::seconds(30));
        if (!dialed) {
            emit({{"event", "error"}, {"message", "connect " + text + ": " + dialed.error().message()}});
            co_return false;
        }
    }
    co_return true;
}

// Reads stdin until it closes, handing each line to the gossip peer (when there is one).
asio::awaitable<int> serve_stdin(GossipPeer* gossip) {
    asio::posix::stream_descriptor input(co_await asio::this_coro::executor, ::dup(STDIN_FILENO));
    asio::streambuf buffer(64 * 1024);
    for (;;) {
        auto [ec, n] = co_await asio::async_read_until(input, buffer, '\n',
                                                       asio::as_tuple(asio::use_awaitable));
        if (ec) {
            co_return 0;
        }
        std::string line(asio::buffers_begin(buffer.data()),
                         asio::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(n));
        buffer.consume(n);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
            line.pop_back();
        }
        if (line.empty() || gossip == nullptr) {
            continue;
        }
        if (!gossip->handle(line)) {
            emit({{"event", "error"}, {"message", "bad command: " + line}});
            co_return 1;
        }
    }
}

asio::awaitable<int> run_dial(net::Host& host, const Options& options, GossipPeer* gossip) {
    auto addr = wire::Multiaddr::parse(options.target);
    if (!addr || !addr->peer_id()) {
        emit({{"event", "error"}, {"message", "bad dial address " + options.target}});
        co_return 1;
    }
    const crypto::PeerId peer = *addr->peer_id();
    auto dialed = co_await host.dial(*addr);
    if (!dialed) {
        emit({{"event", "error"}, {"message", "dial: " + dialed.error().message()}});
        co_return 1;
    }
    const bool connected = co_await connect_all(host, options);
    if (!connected) {
        co_return 1;
    }
    auto info = co_await host.wait_identified(peer);
    if (!info) {
        emit({{"event", "error"}, {"message", "identify: " + info.error().message()}});
        co_return 1;
    }
    for (int i = 0; i < options.pings; ++i) {
        auto rtt = co_await host.ping(peer);
        if (!rtt) {
            emit({{"event", "error"}, {"message", "ping: " + rtt.error().message()}});
            co_return 1;
        }
        emit({{"event", "ping"}, {"rtt_ms", static_cast<double>(rtt->count()) / 1e6}});
    }
    if (options.echo_bytes > 0) {
        auto executor = co_await asio::this_coro::executor;
        net::Signal finished(executor);
        std::size_t remaining = options.echo_streams;
        std::string failure;
        for (std::size_t k = 0; k < options.echo_streams; ++k) {
            asio::co_spawn(executor, echo_one(host, peer, options.echo_bytes, k),
                           [&](std::exception_ptr error, std::string message) {
                               if (error) {
                                   message = "echo task threw";
                               }
                               if (!message.empty() && failure.empty()) {
                                   failure = message;
                               }
                               --remaining;
                               finished.notify();
                           });
        }
        while (remaining > 0) {
            co_await finished.wait();
        }
        if (!failure.empty()) {
            emit({{"event", "error"}, {"message", failure}});
            co_return 1;
        }
        emit({{"event", "echo"},
              {"streams", options.echo_streams},
              {"bytes", options.echo_bytes},
              {"ok", true}});
    }
    emit({{"event", "done"}});
    if (gossip != nullptr) {
        const int code = co_await serve_stdin(gossip);
        co_return code;
    }
    co_return 0;
}

// Listen mode ends when stdin closes, so a parent that dies takes its peers with it.
asio::awaitable<int> run_listen(net::Host& host, const Options& options, GossipPeer* gossip) {
    // Named results: GCC 12 miscompiles some co_await expressions inside conditions.
    const bool connected = co_await connect_all(host, options);
    if (!connected) {
        co_return 1;
    }
    const int code = co_await serve_stdin(gossip);
    co_return code;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"chainmesh interop peer"};
    Options options;
    app.require_subcommand(1);
    auto* listen = app.add_subcommand("listen", "listen and serve");
    auto* dial = app.add_subcommand("dial", "dial, check, exit");
    for (auto* sub : {listen, dial}) {
        sub->add_option("--listen", options.listen, "listen address");
        sub->add_option("--connect", options.connect, "also dial these (repeatable)");
        sub->add_option("--gossip", options.gossip_topic, "join this gossipsub topic");
    }
    dial->add_option("address", options.target)->required();
    dial->add_option("--ping", options.pings);
    dial->add_option("--echo-bytes", options.echo_bytes);
    dial->add_option("--echo-streams", options.echo_streams);
    CLI11_PARSE(app, argc, argv);
    util::setup_logging(util::LogFormat::human, "warn");

    net::HostConfig config;
    for (const auto& text : options.listen) {
        auto addr = wire::Multiaddr::parse(text);
        if (!addr) {
            emit({{"event", "error"}, {"message", "bad listen address " + text}});
            return 1;
        }
        config.listen_addrs.push_back(*addr);
    }
    asio::io_context io;
    net::Host host(io, crypto::Identity::generate(), config);
    host.set_handler(std::string(ECHO_PROTOCOL_ID),
                     [](net::Stream stream) { return serve_echo(std::move(stream)); });
    host.add_listener([](const net::HostEvent& event) {
        if (const auto* i = std::get_if<net::PeerIdentified>(&event)) {
            emit(identified_event(i->peer, i->info));
        }
    });
    asio::thread_pool workers(2);
    std::unique_ptr<GossipPeer> gossip;
    if (!options.gossip_topic.empty()) {
        gossip = std::make_unique<GossipPeer>(io, host, workers, options.gossip_topic);
    }
    host.start();
    json addrs = json::array();
    for (const auto& a : host.listen_addrs()) {
        addrs.push_back(a.with_peer_id(host.peer_id()).to_string());
    }
    emit({{"event", "listening"}, {"peer_id", host.peer_id().to_string()}, {"addrs", addrs}});

    int exit_code = 1;
    auto body = dial->parsed() ? run_dial(host, options, gossip.get())
                               : run_listen(host, options, gossip.get());
    asio::co_spawn(io, std::move(body), [&](std::exception_ptr error, int code) {
        exit_code = error ? 1 : code;
        host.stop();
        io.stop();
    });
    asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (!ec) {
            exit_code = 0;
            io.stop();
        }
    });
    io.run();
    workers.join();
    return exit_code;
}
