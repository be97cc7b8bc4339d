#include <chainmesh/util/hex.hpp>
#include <chainmesh/wire/yamux.hpp>

#include "../test_hex.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

namespace chainmesh::wire {
namespace {

constexpr std::size_t KIB = 1024;
constexpr std::size_t ALL = std::numeric_limits<std::size_t>::max();

using chainmesh::testing::hex;

Bytes frame(std::uint8_t type, std::uint16_t flags, std::uint32_t id, std::uint32_t length) {
    Bytes out{0, type};
    put_u16be(out, flags);
    put_u32be(out, id);
    put_u32be(out, length);
    return out;
}

Bytes data_frame(std::uint16_t flags, std::uint32_t id, ByteView payload) {
    Bytes out = frame(0, flags, id, static_cast<std::uint32_t>(payload.size()));
    append(out, payload);
    return out;
}

Bytes window_update(std::uint16_t flags, std::uint32_t id, std::uint32_t delta) {
    return frame(1, flags, id, delta);
}

Bytes pattern(std::size_t size, std::uint8_t seed) {
    Bytes out(size);
    for (std::size_t i = 0; i < size; ++i) {
        out[i] = static_cast<std::uint8_t>(seed + i * 7 + (i >> 9));
    }
    return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& part : parts) {
        append(out, part);
    }
    return out;
}

std::string to_string(const YamuxEvent& event) {
    struct Visitor {
        std::string operator()(const StreamOpened& e) { return "opened " + std::to_string(e.id); }
        std::string operator()(const StreamReadable& e) {
            return "readable " + std::to_string(e.id);
        }
        std::string operator()(const StreamReadClosed& e) {
            return "read_closed " + std::to_string(e.id);
        }
        std::string operator()(const StreamWritable& e) {
            return "writable " + std::to_string(e.id);
        }
        std::string operator()(const StreamReset& e) { return "reset " + std::to_string(e.id); }
        std::string operator()(const StreamClosed& e) { return "closed " + std::to_string(e.id); }
        std::string operator()(const PingAnswered& e) { return "pong " + std::to_string(e.value); }
        std::string operator()(const GoAwayReceived& e) {
            return "go_away " + std::to_string(static_cast<std::uint32_t>(e.code));
        }
    };
    return std::visit(Visitor{}, event);
}

std::vector<std::string> events_of(YamuxSession& session) {
    std::vector<std::string> out;
    for (const YamuxEvent& event : session.take_events()) {
        out.push_back(to_string(event));
    }
    session.check_invariants();
    return out;
}

using Strings = std::vector<std::string>;

// A client and a server wired to each other in memory.
struct Pair {
    explicit Pair(YamuxConfig config = {})
        : client(YamuxRole::client, config), server(YamuxRole::server, config) {}

    // Moves bytes both ways until neither side has output; collects the events.
    void pump() {
        while (client.has_output() || server.has_output()) {
            if (client.has_output()) {
                ASSERT_TRUE(server.on_data(client.take_output()));
            }
            if (server.has_output()) {
                ASSERT_TRUE(client.on_data(server.take_output()));
            }
            collect();
        }
        collect();
    }

    void collect() {
        for (std::string& event : events_of(client)) {
            client_events.push_back(std::move(event));
        }
        for (std::string& event : events_of(server)) {
            server_events.push_back(std::move(event));
        }
    }

    std::size_t count(const Strings& events, const std::string& event) {
        return static_cast<std::size_t>(std::count(events.begin(), events.end(), event));
    }

