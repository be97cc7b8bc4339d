#pragma once
// A negotiated stream on a connection: an application protocol's byte pipe to one peer.
//
// A Stream is a handle; copies share the stream. When the last handle goes, a stream that is
// still open is reset, so a forgotten stream never holds the peer's window or a stream slot.
// All calls happen on the host's io_context thread.

#include <chainmesh/crypto/peer_id.hpp>
#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>
#include <chainmesh/wire/yamux.hpp>

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <memory>
#include <string>

namespace chainmesh::net {

namespace detail {
class Connection;
struct StreamState;
}  // namespace detail

class Stream {
public:
    explicit Stream(std::shared_ptr<detail::StreamState> state) : m_state(std::move(state)) {}

    // Appends at most `max` bytes to `out`; 0 means the peer closed its side (EOF).
    // Fails with stream_reset or connection_closed.
    boost::asio::awaitable<Result<std::size_t>> read_some(Bytes& out, std::size_t max);
    // Reads exactly out.size() bytes; EOF before that is stream_closed.
    boost::asio::awaitable<Result<void>> read_exact(MutableByteView out);
    // One uvarint-length-prefixed message of at most `max_bytes`.
    boost::asio::awaitable<Result<Bytes>> read_length_prefixed(std::size_t max_bytes);
    // Reads until EOF, failing with message_too_large past `max_bytes`.
    boost::asio::awaitable<Result<Bytes>> read_to_end(std::size_t max_bytes);

    // Returns once the bytes are queued and the stream's send queue is back under its bound.
    boost::asio::awaitable<Result<void>> write(ByteView data);
    boost::asio::awaitable<Result<void>> write_length_prefixed(ByteView message);

    void close_write();  // half-close: the peer reads EOF
    void reset();

    const std::string& protocol() const;
    const crypto::PeerId& remote_peer() const;
    wire::StreamId id() const;

private:
    std::shared_ptr<detail::StreamState> m_state;
};

}  // namespace chainmesh::net
