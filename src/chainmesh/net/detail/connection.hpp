#pragma once
// One upgraded connection: a socket, its Noise transport and its yamux session, driven by a
// reader coroutine, a writer coroutine and a keep-alive coroutine.
//
// Lifetime: a Connection is shared by its own coroutines and by the StreamStates of its open
// streams (shared_ptr, the usual Asio pattern for objects that detached coroutines use).
// The connection refers to its streams weakly, so dropping the last Stream handle ends it.

#include <chainmesh/crypto/peer_id.hpp>
#include <chainmesh/net/detail/upgrade.hpp>
#include <chainmesh/net/host.hpp>
#include <chainmesh/net/signal.hpp>
#include <chainmesh/protocols/identify.hpp>
#include <chainmesh/wire/multiaddr.hpp>
#include <chainmesh/wire/noise.hpp>
#include <chainmesh/wire/yamux.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace chainmesh::net::detail {

class Connection;

struct StreamState {
    StreamState(std::shared_ptr<Connection> connection, wire::StreamId id);
    ~StreamState();
    StreamState(const StreamState&) = delete;
    StreamState& operator=(const StreamState&) = delete;

    std::shared_ptr<Connection> connection;
    wire::StreamId id;
    std::string protocol;
    Bytes unread;            // bytes that came with the protocol negotiation
    std::size_t unread_offset = 0;
    Signal signal;           // readable, writable, closed or reset
    bool peer_closed = false;  // FIN received
    bool was_reset = false;
    bool write_closed = false;
};

// What a connection asks of its host.
class ConnectionOwner {
public:
    virtual void on_inbound_stream(std::shared_ptr<StreamState> stream) = 0;
    virtual void on_connection_closed(Connection& connection, const std::string& reason) = 0;

protected:
    ~ConnectionOwner() = default;
};

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(boost::asio::ip::tcp::socket socket, UpgradedConnection upgraded,
               Direction direction, ConnectionOwner& owner, const HostConfig& config);

    // Spawns the reader, writer and keep-alive coroutines.
    void start();
    // Idempotent. Wakes every stream; the owner hears of it once.
    void close(const std::string& reason);
    // Says go-away, flushes what is queued, then closes.
    void close_gracefully(const std::string& reason);
    bool closed() const { return m_closed; }

    Result<std::shared_ptr<StreamState>> open_stream();
    void forget_stream(wire::StreamId id) { m_streams.erase(id); }
    // Wakes the writer after the yamux session queued output.
    void flush() { m_writer_signal.notify(); }

    wire::YamuxSession& yamux() { return m_yamux; }
    boost::asio::any_io_executor executor() { return m_socket.get_executor(); }
    const crypto::PeerId& remote_peer() const { return m_remote_peer; }
    Direction direction() const { return m_direction; }
    const wire::Multiaddr& remote_addr() const { return m_remote_addr; }
    const std::string& remote_ip() const { return m_remote_ip; }

    // Identify results, filled in by the host.
    std::optional<protocols::IdentifyMessage> identify_info;
    bool identify_done = false;
    Signal identify_signal;
    std::map<std::string, std::size_t, std::less<>> inbound_streams_by_protocol;

private:
    boost::asio::awaitable<void> read_loop();
    boost::asio::awaitable<void> write_loop();
    boost::asio::awaitable<void> keepalive_loop();
    void dispatch_events();
    std::shared_ptr<StreamState> find_stream(wire::StreamId id);

    boost::asio::ip::tcp::socket m_socket;
    wire::NoiseTransport m_transport;
    wire::YamuxSession m_yamux;
    crypto::PeerId m_remote_peer;
    Direction m_direction;
    wire::Multiaddr m_remote_addr;
    std::string m_remote_ip;
    ConnectionOwner& m_owner;
    const HostConfig& m_config;
    Bytes m_initial_plaintext;

    Signal m_writer_signal;
    // Cancelled by close(), so that a closed connection does not wait a keep-alive interval
    // to release itself (and its host's io_context) after stop().
    boost::asio::steady_timer m_keepalive_timer;
    bool m_closed = false;
    bool m_closing = false;  // graceful close: write what is queued, then close
    std::string m_close_reason;
    std::chrono::steady_clock::time_point m_last_received;
    std::map<wire::StreamId, std::weak_ptr<StreamState>> m_streams;
    std::uint32_t m_next_ping = 1;
};

}  // namespace chainmesh::net::detail