    YamuxSession client;
    YamuxSession server;
    Strings client_events;
    Strings server_events;
};

// --- §14 header vectors ---

TEST(Yamux, OpenStreamAndDataMatchVectors) {
    YamuxSession client(YamuxRole::client);
    const auto id = client.open_stream();
    ASSERT_TRUE(id);
    EXPECT_EQ(*id, 1u);
    EXPECT_EQ(client.take_output(), hex("000100010000000100000000"));
    ASSERT_TRUE(client.write(1, as_bytes("hello")));
    EXPECT_EQ(client.take_output(), concat({hex("000000000000000100000005"), to_bytes("hello")}));
    EXPECT_EQ(*client.open_stream(), 3u);

    YamuxSession server(YamuxRole::server);
    EXPECT_EQ(*server.open_stream(), 2u);
    EXPECT_EQ(server.take_output(), hex("000100010000000200000000"));
    EXPECT_EQ(*server.open_stream(), 4u);
    client.check_invariants();
    server.check_invariants();
}

TEST(Yamux, AcceptingStreamTwoSendsTheAckVector) {
    YamuxSession client(YamuxRole::client);
    ASSERT_TRUE(client.on_data(hex("000100010000000200000000")));
    EXPECT_EQ(client.take_output(), hex("000100020000000200000000"));
    EXPECT_EQ(events_of(client), Strings{"opened 2"});
    EXPECT_TRUE(client.is_open(2));
    EXPECT_EQ(client.stream_count(), 1u);
}

TEST(Yamux, ReadingAFullWindowSendsThe256KiBUpdateVector) {
    YamuxConfig config;
    config.max_receive_window = YAMUX_INITIAL_WINDOW;  // no growth: the delta is what was read
    YamuxSession client(YamuxRole::client, config);
    ASSERT_EQ(*client.open_stream(), 1u);
    client.take_output();
    ASSERT_TRUE(client.on_data(hex("000100020000000100000000")));  // ACK
    ASSERT_TRUE(client.on_data(data_frame(0, 1, pattern(YAMUX_INITIAL_WINDOW, 1))));
    EXPECT_EQ(events_of(client), Strings{"readable 1"});
    EXPECT_EQ(client.readable_bytes(1), YAMUX_INITIAL_WINDOW);
    EXPECT_FALSE(client.has_output());

    Bytes out;
    EXPECT_EQ(client.read(1, out, ALL), YAMUX_INITIAL_WINDOW);
    EXPECT_EQ(out, pattern(YAMUX_INITIAL_WINDOW, 1));
    EXPECT_EQ(client.take_output(), hex("000100000000000100040000"));
    client.check_invariants();
}

TEST(Yamux, CloseWriteSendsTheFinVector) {
    YamuxSession client(YamuxRole::client);
    ASSERT_EQ(*client.open_stream(), 1u);
    client.take_output();
    client.close_write(1);
    EXPECT_EQ(client.take_output(), hex("000000040000000100000000"));
    EXPECT_TRUE(client.is_open(1));  // the peer may still send
    EXPECT_EQ(client.write(1, as_bytes("late")).error(), YamuxError::stream_not_writable);
    client.close_write(1);
    EXPECT_FALSE(client.has_output());
}

TEST(Yamux, PingVectorsAndAnswer) {
    YamuxSession client(YamuxRole::client);
    YamuxSession server(YamuxRole::server);
    client.ping(7);
    const Bytes request = client.take_output();
    EXPECT_EQ(request, hex("000200010000000000000007"));
    ASSERT_TRUE(server.on_data(request));
    const Bytes answer = server.take_output();
    EXPECT_EQ(answer, hex("000200020000000000000007"));
    EXPECT_TRUE(events_of(server).empty());
    ASSERT_TRUE(client.on_data(answer));
    EXPECT_EQ(events_of(client), Strings{"pong 7"});
    EXPECT_FALSE(client.has_output());
}

TEST(Yamux, GoAwayVectorAndNoMoreStreams) {
    YamuxSession client(YamuxRole::client);
    EXPECT_FALSE(client.closed());
    client.go_away(GoAwayCode::normal);
    EXPECT_EQ(client.take_output(), hex("000300000000000000000000"));
    EXPECT_TRUE(client.closed());
    EXPECT_EQ(client.open_stream().error(), YamuxError::session_closed);
    client.go_away(GoAwayCode::normal);
    EXPECT_FALSE(client.has_output());
    // A stream the peer opens after our go-away is refused.
    ASSERT_TRUE(client.on_data(hex("000100010000000200000000")));
    EXPECT_EQ(client.take_output(), hex("000100080000000200000000"));
    EXPECT_EQ(client.stream_count(), 0u);
}

// --- sessions wired together ---

// Reads everything available on `id` in pieces of `step`, pumping after each read.
void read_all(Pair& pair, YamuxSession& reader, StreamId id, std::size_t total, std::size_t step,
              Bytes& received) {
    for (int rounds = 0; received.size() < total && rounds < 100000; ++rounds) {
        if (reader.readable_bytes(id) == 0) {
            pair.pump();
            ASSERT_GT(reader.readable_bytes(id), 0u) << "stalled at " << received.size();
        }
        reader.read(id, received, step);
        reader.check_invariants();
        pair.pump();
    }
}

TEST(Yamux, MovesOneMebibyteEachWayUnderFlowControl) {
    constexpr std::size_t TOTAL = 1024 * KIB;
    Pair wired;
    const StreamId sid = *wired.client.open_stream();
    const Bytes sent = pattern(TOTAL, 3);
    ASSERT_TRUE(wired.client.write(sid, sent));

    // The sender stops at the peer's initial window: four 64 KiB frames after the SYN.
    EXPECT_EQ(wired.client.send_queue_bytes(sid), TOTAL - YAMUX_INITIAL_WINDOW);
    const Bytes first = wired.client.take_output();
    EXPECT_EQ(first.size(), 12 + 4 * (12 + 64 * KIB));
    ASSERT_TRUE(wired.server.on_data(first));
    wired.pump();
    EXPECT_EQ(wired.server_events, (Strings{"opened 1", "readable 1"}));
    EXPECT_EQ(wired.server.readable_bytes(sid), YAMUX_INITIAL_WINDOW);
    // Still blocked: nobody has read, so no window came back.
    EXPECT_EQ(wired.client.send_queue_bytes(sid), TOTAL - YAMUX_INITIAL_WINDOW);
    EXPECT_FALSE(wired.client.has_output());
    EXPECT_TRUE(wired.client_events.empty());

    Bytes received;
    read_all(wired, wired.server, sid, TOTAL, 50 * KIB, received);
    ASSERT_EQ(received.size(), TOTAL);
    EXPECT_EQ(received, sent);
    EXPECT_EQ(wired.client.send_queue_bytes(sid), 0u);
    EXPECT_GE(wired.count(wired.client_events, "writable 1"), 1u);
    EXPECT_EQ(wired.count(wired.server_events, "opened 1"), 1u);

    // And back, on the same stream, with the server writing in pieces.
    for (std::size_t offset = 0; offset < TOTAL; offset += 100 * KIB) {
        const std::size_t n = std::min(100 * KIB, TOTAL - offset);
        ASSERT_TRUE(wired.server.write(sid, ByteView(received).subspan(offset, n)));
    }
    wired.pump();
    EXPECT_EQ(wired.client.readable_bytes(sid), YAMUX_INITIAL_WINDOW);
    EXPECT_GT(wired.server.send_queue_bytes(sid), 0u);
    Bytes echoed;
    read_all(wired, wired.client, sid, TOTAL, 64 * KIB, echoed);
    EXPECT_EQ(echoed, sent);
    EXPECT_EQ(wired.server.send_queue_bytes(sid), 0u);
    EXPECT_GE(wired.count(wired.server_events, "writable 1"), 1u);
}

TEST(Yamux, WindowGrowsWhileTheReaderKeepsUpAndNeverBeyondTheMaximum) {
    YamuxConfig config;
    config.max_receive_window = 512 * KIB;
    YamuxSession client(YamuxRole::client, config);
    ASSERT_TRUE(client.on_data(window_update(0x1, 2, 0)));
    EXPECT_EQ(client.take_output(), hex("000100020000000200000000"));  // the SYN grants no extra

    ASSERT_TRUE(client.on_data(data_frame(0, 2, pattern(256 * KIB, 0))));
    Bytes out;
    EXPECT_EQ(client.read(2, out, ALL), 256 * KIB);
    // Drained: 256 KiB returned plus 256 KiB of growth.
    EXPECT_EQ(client.take_output(), hex("000100000000000200080000"));

    ASSERT_TRUE(client.on_data(data_frame(0, 2, pattern(512 * KIB, 0))));
    EXPECT_EQ(client.read(2, out, 200 * KIB), 200 * KIB);
    EXPECT_FALSE(client.has_output());  // less than half of 512 KiB read
    EXPECT_EQ(client.read(2, out, 56 * KIB), 56 * KIB);
    // Half read but 256 KiB still buffered: no growth.
    EXPECT_EQ(client.take_output(), hex("000100000000000200040000"));
    EXPECT_EQ(client.read(2, out, ALL), 256 * KIB);
    // At the maximum: only what was read.
    EXPECT_EQ(client.take_output(), hex("000100000000000200040000"));

    // The peer may now send exactly 512 KiB, not a byte more.
    ASSERT_TRUE(client.on_data(data_frame(0, 2, pattern(512 * KIB - 1, 0))));
    ASSERT_TRUE(client.on_data(data_frame(0, 2, pattern(1, 0))));
    const auto r = client.on_data(data_frame(0, 2, pattern(1, 0)));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), YamuxError::window_exceeded);
    client.check_invariants();
}

