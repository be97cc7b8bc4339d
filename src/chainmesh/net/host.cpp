#include <chainmesh/net/detail/connection.hpp>
#include <chainmesh/net/detail/endpoint.hpp>
#include <chainmesh/net/detail/upgrade.hpp>
#include <chainmesh/net/errors.hpp>
#include <chainmesh/net/host.hpp>
#include <chainmesh/net/timeout.hpp>
#include <chainmesh/protocols/ping.hpp>
#include <chainmesh/wire/multistream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <ifaddrs.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <map>
#include <stdexcept>

namespace chainmesh::net {

namespace asio = boost::asio;
using asio::ip::tcp;
using detail::Connection;
using detail::multiaddr_of;
using detail::StreamState;

namespace {

// A completion token for detached coroutines that logs what escaped them instead of
// swallowing it (asio::detached would).
auto log_failure(std::string what) {
    return [what = std::move(what)](const std::exception_ptr& error) {
        if (!error) {
            return;
        }
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            spdlog::error("{}: {}", what, e.what());
        }
    };
}


// The machine's addresses of one family, for listeners bound to the unspecified address.
std::vector<asio::ip::address> interface_addresses(bool v6) {
    std::vector<asio::ip::address> out;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) {
        return out;
    }
    for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
        if (it->ifa_addr == nullptr) {
            continue;
        }
        if (!v6 && it->ifa_addr->sa_family == AF_INET) {
            const auto* in = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
            out.emplace_back(asio::ip::address_v4(ntohl(in->sin_addr.s_addr)));
        } else if (v6 && it->ifa_addr->sa_family == AF_INET6) {
            const auto* in6 = reinterpret_cast<const sockaddr_in6*>(it->ifa_addr);
            asio::ip::address_v6::bytes_type bytes;
            std::memcpy(bytes.data(), in6->sin6_addr.s6_addr, bytes.size());
            const asio::ip::address_v6 address(bytes, in6->sin6_scope_id);
            if (!address.is_link_local()) {
                out.emplace_back(address);
            }
        }
    }
    ::freeifaddrs(list);
    return out;
}

template <class Negotiator>
asio::awaitable<Result<wire::NegotiationStep>> negotiate_on_stream(Stream& stream,
                                                                   Negotiator& negotiator) {
    if (auto w = co_await stream.write(negotiator.start()); !w) {
        co_return w.error();
    }
    Bytes input;
    for (;;) {
        input.clear();
        auto n = co_await stream.read_some(input, wire::MULTISTREAM_MAX_MESSAGE_BYTES + 16);
        if (!n) {
            co_return n.error();
        }
        if (*n == 0) {
            co_return NetError::stream_closed;
        }
        auto step = negotiator.on_data(input);
        if (!step) {
            co_return step.error();
        }
        if (!step->output.empty()) {
            if (auto w = co_await stream.write(step->output); !w) {
                co_return w.error();
            }
        }
        if (step->protocol) {
            co_return std::move(*step);
        }
    }
}

}  // namespace

struct Host::Impl final : detail::ConnectionOwner {
    Impl(asio::io_context& io_context, crypto::Identity id, HostConfig host_config)
        : io(io_context), identity(std::move(id)), config(std::move(host_config)) {}

    asio::io_context& io;
    crypto::Identity identity;
    HostConfig config;
    bool running = false;
    std::vector<tcp::acceptor> acceptors;
    std::map<std::string, StreamHandler, std::less<>> handlers;
    std::vector<EventListener> listeners;
    std::map<crypto::PeerId, std::vector<std::shared_ptr<Connection>>> connections;
    std::map<std::string, std::size_t> connections_per_ip;  // inbound, handshakes included
    std::size_t pending_inbound = 0;
    std::size_t pending_outbound = 0;
    HostStats stats;

    void emit(const HostEvent& event) {
        const auto copy = listeners;  // a listener may add listeners
        for (const auto& listener : copy) {
            listener(event);
        }
    }

    std::vector<std::string> protocol_list() const {
        std::vector<std::string> out;
        for (const auto& [protocol, handler] : handlers) {
            out.push_back(protocol);
        }
        return out;
    }

