#include <chainmesh/wire/yamux.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <optional>
#include <utility>

namespace chainmesh::wire {

std::string_view describe(YamuxError e) {
    switch (e) {
        case YamuxError::bad_version:
            return "yamux frame has an unsupported version";
        case YamuxError::bad_frame_type:
            return "yamux frame has an unknown type";
        case YamuxError::window_exceeded:
            return "yamux peer sent more than the window we granted";
        case YamuxError::bad_stream_id:
            return "yamux SYN on a stream id of our parity or in use";
        case YamuxError::too_many_streams:
            return "yamux stream limit reached";
        case YamuxError::stream_not_writable:
            return "yamux stream is closed for writing";
        case YamuxError::unknown_stream:
            return "yamux stream is unknown or was reset";
        case YamuxError::session_closed:
            return "yamux session is closed";
        case YamuxError::frame_too_large:
            return "yamux frame is larger than any window we grant";
    }
    return "unknown yamux error";
}

namespace {

constexpr std::uint8_t VERSION = 0;

enum class FrameType : std::uint8_t { data = 0, window_update = 1, ping = 2, go_away = 3 };

constexpr std::uint16_t FLAG_SYN = 0x1;
constexpr std::uint16_t FLAG_ACK = 0x2;
constexpr std::uint16_t FLAG_FIN = 0x4;
constexpr std::uint16_t FLAG_RST = 0x8;

// A chunk shorter than this is extended instead of being followed by a new chunk, so that
// input fed a few bytes at a time costs neither one allocation per piece nor unbounded
// bookkeeping; longer pieces keep their own chunk and are never copied twice.
constexpr std::size_t CHUNK_MERGE_BYTES = 16 * 1024;

// The peer may grant any amount; we never need to count past what one u32 length can carry.
constexpr std::uint64_t SEND_WINDOW_MAX_BYTES = 0xffffffffu;

constexpr StreamId LAST_STREAM_ID = 0xffffffffu;

// Invariant checks stay on in release builds (the fuzzer runs RelWithDebInfo).
void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "yamux invariant violated: %s\n", what);
        std::abort();
    }
}

// A byte FIFO kept as chunks plus an offset into the first one: appending is one insert,
// consuming never moves the bytes that remain.
class ChunkQueue {
public:
    void push(ByteView bytes) {
        if (bytes.empty()) {
            return;
        }
        if (!m_chunks.empty() && m_chunks.back().size() < CHUNK_MERGE_BYTES) {
            append(m_chunks.back(), bytes);
        } else {
            m_chunks.emplace_back(bytes.begin(), bytes.end());
        }
        m_size += bytes.size();
    }

    // Appends up to `max` bytes from the front to `out`; returns the count.
    std::size_t pop_into(Bytes& out, std::size_t max) {
        std::size_t moved = 0;
        while (moved < max && !m_chunks.empty()) {
            Bytes& front = m_chunks.front();
            const std::size_t available = front.size() - m_offset;
            const std::size_t take = std::min(max - moved, available);
            if (out.empty() && m_offset == 0 && take == front.size()) {
                // Whole chunk into an empty buffer: hand the storage over instead of copying.
                out = std::move(front);
            } else {
                const auto first = front.begin() + static_cast<std::ptrdiff_t>(m_offset);
                out.insert(out.end(), first, first + static_cast<std::ptrdiff_t>(take));
            }
            moved += take;
            m_offset += take;
            if (take == available) {
                m_chunks.pop_front();
                m_offset = 0;
            }
        }
        m_size -= moved;
        return moved;
    }

    std::size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }

    void check() const {
        std::size_t total = 0;
        for (const Bytes& chunk : m_chunks) {
            require(!chunk.empty(), "no empty chunks");
            total += chunk.size();
        }
        require(m_chunks.empty() ? m_offset == 0 : m_offset < m_chunks.front().size(),
                "chunk offset inside the first chunk");
        require(total - m_offset == m_size, "chunk queue size matches its chunks");
    }

