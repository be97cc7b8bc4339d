// ping and listen: the host from the command line.

#include "commands.hpp"

#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/net/host.hpp>
#include <chainmesh/net/timeout.hpp>
#include <chainmesh/protocols/ping.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <stdexcept>

namespace chainmesh::app {

namespace asio = boost::asio;

namespace {

wire::Multiaddr parse_multiaddr(const std::string& text, const std::string& what) {
    auto addr = wire::Multiaddr::parse(text);
    if (!addr) {
        throw std::runtime_error("bad " + what + " '" + text + "': " + addr.error().message());
    }
    return *addr;
}

double to_ms(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; }

// Runs `body` on a fresh io_context until it finishes or SIGINT/SIGTERM arrives.
int run_until_done(asio::io_context& io, asio::awaitable<int> body) {
    int exit_code = 1;
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (!ec) {
            exit_code = 130;
            io.stop();
        }
    });
    asio::co_spawn(io, std::move(body), [&](std::exception_ptr error, int code) {
        signals.cancel();
        if (error) {
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                std::cerr << "chainmesh: " << e.what() << "\n";
                code = 1;
            }
        }
        exit_code = code;
        io.stop();
    });
    io.run();
    return exit_code;
}

}  // namespace

Command add_ping_command(CLI::App& app) {
    struct Options {
        std::string address;
        int count = 4;
        double interval_s = 1.0;
        double timeout_s = 10.0;
        std::string key;
    };
    auto options = std::make_shared<Options>();
    app.add_option("address", options->address,
                   "the peer, as /ip4/<ip>/tcp/<port>/p2p/<peer id> (or dns4, ip6)")
        ->required();
    app.add_option("-c,--count", options->count, "how many pings")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    app.add_option("-i,--interval", options->interval_s, "seconds between pings")
        ->check(CLI::Range(0.0, 3600.0))
        ->capture_default_str();
    app.add_option("--timeout", options->timeout_s, "seconds to wait for the dial and each pong")
        ->check(CLI::Range(0.1, 3600.0))
        ->capture_default_str();
    app.add_option("--key", options->key, "dial with this key (default: a fresh one)");
    return [options]() -> int {
        const auto addr = parse_multiaddr(options->address, "address");
        const auto peer = addr.peer_id();
        if (!peer) {
            throw std::runtime_error("address '" + options->address +
                                     "' must end in /p2p/<peer id>, so the peer can be "
                                     "authenticated");
        }
        crypto::Identity identity = options->key.empty()
                                        ? crypto::Identity::generate()
                                        : crypto::Identity(crypto::load_key_file(options->key));
        asio::io_context io;
        net::HostConfig config;
        const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::duration<double>(options->timeout_s));
        config.dial_timeout = timeout;
        config.handshake_timeout = timeout;
        net::Host host(io, std::move(identity), config);
        host.start();

        auto body = [](net::Host& h, wire::Multiaddr target, crypto::PeerId remote,
                       std::shared_ptr<Options> opts,
                       std::chrono::milliseconds limit) -> asio::awaitable<int> {
            auto dialed = co_await h.dial(target);
            if (!dialed) {
                std::cerr << "chainmesh: cannot reach " << target.to_string() << ": "
                          << dialed.error().message() << "\n";
                co_return 1;
            }
            std::vector<std::string> ping_protocol{std::string(protocols::PING_PROTOCOL_ID)};
            auto stream = co_await net::with_timeout(h.new_stream(remote, ping_protocol), limit);
            if (!stream) {
                std::cerr << "chainmesh: " << remote.to_string()
                          << " did not open a ping stream: " << stream.error().message() << "\n";
                co_return 1;
            }
            std::cout << "PING " << target.to_string() << "\n" << std::flush;
            std::vector<double> rtts;
            asio::steady_timer pause(co_await asio::this_coro::executor);
            for (int i = 0; i < opts->count; ++i) {
                if (i > 0) {
                    pause.expires_after(std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::duration<double>(opts->interval_s)));
                    co_await pause.async_wait(asio::use_awaitable);
                }
                auto rtt = co_await net::with_timeout(net::ping_on_stream(*stream), limit);
                if (!rtt) {
                    std::cout << "ping " << i + 1 << ": " << rtt.error().message() << "\n";
                    break;
                }
                rtts.push_back(to_ms(*rtt));
                std::cout << fmt::format("pong from {}: seq={} time={:.3f} ms\n",
                                         remote.to_string(), i + 1, rtts.back())
                          << std::flush;
            }
            stream->close_write();
            const auto received = rtts.size();
            const auto sent = static_cast<std::size_t>(opts->count);
            std::cout << fmt::format("--- {} ping statistics ---\n", remote.to_string());
            std::cout << fmt::format("{} sent, {} received, {:.0f}% loss", sent, received,
                                     100.0 * static_cast<double>(sent - received) /
                                         static_cast<double>(sent));
            if (!rtts.empty()) {
                double sum = 0;
                for (double r : rtts) {
                    sum += r;
                }
                std::cout << fmt::format(", rtt min/avg/max = {:.3f}/{:.3f}/{:.3f} ms",
                                         *std::min_element(rtts.begin(), rtts.end()),
                                         sum / static_cast<double>(rtts.size()),
                                         *std::max_element(rtts.begin(), rtts.end()));
            }
            std::cout << "\n";
            h.stop();
            co_return received == sent ? 0 : 1;
        };
        return run_until_done(io, body(host, addr, *peer, options, timeout));
    };
}