    std::vector<wire::Multiaddr> bound_addrs() const {
        std::vector<wire::Multiaddr> out;
        for (const auto& acceptor : acceptors) {
            boost::system::error_code ec;
            const auto endpoint = acceptor.local_endpoint(ec);
            if (ec) {
                continue;
            }
            if (endpoint.address().is_unspecified()) {
                for (const auto& address : interface_addresses(endpoint.address().is_v6())) {
                    out.push_back(multiaddr_of(tcp::endpoint(address, endpoint.port())));
                }
            } else {
                out.push_back(multiaddr_of(endpoint));
            }
        }
        return out;
    }

    std::shared_ptr<Connection> connection_to(const crypto::PeerId& peer) const {
        const auto it = connections.find(peer);
        if (it == connections.end()) {
            return nullptr;
        }
        for (const auto& connection : it->second) {
            if (!connection->closed()) {
                return connection;
            }
        }
        return nullptr;
    }

    std::size_t connection_count() const {
        std::size_t n = 0;
        for (const auto& [peer, list] : connections) {
            n += list.size();
        }
        return n;
    }

    // --- connections ---

    void add_connection(tcp::socket socket, detail::UpgradedConnection upgraded,
                        Direction direction) {
        const crypto::PeerId peer = upgraded.remote_peer;
        auto connection = std::make_shared<Connection>(std::move(socket), std::move(upgraded),
                                                       direction, *this, config);
        connections[peer].push_back(connection);
        ++stats.connections;
        ++(direction == Direction::inbound ? stats.inbound : stats.outbound);
        connection->start();
        spdlog::debug("connected {} {} at {}", direction == Direction::inbound ? "from" : "to",
                      peer.to_string(), connection->remote_addr().to_string());
        emit(PeerConnected{peer, direction, connection->remote_addr()});
        asio::co_spawn(io, run_identify(connection), log_failure("identify"));
    }

    void on_connection_closed(Connection& closed, const std::string& reason) override {
        const auto it = connections.find(closed.remote_peer());
        if (it == connections.end()) {
            return;
        }
        auto& list = it->second;
        const auto found = std::find_if(list.begin(), list.end(),
                                        [&](const auto& c) { return c.get() == &closed; });
        if (found == list.end()) {
            return;
        }
        // Keep the connection alive until this function returns: the caller is inside it.
        const std::shared_ptr<Connection> keep = *found;
        list.erase(found);
        if (list.empty()) {
            connections.erase(it);
        }
        --stats.connections;
        if (closed.direction() == Direction::inbound) {
            --stats.inbound;
            release_ip(closed.remote_ip());
        } else {
            --stats.outbound;
        }
        if (reason == "idle timeout") {
            ++stats.idle_disconnects;
        }
        spdlog::debug("disconnected {}: {}", closed.remote_peer().to_string(), reason);
        emit(PeerDisconnected{closed.remote_peer(), reason});
    }

    void release_ip(const std::string& ip) {
        const auto it = connections_per_ip.find(ip);
        if (it != connections_per_ip.end() && --it->second == 0) {
            connections_per_ip.erase(it);
        }
    }

    // --- listening ---

