#include <chainmesh/net/detail/connection.hpp>
#include <chainmesh/net/detail/endpoint.hpp>
#include <chainmesh/net/errors.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace chainmesh::net::detail {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
constexpr std::size_t READ_BUFFER_BYTES = 256 * 1024;
}  // namespace

StreamState::StreamState(std::shared_ptr<Connection> owner, wire::StreamId stream_id)
    : connection(std::move(owner)), id(stream_id), signal(connection->executor()) {}

StreamState::~StreamState() {
    // The last handle is gone. A stream we never half-closed is reset, so it holds no window
    // or slot. One we half-closed is left to finish: a reset would also throw away the data
    // still on its way to the peer, and the peer's FIN (or the connection's end) retires it.
    if (!connection->closed() && !was_reset && !write_closed && connection->yamux().is_open(id)) {
        connection->yamux().reset(id);
        connection->flush();
    }
    connection->forget_stream(id);
}

Connection::Connection(tcp::socket socket, UpgradedConnection upgraded, Direction direction,
                       ConnectionOwner& owner, const HostConfig& config)
    : identify_signal(socket.get_executor()),
      m_socket(std::move(socket)),
      m_transport(std::move(upgraded.transport)),
      m_yamux(direction == Direction::outbound ? wire::YamuxRole::client : wire::YamuxRole::server,
              config.yamux),
      m_remote_peer(std::move(upgraded.remote_peer)),
      m_direction(direction),
      m_owner(owner),
      m_config(config),
      m_initial_plaintext(std::move(upgraded.remainder)),
      m_writer_signal(m_socket.get_executor()),
      m_keepalive_timer(m_socket.get_executor()),
      m_last_received(std::chrono::steady_clock::now()) {
    boost::system::error_code ec;
    const auto endpoint = m_socket.remote_endpoint(ec);
    if (!ec) {
        m_remote_addr = multiaddr_of(endpoint);
        m_remote_ip = endpoint.address().to_string();
    }
    m_socket.set_option(tcp::no_delay(true), ec);
}

void Connection::start() {
    auto self = shared_from_this();
    asio::co_spawn(m_socket.get_executor(), [self]() { return self->read_loop(); }, asio::detached);
    asio::co_spawn(m_socket.get_executor(), [self]() { return self->write_loop(); }, asio::detached);
    asio::co_spawn(m_socket.get_executor(), [self]() { return self->keepalive_loop(); },
                   asio::detached);
}

void Connection::close(const std::string& reason) {
    if (m_closed) {
        return;
    }
    m_closed = true;
    m_close_reason = reason;
    boost::system::error_code ec;
    m_socket.shutdown(tcp::socket::shutdown_both, ec);
    m_socket.close(ec);
    m_keepalive_timer.cancel();
    m_writer_signal.notify();
    identify_done = true;
    identify_signal.notify();
    // Copy first: a woken stream may end and erase itself from the map.
    std::vector<std::shared_ptr<StreamState>> streams;
    for (auto& [id, weak] : m_streams) {
        if (auto stream = weak.lock()) {
            streams.push_back(std::move(stream));
        }
    }
    for (auto& stream : streams) {
        stream->signal.notify();
    }
    m_owner.on_connection_closed(*this, reason);
}

void Connection::close_gracefully(const std::string& reason) {
    if (m_closed || m_closing) {
        return;
    }
    m_closing = true;
    m_close_reason = reason;
    m_yamux.go_away(wire::GoAwayCode::normal);
    m_writer_signal.notify();
}

Result<std::shared_ptr<StreamState>> Connection::open_stream() {
    if (m_closed || m_closing) {
        return NetError::connection_closed;
    }
    auto id = m_yamux.open_stream();
    if (!id) {
        return id.error();
    }
    auto stream = std::make_shared<StreamState>(shared_from_this(), *id);
    m_streams[*id] = stream;
    flush();
    return stream;
}

std::shared_ptr<StreamState> Connection::find_stream(wire::StreamId id) {
    const auto it = m_streams.find(id);
    return it == m_streams.end() ? nullptr : it->second.lock();
}