TEST(Yamux, SynWindowDeltaIsAdditive) {
    YamuxSession server(YamuxRole::server);
    ASSERT_TRUE(server.on_data(window_update(0x1, 1, 256 * KIB)));
    EXPECT_EQ(events_of(server), Strings{"opened 1"});
    server.take_output();
    ASSERT_TRUE(server.write(1, pattern(600 * KIB, 0)));
    EXPECT_EQ(server.send_queue_bytes(1), 600 * KIB - 512 * KIB);
    server.check_invariants();
}

// FIN goes out on an empty Data frame of its own, never on a frame that carries bytes:
// js-libp2p's yamux acts on the flag before the payload and would lose it.
TEST(Yamux, FinFollowsTheLastDataFrameOnItsOwn) {
    YamuxSession client(YamuxRole::client);
    ASSERT_EQ(*client.open_stream(), 1u);
    ASSERT_TRUE(client.write(1, pattern(300 * KIB, 0)));
    client.close_write(1);
    const Bytes first = client.take_output();
    EXPECT_EQ(first.size(), 12 + 4 * (12 + 64 * KIB));  // no FIN yet: 44 KiB still queued
    EXPECT_EQ(client.send_queue_bytes(1), 44 * KIB);

    ASSERT_TRUE(client.on_data(window_update(0x2, 1, 64 * KIB)));
    EXPECT_EQ(events_of(client), Strings{"writable 1"});
    const Bytes last = client.take_output();
    ASSERT_EQ(last.size(), 12 + 44 * KIB + 12);
    EXPECT_EQ(Bytes(last.begin(), last.begin() + 12), hex("00000000000000010000b000"));
    EXPECT_EQ(Bytes(last.end() - 12, last.end()), hex("000000040000000100000000"));
    EXPECT_EQ(client.send_queue_bytes(1), 0u);

    // The peer's FIN completes the stream, which has nothing buffered: forgotten at once.
    ASSERT_TRUE(client.on_data(hex("000100040000000100000000")));
    EXPECT_EQ(events_of(client), (Strings{"read_closed 1", "closed 1"}));
    EXPECT_FALSE(client.is_open(1));
}

