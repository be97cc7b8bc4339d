// Fuzz target `yamux`: a client and a server session driven by the input. Each step is one of:
// deliver a chunk of one side's output to the other (chunk size chosen by the input), inject
// raw bytes or a hand-made frame (hostile mode only), or an application call (open, write,
// read, close_write, reset, ping, go_away). Invariants are checked after every step.
//
// In friendly mode (first byte even) only engine output reaches either side, so no protocol
// error may ever occur, and every byte read must be the byte written at that offset of that
// stream (a pattern both sides compute independently).

#include "fuzz_target.hpp"

#include <chainmesh/wire/yamux.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <vector>

namespace chainmesh::fuzz {
namespace {

using wire::GoAwayCode;
using wire::StreamId;
using wire::YamuxConfig;
using wire::YamuxEvent;
using wire::YamuxRole;
using wire::YamuxSession;

constexpr std::size_t MAX_STEPS = 4000;
constexpr std::size_t MAX_WRITTEN_BYTES = 1024 * 1024;  // keeps runs fast; > 2 windows
constexpr std::size_t MAX_INJECTED_PAYLOAD_BYTES = 300 * 1024;

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "yamux fuzz check failed: %s\n", what);
        std::abort();
    }
}

class Input {
public:
    explicit Input(ByteView data) : m_data(data) {}
    bool empty() const { return m_data.empty(); }
    std::uint8_t byte() {
        if (m_data.empty()) {
            return 0;
        }
        const std::uint8_t b = m_data[0];
        m_data = m_data.subspan(1);
        return b;
    }
    std::uint32_t u32() {
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            v = (v << 8) | byte();
        }
        return v;
    }
    ByteView bytes(std::size_t n) {
        n = std::min(n, m_data.size());
        const ByteView out = m_data.first(n);
        m_data = m_data.subspan(n);
        return out;
    }

private:
    ByteView m_data;
};

// The bytes of stream `id` at `offset`: a window into one fixed pseudo-random period, so that
// writing and checking are block copies and compares rather than per-byte work.
constexpr std::size_t PATTERN_PERIOD_BYTES = 65521;

const Bytes& pattern_period() {
    static const Bytes period = [] {
        Bytes out(PATTERN_PERIOD_BYTES);
        std::uint32_t x = 0x9e3779b9u;
        for (std::uint8_t& b : out) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            b = static_cast<std::uint8_t>(x);
        }
        return out;
    }();
    return period;
}

// Calls f(piece) for consecutive pieces of the pattern covering [offset, offset + n).
template <class F>
void for_pattern(StreamId id, std::uint64_t offset, std::size_t n, F&& f) {
    const Bytes& period = pattern_period();
    std::size_t at = static_cast<std::size_t>((offset + std::uint64_t{id} * 7919) % period.size());
    while (n > 0) {
        const std::size_t take = std::min(n, period.size() - at);
        f(ByteView(period).subspan(at, take));
        n -= take;
        at = 0;
    }
}

struct Side {
    Side(YamuxRole role, YamuxConfig config)
        : session(role, config),
          // Tiny frames make every byte cost a header: fewer bytes then, to keep runs fast.
          written_limit(std::min(MAX_WRITTEN_BYTES, config.max_data_frame_bytes * 1024)) {}

    YamuxSession session;
    std::vector<StreamId> streams;               // ids the application knows
    std::map<StreamId, std::uint64_t> written;   // pattern offset per stream, our direction
    std::map<StreamId, std::uint64_t> consumed;  // pattern offset per stream, peer's direction
    Bytes wire;                                  // our output not yet delivered to the peer
    std::size_t wire_offset = 0;
    bool failed = false;
    std::size_t written_limit;
    std::size_t written_total = 0;

    void forget(StreamId id) {
        streams.erase(std::remove(streams.begin(), streams.end(), id), streams.end());
        written.erase(id);
        consumed.erase(id);
    }

    // A known id most of the time, sometimes any small id.
    StreamId pick(std::uint8_t b) const {
        if (!streams.empty() && b < 224) {
            return streams[b % streams.size()];
        }
        return b % 16;
    }
};

YamuxConfig config_from(Input& in) {
    const std::uint8_t b = in.byte();
    YamuxConfig config;
    config.max_streams = 1 + (b & 7);
    config.max_ack_backlog = 1 + ((b >> 3) & 3);
    config.max_receive_window = (b & 0x20) != 0 ? 256 * 1024 : 1024 * 1024;
    const std::uint8_t frame = in.byte();
    config.max_data_frame_bytes = frame < 16 ? 1u + frame : std::size_t{frame} * 300;
    return config;
}

void collect(Side& side, bool friendly) {
    append(side.wire, side.session.take_output());
    for (const YamuxEvent& event : side.session.take_events()) {
        if (const auto* opened = std::get_if<wire::StreamOpened>(&event)) {
            check(std::find(side.streams.begin(), side.streams.end(), opened->id) ==
                      side.streams.end(),
                  "opened ids are new");
            side.streams.push_back(opened->id);
        } else if (const auto* reset = std::get_if<wire::StreamReset>(&event)) {
            check(!side.session.is_open(reset->id), "reset streams are forgotten");
            side.forget(reset->id);
        } else if (const auto* closed = std::get_if<wire::StreamClosed>(&event)) {
            check(!side.session.is_open(closed->id), "closed streams are forgotten");
            side.forget(closed->id);
        } else if (const auto* readable = std::get_if<wire::StreamReadable>(&event)) {
            // The bytes may already have been consumed by a read in the same step.
            (void)readable;
        } else if (std::holds_alternative<wire::GoAwayReceived>(event)) {
            check(side.session.closed(), "go-away received closes the session");
        }
    }
    (void)friendly;
    side.session.check_invariants();
}