private:
    std::deque<Bytes> m_chunks;
    std::size_t m_offset = 0;
    std::size_t m_size = 0;
};

struct Stream {
    bool outbound = false;
    bool acked = false;  // outbound: the peer sent ACK; inbound streams are acked on arrival

    // Receive side. received + recv_remaining + recv_consumed == recv_window at all times:
    // every byte of the window is either still grantable, buffered, or read but not yet
    // returned to the peer in an update.
    ChunkQueue received;
    std::uint32_t recv_window = YAMUX_INITIAL_WINDOW;     // the window we currently grant
    std::uint32_t recv_remaining = YAMUX_INITIAL_WINDOW;  // what the peer may still send
    std::uint32_t recv_consumed = 0;                      // read since our last update
    bool remote_fin = false;

    // Send side. Bytes stay queued only while the peer's window is exhausted.
    ChunkQueue queued;
    std::uint64_t send_window = YAMUX_INITIAL_WINDOW;
    bool fin_requested = false;
    bool fin_sent = false;
};

struct Header {
    std::uint8_t version = 0;
    std::uint8_t type = 0;
    std::uint16_t flags = 0;
    StreamId id = 0;
    std::uint32_t length = 0;
};

}  // namespace

struct YamuxSession::State {
    YamuxRole role;
    YamuxConfig config;
    std::uint32_t max_window;     // the most we grant, never below the implicit 256 KiB
    std::size_t max_frame_bytes;  // payload of one Data frame we send, ≥ 1
    std::map<StreamId, Stream> streams;
    std::uint64_t next_id;    // 64 bits so that running out of ids is visible
    std::size_t unacked = 0;  // our streams the peer has not ACKed yet

    // Frame parser: a partial header, or the rest of a Data frame's payload. Payload goes
    // straight into the stream's buffer as it arrives, so the parser holds at most 12 bytes.
    std::array<std::uint8_t, YAMUX_HEADER_BYTES> header{};
    std::size_t header_fill = 0;
    std::uint32_t payload_remaining = 0;
    StreamId payload_stream = 0;
    bool payload_deliver = false;  // false: read and drop
    bool payload_fin = false;      // FIN flag to apply once the payload is complete

    Bytes output;
    std::vector<YamuxEvent> events;
    bool go_away_sent = false;
    std::size_t refused_streams = 0;  // inbound SYNs answered with RST
    bool go_away_received = false;
    std::optional<ErrorCode> failure;

    State(YamuxRole r, YamuxConfig c)
        : role(r),
          config(c),
          max_window(std::max<std::uint32_t>(c.max_receive_window, YAMUX_INITIAL_WINDOW)),
          max_frame_bytes(std::clamp<std::size_t>(c.max_data_frame_bytes, 1, 0xffffffffu)),
          next_id(r == YamuxRole::client ? 1 : 2) {}

    bool is_ours(StreamId id) const { return (id % 2 == 1) == (role == YamuxRole::client); }

    void send_header(FrameType type, std::uint16_t flags, StreamId id, std::uint32_t length) {
        output.push_back(VERSION);
        output.push_back(static_cast<std::uint8_t>(type));
        put_u16be(output, flags);
        put_u32be(output, id);
        put_u32be(output, length);
    }

    ErrorCode fail(ErrorCode error) {
        send_header(FrameType::go_away, 0, 0,
                    static_cast<std::uint32_t>(GoAwayCode::protocol_error));
        go_away_sent = true;
        failure = error;
        return error;
    }

    void forget(std::map<StreamId, Stream>::iterator it) {
        if (it->second.outbound && !it->second.acked) {
            --unacked;
        }
        streams.erase(it);
    }

    // Forgets a stream once both sides sent FIN and the application has read everything.
    void settle(StreamId id) {
        const auto it = streams.find(id);
        if (it == streams.end()) {
            return;
        }
        const Stream& s = it->second;
        if (s.remote_fin && s.fin_sent && s.received.empty()) {
            forget(it);
            events.emplace_back(StreamClosed{id});
        }
    }