void Connection::dispatch_events() {
    for (auto& event : m_yamux.take_events()) {
        std::visit(
            [this](auto& e) {
                using E = std::decay_t<decltype(e)>;
                if constexpr (std::is_same_v<E, wire::StreamOpened>) {
                    auto stream = std::make_shared<StreamState>(shared_from_this(), e.id);
                    m_streams[e.id] = stream;
                    m_owner.on_inbound_stream(std::move(stream));
                } else if constexpr (std::is_same_v<E, wire::PingAnswered> ||
                                     std::is_same_v<E, wire::GoAwayReceived>) {
                    // Keep-alive answers only need to arrive; m_last_received covers them.
                } else {
                    if (auto stream = find_stream(e.id)) {
                        if constexpr (std::is_same_v<E, wire::StreamReadClosed>) {
                            stream->peer_closed = true;
                        } else if constexpr (std::is_same_v<E, wire::StreamReset>) {
                            stream->was_reset = true;
                        } else if constexpr (std::is_same_v<E, wire::StreamClosed>) {
                            stream->peer_closed = true;
                        }
                        stream->signal.notify();
                    }
                }
            },
            event);
    }
    if (m_yamux.refused_streams() > m_config.max_refused_streams) {
        close("too many refused stream opens");
    }
}

asio::awaitable<void> Connection::read_loop() {
    auto self = shared_from_this();
    Bytes buffer(READ_BUFFER_BYTES);
    Bytes plaintext;
    plaintext.reserve(READ_BUFFER_BYTES);
    if (!m_initial_plaintext.empty()) {
        if (auto r = m_yamux.on_data(m_initial_plaintext); !r) {
            flush();
            close("yamux: " + r.error().message());
            co_return;
        }
        m_initial_plaintext.clear();
        dispatch_events();
        flush();
    }
    while (!m_closed) {
        auto [ec, n] = co_await m_socket.async_read_some(asio::buffer(buffer),
                                                         asio::as_tuple(asio::use_awaitable));
        if (ec) {
            close(ec == asio::error::eof ? "closed by peer" : "read: " + ec.message());
            co_return;
        }
        m_last_received = std::chrono::steady_clock::now();
        plaintext.clear();
        if (auto r = m_transport.decrypt(ByteView(buffer.data(), n), plaintext); !r) {
            close("noise: " + r.error().message());
            co_return;
        }
        if (plaintext.empty()) {
            continue;
        }
        if (auto r = m_yamux.on_data(plaintext); !r) {
            // The session queued a go-away; give the writer a chance, then cut the connection.
            dispatch_events();
            m_closing = true;
            m_close_reason = "yamux: " + r.error().message();
            flush();
            co_return;
        }
        dispatch_events();
        if (m_yamux.has_output()) {
            flush();
        }
    }
}

asio::awaitable<void> Connection::write_loop() {
    auto self = shared_from_this();
    Bytes plaintext;
    Bytes framed;
    while (!m_closed) {
        if (!m_yamux.has_output()) {
            if (m_closing) {
                close(m_close_reason);
                co_return;
            }
            co_await m_writer_signal.wait();
            continue;
        }
        m_yamux.take_output(plaintext);
        framed.clear();
        if (auto r = m_transport.encrypt(plaintext, framed); !r) {
            close("noise: " + r.error().message());
            co_return;
        }
        auto [ec, n] = co_await asio::async_write(m_socket, asio::buffer(framed),
                                                  asio::as_tuple(asio::use_awaitable));
        if (ec) {
            close("write: " + ec.message());
            co_return;
        }
        // Sending may have drained send queues: let writers waiting on backpressure re-check.
        for (auto& [id, weak] : m_streams) {
            if (auto stream = weak.lock()) {
                stream->signal.notify();
            }
        }
    }
}

asio::awaitable<void> Connection::keepalive_loop() {
    auto self = shared_from_this();
    while (!m_closed) {
        m_keepalive_timer.expires_after(m_config.keepalive_interval);
        co_await m_keepalive_timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (m_closed) {
            co_return;
        }
        if (std::chrono::steady_clock::now() - m_last_received > m_config.idle_timeout) {
            close("idle timeout");
            co_return;
        }
        m_yamux.ping(m_next_ping++);
        flush();
    }
}

}  // namespace chainmesh::net::detail