void deliver(Side& from, Side& to, std::size_t n, bool friendly) {
    n = std::min(n, from.wire.size() - from.wire_offset);
    const ByteView chunk = ByteView(from.wire).subspan(from.wire_offset, n);
    const auto r = to.session.on_data(chunk);
    from.wire_offset += n;
    if (from.wire_offset == from.wire.size()) {
        from.wire.clear();
        from.wire_offset = 0;
    } else if (from.wire_offset > from.wire.size() / 2) {
        from.wire.erase(from.wire.begin(),
                        from.wire.begin() + static_cast<std::ptrdiff_t>(from.wire_offset));
        from.wire_offset = 0;
    }
    if (!r) {
        check(!friendly, "engine output never violates the protocol");
        check(to.session.closed(), "a protocol error closes the session");
        to.failed = true;
    }
}

void inject_frame(Side& to, Input& in) {
    Bytes frame;
    const std::uint8_t type = in.byte();
    frame.push_back(type < 250 ? 0 : 1);  // version
    frame.push_back(type % 5);
    put_u16be(frame, static_cast<std::uint16_t>(in.byte() & 0x1f));
    const std::uint8_t id = in.byte();
    put_u32be(frame, id < 240 ? id % 12 : in.u32());
    const std::uint8_t length = in.byte();
    const std::uint32_t value = length < 128   ? length
                                : length < 192 ? (length - 127u) * 16384
                                : length < 250 ? (length - 191u) * 4096 + 1
                                               : in.u32();
    put_u32be(frame, value);
    if (type % 5 == 0) {
        // Payload bytes as far as the input lasts; a short one leaves the frame open.
        frame.resize(frame.size() + std::min<std::size_t>(value, MAX_INJECTED_PAYLOAD_BYTES), 0xa5);
    }
    if (to.session.on_data(frame)) {
        return;
    }
    check(to.session.closed(), "a protocol error closes the session");
    to.failed = true;
}

}  // namespace
}  // namespace chainmesh::fuzz

CHAINMESH_FUZZ_TARGET(yamux, data) {
    using namespace chainmesh;
    using namespace chainmesh::fuzz;
    Input in(data);
    const bool friendly = (in.byte() & 1) == 0;
    Side sides[2] = {Side(YamuxRole::client, config_from(in)),
                     Side(YamuxRole::server, config_from(in))};
    for (std::size_t step = 0; step < MAX_STEPS && !in.empty(); ++step) {
        const std::uint8_t op = in.byte();
        Side& self = sides[op & 1];
        Side& peer = sides[1 - (op & 1)];
        switch ((op >> 1) % 11) {
            case 0:
            case 1: {  // deliver a chunk of the peer's output to us
                const std::uint8_t b = in.byte();
                const std::size_t n = b < 64 ? b + 1u : (b - 63u) * 1024;
                deliver(peer, self, n, friendly);
                break;
            }
            case 2: {  // hostile input: raw bytes or a frame
                if (friendly) {
                    deliver(peer, self, SIZE_MAX, friendly);
                } else if ((op & 0x80) != 0) {
                    const ByteView raw = in.bytes(in.byte());
                    if (!self.session.on_data(raw)) {
                        check(self.session.closed(), "a protocol error closes the session");
                        self.failed = true;
                    }
                } else {
                    inject_frame(self, in);
                }
                break;
            }
            case 3: {
                const auto id = self.session.open_stream();
                if (id) {
                    check(!self.failed, "no opens after a failure");
                    self.streams.push_back(*id);
                }
                break;
            }
            case 4: {
                const StreamId id = self.pick(in.byte());
                const std::uint8_t b = in.byte();
                std::size_t n = (op & 0x80) != 0 ? std::size_t{b} * 1024 : std::size_t{b} * 17;
                n = std::min(n, self.written_limit - self.written_total);
                std::uint64_t& offset = self.written[id];
                Bytes bytes;
                bytes.reserve(n);
                for_pattern(id, offset, n, [&](ByteView piece) { append(bytes, piece); });
                const std::size_t queued_before = self.session.send_queue_bytes(id);
                if (self.session.write(id, bytes)) {
                    offset += n;
                    self.written_total += n;
                    check(self.session.send_queue_bytes(id) <= queued_before + n,
                          "the send queue grows by at most what was written");
                } else if (offset == 0) {
                    self.written.erase(id);
                }
                break;
            }
            case 5: {
                const StreamId id = self.pick(in.byte());
                const std::size_t max = 1 + std::size_t{in.byte()} * 700;
                const std::size_t readable = self.session.readable_bytes(id);
                Bytes out;
                const std::size_t n = self.session.read(id, out, max);
                check(n == out.size() && n == std::min(max, readable), "read returns what it can");
                if (friendly && n > 0) {
                    std::uint64_t& offset = self.consumed[id];
                    std::size_t at = 0;
                    for_pattern(id, offset, n, [&](ByteView piece) {
                        check(equal(piece, ByteView(out).subspan(at, piece.size())),
                              "bytes arrive intact");
                        at += piece.size();
                    });
                    offset += n;
                }
                break;
            }
            case 6:
                self.session.close_write(self.pick(in.byte()));
                break;
            case 7:
                self.session.reset(self.pick(in.byte()));
                break;
            case 8:
                self.session.ping(in.u32());
                break;
            case 9:
                self.session.go_away(static_cast<GoAwayCode>(in.byte() % 3));
                break;
            case 10: {  // deliver everything both ways
                deliver(peer, self, SIZE_MAX, friendly);
                collect(peer, friendly);
                deliver(self, peer, SIZE_MAX, friendly);
                break;
            }
        }
        collect(sides[0], friendly);
        collect(sides[1], friendly);
    }
}