    // Frames queued bytes and then `fresh` (bytes being written now) as the peer's window
    // allows, queues the rest, and sends a pending FIN once nothing is queued, always on an
    // empty Data frame of its own (the §14 "FIN on 1" vector). Rationale: js-libp2p's yamux
    // acts on a FIN before the payload of the frame that carries it, losing those bytes.
    // Returns the payload bytes framed. Does not forget the stream; callers settle() afterwards.
    std::size_t flush(StreamId id, Stream& s, ByteView fresh) {
        // One allocation for everything this call frames, rather than a doubling chain.
        const std::uint64_t sendable =
            std::min<std::uint64_t>(s.queued.size() + fresh.size(), s.send_window);
        if (sendable > 0) {
            const std::uint64_t frames = (sendable + max_frame_bytes - 1) / max_frame_bytes;
            output.reserve(output.size() + sendable + frames * YAMUX_HEADER_BYTES);
        }
        std::size_t sent = 0;
        while (!s.queued.empty() && s.send_window > 0) {
            const std::size_t n = static_cast<std::size_t>(
                std::min<std::uint64_t>({s.queued.size(), s.send_window, max_frame_bytes}));
            send_header(FrameType::data, 0, id, static_cast<std::uint32_t>(n));
            s.queued.pop_into(output, n);
            s.send_window -= n;
            sent += n;
        }
        if (s.queued.empty()) {
            while (!fresh.empty() && s.send_window > 0) {
                const std::size_t n = static_cast<std::size_t>(
                    std::min<std::uint64_t>({fresh.size(), s.send_window, max_frame_bytes}));
                send_header(FrameType::data, 0, id, static_cast<std::uint32_t>(n));
                append(output, fresh.first(n));
                fresh = fresh.subspan(n);
                s.send_window -= n;
                sent += n;
            }
        }
        s.queued.push(fresh);
        if (s.fin_requested && !s.fin_sent && s.queued.empty()) {
            send_header(FrameType::data, FLAG_FIN, id, 0);
            s.fin_sent = true;
        }
        return sent;
    }

    // SYN, ACK and RST, common to Data and WindowUpdate frames. Returns the stream the rest
    // of the frame applies to, or nullptr when it is unknown, refused or was just reset.
    Result<Stream*> on_stream_flags(const Header& h) {
        if ((h.flags & FLAG_SYN) != 0) {
            if (h.id == 0 || is_ours(h.id) || streams.contains(h.id)) {
                return YamuxError::bad_stream_id;
            }
            if (go_away_sent || streams.size() >= config.max_streams) {
                // Refusing is not a protocol error: the peer learns from the RST.
                send_header(FrameType::window_update, FLAG_RST, h.id, 0);
                ++refused_streams;
                return nullptr;
            }
            Stream& s = streams[h.id];
            s.acked = true;
            send_header(FrameType::window_update, FLAG_ACK, h.id, 0);
            events.emplace_back(StreamOpened{h.id});
        }
        const auto it = streams.find(h.id);
        if (it == streams.end()) {
            return nullptr;
        }
        Stream& s = it->second;
        if ((h.flags & FLAG_ACK) != 0 && s.outbound && !s.acked) {
            s.acked = true;
            --unacked;
        }
        if ((h.flags & FLAG_RST) != 0) {
            forget(it);
            events.emplace_back(StreamReset{h.id});
            return nullptr;
        }
        return &s;
    }

    void on_remote_fin(StreamId id) {
        const auto it = streams.find(id);
        if (it == streams.end() || it->second.remote_fin) {
            return;
        }
        it->second.remote_fin = true;
        events.emplace_back(StreamReadClosed{id});
        settle(id);
    }