TEST(Yamux, HalfCloseBothWays) {
    Pair pair;
    const StreamId id = *pair.client.open_stream();
    ASSERT_TRUE(pair.client.write(id, as_bytes("ping")));
    pair.client.close_write(id);
    pair.pump();
    EXPECT_EQ(pair.server_events, (Strings{"opened 1", "readable 1", "read_closed 1"}));
    EXPECT_FALSE(pair.server.read_closed(id));  // "ping" still buffered
    Bytes got;
    EXPECT_EQ(pair.server.read(id, got, ALL), 4u);
    EXPECT_EQ(got, to_bytes("ping"));
    EXPECT_TRUE(pair.server.read_closed(id));
    EXPECT_TRUE(pair.server.is_open(id));    // our direction is still open
    EXPECT_FALSE(pair.server.has_output());  // no window update after the peer's FIN

    ASSERT_TRUE(pair.server.write(id, as_bytes("pong")));
    pair.server.close_write(id);
    pair.pump();
    EXPECT_EQ(pair.server_events.back(), "closed 1");
    EXPECT_EQ(pair.server.stream_count(), 0u);
    EXPECT_EQ(pair.client_events, (Strings{"readable 1", "read_closed 1"}));
    // The client forgets the stream only once it has read the buffered reply.
    EXPECT_TRUE(pair.client.is_open(id));
    EXPECT_FALSE(pair.client.read_closed(id));
    got.clear();
    EXPECT_EQ(pair.client.read(id, got, 2), 2u);
    EXPECT_TRUE(pair.client.is_open(id));
    EXPECT_EQ(pair.client.read(id, got, ALL), 2u);
    EXPECT_EQ(got, to_bytes("pong"));
    EXPECT_EQ(events_of(pair.client), Strings{"closed 1"});
    EXPECT_EQ(pair.client.stream_count(), 0u);
    EXPECT_TRUE(pair.client.read_closed(id));
}

