#include <chainmesh/util/hex.hpp>
#include <chainmesh/wire/multistream.hpp>

#include "../test_hex.hpp"

#include <gtest/gtest.h>

namespace chainmesh::wire {
namespace {

using chainmesh::testing::hex;

Bytes message(std::string_view text) {
    Bytes out;
    append_multistream_message(out, text);
    return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& part : parts) {
        append(out, part);
    }
    return out;
}

const Bytes HEADER = message(MULTISTREAM_PROTOCOL_ID);

TEST(Multistream, EncodesTheSpecMessages) {
    EXPECT_EQ(util::to_hex(HEADER), "132f6d756c746973747265616d2f312e302e300a");
    EXPECT_EQ(util::to_hex(message("na")), "036e610a");
    EXPECT_EQ(util::to_hex(message("ls")), "036c730a");
    EXPECT_EQ(util::to_hex(message("/yamux/1.0.0")), "0d2f79616d75782f312e302e300a");
}

TEST(Multistream, DialerFirstWriteMatchesInteropVector) {
    MultistreamDialer dialer({"/noise"});
    EXPECT_EQ(util::to_hex(dialer.start()),
              "132f6d756c746973747265616d2f312e302e300a072f6e6f6973650a");
}

TEST(Multistream, ListenerStartsWithTheHeader) {
    MultistreamListener listener({"/noise"});
    EXPECT_EQ(listener.start(), HEADER);
}

TEST(Multistream, DialerAndListenerAgree) {
    MultistreamDialer dialer({"/noise"});
    MultistreamListener listener({"/tls/1.0.0", "/noise"});
    const Bytes listener_header = listener.start();

    auto at_listener = listener.on_data(dialer.start());
    ASSERT_TRUE(at_listener) << at_listener.error().message();
    ASSERT_TRUE(at_listener->protocol);
    EXPECT_EQ(*at_listener->protocol, "/noise");
    EXPECT_EQ(at_listener->output, message("/noise"));
    EXPECT_TRUE(at_listener->remainder.empty());

    auto at_dialer = dialer.on_data(concat({listener_header, at_listener->output}));
    ASSERT_TRUE(at_dialer) << at_dialer.error().message();
    ASSERT_TRUE(at_dialer->protocol);
    EXPECT_EQ(*at_dialer->protocol, "/noise");
    EXPECT_TRUE(at_dialer->output.empty());
    EXPECT_TRUE(at_dialer->remainder.empty());
}

TEST(Multistream, DialerFallsBackAfterNa) {
    MultistreamDialer dialer({"/meshsub/1.1.0", "/meshsub/1.0.0"});
    MultistreamListener listener({"/meshsub/1.0.0"});
    const Bytes listener_header = listener.start();

    auto first = listener.on_data(dialer.start());
    ASSERT_TRUE(first);
    EXPECT_FALSE(first->protocol);
    EXPECT_EQ(first->output, message("na"));

    auto second = dialer.on_data(concat({listener_header, first->output}));
    ASSERT_TRUE(second);
    EXPECT_FALSE(second->protocol);
    EXPECT_EQ(second->output, message("/meshsub/1.0.0"));

    auto accepted = listener.on_data(second->output);
    ASSERT_TRUE(accepted);
    ASSERT_TRUE(accepted->protocol);
    EXPECT_EQ(*accepted->protocol, "/meshsub/1.0.0");

    auto done = dialer.on_data(accepted->output);
    ASSERT_TRUE(done);
    ASSERT_TRUE(done->protocol);
    EXPECT_EQ(*done->protocol, "/meshsub/1.0.0");
}

TEST(Multistream, DialerGivesUpWhenEveryProposalIsRefused) {
    MultistreamDialer dialer({"/a", "/b"});
    dialer.start();
    auto step = dialer.on_data(concat({HEADER, message("na")}));
    ASSERT_TRUE(step);
    EXPECT_EQ(step->output, message("/b"));
    EXPECT_EQ(dialer.on_data(message("na")).error(), MultistreamError::no_protocol_agreed);
}

TEST(Multistream, ListenerRefusesEveryProposal) {
    MultistreamDialer dialer({"/a", "/b"});
    MultistreamListener listener({"/c"});
    auto at_listener = listener.on_data(dialer.start());
    ASSERT_TRUE(at_listener);
    EXPECT_EQ(at_listener->output, message("na"));
    auto at_dialer = dialer.on_data(concat({listener.start(), at_listener->output}));
    ASSERT_TRUE(at_dialer);
    at_listener = listener.on_data(at_dialer->output);
    ASSERT_TRUE(at_listener);
    EXPECT_EQ(at_listener->output, message("na"));
    EXPECT_EQ(dialer.on_data(at_listener->output).error(), MultistreamError::no_protocol_agreed);
}

TEST(Multistream, WorksFedOneByteAtATime) {
    MultistreamDialer dialer({"/x/1", "/y/1"});
    MultistreamListener listener({"/y/1"});
    const Bytes app_data = to_bytes(std::string_view("hello"));

    // The dialer's first write, fed to the listener byte by byte, with lazy data after it.
    Bytes to_listener = dialer.start();
    std::optional<NegotiationStep> listener_done;
    Bytes to_dialer = listener.start();
    std::size_t i = 0;
    for (; i < to_listener.size(); ++i) {
        auto step = listener.on_data(ByteView(&to_listener[i], 1));
        ASSERT_TRUE(step) << i;
        EXPECT_FALSE(step->protocol);
        append(to_dialer, step->output);
    }
    EXPECT_EQ(to_dialer, concat({HEADER, message("na")}));

    Bytes second;
    for (std::size_t j = 0; j < to_dialer.size(); ++j) {
        auto step = dialer.on_data(ByteView(&to_dialer[j], 1));
        ASSERT_TRUE(step) << j;
        EXPECT_FALSE(step->protocol);
        append(second, step->output);
    }
    EXPECT_EQ(second, message("/y/1"));

    append(second, app_data);
    for (std::size_t j = 0; j < second.size() && !listener_done; ++j) {
        auto step = listener.on_data(ByteView(&second[j], 1));
        ASSERT_TRUE(step) << j;
        if (step->protocol) {
            EXPECT_EQ(j, message("/y/1").size() - 1);  // done on the proposal's last byte
            EXPECT_EQ(step->output, message("/y/1"));
            EXPECT_TRUE(step->remainder.empty());
            listener_done = std::move(*step);
        } else {
            EXPECT_TRUE(step->output.empty());
        }
    }
    ASSERT_TRUE(listener_done);
    EXPECT_EQ(*listener_done->protocol, "/y/1");
}

TEST(Multistream, DialerReturnsAppDataArrivingWithTheEcho) {
    MultistreamDialer dialer({"/ipfs/id/1.0.0"});
    dialer.start();
    const Bytes app_data = hex("0a24080112200102");
    auto step = dialer.on_data(concat({HEADER, message("/ipfs/id/1.0.0"), app_data}));
    ASSERT_TRUE(step);
    ASSERT_TRUE(step->protocol);
    EXPECT_EQ(*step->protocol, "/ipfs/id/1.0.0");
    EXPECT_TRUE(step->output.empty());
    EXPECT_EQ(step->remainder, app_data);
}

TEST(Multistream, ListenerKeepsLazySelectData) {
    MultistreamListener listener({"/ipfs/ping/1.0.0"});
    const Bytes ping(32, 0x5a);
    auto step = listener.on_data(concat({HEADER, message("/ipfs/ping/1.0.0"), ping}));
    ASSERT_TRUE(step);
    ASSERT_TRUE(step->protocol);
    EXPECT_EQ(step->output, message("/ipfs/ping/1.0.0"));
    EXPECT_EQ(step->remainder, ping);
}

TEST(Multistream, ListenerHeaderSplitAcrossReads) {
    MultistreamDialer dialer({"/noise"});
    dialer.start();
    const Bytes reply = concat({HEADER, message("/noise"), hex("0020")});
    auto first = dialer.on_data(ByteView(reply).first(5));
    ASSERT_TRUE(first);
    EXPECT_FALSE(first->protocol);
    auto second = dialer.on_data(ByteView(reply).subspan(5));
    ASSERT_TRUE(second);
    ASSERT_TRUE(second->protocol);
    EXPECT_EQ(second->remainder, hex("0020"));
}

TEST(Multistream, RefusesABadHeader) {
    MultistreamListener listener({"/noise"});
    EXPECT_EQ(listener.on_data(message("/noise")).error(), MultistreamError::bad_header);
    MultistreamListener old({"/noise"});
    EXPECT_EQ(old.on_data(message("/multistream/2.0.0")).error(), MultistreamError::bad_header);
    MultistreamDialer dialer({"/noise"});
    dialer.start();
    EXPECT_EQ(dialer.on_data(message("na")).error(), MultistreamError::bad_header);
}

TEST(Multistream, DialerRefusesAnUnexpectedAnswer) {
    MultistreamDialer dialer({"/noise"});
    dialer.start();
    EXPECT_EQ(dialer.on_data(concat({HEADER, message("/tls/1.0.0")})).error(),
              MultistreamError::unexpected_response);
    MultistreamDialer twice({"/noise"});
    twice.start();
    EXPECT_EQ(twice.on_data(concat({HEADER, HEADER})).error(),
              MultistreamError::unexpected_response);
}

TEST(Multistream, RefusesATooLongMessageBeforeItsBody) {
    // 1025 = 81 08: over the bound, refused from the prefix alone.
    MultistreamListener listener({"/noise"});
    EXPECT_EQ(listener.on_data(hex("8108")).error(), MultistreamError::message_too_long);
    // Exactly at the bound the listener waits for the body.
    MultistreamListener at_bound({"/noise"});
    auto waiting = at_bound.on_data(hex("8008"));
    ASSERT_TRUE(waiting);
    EXPECT_TRUE(waiting->output.empty());
    // A third continuation byte already means at least 2^14.
    MultistreamDialer dialer({"/noise"});
    dialer.start();
    auto partial = dialer.on_data(hex("80"));
    ASSERT_TRUE(partial);
    EXPECT_EQ(dialer.on_data(hex("80")).error(), MultistreamError::message_too_long);
    // The same bytes in one read give the same answer, even though they end non-minimally.
    MultistreamListener one_read({"/noise"});
    EXPECT_EQ(one_read.on_data(hex("fdfd00")).error(), MultistreamError::message_too_long);
    MultistreamListener long_varint({"/noise"});
    EXPECT_EQ(long_varint.on_data(Bytes(10, 0xff)).error(), MultistreamError::message_too_long);
}

TEST(Multistream, RefusesMalformedMessages) {
    MultistreamListener no_newline({"/noise"});
    EXPECT_EQ(no_newline.on_data(hex("036e6178")).error(), MultistreamError::malformed_message);
    MultistreamListener empty({"/noise"});
    EXPECT_EQ(empty.on_data(hex("00")).error(), MultistreamError::malformed_message);
    MultistreamListener non_minimal({"/noise"});
    EXPECT_EQ(non_minimal.on_data(hex("8300")).error(), MultistreamError::malformed_message);
}

TEST(Multistream, ListenerAnswersLs) {
    MultistreamListener listener({"/noise", "/yamux/1.0.0"});
    auto step = listener.on_data(concat({HEADER, message("ls")}));
    ASSERT_TRUE(step);
    EXPECT_FALSE(step->protocol);
    // One LP message: LP "/noise\n", LP "/yamux/1.0.0\n", then "\n".
    EXPECT_EQ(util::to_hex(step->output),
              "17"
              "072f6e6f6973650a"
              "0d2f79616d75782f312e302e300a"
              "0a");
}

TEST(Multistream, ListenerLimitsProposals) {
    MultistreamListener listener({"/noise"});
    ASSERT_TRUE(listener.on_data(HEADER));
    for (std::size_t i = 0; i < MULTISTREAM_MAX_PROPOSALS; ++i) {
        auto step = listener.on_data(message(i % 2 == 0 ? "/tls/1.0.0" : "ls"));
        ASSERT_TRUE(step) << i;
    }
    EXPECT_EQ(listener.on_data(message("/tls/1.0.0")).error(),
              MultistreamError::too_many_proposals);

    // The same, all in one chunk: the outputs stay bounded because the error comes first.
    MultistreamListener batch({"/noise"});
    Bytes flood = HEADER;
    for (std::size_t i = 0; i <= MULTISTREAM_MAX_PROPOSALS; ++i) {
        append(flood, message("/tls/1.0.0"));
    }
    EXPECT_EQ(batch.on_data(flood).error(), MultistreamError::too_many_proposals);
}

TEST(Multistream, ListenerAcceptsAfterSomeRefusals) {
    MultistreamListener listener({"/noise"});
    auto step = listener.on_data(
        concat({HEADER, message("/tls/1.0.0"), message("/plaintext/2.0.0"), message("/noise")}));
    ASSERT_TRUE(step);
    ASSERT_TRUE(step->protocol);
    EXPECT_EQ(step->output, concat({message("na"), message("na"), message("/noise")}));
}

}  // namespace
}  // namespace chainmesh::wire