    Result<void> on_data_header(const Header& h) {
        auto stream = on_stream_flags(h);
        if (!stream) {
            return stream.error();
        }
        Stream* s = *stream;
        const bool deliver = s != nullptr && !s->remote_fin;
        if (deliver && h.length > s->recv_remaining) {
            return YamuxError::window_exceeded;
        }
        // Payload for a stream we closed, reset or refused is read and dropped (pitfall 6),
        // but it can never be larger than a window we granted.
        if (!deliver && h.length > max_window) {
            return YamuxError::frame_too_large;
        }
        payload_remaining = h.length;
        payload_stream = h.id;
        payload_deliver = deliver;
        payload_fin = s != nullptr && (h.flags & FLAG_FIN) != 0;
        if (payload_remaining == 0) {
            finish_payload();
        }
        return {};
    }

    void on_payload(ByteView piece) {
        if (!payload_deliver) {
            return;
        }
        // The application may have reset the stream between two on_data() calls.
        const auto it = streams.find(payload_stream);
        if (it == streams.end()) {
            payload_deliver = false;
            return;
        }
        Stream& s = it->second;
        const bool was_empty = s.received.empty();
        s.received.push(piece);
        s.recv_remaining -= static_cast<std::uint32_t>(piece.size());
        if (was_empty) {
            events.emplace_back(StreamReadable{payload_stream});
        }
    }

    void finish_payload() {
        payload_deliver = false;
        if (payload_fin) {
            payload_fin = false;
            on_remote_fin(payload_stream);
        }
    }

    Result<void> on_window_update(const Header& h) {
        auto stream = on_stream_flags(h);
        if (!stream) {
            return stream.error();
        }
        Stream* s = *stream;
        if (s == nullptr) {
            return {};  // unknown or closed stream: ignored (pitfall 6)
        }
        if (h.length > 0) {
            const bool was_blocked = !s->queued.empty();
            s->send_window = std::min(s->send_window + h.length, SEND_WINDOW_MAX_BYTES);
            const std::size_t sent = flush(h.id, *s, {});
            if (was_blocked && sent > 0) {
                events.emplace_back(StreamWritable{h.id});
            }
        }
        if ((h.flags & FLAG_FIN) != 0) {
            on_remote_fin(h.id);
        }
        settle(h.id);
        return {};
    }

    Result<void> on_header() {
        Header h;
        h.version = header[0];
        h.type = header[1];
        h.flags = get_u16be(&header[2]);
        h.id = get_u32be(&header[4]);
        h.length = get_u32be(&header[8]);
        if (h.version != VERSION) {
            return YamuxError::bad_version;
        }
        switch (static_cast<FrameType>(h.type)) {
            case FrameType::data:
                return on_data_header(h);
            case FrameType::window_update:
                return on_window_update(h);
            case FrameType::ping:
                if ((h.flags & FLAG_SYN) != 0) {
                    send_header(FrameType::ping, FLAG_ACK, 0, h.length);
                } else if ((h.flags & FLAG_ACK) != 0) {
                    events.emplace_back(PingAnswered{h.length});
                }
                return {};
            case FrameType::go_away:
                if (!go_away_received) {
                    go_away_received = true;
                    events.emplace_back(GoAwayReceived{static_cast<GoAwayCode>(h.length)});
                }
                return {};
        }
        return YamuxError::bad_frame_type;
    }

    Result<void> on_input(ByteView data) {
        while (!data.empty()) {
            if (payload_remaining > 0) {
                const std::size_t n = std::min<std::size_t>(payload_remaining, data.size());
                on_payload(data.first(n));
                data = data.subspan(n);
                payload_remaining -= static_cast<std::uint32_t>(n);
                if (payload_remaining == 0) {
                    finish_payload();
                }
                continue;
            }
            const std::size_t n = std::min(YAMUX_HEADER_BYTES - header_fill, data.size());
            std::copy_n(data.begin(), n, header.begin() + static_cast<std::ptrdiff_t>(header_fill));
            header_fill += n;
            data = data.subspan(n);
            if (header_fill < YAMUX_HEADER_BYTES) {
                break;
            }
            header_fill = 0;
            auto r = on_header();
            if (!r) {
                return r.error();
            }
        }
        return {};
    }
};