    asio::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
        while (running) {
            auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec) {
                if (!running || ec == asio::error::operation_aborted) {
                    co_return;
                }
                // Out of file descriptors and the like: pause instead of spinning.
                asio::steady_timer pause(io, std::chrono::milliseconds(100));
                co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
                continue;
            }
            boost::system::error_code endpoint_error;
            const auto remote = socket.remote_endpoint(endpoint_error);
            if (endpoint_error) {
                continue;
            }
            const std::string ip = remote.address().to_string();
            const std::size_t from_ip = connections_per_ip.count(ip) ? connections_per_ip[ip] : 0;
            if (connection_count() + pending_inbound + pending_outbound >= config.max_connections ||
                stats.inbound + pending_inbound >= config.max_inbound_connections ||
                from_ip >= config.max_connections_per_ip) {
                ++stats.refused_connections;
                spdlog::debug("refused connection from {}: connection limit", ip);
                boost::system::error_code ignored;
                socket.close(ignored);
                continue;
            }
            ++pending_inbound;
            ++connections_per_ip[ip];
            asio::co_spawn(io, handle_accepted(std::move(socket), ip), log_failure("accept"));
        }
    }

    asio::awaitable<void> handle_accepted(tcp::socket socket, std::string ip) {
        auto upgraded = co_await with_timeout(
            detail::upgrade_connection(socket, false, identity, std::nullopt),
            config.handshake_timeout);
        --pending_inbound;
        if (!upgraded || !running) {
            ++stats.failed_handshakes;
            release_ip(ip);
            spdlog::debug("inbound handshake from {} failed: {}", ip,
                          upgraded ? "host stopping" : upgraded.error().message());
            boost::system::error_code ignored;
            socket.close(ignored);
            co_return;
        }
        add_connection(std::move(socket), std::move(*upgraded), Direction::inbound);
    }

    // --- dialing ---

    asio::awaitable<Result<crypto::PeerId>> dial(wire::Multiaddr addr) {
        if (!running) {
            co_return NetError::shutting_down;
        }
        const auto target = addr.tcp_target();
        if (!target) {
            co_return NetError::unsupported_address;
        }
        const auto expected = addr.peer_id();
        if (expected && connection_to(*expected)) {
            co_return *expected;
        }
        if (connection_count() + pending_inbound + pending_outbound >= config.max_connections ||
            stats.outbound + pending_outbound >= config.max_outbound_connections) {
            co_return NetError::connection_limit;
        }
        ++pending_outbound;
        auto result = co_await dial_and_upgrade(*target, expected);
        --pending_outbound;
        if (!result) {
            co_return result.error();
        }
        auto& [socket, upgraded] = *result;
        const crypto::PeerId peer = upgraded.remote_peer;
        add_connection(std::move(socket), std::move(upgraded), Direction::outbound);
        co_return peer;
    }

    using Dialed = std::pair<tcp::socket, detail::UpgradedConnection>;

    asio::awaitable<Result<tcp::endpoint>> resolve(const wire::TcpTarget& target) {
        using Kind = wire::TcpTarget::Kind;
        if (target.kind == Kind::ip4 || target.kind == Kind::ip6) {
            boost::system::error_code ec;
            const auto address = asio::ip::make_address(target.host, ec);
            if (ec) {
                co_return NetError::unsupported_address;
            }
            co_return tcp::endpoint(address, target.port);
        }
        tcp::resolver resolver(io);
        auto [ec, results] = co_await resolver.async_resolve(
            target.host, std::to_string(target.port), asio::as_tuple(asio::use_awaitable));
        if (ec) {
            co_return NetError::resolve_failed;
        }
        for (const auto& entry : results) {
            const auto address = entry.endpoint().address();
            if ((target.kind == Kind::dns4 && !address.is_v4()) ||
                (target.kind == Kind::dns6 && !address.is_v6())) {
                continue;
            }
            co_return entry.endpoint();
        }
        co_return NetError::resolve_failed;
    }

    asio::awaitable<Result<tcp::socket>> connect(wire::TcpTarget target) {
        auto endpoint = co_await resolve(target);
        if (!endpoint) {
            co_return endpoint.error();
        }
        tcp::socket socket(io);
        auto [ec] = co_await socket.async_connect(*endpoint, asio::as_tuple(asio::use_awaitable));
        if (ec) {
            co_return NetError::connect_failed;
        }
        co_return std::move(socket);
    }

    asio::awaitable<Result<Dialed>> dial_and_upgrade(wire::TcpTarget target,
                                                     std::optional<crypto::PeerId> expected) {
        auto connected = co_await with_timeout(connect(target), config.dial_timeout);
        if (!connected) {
            co_return connected.error();
        }
        tcp::socket socket = std::move(*connected);
        auto upgraded = co_await with_timeout(
            detail::upgrade_connection(socket, true, identity, expected), config.handshake_timeout);
        if (!upgraded) {
            ++stats.failed_handshakes;
            co_return upgraded.error();
        }
        co_return Dialed{std::move(socket), std::move(*upgraded)};
    }

    // --- streams ---

    void on_inbound_stream(std::shared_ptr<StreamState> stream) override {
        asio::co_spawn(io, handle_inbound(std::move(stream)), log_failure("inbound stream"));
    }

    asio::awaitable<Result<wire::NegotiationStep>> negotiate_inbound(Stream stream) {
        wire::MultistreamListener listener(protocol_list());
        co_return co_await negotiate_on_stream(stream, listener);
    }

    asio::awaitable<void> handle_inbound(std::shared_ptr<StreamState> state) {
        Stream stream(state);
        auto step = co_await with_timeout(negotiate_inbound(stream),
                                          config.stream_negotiation_timeout);
        if (!step) {
            stream.reset();
            co_return;
        }
        state->protocol = *step->protocol;
        state->unread = std::move(step->remainder);
        const auto it = handlers.find(state->protocol);
        if (it == handlers.end()) {  // the handler went away during negotiation
            stream.reset();
            co_return;
        }
        auto& per_protocol = state->connection->inbound_streams_by_protocol;
        if (state->protocol == protocols::PING_PROTOCOL_ID &&
            per_protocol[state->protocol] >= protocols::PING_MAX_INBOUND_STREAMS_PER_PEER) {
            stream.reset();
            co_return;
        }
        const StreamHandler handler = it->second;  // a copy: the map may change meanwhile
        ++per_protocol[state->protocol];
        co_await handler(stream);
        --per_protocol[state->protocol];
        stream.close_write();
    }

    asio::awaitable<Result<Stream>> new_stream_on(std::shared_ptr<Connection> connection,
                                                  std::vector<std::string> protocols) {
        auto state = connection->open_stream();
        if (!state) {
            co_return state.error();
        }
        Stream stream(*state);
        auto step = co_await with_timeout(negotiate_outbound(stream, std::move(protocols)),
                                          config.stream_negotiation_timeout);
        if (!step) {
            stream.reset();
            if (step.error() == wire::MultistreamError::no_protocol_agreed) {
                co_return NetError::protocol_not_supported;
            }
            co_return step.error();
        }
        (*state)->protocol = *step->protocol;
        (*state)->unread = std::move(step->remainder);
        co_return stream;
    }

    asio::awaitable<Result<wire::NegotiationStep>> negotiate_outbound(
        Stream stream, std::vector<std::string> protocols) {
        wire::MultistreamDialer dialer(std::move(protocols));
        co_return co_await negotiate_on_stream(stream, dialer);
    }

    // --- identify ---

    protocols::IdentifyMessage own_identify(const Connection& connection) const {
        protocols::IdentifyMessage message;
        message.protocol_version = std::string(protocols::IDENTIFY_PROTOCOL_VERSION);
        message.agent_version = config.agent_version;
        message.public_key = identity.public_key();
        message.listen_addrs = bound_addrs();
        if (!connection.remote_addr().empty()) {
            message.observed_addr = connection.remote_addr();
        }
        message.protocols = protocol_list();
        return message;
    }

    asio::awaitable<Result<protocols::IdentifyMessage>> query_identify(
        std::shared_ptr<Connection> connection) {
        // A named vector: GCC 12 miscompiles braced lists inside co_await expressions.
        std::vector<std::string> protocol{std::string(protocols::IDENTIFY_PROTOCOL_ID)};
        auto stream = co_await new_stream_on(connection, std::move(protocol));
        if (!stream) {
            co_return stream.error();
        }
        // go may split its answer over several messages: read until EOF and merge.
        std::optional<protocols::IdentifyMessage> merged;
        for (std::size_t i = 0; i < protocols::IDENTIFY_MAX_MESSAGES; ++i) {
            auto body = co_await stream->read_length_prefixed(protocols::IDENTIFY_MAX_MESSAGE_BYTES);
            if (!body) {
                if (body.error() == NetError::stream_closed && merged) {
                    break;
                }
                co_return body.error();
            }
            auto message = protocols::IdentifyMessage::decode(*body);
            if (!message) {
                co_return message.error();
            }
            if (merged) {
                merged->merge(*message);
            } else {
                merged = std::move(*message);
            }
        }
        if (!merged) {
            co_return NetError::identify_failed;
        }
        co_return *merged;
    }

    asio::awaitable<void> run_identify(std::shared_ptr<Connection> connection) {
        auto info = co_await with_timeout(query_identify(connection), config.identify_timeout);
        if (!info) {
            spdlog::debug("identify of {} failed: {}", connection->remote_peer().to_string(),
                          info.error().message());
        } else if (info->public_key &&
                   crypto::PeerId::from_public_key(*info->public_key) != connection->remote_peer()) {
            // The key must be the one the peer proved in the handshake.
            connection->close("identify key does not match the peer id");
        } else {
            connection->identify_info = std::move(*info);
        }
        connection->identify_done = true;
        connection->identify_signal.notify();
        if (connection->identify_info && !connection->closed()) {
            emit(PeerIdentified{connection->remote_peer(), *connection->identify_info});
        }
    }

    asio::awaitable<void> serve_identify(Stream stream) {
        const auto connection = connection_to(stream.remote_peer());
        if (!connection) {
            co_return;
        }
        const Bytes body = own_identify(*connection).encode();
        co_await stream.write_length_prefixed(body);
    }

    asio::awaitable<void> serve_identify_push(Stream stream) {
        auto body = co_await stream.read_length_prefixed(protocols::IDENTIFY_MAX_MESSAGE_BYTES);
        if (!body) {
            co_return;
        }
        auto update = protocols::IdentifyMessage::decode(*body);
        const auto connection = connection_to(stream.remote_peer());
        if (!update || !connection) {
            co_return;
        }
        if (update->public_key &&
            crypto::PeerId::from_public_key(*update->public_key) != connection->remote_peer()) {
            co_return;  // a push cannot change who the peer is
        }
        if (connection->identify_info) {
            connection->identify_info->merge(*update);
        } else {
            connection->identify_info = std::move(*update);
        }
        emit(PeerIdentified{connection->remote_peer(), *connection->identify_info});
    }

    asio::awaitable<void> push_identify(std::shared_ptr<Connection> connection) {
        std::vector<std::string> protocol{std::string(protocols::IDENTIFY_PUSH_PROTOCOL_ID)};
        auto stream = co_await new_stream_on(connection, std::move(protocol));
        if (!stream) {
            co_return;
        }
        protocols::IdentifyMessage update;
        update.protocols = protocol_list();
        update.listen_addrs = bound_addrs();
        co_await stream->write_length_prefixed(update.encode());
        stream->close_write();
    }

    // --- ping ---

    asio::awaitable<void> serve_ping(Stream stream) {
        std::array<std::uint8_t, protocols::PING_PAYLOAD_BYTES> payload{};
        for (;;) {
            if (!co_await stream.read_exact(payload)) {
                co_return;
            }
            if (!co_await stream.write(payload)) {
                co_return;
            }
        }
    }
};

