#pragma once
// Yamux (hashicorp/yamux spec; libp2p-interop.md §6): many streams over one connection,
// as a pure state machine. Plaintext session bytes in, session bytes out, no I/O.
//
// The connection's dialer is the client (odd stream ids from 1), the listener the server
// (even ids from 2). A stream opens with a SYN flag and is accepted with ACK; FIN half-closes
// one direction, RST closes both. SYN, ACK and RST ride on WindowUpdate frames, as go-yamux
// does; FIN rides on the last Data frame, or on an empty one when nothing is queued (the §14
// "FIN on 1" vector). Flags are accepted on either frame type.
//
// Rules:
// - Flow control per stream: each side's receive window starts at 256 KiB. We grant more only
//   as the application consumes data (read()), with an update once half the window has been
//   consumed. Rationale: updates at zero halve throughput (rust-yamux#109); granting on
//   consumption, not receipt, is what bounds our buffers.
// - The window we grant can grow to YamuxConfig::max_receive_window (the delta on SYN/ACK is
//   additive to the implicit 256 KiB, pitfall 4).
// - A Data frame larger than the remaining window is a protocol error: go-away and fail.
// - WindowUpdates for unknown or closed streams are ignored; Data for them is read and
//   dropped (pitfall 6).
// - Inbound streams beyond max_streams are refused with RST; outbound opens beyond
//   max_streams or max_ack_backlog, or after a go-away either way, fail.
// - Pings (type 2, SYN) are answered with ACK and the same value.
// Bounds: per stream, buffered received bytes ≤ the window we granted; queued unsent bytes
// ≤ what the application wrote (the driver waits on send_queue_bytes() before writing more);
// streams ≤ max_streams.

#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <variant>
#include <vector>

namespace chainmesh::wire {

inline constexpr std::string_view YAMUX_PROTOCOL_ID = "/yamux/1.0.0";
inline constexpr std::uint32_t YAMUX_INITIAL_WINDOW = 256 * 1024;
inline constexpr std::size_t YAMUX_HEADER_BYTES = 12;

using StreamId = std::uint32_t;

enum class YamuxRole { client, server };

enum class YamuxError {
    bad_version = 1,
    bad_frame_type,
    window_exceeded,      // peer sent more than the window we granted
    bad_stream_id,        // SYN on an id of our parity, or reused
    too_many_streams,
    stream_not_writable,  // write after our FIN or after a reset
    unknown_stream,
    session_closed,       // go-away sent or received
    frame_too_large,
};
std::string_view describe(YamuxError e);

enum class GoAwayCode : std::uint32_t { normal = 0, protocol_error = 1, internal_error = 2 };

struct YamuxConfig {
    std::size_t max_streams = 256;                        // open at once, both directions
    std::size_t max_ack_backlog = 256;                    // our opens not yet acknowledged
    std::uint32_t max_receive_window = 16 * 1024 * 1024;  // the most we grant one stream
    std::size_t max_data_frame_bytes = 64 * 1024;         // payload of one Data frame we send
};

// Events the driver reacts to, drained with take_events().
struct StreamOpened { StreamId id; };          // inbound stream accepted
struct StreamReadable { StreamId id; };        // read() has bytes
struct StreamReadClosed { StreamId id; };      // peer sent FIN: after buffered bytes, EOF
struct StreamWritable { StreamId id; };        // the send queue drained below the window
struct StreamReset { StreamId id; };           // peer or we reset: reads and writes fail
struct StreamClosed { StreamId id; };          // both directions done; the id is forgotten
struct PingAnswered { std::uint32_t value; };  // our ping came back
struct GoAwayReceived { GoAwayCode code; };
using YamuxEvent = std::variant<StreamOpened, StreamReadable, StreamReadClosed, StreamWritable,
                                StreamReset, StreamClosed, PingAnswered, GoAwayReceived>;

class YamuxSession {
public:
    explicit YamuxSession(YamuxRole role, YamuxConfig config = {});
    ~YamuxSession();
    YamuxSession(YamuxSession&&) noexcept;
    YamuxSession& operator=(YamuxSession&&) noexcept;

    // Input: plaintext session bytes from the connection. An error is a protocol violation;
    // a go-away has been queued in the output and the session is closed.
    Result<void> on_data(ByteView data);

    // Opens an outbound stream (SYN queued); data may be written before the ACK.
    Result<StreamId> open_stream();
    // Queues bytes; frames go out as the peer's window allows.
    Result<void> write(StreamId id, ByteView data);
    // Moves up to `max` buffered received bytes to `out` (appending); returns the count.
    // Consuming may queue a window update.
    std::size_t read(StreamId id, Bytes& out, std::size_t max);
    // Half-close: FIN after everything queued has been sent.
    void close_write(StreamId id);
    void reset(StreamId id);
    void ping(std::uint32_t value);
    void go_away(GoAwayCode code);

    // Bytes to write to the connection, in order; empties the output.
    Bytes take_output();
    // The same, swapping buffers with `out` (cleared first) so both keep their capacity:
    // the driver's hot path allocates nothing.
    void take_output(Bytes& out);
    bool has_output() const;
    std::vector<YamuxEvent> take_events();

    // Queries for the driver's backpressure and for tests.
    std::size_t send_queue_bytes(StreamId id) const;
    std::size_t readable_bytes(StreamId id) const;
    bool read_closed(StreamId id) const;   // peer sent FIN or reset, and nothing is buffered
    bool is_open(StreamId id) const;       // known and not reset
    std::size_t stream_count() const;
    // Inbound opens refused with RST so far: a driver disconnects a peer that floods.
    std::size_t refused_streams() const;
    bool closed() const;                   // go-away sent or received, or a protocol error

    void check_invariants() const;

private:
    struct State;
    std::unique_ptr<State> m_state;
};

}  // namespace chainmesh::wire

CHAINMESH_ERROR_ENUM(chainmesh::wire, YamuxError, "yamux")