YamuxSession::YamuxSession(YamuxRole role, YamuxConfig config)
    : m_state(std::make_unique<State>(role, config)) {}

YamuxSession::~YamuxSession() = default;
YamuxSession::YamuxSession(YamuxSession&&) noexcept = default;
YamuxSession& YamuxSession::operator=(YamuxSession&&) noexcept = default;

Result<void> YamuxSession::on_data(ByteView data) {
    State& st = *m_state;
    if (st.failure) {
        return *st.failure;
    }
    auto r = st.on_input(data);
    if (!r) {
        return st.fail(r.error());
    }
    return {};
}

Result<StreamId> YamuxSession::open_stream() {
    State& st = *m_state;
    if (st.failure || st.go_away_sent || st.go_away_received) {
        return YamuxError::session_closed;
    }
    if (st.streams.size() >= st.config.max_streams || st.unacked >= st.config.max_ack_backlog ||
        st.next_id > LAST_STREAM_ID) {
        return YamuxError::too_many_streams;
    }
    const auto id = static_cast<StreamId>(st.next_id);
    st.next_id += 2;
    Stream& s = st.streams[id];
    s.outbound = true;
    ++st.unacked;
    // We start at the implicit 256 KiB and grow only as the application reads, so the SYN
    // carries no extra window.
    st.send_header(FrameType::window_update, FLAG_SYN, id, 0);
    return id;
}

Result<void> YamuxSession::write(StreamId id, ByteView data) {
    State& st = *m_state;
    if (st.failure) {
        return YamuxError::session_closed;
    }
    const auto it = st.streams.find(id);
    if (it == st.streams.end()) {
        return YamuxError::unknown_stream;
    }
    Stream& s = it->second;
    if (s.fin_requested) {
        return YamuxError::stream_not_writable;
    }
    st.flush(id, s, data);
    return {};
}

std::size_t YamuxSession::read(StreamId id, Bytes& out, std::size_t max) {
    State& st = *m_state;
    const auto it = st.streams.find(id);
    if (it == st.streams.end()) {
        return 0;
    }
    Stream& s = it->second;
    const std::size_t n = s.received.pop_into(out, max);
    if (n == 0) {
        return 0;
    }
    s.recv_consumed += static_cast<std::uint32_t>(n);
    // Return the window once half of it has been read (pitfall 5), not when it hits zero.
    // A reader that has drained everything keeps up with the sender: double its window.
    if (!s.remote_fin && !st.failure && s.recv_consumed >= s.recv_window / 2) {
        std::uint32_t growth = 0;
        if (s.received.empty() && s.recv_window < st.max_window) {
            const auto grown = static_cast<std::uint32_t>(
                std::min<std::uint64_t>(std::uint64_t{s.recv_window} * 2, st.max_window));
            growth = grown - s.recv_window;
            s.recv_window = grown;
        }
        const std::uint32_t delta = s.recv_consumed + growth;
        st.send_header(FrameType::window_update, 0, id, delta);
        s.recv_remaining += delta;
        s.recv_consumed = 0;
    }
    st.settle(id);
    return n;
}

void YamuxSession::close_write(StreamId id) {
    State& st = *m_state;
    const auto it = st.streams.find(id);
    if (st.failure || it == st.streams.end() || it->second.fin_requested) {
        return;
    }
    it->second.fin_requested = true;
    st.flush(id, it->second, {});
    st.settle(id);
}

void YamuxSession::reset(StreamId id) {
    State& st = *m_state;
    const auto it = st.streams.find(id);
    if (it == st.streams.end()) {
        return;
    }
    if (!st.failure) {
        st.send_header(FrameType::window_update, FLAG_RST, id, 0);
    }
    st.forget(it);
    st.events.emplace_back(StreamReset{id});
}