Host::Host(asio::io_context& io, crypto::Identity identity, HostConfig config)
    : m_impl(std::make_unique<Impl>(io, std::move(identity), std::move(config))) {
    Impl& impl = *m_impl;
    impl.handlers.emplace(protocols::IDENTIFY_PROTOCOL_ID,
                          [&impl](Stream s) { return impl.serve_identify(std::move(s)); });
    impl.handlers.emplace(protocols::IDENTIFY_PUSH_PROTOCOL_ID,
                          [&impl](Stream s) { return impl.serve_identify_push(std::move(s)); });
    impl.handlers.emplace(protocols::PING_PROTOCOL_ID,
                          [&impl](Stream s) { return impl.serve_ping(std::move(s)); });
}

Host::~Host() {
    // Listeners may refer to objects already gone; a host being destroyed tells no one.
    m_impl->listeners.clear();
    m_impl->running = false;
    for (auto& acceptor : m_impl->acceptors) {
        boost::system::error_code ignored;
        acceptor.close(ignored);
    }
    std::vector<std::shared_ptr<Connection>> all;
    for (auto& [peer, list] : m_impl->connections) {
        all.insert(all.end(), list.begin(), list.end());
    }
    for (auto& connection : all) {
        connection->close("host destroyed");
    }
}

void Host::start() {
    Impl& impl = *m_impl;
    impl.running = true;
    for (const auto& addr : impl.config.listen_addrs) {
        const auto target = addr.tcp_target();
        using Kind = wire::TcpTarget::Kind;
        if (!target || (target->kind != Kind::ip4 && target->kind != Kind::ip6)) {
            throw std::runtime_error("cannot listen on " + addr.to_string() +
                                     ": expected /ip4/<address>/tcp/<port> or /ip6/…/tcp/<port>");
        }
        boost::system::error_code ec;
        const auto address = asio::ip::make_address(target->host, ec);
        const tcp::endpoint endpoint(address, target->port);
        tcp::acceptor acceptor(impl.io);
        if (!ec) {
            acceptor.open(endpoint.protocol(), ec);
        }
        if (!ec) {
            acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
        }
        if (!ec && address.is_v6()) {
            acceptor.set_option(asio::ip::v6_only(true), ec);
        }
        if (!ec) {
            acceptor.bind(endpoint, ec);
        }
        if (!ec) {
            acceptor.listen(asio::socket_base::max_listen_connections, ec);
        }
        if (ec) {
            throw std::runtime_error("cannot listen on " + addr.to_string() + ": " + ec.message());
        }
        impl.acceptors.push_back(std::move(acceptor));
    }
    for (auto& acceptor : impl.acceptors) {
        asio::co_spawn(impl.io, impl.accept_loop(acceptor), log_failure("accept loop"));
    }
}