TEST(Yamux, ResetEitherWay) {
    Pair pair;
    const StreamId a = *pair.client.open_stream();
    const StreamId b = *pair.client.open_stream();
    ASSERT_TRUE(pair.client.write(a, as_bytes("unread")));
    pair.pump();
    EXPECT_EQ(pair.server.readable_bytes(a), 6u);

    pair.server.reset(a);
    EXPECT_EQ(events_of(pair.server), Strings{"reset 1"});
    EXPECT_EQ(pair.server.take_output(), hex("000100080000000100000000"));
    EXPECT_FALSE(pair.server.is_open(a));
    EXPECT_EQ(pair.server.readable_bytes(a), 0u);  // unread bytes are gone
    ASSERT_TRUE(pair.client.on_data(hex("000100080000000100000000")));
    EXPECT_EQ(events_of(pair.client), Strings{"reset 1"});
    EXPECT_FALSE(pair.client.is_open(a));
    EXPECT_EQ(pair.client.write(a, as_bytes("x")).error(), YamuxError::unknown_stream);
    EXPECT_TRUE(pair.client.read_closed(a));

    pair.client.reset(b);
    EXPECT_EQ(events_of(pair.client), Strings{"reset 3"});
    pair.pump();
    EXPECT_EQ(pair.server_events, (Strings{"opened 1", "opened 3", "readable 1", "reset 3"}));
    EXPECT_EQ(pair.server.stream_count(), 0u);
    EXPECT_EQ(pair.client.stream_count(), 0u);
    pair.server.reset(b);  // unknown now: nothing happens
    EXPECT_FALSE(pair.server.has_output());
}

// --- hostile and odd input ---

TEST(Yamux, IgnoresWindowUpdatesForUnknownStreams) {
    YamuxSession client(YamuxRole::client);
    ASSERT_TRUE(client.on_data(window_update(0, 9, 256 * KIB)));
    ASSERT_TRUE(client.on_data(window_update(0x4, 9, 0)));
    ASSERT_TRUE(client.on_data(window_update(0x8, 9, 0)));
    ASSERT_TRUE(client.on_data(window_update(0x2, 1, 5)));  // ACK for a stream never opened
    EXPECT_FALSE(client.has_output());
    EXPECT_TRUE(events_of(client).empty());
    EXPECT_EQ(client.stream_count(), 0u);
    EXPECT_FALSE(client.closed());
}

TEST(Yamux, DropsDataForUnknownStreams) {
    YamuxSession client(YamuxRole::client);
    ASSERT_TRUE(client.on_data(
        concat({data_frame(0x4, 9, as_bytes("hello")), hex("000200010000000000000007")})));
    EXPECT_EQ(client.take_output(), hex("000200020000000000000007"));
    EXPECT_TRUE(events_of(client).empty());
    EXPECT_EQ(client.stream_count(), 0u);

    // But never more than any window we grant.
    const auto r = client.on_data(frame(0, 0, 9, 16 * 1024 * KIB + 1));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), YamuxError::frame_too_large);
}