Command add_listen_command(CLI::App& app) {
    struct Options {
        std::vector<std::string> listen{"/ip4/0.0.0.0/tcp/4001"};
        std::filesystem::path key = default_key_path();
    };
    auto options = std::make_shared<Options>();
    app.add_option("-l,--listen", options->listen, "a multiaddr to listen on (repeatable)")
        ->capture_default_str();
    app.add_option("--key", options->key, "the node key (created if missing)")
        ->capture_default_str();
    return [options]() -> int {
        net::HostConfig config;
        for (const auto& text : options->listen) {
            config.listen_addrs.push_back(parse_multiaddr(text, "listen address"));
        }
        crypto::Identity identity(crypto::load_or_create_key_file(options->key));
        asio::io_context io;
        net::Host host(io, std::move(identity), config);
        host.start();
        host.add_listener([&host](const net::HostEvent& event) {
            if (const auto* c = std::get_if<net::PeerConnected>(&event)) {
                spdlog::info("peer connected: {} ({} {}), {} peers", c->peer.to_string(),
                             c->direction == net::Direction::inbound ? "from" : "to",
                             c->remote_addr.to_string(), host.connected_peers().size());
            } else if (const auto* i = std::get_if<net::PeerIdentified>(&event)) {
                spdlog::info("peer identified: {} agent={} protocols={}", i->peer.to_string(),
                             i->info.agent_version.value_or("?"), i->info.protocols.size());
            } else if (const auto* d = std::get_if<net::PeerDisconnected>(&event)) {
                spdlog::info("peer disconnected: {} ({}), {} peers", d->peer.to_string(),
                             d->reason, host.connected_peers().size());
            }
        });
        std::cout << "peer id " << host.peer_id().to_string() << "\n";
        for (const auto& addr : host.listen_addrs()) {
            std::cout << "listening on " << addr.with_peer_id(host.peer_id()).to_string() << "\n";
        }
        std::cout << std::flush;
        asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](const boost::system::error_code& ec, int) {
            if (!ec) {
                spdlog::info("stopping");
                host.stop();
                // Give the go-aways a moment to leave, then end.
                auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(200));
                timer->async_wait([timer, &io](const boost::system::error_code&) { io.stop(); });
            }
        });
        io.run();
        return 0;
    };
}

}  // namespace chainmesh::app