void Host::stop() {
    Impl& impl = *m_impl;
    impl.running = false;
    for (auto& acceptor : impl.acceptors) {
        boost::system::error_code ignored;
        acceptor.close(ignored);
    }
    std::vector<std::shared_ptr<Connection>> all;
    for (auto& [peer, list] : impl.connections) {
        all.insert(all.end(), list.begin(), list.end());
    }
    for (auto& connection : all) {
        connection->close_gracefully("host stopping");
    }
}

const crypto::PeerId& Host::peer_id() const { return m_impl->identity.peer_id(); }
const crypto::Identity& Host::identity() const { return m_impl->identity; }
std::vector<wire::Multiaddr> Host::listen_addrs() const { return m_impl->bound_addrs(); }

void Host::set_handler(std::string protocol, StreamHandler handler) {
    m_impl->handlers[std::move(protocol)] = std::move(handler);
    // Tell identified peers what changed, as identify push is for.
    for (auto& [peer, list] : m_impl->connections) {
        for (auto& connection : list) {
            if (connection->identify_done && !connection->closed()) {
                asio::co_spawn(m_impl->io, m_impl->push_identify(connection),
                               log_failure("identify push"));
            }
        }
    }
}

std::vector<std::string> Host::protocols() const { return m_impl->protocol_list(); }
void Host::add_listener(EventListener listener) { m_impl->listeners.push_back(std::move(listener)); }