void YamuxSession::ping(std::uint32_t value) {
    State& st = *m_state;
    if (!st.failure) {
        st.send_header(FrameType::ping, FLAG_SYN, 0, value);
    }
}

void YamuxSession::go_away(GoAwayCode code) {
    State& st = *m_state;
    if (st.failure || st.go_away_sent) {
        return;
    }
    st.send_header(FrameType::go_away, 0, 0, static_cast<std::uint32_t>(code));
    st.go_away_sent = true;
}

Bytes YamuxSession::take_output() {
    return std::exchange(m_state->output, Bytes{});
}

void YamuxSession::take_output(Bytes& out) {
    out.clear();
    std::swap(out, m_state->output);
}

bool YamuxSession::has_output() const {
    return !m_state->output.empty();
}

std::vector<YamuxEvent> YamuxSession::take_events() {
    return std::exchange(m_state->events, std::vector<YamuxEvent>{});
}

std::size_t YamuxSession::send_queue_bytes(StreamId id) const {
    const auto it = m_state->streams.find(id);
    return it == m_state->streams.end() ? 0 : it->second.queued.size();
}

std::size_t YamuxSession::readable_bytes(StreamId id) const {
    const auto it = m_state->streams.find(id);
    return it == m_state->streams.end() ? 0 : it->second.received.size();
}

bool YamuxSession::read_closed(StreamId id) const {
    const auto it = m_state->streams.find(id);
    return it == m_state->streams.end() || (it->second.remote_fin && it->second.received.empty());
}

bool YamuxSession::is_open(StreamId id) const {
    return m_state->streams.contains(id);
}

std::size_t YamuxSession::stream_count() const {
    return m_state->streams.size();
}

std::size_t YamuxSession::refused_streams() const { return m_state->refused_streams; }

bool YamuxSession::closed() const {
    const State& st = *m_state;
    return st.failure.has_value() || st.go_away_sent || st.go_away_received;
}

void YamuxSession::check_invariants() const {
    const State& st = *m_state;
    require(st.header_fill < YAMUX_HEADER_BYTES, "partial header shorter than a header");
    require(st.streams.size() <= st.config.max_streams, "streams within max_streams");
    require(st.next_id % 2 == (st.role == YamuxRole::client ? 1u : 0u), "next id has our parity");
    std::size_t unacked = 0;
    for (const auto& [id, s] : st.streams) {
        require(id != 0, "stream 0 is the session");
        require(st.is_ours(id) == s.outbound, "id parity matches direction");
        require(!s.outbound || id < st.next_id, "our ids were allocated");
        require(s.outbound || s.acked, "inbound streams are acked on arrival");
        unacked += s.outbound && !s.acked ? 1 : 0;
        s.received.check();
        s.queued.check();
        require(s.received.size() + s.recv_remaining + s.recv_consumed == s.recv_window,
                "receive window accounting");
        require(s.recv_window >= YAMUX_INITIAL_WINDOW && s.recv_window <= st.max_window,
                "granted window within bounds");
        require(s.send_window <= SEND_WINDOW_MAX_BYTES, "send window bounded");
        require(s.queued.empty() || s.send_window == 0 || st.failure.has_value(),
                "bytes stay queued only while the peer's window is exhausted");
        require(!s.fin_sent || (s.fin_requested && s.queued.empty()), "FIN only after the data");
        require(!(s.remote_fin && s.fin_sent && s.received.empty()),
                "fully closed and drained streams are forgotten");
    }
    require(unacked == st.unacked, "ack backlog count");
    if (st.payload_deliver) {
        require(st.payload_remaining > 0, "delivering only inside a payload");
        const auto it = st.streams.find(st.payload_stream);
        require(it == st.streams.end() || st.payload_remaining <= it->second.recv_remaining,
                "incoming payload fits the window");
    }
}

}  // namespace chainmesh::wire
