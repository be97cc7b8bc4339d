#include <chainmesh/net/detail/connection.hpp>
#include <chainmesh/net/errors.hpp>
#include <chainmesh/net/stream.hpp>
#include <chainmesh/util/uvarint.hpp>

#include <algorithm>
#include <cstring>

namespace chainmesh::net {

namespace asio = boost::asio;

namespace {
// A writer waits once this much of its data is queued and unsent: enough to keep the peer's
// window full, small enough that a slow peer cannot make us buffer without bound.
constexpr std::size_t STREAM_SEND_QUEUE_BYTES = 512 * 1024;
}  // namespace

asio::awaitable<Result<std::size_t>> Stream::read_some(Bytes& out, std::size_t max) {
    auto& s = *m_state;
    for (;;) {
        if (s.unread_offset < s.unread.size()) {
            const std::size_t n = std::min(max, s.unread.size() - s.unread_offset);
            const auto first = s.unread.begin() + static_cast<std::ptrdiff_t>(s.unread_offset);
            out.insert(out.end(), first, first + static_cast<std::ptrdiff_t>(n));
            s.unread_offset += n;
            if (s.unread_offset == s.unread.size()) {
                s.unread.clear();
                s.unread_offset = 0;
            }
            co_return n;
        }
        auto& connection = *s.connection;
        if (!connection.closed()) {
            const std::size_t n = connection.yamux().read(s.id, out, max);
            if (n > 0) {
                if (connection.yamux().has_output()) {
                    connection.flush();  // a window update was queued
                }
                co_return n;
            }
        }
        if (s.was_reset) {
            co_return NetError::stream_reset;
        }
        if (s.peer_closed) {
            co_return std::size_t{0};
        }
        if (connection.closed()) {
            co_return NetError::connection_closed;
        }
        co_await s.signal.wait();
    }
}

asio::awaitable<Result<void>> Stream::read_exact(MutableByteView out) {
    Bytes buffer;
    buffer.reserve(out.size());
    while (buffer.size() < out.size()) {
        auto n = co_await read_some(buffer, out.size() - buffer.size());
        if (!n) {
            co_return n.error();
        }
        if (*n == 0) {
            co_return NetError::stream_closed;
        }
    }
    std::memcpy(out.data(), buffer.data(), out.size());
    co_return Result<void>{};
}

asio::awaitable<Result<Bytes>> Stream::read_length_prefixed(std::size_t max_bytes) {
    // Read the varint one byte at a time: it is at most 9 bytes, and reading past it would
    // take bytes that belong to the message.
    Bytes prefix;
    std::uint64_t length = 0;
    for (;;) {
        std::uint8_t byte = 0;
        if (auto r = co_await read_exact(MutableByteView(&byte, 1)); !r) {
            co_return r.error();
        }
        prefix.push_back(byte);
        auto decoded = util::decode_uvarint(prefix);
        if (decoded) {
            length = decoded->value;
            break;
        }
        if (decoded.error() != util::VarintError::truncated) {
            co_return decoded.error();
        }
    }
    if (length > max_bytes) {
        co_return NetError::message_too_large;
    }
    Bytes message(static_cast<std::size_t>(length));
    if (auto r = co_await read_exact(message); !r) {
        co_return r.error();
    }
    co_return message;
}

asio::awaitable<Result<Bytes>> Stream::read_to_end(std::size_t max_bytes) {
    Bytes out;
    for (;;) {
        auto n = co_await read_some(out, max_bytes + 1 - out.size());
        if (!n) {
            co_return n.error();
        }
        if (*n == 0) {
            co_return out;
        }
        if (out.size() > max_bytes) {
            co_return NetError::message_too_large;
        }
    }
}

asio::awaitable<Result<void>> Stream::write(ByteView data) {
    auto& s = *m_state;
    auto& connection = *s.connection;
    if (s.was_reset) {
        co_return NetError::stream_reset;
    }
    if (connection.closed()) {
        co_return NetError::connection_closed;
    }
    if (s.write_closed) {
        co_return NetError::stream_closed;
    }
    if (auto r = connection.yamux().write(s.id, data); !r) {
        co_return r.error();
    }
    connection.flush();
    while (connection.yamux().send_queue_bytes(s.id) > STREAM_SEND_QUEUE_BYTES) {
        if (s.was_reset) {
            co_return NetError::stream_reset;
        }
        if (connection.closed()) {
            co_return NetError::connection_closed;
        }
        co_await s.signal.wait();
    }
    co_return Result<void>{};
}

asio::awaitable<Result<void>> Stream::write_length_prefixed(ByteView message) {
    Bytes framed;
    framed.reserve(message.size() + util::UVARINT_MAX_BYTES);
    util::append_uvarint(framed, message.size());
    append(framed, message);
    co_return co_await write(framed);
}

void Stream::close_write() {
    auto& s = *m_state;
    if (s.write_closed || s.was_reset || s.connection->closed()) {
        return;
    }
    s.write_closed = true;
    s.connection->yamux().close_write(s.id);
    s.connection->flush();
}

void Stream::reset() {
    auto& s = *m_state;
    if (s.was_reset || s.connection->closed()) {
        return;
    }
    s.was_reset = true;
    s.connection->yamux().reset(s.id);
    s.connection->flush();
}

const std::string& Stream::protocol() const { return m_state->protocol; }
const crypto::PeerId& Stream::remote_peer() const { return m_state->connection->remote_peer(); }
wire::StreamId Stream::id() const { return m_state->id; }

}  // namespace chainmesh::net
