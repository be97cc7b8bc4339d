#pragma once
// The host: libp2p connections over TCP, driven by Boost.Asio C++20 coroutines.
//
// Every connection goes through the upgrade pipeline multistream → noise → multistream →
// yamux (libp2p-interop.md §1), then both sides run identify; inbound streams are negotiated
// with multistream and handed to the handler registered for their protocol; the host serves
// identify (and push) and ping itself.
//
// Threading: one io_context thread runs the host and every engine it drives; nothing here
// takes a lock. Callers use the host from coroutines on that thread (or post to it).
//
// Limits (HostConfig): connections in total, inbound, outbound and per remote IP; yamux streams
// per connection; deadlines for dialing, the whole upgrade, each stream's protocol
// negotiation, and idleness (no bytes from a peer for idle_timeout while keep-alive pings go
// out every keepalive_interval). A peer past a bound is refused or cut off; the host runs on.

#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/crypto/peer_id.hpp>
#include <chainmesh/net/stream.hpp>
#include <chainmesh/protocols/identify.hpp>
#include <chainmesh/util/result.hpp>
#include <chainmesh/wire/multiaddr.hpp>
#include <chainmesh/wire/yamux.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace chainmesh::net {

using namespace std::chrono_literals;

inline constexpr std::string_view CHAINMESH_AGENT_VERSION = "chainmesh/0.1.0";

struct HostConfig {
    std::vector<wire::Multiaddr> listen_addrs;
    std::string agent_version{CHAINMESH_AGENT_VERSION};
    std::chrono::milliseconds dial_timeout = 10s;
    std::chrono::milliseconds handshake_timeout = 10s;       // the whole upgrade pipeline
    std::chrono::milliseconds stream_negotiation_timeout = 10s;
    std::chrono::milliseconds identify_timeout = 10s;
    std::chrono::milliseconds keepalive_interval = 15s;
    std::chrono::milliseconds idle_timeout = 60s;            // nothing received for this long
    std::size_t max_connections = 256;
    std::size_t max_inbound_connections = 192;
    std::size_t max_outbound_connections = 128;
    std::size_t max_connections_per_ip = 16;
    // A peer that has this many stream opens refused is disconnected: a flood, not a burst.
    std::size_t max_refused_streams = 1024;
    // A stream's window grows only while the application keeps up, but a peer could still
    // pin max_streams × max_receive_window: 4 MiB keeps that to 1 GiB per connection at worst
    // while still filling a loopback or LAN pipe.
    wire::YamuxConfig yamux{.max_receive_window = 4 * 1024 * 1024};
};

enum class Direction { inbound, outbound };

struct PeerConnected {
    crypto::PeerId peer;
    Direction direction;
    wire::Multiaddr remote_addr;
};
struct PeerIdentified {
    crypto::PeerId peer;
    protocols::IdentifyMessage info;
};
struct PeerDisconnected {
    crypto::PeerId peer;
    std::string reason;
};
using HostEvent = std::variant<PeerConnected, PeerIdentified, PeerDisconnected>;

// Counters for logs, the API and tests.
struct HostStats {
    std::size_t connections = 0;
    std::size_t inbound = 0;
    std::size_t outbound = 0;
    std::size_t refused_connections = 0;   // over a connection limit
    std::size_t failed_handshakes = 0;     // upgrade errors and timeouts
    std::size_t idle_disconnects = 0;
};

class Host {
public:
    // Runs a handler for a negotiated inbound stream; the stream is closed when it returns.
    using StreamHandler = std::function<boost::asio::awaitable<void>(Stream)>;
    using EventListener = std::function<void(const HostEvent&)>;

    Host(boost::asio::io_context& io, crypto::Identity identity, HostConfig config);
    ~Host();
    Host(const Host&) = delete;
    Host& operator=(const Host&) = delete;

    // Binds every listen address. Throws std::runtime_error naming the address it could not bind.
    void start();
    // Stops listening, says go-away on every connection and closes them.
    void stop();

    const crypto::PeerId& peer_id() const;
    const crypto::Identity& identity() const;
    // The bound addresses (port 0 resolved), without /p2p/.
    std::vector<wire::Multiaddr> listen_addrs() const;

    void set_handler(std::string protocol, StreamHandler handler);
    std::vector<std::string> protocols() const;
    void add_listener(EventListener listener);

    // Connects to `addr` (which may end in /p2p/<id>: then the remote must prove that id), or
    // returns the existing connection's peer. Waits for the upgrade, not for identify.
    boost::asio::awaitable<Result<crypto::PeerId>> dial(wire::Multiaddr addr);
    // Waits until identify with `peer` completed (or failed) and returns what it told us.
    boost::asio::awaitable<Result<protocols::IdentifyMessage>> wait_identified(crypto::PeerId peer);
    // Opens a stream to a connected peer, proposing `protocols` in order.
    boost::asio::awaitable<Result<Stream>> new_stream(crypto::PeerId peer,
                                                      std::vector<std::string> protocols);
    // One ping over a fresh stream; the round-trip time.
    boost::asio::awaitable<Result<std::chrono::nanoseconds>> ping(crypto::PeerId peer);

    void disconnect(const crypto::PeerId& peer, const std::string& reason);
    bool is_connected(const crypto::PeerId& peer) const;
    std::vector<crypto::PeerId> connected_peers() const;
    std::optional<protocols::IdentifyMessage> peer_info(const crypto::PeerId& peer) const;
    HostStats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// One ping exchange on an open ping stream: writes 32 random bytes, reads the echo.
boost::asio::awaitable<Result<std::chrono::nanoseconds>> ping_on_stream(Stream& stream);

}  // namespace chainmesh::net