asio::awaitable<Result<crypto::PeerId>> Host::dial(wire::Multiaddr addr) {
    co_return co_await m_impl->dial(std::move(addr));
}

asio::awaitable<Result<protocols::IdentifyMessage>> Host::wait_identified(crypto::PeerId peer) {
    const auto connection = m_impl->connection_to(peer);
    if (!connection) {
        co_return NetError::not_connected;
    }
    while (!connection->identify_done) {
        co_await connection->identify_signal.wait();
    }
    if (!connection->identify_info) {
        co_return NetError::identify_failed;
    }
    co_return *connection->identify_info;
}

asio::awaitable<Result<Stream>> Host::new_stream(crypto::PeerId peer,
                                                 std::vector<std::string> protocols) {
    const auto connection = m_impl->connection_to(peer);
    if (!connection) {
        co_return NetError::not_connected;
    }
    co_return co_await m_impl->new_stream_on(connection, std::move(protocols));
}

asio::awaitable<Result<std::chrono::nanoseconds>> Host::ping(crypto::PeerId peer) {
    std::vector<std::string> protocol{std::string(protocols::PING_PROTOCOL_ID)};
    auto stream = co_await new_stream(peer, std::move(protocol));
    if (!stream) {
        co_return stream.error();
    }
    auto rtt = co_await ping_on_stream(*stream);
    stream->close_write();
    co_return rtt;
}

void Host::disconnect(const crypto::PeerId& peer, const std::string& reason) {
    const auto it = m_impl->connections.find(peer);
    if (it == m_impl->connections.end()) {
        return;
    }
    const auto list = it->second;
    for (const auto& connection : list) {
        connection->close(reason);
    }
}

bool Host::is_connected(const crypto::PeerId& peer) const {
    return m_impl->connection_to(peer) != nullptr;
}

std::vector<crypto::PeerId> Host::connected_peers() const {
    std::vector<crypto::PeerId> out;
    for (const auto& [peer, list] : m_impl->connections) {
        out.push_back(peer);
    }
    return out;
}

std::optional<protocols::IdentifyMessage> Host::peer_info(const crypto::PeerId& peer) const {
    const auto connection = m_impl->connection_to(peer);
    if (!connection) {
        return std::nullopt;
    }
    return connection->identify_info;
}

HostStats Host::stats() const { return m_impl->stats; }

asio::awaitable<Result<std::chrono::nanoseconds>> ping_on_stream(Stream& stream) {
    std::array<std::uint8_t, protocols::PING_PAYLOAD_BYTES> payload{};
    randombytes_buf(payload.data(), payload.size());
    const auto sent = std::chrono::steady_clock::now();
    if (auto w = co_await stream.write(payload); !w) {
        co_return w.error();
    }
    std::array<std::uint8_t, protocols::PING_PAYLOAD_BYTES> echo{};
    if (auto r = co_await stream.read_exact(echo); !r) {
        co_return r.error();
    }
    if (echo != payload) {
        co_return NetError::ping_mismatch;
    }
    co_return std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now() - sent);
}

}  // namespace chainmesh::net