TEST(Yamux, WindowExceededFailsWithGoAway) {
    YamuxSession client(YamuxRole::client);
    ASSERT_EQ(*client.open_stream(), 1u);
    client.take_output();
    ASSERT_TRUE(client.on_data(data_frame(0x2, 1, pattern(100 * KIB, 0))));
    // 156 KiB remain; the header alone is enough to fail, before any payload is buffered.
    const auto r = client.on_data(frame(0, 0, 1, 156 * KIB + 1));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), YamuxError::window_exceeded);
    EXPECT_EQ(client.take_output(), hex("000300000000000000000001"));
    EXPECT_TRUE(client.closed());
    EXPECT_EQ(client.on_data(hex("000200010000000000000007")).error(), YamuxError::window_exceeded);
    EXPECT_FALSE(client.has_output());
    EXPECT_EQ(client.open_stream().error(), YamuxError::session_closed);
    EXPECT_EQ(client.write(1, as_bytes("x")).error(), YamuxError::session_closed);
    client.check_invariants();
}

TEST(Yamux, ProtocolErrorsQueueGoAway) {
    struct Case {
        YamuxRole role;
        Bytes input;
        YamuxError error;
    };
    const std::vector<Case> cases = {
        {YamuxRole::client, hex("010100010000000200000000"), YamuxError::bad_version},
        {YamuxRole::client, hex("000400000000000000000000"), YamuxError::bad_frame_type},
        {YamuxRole::client, hex("000100010000000100000000"), YamuxError::bad_stream_id},
        {YamuxRole::server, hex("000100010000000200000000"), YamuxError::bad_stream_id},
        {YamuxRole::server, hex("000100010000000000000000"), YamuxError::bad_stream_id},
        {YamuxRole::server, hex("000100010000000100000000000000010000000100000000"),
         YamuxError::bad_stream_id},
        {YamuxRole::server, hex("000000010000000100040001"), YamuxError::window_exceeded},
    };
    for (const Case& c : cases) {
        YamuxSession session(c.role);
        const auto r = session.on_data(c.input);
        ASSERT_FALSE(r) << util::to_hex(c.input);
        EXPECT_EQ(r.error(), c.error) << util::to_hex(c.input);
        const Bytes out = session.take_output();
        ASSERT_GE(out.size(), 12u);
        EXPECT_EQ(Bytes(out.end() - 12, out.end()), hex("000300000000000000000001"));
        EXPECT_TRUE(session.closed());
        session.check_invariants();
    }
}

TEST(Yamux, RefusesInboundStreamsBeyondTheLimitWithRst) {
    YamuxConfig config;
    config.max_streams = 2;
    YamuxSession server(YamuxRole::server, config);
    ASSERT_TRUE(server.on_data(
        concat({window_update(0x1, 1, 0), window_update(0x1, 3, 0), window_update(0x1, 5, 0),
                data_frame(0x1, 7, as_bytes("dropped"))})));
    EXPECT_EQ(server.take_output(), hex("000100020000000100000000"
                                        "000100020000000300000000"
                                        "000100080000000500000000"
                                        "000100080000000700000000"));
    EXPECT_EQ(events_of(server), (Strings{"opened 1", "opened 3"}));
    EXPECT_EQ(server.stream_count(), 2u);
    EXPECT_FALSE(server.closed());
    EXPECT_EQ(server.open_stream().error(), YamuxError::too_many_streams);
}

TEST(Yamux, OutboundOpensRespectTheAckBacklog) {
    YamuxConfig config;
    config.max_ack_backlog = 2;
    YamuxSession client(YamuxRole::client, config);
    EXPECT_EQ(*client.open_stream(), 1u);
    EXPECT_EQ(*client.open_stream(), 3u);
    EXPECT_EQ(client.open_stream().error(), YamuxError::too_many_streams);
    ASSERT_TRUE(client.on_data(window_update(0x2, 1, 0)));
    EXPECT_EQ(*client.open_stream(), 5u);
    client.reset(3);  // an unacknowledged stream that is reset leaves the backlog too
    EXPECT_EQ(*client.open_stream(), 7u);
    client.check_invariants();
}

