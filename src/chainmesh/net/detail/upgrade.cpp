#include <chainmesh/net/detail/upgrade.hpp>
#include <chainmesh/net/errors.hpp>
#include <chainmesh/wire/multistream.hpp>
#include <chainmesh/wire/yamux.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace chainmesh::net::detail {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr std::size_t READ_CHUNK_BYTES = 16 * 1024;

// Reads whatever the socket has (at least one byte).
asio::awaitable<Result<Bytes>> read_raw(tcp::socket& socket) {
    Bytes buffer(READ_CHUNK_BYTES);
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer),
                                                   asio::as_tuple(asio::use_awaitable));
    if (ec) {
        co_return NetError::connection_closed;
    }
    buffer.resize(n);
    co_return buffer;
}

asio::awaitable<Result<void>> write_raw(tcp::socket& socket, ByteView data) {
    if (data.empty()) {
        co_return Result<void>{};
    }
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(data.data(), data.size()),
                                              asio::as_tuple(asio::use_awaitable));
    if (ec) {
        co_return NetError::connection_closed;
    }
    co_return Result<void>{};
}

// Runs a multistream negotiator to completion over the raw socket. `pending` holds bytes
// already read that belong to this negotiation.
template <class Negotiator>
asio::awaitable<Result<wire::NegotiationStep>> negotiate_raw(tcp::socket& socket,
                                                             Negotiator& negotiator) {
    if (auto w = co_await write_raw(socket, negotiator.start()); !w) {
        co_return w.error();
    }
    for (;;) {
        auto data = co_await read_raw(socket);
        if (!data) {
            co_return data.error();
        }
        auto step = negotiator.on_data(*data);
        if (!step) {
            co_return step.error();
        }
        if (auto w = co_await write_raw(socket, step->output); !w) {
            co_return w.error();
        }
        if (step->protocol) {
            co_return std::move(*step);
        }
    }
}

asio::awaitable<Result<void>> write_secure(tcp::socket& socket, wire::NoiseTransport& transport,
                                           ByteView plaintext) {
    if (plaintext.empty()) {
        co_return Result<void>{};
    }
    Bytes framed;
    if (auto e = transport.encrypt(plaintext, framed); !e) {
        co_return e.error();
    }
    co_return co_await write_raw(socket, framed);
}

// The same over Noise: `pending` holds plaintext already decrypted.
template <class Negotiator>
asio::awaitable<Result<wire::NegotiationStep>> negotiate_secure(tcp::socket& socket,
                                                                wire::NoiseTransport& transport,
                                                                Negotiator& negotiator,
                                                                Bytes pending) {
    if (auto w = co_await write_secure(socket, transport, negotiator.start()); !w) {
        co_return w.error();
    }
    for (;;) {
        if (pending.empty()) {
            auto data = co_await read_raw(socket);
            if (!data) {
                co_return data.error();
            }
            if (auto d = transport.decrypt(*data, pending); !d) {
                co_return d.error();
            }
            if (pending.empty()) {
                continue;  // only part of a frame so far
            }
        }
        auto step = negotiator.on_data(pending);
        pending.clear();
        if (!step) {
            co_return step.error();
        }
        if (auto w = co_await write_secure(socket, transport, step->output); !w) {
            co_return w.error();
        }
        if (step->protocol) {
            co_return std::move(*step);
        }
    }
}

}  // namespace

asio::awaitable<Result<UpgradedConnection>> upgrade_connection(
    tcp::socket& socket, bool dialer, const crypto::Identity& identity,
    std::optional<crypto::PeerId> expected_remote) {
    const std::vector<std::string> security{std::string(wire::NOISE_PROTOCOL_ID)};
    Result<wire::NegotiationStep> security_step = wire::NegotiationStep{};
    if (dialer) {
        wire::MultistreamDialer negotiator(security);
        security_step = co_await negotiate_raw(socket, negotiator);
    } else {
        wire::MultistreamListener negotiator(security);
        security_step = co_await negotiate_raw(socket, negotiator);
    }
    if (!security_step) {
        co_return security_step.error();
    }

    wire::NoiseHandshake handshake(
        dialer ? wire::NoiseRole::initiator : wire::NoiseRole::responder, identity,
        crypto::X25519KeyPair::generate(), crypto::X25519KeyPair::generate(),
        dialer ? expected_remote : std::nullopt);
    if (auto w = co_await write_raw(socket, handshake.start()); !w) {
        co_return w.error();
    }
    Bytes input = std::move(security_step->remainder);
    Bytes after_handshake;
    for (;;) {
        if (input.empty()) {
            auto data = co_await read_raw(socket);
            if (!data) {
                co_return data.error();
            }
            input = std::move(*data);
        }
        auto step = handshake.on_data(input);
        input.clear();
        if (!step) {
            co_return step.error();
        }
        if (auto w = co_await write_raw(socket, step->output); !w) {
            co_return w.error();
        }
        if (step->complete) {
            after_handshake = std::move(step->remainder);
            break;
        }
    }
    const crypto::PeerId remote = handshake.remote_peer_id();
    wire::NoiseTransport transport = handshake.take_transport();

    Bytes plaintext;
    if (!after_handshake.empty()) {
        if (auto d = transport.decrypt(after_handshake, plaintext); !d) {
            co_return d.error();
        }
    }
    const std::vector<std::string> muxers{std::string(wire::YAMUX_PROTOCOL_ID)};
    Result<wire::NegotiationStep> muxer_step = wire::NegotiationStep{};
    if (dialer) {
        wire::MultistreamDialer negotiator(muxers);
        muxer_step = co_await negotiate_secure(socket, transport, negotiator, std::move(plaintext));
    } else {
        wire::MultistreamListener negotiator(muxers);
        muxer_step = co_await negotiate_secure(socket, transport, negotiator, std::move(plaintext));
    }
    if (!muxer_step) {
        co_return muxer_step.error();
    }
    co_return UpgradedConnection{std::move(transport), remote, std::move(muxer_step->remainder)};
}

}  // namespace chainmesh::net::detail