TEST(Yamux, ByteAtATimeMatchesOneShot) {
    // A realistic server transcript plus hand-made frames, fed whole and one byte at a time.
    YamuxSession server(YamuxRole::server);
    const StreamId a = *server.open_stream();
    ASSERT_TRUE(server.write(a, pattern(100 * KIB, 5)));
    const StreamId b = *server.open_stream();
    ASSERT_TRUE(server.write(b, as_bytes("second")));
    server.close_write(b);
    server.ping(42);
    Bytes transcript = server.take_output();
    append(transcript, data_frame(0x4, a, pattern(3, 1)));        // FIN on the last data
    append(transcript, window_update(0x1, 6, 1000));              // SYN with extra window
    append(transcript, data_frame(0x8, 6, as_bytes("ignored")));  // RST with payload
    append(transcript, data_frame(0, 77, pattern(1000, 2)));      // unknown stream
    append(transcript, frame(2, 0x2, 0, 9));                      // pong
    append(transcript, frame(3, 0, 0, 2));                        // go-away

    YamuxSession whole(YamuxRole::client);
    ASSERT_TRUE(whole.on_data(transcript));
    YamuxSession bytewise(YamuxRole::client);
    for (const std::uint8_t byte : transcript) {
        ASSERT_TRUE(bytewise.on_data(ByteView(&byte, 1)));
        bytewise.check_invariants();
    }
    const Strings expected = {"opened 2",      "readable 2",    "opened 4", "readable 4",
                              "read_closed 4", "read_closed 2", "opened 6", "reset 6",
                              "pong 9",        "go_away 2"};
    EXPECT_EQ(events_of(whole), expected);
    EXPECT_EQ(events_of(bytewise), expected);
    const Bytes output = whole.take_output();
    EXPECT_EQ(bytewise.take_output(), output);
    EXPECT_EQ(output, hex("000100020000000200000000"
                          "000100020000000400000000"
                          "00020002000000000000002a"
                          "000100020000000600000000"));
    for (YamuxSession* session : {&whole, &bytewise}) {
        Bytes got;
        EXPECT_EQ(session->read(a, got, ALL), 100 * KIB + 3);
        EXPECT_EQ(Bytes(got.begin(), got.begin() + 100 * KIB), pattern(100 * KIB, 5));
        got.clear();
        EXPECT_EQ(session->read(b, got, ALL), 6u);
        EXPECT_EQ(got, to_bytes("second"));
        EXPECT_TRUE(session->closed());
        session->check_invariants();
    }
}

TEST(Yamux, PingAcrossAPair) {
    Pair pair;
    pair.client.ping(7);
    pair.server.ping(0xfffffffe);
    pair.pump();
    EXPECT_EQ(pair.client_events, Strings{"pong 7"});
    EXPECT_EQ(pair.server_events, Strings{"pong 4294967294"});
}

TEST(Yamux, GoAwayReceivedPreventsOpenButStreamsCarryOn) {
    Pair pair;
    const StreamId id = *pair.client.open_stream();
    pair.pump();
    pair.server.go_away(GoAwayCode::normal);
    pair.pump();
    EXPECT_EQ(pair.client_events, Strings{"go_away 0"});
    EXPECT_TRUE(pair.client.closed());
    EXPECT_EQ(pair.client.open_stream().error(), YamuxError::session_closed);
    EXPECT_EQ(pair.server.open_stream().error(), YamuxError::session_closed);

    ASSERT_TRUE(pair.client.write(id, as_bytes("still here")));
    pair.pump();
    Bytes got;
    EXPECT_EQ(pair.server.read(id, got, ALL), 10u);
    EXPECT_EQ(got, to_bytes("still here"));
}

TEST(Yamux, WritesToUnknownStreamsFail) {
    YamuxSession client(YamuxRole::client);
    EXPECT_EQ(client.write(1, as_bytes("x")).error(), YamuxError::unknown_stream);
    Bytes out;
    EXPECT_EQ(client.read(1, out, ALL), 0u);
    EXPECT_EQ(client.send_queue_bytes(1), 0u);
    EXPECT_EQ(client.readable_bytes(1), 0u);
    client.close_write(1);
    client.reset(1);
    EXPECT_FALSE(client.has_output());
    EXPECT_TRUE(events_of(client).empty());
}

TEST(Yamux, MovedSessionKeepsItsState) {
    YamuxSession client(YamuxRole::client);
    ASSERT_EQ(*client.open_stream(), 1u);
    YamuxSession moved = std::move(client);
    EXPECT_EQ(*moved.open_stream(), 3u);
    EXPECT_EQ(moved.stream_count(), 2u);
}

}  // namespace
}  // namespace chainmesh::wire
