#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/util/hex.hpp>
#include <chainmesh/util/protobuf.hpp>
#include <chainmesh/wire/noise.hpp>

#include "../test_hex.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>

namespace chainmesh::wire {
namespace {

using crypto::AeadKey;
using crypto::Identity;
using crypto::X25519Key;
using crypto::X25519KeyPair;

// libp2p-interop.md §14: the Noise XX transcript of A (initiator) and B (responder).
constexpr std::string_view MSG1_HEX =
    "0020493e82fc74464a59268817623d2053c5eb8e2cc4a988b4fee179ec6b010d531d";
constexpr std::string_view MSG2_HEX =
    "00d8dc2cca31e8e43bbd91dff7e475cca3347eb478107d5bd765aba4ae4a30c35d442b916d66314e2263f52ce565"
    "aa7e2845588a46cf024ce29001c3dc3b4ca11862113ec0f5fa6bac0583dc4e7ba6f773e545610c2d563f08182926"
    "54b56c896c0491129d5146290fe1dbd10071e2482641b5d52fae0be825b2e156a38a68676fa1da7a1cedf4ac4f18"
    "61e4728bac0b159ab83cff8a38136a4544021c4b2fd38fbd32acbbb272ddc03333812a5825649cc46c4b0a6c6682"
    "4fa0055cdd76b57fb7c9fd2b1ad7d2f0a43b3aeb3f7f6f7f070342e7cae76a8a9eed";
constexpr std::string_view MSG3_HEX =
    "00a8e0f4e78acf0359b5a79ab9583587228ab939ea52d3a9ee2599b57b84a655d9c368775d52a94afd8bd96eb53c"
    "b67d1e6f7b48f1796c8ab6e394c057867c0917776ac9dff299a6b5d196948d2b4ec7bc34da4715b6d06ff4b58e33"
    "f95f7c73b9fc5cac90591f0211759bc278d3030776a2891cfc53c4726b415bf4db78569242b8e983f2bfcc8103b5"
    "4bc171095050556cbef75aec7540c57aab27311f79fc3a17859c8f602c478d40";
constexpr std::string_view HANDSHAKE_HASH_HEX =
    "afa87a8ad2d07a8285d295614f23d792d8a59ab5a20ffa14c6193be14b3af701";
constexpr std::string_view K2_HEX =
    "f48d96ef11756dcf242f9eb1970a0f490867cc1f5554b2d936382a25b7c10399";
// multistream header + "/yamux/1.0.0", and its first I->R transport frame (k1, n = 0).
constexpr std::string_view FIRST_PLAINTEXT_HEX =
    "132f6d756c746973747265616d2f312e302e300a0d2f79616d75782f312e302e300a";
constexpr std::string_view FIRST_FRAME_HEX =
    "0032c31131f9b4ea1ef03073c5bd0a6c443e51f6dd63b234eacbd06247ddb03137267da2068af1b79544f5955275"
    "43df4db4b918";
// B's plain payload in §14 (with extensions.stream_muxers ["/yamux/1.0.0"]).
constexpr std::string_view B_PAYLOAD_HEX =
    "0a24080112202543b92ff1095511476adc8369db6ddc933665a11978dda1404ee1066ca9559d1240"
    "a3d8c0b8626f5b6e637f4fd347090fafc91b8f1ffd67468821d60f8f1c9cc32f73588d4ba2da128ea3b27bc0f39f"
    "77435f9bb3ef948d295621800a703320200e"
    "220e120c2f79616d75782f312e302e30";

using chainmesh::testing::hex;

template <class Array>
Array counting(std::uint8_t first) {
    Array out;
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<std::uint8_t>(first + i);
    }
    return out;
}

Identity identity_a() {
    return Identity(crypto::Ed25519PrivateKey::from_seed(counting<crypto::Ed25519Seed>(0x00)));
}
Identity identity_b() {
    return Identity(crypto::Ed25519PrivateKey::from_seed(counting<crypto::Ed25519Seed>(0x40)));
}
X25519KeyPair x25519_key(std::uint8_t first) {
    return X25519KeyPair::from_private(counting<X25519Key>(first));
}

constexpr std::uint8_t A_E = 0x80;
constexpr std::uint8_t A_S = 0xa0;
constexpr std::uint8_t B_E = 0xc0;
constexpr std::uint8_t B_S = 0xe0;

NoiseHandshake vector_initiator(std::optional<crypto::PeerId> expected = identity_b().peer_id()) {
    return NoiseHandshake(NoiseRole::initiator, identity_a(), x25519_key(A_S), x25519_key(A_E),
                          std::move(expected));
}
NoiseHandshake vector_responder(std::optional<crypto::PeerId> expected = std::nullopt) {
    return NoiseHandshake(NoiseRole::responder, identity_b(), x25519_key(B_S), x25519_key(B_E),
                          std::move(expected), {"/yamux/1.0.0"});
}

ErrorCode code(NoiseError e) { return make_error_code(e); }

// Hands each side's output to the other until both complete; checks every step succeeds.
struct Pair {
    NoiseTransport initiator;
    NoiseTransport responder;
};
Pair run_handshake(NoiseHandshake& initiator, NoiseHandshake& responder) {
    Bytes to_responder = initiator.start();
    EXPECT_TRUE(responder.start().empty());
    bool initiator_done = false;
    bool responder_done = false;
    for (int round = 0; round < 3 && !(initiator_done && responder_done); ++round) {
        auto r = responder.on_data(to_responder);
        EXPECT_TRUE(r.has_value()) << r.error().message();
        responder_done = r->complete;
        if (responder_done) {
            break;
        }
        auto i = initiator.on_data(r->output);
        EXPECT_TRUE(i.has_value()) << i.error().message();
        initiator_done = i->complete;
        to_responder = i->output;
    }
    EXPECT_TRUE(initiator_done);
    EXPECT_TRUE(responder_done);
    return Pair{initiator.take_transport(), responder.take_transport()};
}

Bytes seal_frames(NoiseTransport& transport, ByteView plaintext) {
    Bytes out;
    EXPECT_TRUE(transport.encrypt(plaintext, out).has_value());
    return out;
}

Bytes open_frames(NoiseTransport& transport, ByteView framed) {
    Bytes plain;
    auto r = transport.decrypt(framed, plain);
    EXPECT_TRUE(r.has_value()) << r.error().message();
    return plain;
}

Bytes pattern(std::size_t size) {
    Bytes out(size);
    for (std::size_t i = 0; i < size; ++i) {
        out[i] = static_cast<std::uint8_t>(i * 31 + (i >> 8));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// A hostile responder for msg 2: Noise written out independently in the test, so the payload
// (and the keys) can be anything.

class TestSymmetric {
public:
    TestSymmetric() {
        const std::string_view name = "Noise_XX_25519_ChaChaPoly_SHA256";
        std::memcpy(m_h.data(), name.data(), m_h.size());
        m_ck = m_h;
        mix_hash({});
    }
    void mix_hash(ByteView data) {
        Bytes joined(m_h.begin(), m_h.end());
        append(joined, data);
        m_h = crypto::sha256(joined);
    }
    void mix_key(ByteView ikm) {
        const auto temp = crypto::hmac_sha256(m_ck, ikm);
        const std::uint8_t one = 1;
        m_ck = crypto::hmac_sha256(temp, ByteView(&one, 1));
        Bytes second(m_ck.begin(), m_ck.end());
        second.push_back(2);
        const auto key = crypto::hmac_sha256(temp, second);
        AeadKey aead;
        std::memcpy(aead.data(), key.data(), aead.size());
        m_cipher.emplace(aead);
        m_n = 0;
    }
    void encrypt_and_hash(ByteView plain, Bytes& out) {
        Bytes sealed(plain.size() + crypto::AEAD_TAG_BYTES);
        m_cipher->encrypt(m_n++, m_h, plain, sealed.data());
        mix_hash(sealed);
        append(out, sealed);
    }

private:
    crypto::Hash256 m_h{};
    crypto::Hash256 m_ck{};
    std::optional<crypto::ChaChaPoly> m_cipher;
    std::uint64_t m_n = 0;
};

// msg 2 (framed) answering the initiator's ephemeral key `initiator_e`, with any payload.
Bytes hostile_msg2(const X25519Key& initiator_e, const X25519KeyPair& e, const X25519KeyPair& s,
                   ByteView payload) {
    TestSymmetric sym;
    sym.mix_hash(initiator_e);
    sym.mix_hash({});
    Bytes body(e.public_key.begin(), e.public_key.end());
    sym.mix_hash(e.public_key);
    sym.mix_key(*crypto::x25519(e.private_key, initiator_e));
    sym.encrypt_and_hash(s.public_key, body);
    sym.mix_key(*crypto::x25519(s.private_key, initiator_e));
    sym.encrypt_and_hash(payload, body);
    Bytes framed;
    put_u16be(framed, static_cast<std::uint16_t>(body.size()));
    append(framed, body);
    return framed;
}

Bytes payload_of(ByteView key, ByteView signature) {
    Bytes out;
    util::ProtoWriter writer(out);
    if (!key.empty()) {
        writer.bytes(1, key);
    }
    if (!signature.empty()) {
        writer.bytes(2, signature);
    }
    return out;
}

Bytes static_key_message(const X25519Key& key) {
    Bytes message = to_bytes(std::string_view("noise-libp2p-static-key:"));
    append(message, key);
    return message;
}

// Runs the vector initiator against a hostile msg 2 carrying `payload`.
Result<HandshakeStep> initiator_meets(ByteView payload,
                                      std::optional<crypto::PeerId> expected = std::nullopt) {
    NoiseHandshake initiator = vector_initiator(std::move(expected));
    initiator.start();
    return initiator.on_data(
        hostile_msg2(x25519_key(A_E).public_key, x25519_key(B_E), x25519_key(B_S), payload));
}

// ---------------------------------------------------------------------------------------------

TEST(NoiseHandshake, ReproducesTheInteropTranscript) {
    NoiseHandshake a = vector_initiator();
    NoiseHandshake b = vector_responder();

    const Bytes msg1 = a.start();
    EXPECT_EQ(util::to_hex(msg1), MSG1_HEX);
    EXPECT_TRUE(b.start().empty());

    auto step2 = b.on_data(msg1);
    ASSERT_TRUE(step2.has_value()) << step2.error().message();
    EXPECT_FALSE(step2->complete);
    EXPECT_TRUE(step2->remainder.empty());
    EXPECT_EQ(util::to_hex(step2->output), MSG2_HEX);

    auto step3 = a.on_data(step2->output);
    ASSERT_TRUE(step3.has_value()) << step3.error().message();
    EXPECT_TRUE(step3->complete);
    EXPECT_TRUE(step3->remainder.empty());
    EXPECT_EQ(util::to_hex(step3->output), MSG3_HEX);

    auto last = b.on_data(step3->output);
    ASSERT_TRUE(last.has_value()) << last.error().message();
    EXPECT_TRUE(last->complete);
    EXPECT_TRUE(last->output.empty());
    EXPECT_TRUE(last->remainder.empty());

    EXPECT_EQ(util::to_hex(a.handshake_hash()), HANDSHAKE_HASH_HEX);
    EXPECT_EQ(util::to_hex(b.handshake_hash()), HANDSHAKE_HASH_HEX);
    EXPECT_EQ(a.remote_peer_id().to_base58(),
              "12D3KooWCKq9ZvccjmCqhBbPsrgpAKBHWQpgB61ruM19CyAvH1Cp");
    EXPECT_EQ(b.remote_peer_id().to_base58(),
              "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB");
    EXPECT_EQ(a.remote_public_key(), identity_b().public_key());
    EXPECT_EQ(b.remote_public_key(), identity_a().public_key());

    // k1: the initiator's first frame is byte for byte the one in §14.
    NoiseTransport a_transport = a.take_transport();
    NoiseTransport b_transport = b.take_transport();
    const Bytes first_plain = hex(FIRST_PLAINTEXT_HEX);
    const Bytes first_frame = seal_frames(a_transport, first_plain);
    EXPECT_EQ(util::to_hex(first_frame), FIRST_FRAME_HEX);
    EXPECT_EQ(open_frames(b_transport, first_frame), first_plain);

    // k2: the responder's first frame is what ChaChaPoly under §14's k2 at n = 0 makes.
    const Bytes reply = to_bytes(std::string_view("/yamux/1.0.0\n"));
    const Bytes b_frame = seal_frames(b_transport, reply);
    AeadKey k2;
    const Bytes k2_bytes = hex(K2_HEX);
    std::memcpy(k2.data(), k2_bytes.data(), k2.size());
    Bytes expected;
    put_u16be(expected, static_cast<std::uint16_t>(reply.size() + crypto::AEAD_TAG_BYTES));
    expected.resize(2 + reply.size() + crypto::AEAD_TAG_BYTES);
    crypto::ChaChaPoly(k2).encrypt(0, {}, reply, expected.data() + 2);
    EXPECT_EQ(util::to_hex(b_frame), util::to_hex(expected));
    EXPECT_EQ(open_frames(a_transport, b_frame), reply);
}

TEST(NoiseHandshake, OurPayloadWithStreamMuxersIsTheVectorPayload) {
    // The hostile helper sending §14's B payload reproduces msg 2: it checks the helper itself.
    const Bytes msg2 = hostile_msg2(x25519_key(A_E).public_key, x25519_key(B_E),
                                    x25519_key(B_S), hex(B_PAYLOAD_HEX));
    EXPECT_EQ(util::to_hex(msg2), MSG2_HEX);
}

TEST(NoiseHandshake, FreshIdentitiesExchangeDataBothWays) {
    const Identity alice = Identity::generate();
    const Identity bob = Identity::generate();
    NoiseHandshake initiator(NoiseRole::initiator, alice, X25519KeyPair::generate(),
                             X25519KeyPair::generate(), bob.peer_id());
    NoiseHandshake responder(NoiseRole::responder, bob, X25519KeyPair::generate(),
                             X25519KeyPair::generate());
    Pair pair = run_handshake(initiator, responder);
    EXPECT_EQ(initiator.remote_peer_id(), bob.peer_id());
    EXPECT_EQ(responder.remote_peer_id(), alice.peer_id());
    EXPECT_EQ(initiator.handshake_hash(), responder.handshake_hash());

    for (std::size_t size : {1u, 100u, 65519u, 65520u, 300000u}) {
        const Bytes data = pattern(size);
        EXPECT_EQ(open_frames(pair.responder, seal_frames(pair.initiator, data)), data);
        EXPECT_EQ(open_frames(pair.initiator, seal_frames(pair.responder, data)), data);
    }
}

TEST(NoiseHandshake, AcceptsBytesOneAtATime) {
    NoiseHandshake a = vector_initiator();
    NoiseHandshake b = vector_responder();
    const Bytes msg1 = a.start();

    auto feed = [](NoiseHandshake& hs, const Bytes& message) {
        HandshakeStep last;
        for (std::size_t i = 0; i < message.size(); ++i) {
            auto step = hs.on_data(ByteView(message).subspan(i, 1));
            EXPECT_TRUE(step.has_value()) << step.error().message();
            if (i + 1 < message.size()) {
                EXPECT_TRUE(step->output.empty());
                EXPECT_FALSE(step->complete);
            } else {
                last = std::move(*step);
            }
        }
        return last;
    };
    const HandshakeStep step2 = feed(b, msg1);
    EXPECT_EQ(util::to_hex(step2.output), MSG2_HEX);
    const HandshakeStep step3 = feed(a, step2.output);
    EXPECT_EQ(util::to_hex(step3.output), MSG3_HEX);
    EXPECT_TRUE(step3.complete);
    const HandshakeStep done = feed(b, step3.output);
    EXPECT_TRUE(done.complete);
    EXPECT_TRUE(done.remainder.empty());
    EXPECT_EQ(util::to_hex(b.handshake_hash()), HANDSHAKE_HASH_HEX);

    // The transport reassembles frames fed a byte at a time too.
    NoiseTransport a_transport = a.take_transport();
    NoiseTransport b_transport = b.take_transport();
    const Bytes data = pattern(70000);
    const Bytes framed = seal_frames(a_transport, data);
    Bytes plain;
    for (std::size_t i = 0; i < framed.size(); ++i) {
        ASSERT_TRUE(b_transport.decrypt(ByteView(framed).subspan(i, 1), plain).has_value());
    }
    EXPECT_EQ(plain, data);
}

TEST(NoiseHandshake, BytesAfterTheLastMessageComeBackAsRemainder) {
    NoiseHandshake a = vector_initiator();
    NoiseHandshake b = vector_responder();
    auto step2 = b.on_data(a.start());
    ASSERT_TRUE(step2.has_value());
    auto step3 = a.on_data(step2->output);
    ASSERT_TRUE(step3.has_value());
    NoiseTransport a_transport = a.take_transport();

    const Bytes first_frame = seal_frames(a_transport, hex(FIRST_PLAINTEXT_HEX));
    Bytes joined = step3->output;
    append(joined, first_frame);
    // msg 3 split in two, the second part arriving with the first transport frame.
    auto partial = b.on_data(ByteView(joined).first(100));
    ASSERT_TRUE(partial.has_value());
    EXPECT_FALSE(partial->complete);
    auto rest = b.on_data(ByteView(joined).subspan(100));
    ASSERT_TRUE(rest.has_value()) << rest.error().message();
    EXPECT_TRUE(rest->complete);
    EXPECT_EQ(rest->remainder, first_frame);

    NoiseTransport b_transport = b.take_transport();
    EXPECT_EQ(open_frames(b_transport, rest->remainder), hex(FIRST_PLAINTEXT_HEX));
}

TEST(NoiseHandshake, AllThreeMessagesInOneChunkOnTheResponder) {
    // Not what a real peer can do (msg 3 needs msg 2), but the responder must not lose bytes:
    // msg 1 then, after its reply, msg 3 and a frame from a matching initiator.
    NoiseHandshake a = vector_initiator();
    NoiseHandshake b = vector_responder();
    NoiseHandshake b_twin = vector_responder();
    const Bytes msg1 = a.start();
    auto step2 = b_twin.on_data(msg1);
    ASSERT_TRUE(step2.has_value());
    auto step3 = a.on_data(step2->output);
    ASSERT_TRUE(step3.has_value());
    Bytes joined = msg1;
    append(joined, step3->output);
    append(joined, Bytes{0x00});
    auto all = b.on_data(joined);
    ASSERT_TRUE(all.has_value()) << all.error().message();
    EXPECT_TRUE(all->complete);
    EXPECT_EQ(util::to_hex(all->output), MSG2_HEX);
    EXPECT_EQ(all->remainder, Bytes{0x00});
}

TEST(NoiseHandshake, WrongExpectedPeerIdFails) {
    const crypto::PeerId stranger = Identity::generate().peer_id();
    NoiseHandshake a = vector_initiator(stranger);
    NoiseHandshake b = vector_responder();
    auto step2 = b.on_data(a.start());
    ASSERT_TRUE(step2.has_value());
    auto step3 = a.on_data(step2->output);
    ASSERT_FALSE(step3.has_value());
    EXPECT_EQ(step3.error(), code(NoiseError::peer_id_mismatch));
    // The failure sticks.
    EXPECT_EQ(a.on_data(Bytes{0}).error(), code(NoiseError::peer_id_mismatch));

    // A responder told whom to expect checks msg 3 the same way.
    NoiseHandshake a2 = vector_initiator();
    NoiseHandshake b2 = vector_responder(stranger);
    auto s2 = b2.on_data(a2.start());
    ASSERT_TRUE(s2.has_value());
    auto s3 = a2.on_data(s2->output);
    ASSERT_TRUE(s3.has_value());
    EXPECT_EQ(b2.on_data(s3->output).error(), code(NoiseError::peer_id_mismatch));
}

TEST(NoiseHandshake, TamperedCiphertextFails) {
    const Bytes msg2 = hex(MSG2_HEX);
    // Bytes 2..33 are B's clear ephemeral key (changing it changes every key after it),
    // 34..81 the sealed static key, the rest the sealed payload.
    for (std::size_t at : {std::size_t{40}, std::size_t{81}, std::size_t{100}, msg2.size() - 1}) {
        NoiseHandshake a = vector_initiator();
        a.start();
        Bytes tampered = msg2;
        tampered[at] ^= 0x01;
        auto step = a.on_data(tampered);
        ASSERT_FALSE(step.has_value()) << at;
        EXPECT_EQ(step.error(), code(NoiseError::decrypt_failed)) << at;
    }
    const Bytes msg3 = hex(MSG3_HEX);
    for (std::size_t at : {std::size_t{2}, std::size_t{60}, msg3.size() - 1}) {
        NoiseHandshake b = vector_responder();
        ASSERT_TRUE(b.on_data(hex(MSG1_HEX)).has_value());
        Bytes tampered = msg3;
        tampered[at] ^= 0x80;
        EXPECT_EQ(b.on_data(tampered).error(), code(NoiseError::decrypt_failed)) << at;
    }
    // A changed msg 1 payload-free ephemeral key makes msg 3 from the real A fail on B.
    NoiseHandshake b = vector_responder();
    Bytes msg1 = hex(MSG1_HEX);
    msg1[5] ^= 0x01;
    ASSERT_TRUE(b.on_data(msg1).has_value());
    EXPECT_EQ(b.on_data(msg3).error(), code(NoiseError::decrypt_failed));
}

TEST(NoiseHandshake, IdentityPayloadIsChecked) {
    const Identity b = identity_b();
    const Bytes key = b.public_key().encode();
    const X25519Key b_static = x25519_key(B_S).public_key;

    // The control: a good payload without extensions is accepted.
    {
        const auto sig = b.sign(static_key_message(b_static));
        auto step = initiator_meets(payload_of(key, sig), b.peer_id());
        ASSERT_TRUE(step.has_value()) << step.error().message();
        EXPECT_TRUE(step->complete);
    }
    // Signed over a different static key.
    {
        const auto sig = b.sign(static_key_message(x25519_key(0x11).public_key));
        EXPECT_EQ(initiator_meets(payload_of(key, sig)).error(), code(NoiseError::bad_signature));
    }
    // Signed by a different identity than the key presented.
    {
        const auto sig = identity_a().sign(static_key_message(b_static));
        EXPECT_EQ(initiator_meets(payload_of(key, sig)).error(), code(NoiseError::bad_signature));
    }
    // A truncated signature.
    {
        const auto sig = b.sign(static_key_message(b_static));
        EXPECT_EQ(initiator_meets(payload_of(key, ByteView(sig).first(63))).error(),
                  code(NoiseError::bad_signature));
    }
    // Missing signature, missing key, empty payload, not protobuf.
    {
        const auto sig = b.sign(static_key_message(b_static));
        EXPECT_EQ(initiator_meets(payload_of(key, {})).error(), code(NoiseError::bad_payload));
        EXPECT_EQ(initiator_meets(payload_of({}, sig)).error(), code(NoiseError::bad_payload));
        EXPECT_EQ(initiator_meets(Bytes{}).error(), code(NoiseError::bad_payload));
        EXPECT_EQ(initiator_meets(Bytes{0x0a, 0x50, 0x01}).error(), code(NoiseError::bad_payload));
        // identity_key with the wrong wire type.
        EXPECT_EQ(initiator_meets(Bytes{0x08, 0x01}).error(), code(NoiseError::bad_payload));
    }
    // A key that does not decode, and a key of a type we cannot verify.
    {
        const auto sig = b.sign(static_key_message(b_static));
        EXPECT_EQ(initiator_meets(payload_of(Bytes{0x08, 0x01, 0x12, 0x03, 1, 2, 3}, sig)).error(),
                  code(NoiseError::bad_identity_key));
        Bytes secp = {0x08, 0x02, 0x12, 0x21};
        secp.resize(4 + 33, 0x02);
        EXPECT_EQ(initiator_meets(payload_of(secp, sig)).error(),
                  code(NoiseError::bad_identity_key));
    }
    // Extensions (including fields we do not know) are skipped.
    {
        const auto sig = b.sign(static_key_message(b_static));
        Bytes payload = payload_of(key, sig);
        util::ProtoWriter writer(payload);
        writer.string(4, "\x0a\x02hi\x12\x03/x\x33");
        writer.varint(9, 7);
        writer.bytes(3, Bytes{1, 2, 3});
        auto step = initiator_meets(payload, b.peer_id());
        ASSERT_TRUE(step.has_value()) << step.error().message();
        EXPECT_TRUE(step->complete);
    }
}

TEST(NoiseHandshake, RefusesBadMessageLengths) {
    // msg 1 shorter than a key.
    {
        NoiseHandshake b = vector_responder();
        Bytes msg1 = {0x00, 0x1f};
        msg1.resize(2 + 31, 0x42);
        EXPECT_EQ(b.on_data(msg1).error(), code(NoiseError::bad_message_length));
    }
    // msg 2 too short for e, s and a tag; known as soon as the length arrives.
    {
        NoiseHandshake a = vector_initiator();
        a.start();
        EXPECT_EQ(a.on_data(Bytes{0x00, 0x5f}).error(), code(NoiseError::bad_message_length));
    }
    // An oversized msg 2 is refused from its length alone, before any buffering.
    {
        NoiseHandshake a = vector_initiator();
        a.start();
        EXPECT_EQ(a.on_data(Bytes{0xff}).has_value(), true);
        EXPECT_EQ(a.on_data(Bytes{0xff}).error(), code(NoiseError::payload_too_large));
    }
    {
        NoiseHandshake a = vector_initiator();
        a.start();
        const std::size_t largest = 32 + 48 + 16 + NOISE_MAX_PAYLOAD_BYTES;
        Bytes header;
        put_u16be(header, static_cast<std::uint16_t>(largest + 1));
        EXPECT_EQ(a.on_data(header).error(), code(NoiseError::payload_too_large));
        NoiseHandshake a2 = vector_initiator();
        a2.start();
        header.clear();
        put_u16be(header, static_cast<std::uint16_t>(largest));
        EXPECT_TRUE(a2.on_data(header).has_value());  // allowed: waits for the body
    }
    // msg 3 too short, and too long.
    {
        NoiseHandshake b = vector_responder();
        ASSERT_TRUE(b.on_data(hex(MSG1_HEX)).has_value());
        EXPECT_EQ(b.on_data(Bytes{0x00, 0x3f}).error(), code(NoiseError::bad_message_length));
        NoiseHandshake b2 = vector_responder();
        ASSERT_TRUE(b2.on_data(hex(MSG1_HEX)).has_value());
        EXPECT_EQ(b2.on_data(Bytes{0xff, 0xff}).error(), code(NoiseError::payload_too_large));
    }
}

TEST(NoiseHandshake, InputAfterCompletionIsRefused) {
    NoiseHandshake a = vector_initiator();
    NoiseHandshake b = vector_responder();
    Pair pair = run_handshake(a, b);
    EXPECT_EQ(a.on_data(Bytes{1}).error(), code(NoiseError::handshake_finished));
    EXPECT_EQ(b.on_data(Bytes{1}).error(), code(NoiseError::handshake_finished));
    EXPECT_EQ(util::to_hex(a.handshake_hash()), HANDSHAKE_HASH_HEX);
}

TEST(NoiseHandshake, LowOrderEphemeralKeysAreRefused) {
    // The all-zero point and another point of small order (order 8, RFC 7748 test lists).
    const Bytes low_order_points[] = {
        Bytes(32, 0x00),
        hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    };
    for (const Bytes& point : low_order_points) {
        NoiseHandshake b = vector_responder();
        Bytes msg1 = {0x00, 0x20};
        append(msg1, point);
        EXPECT_EQ(b.on_data(msg1).error(), code(NoiseError::bad_dh));

        NoiseHandshake a = vector_initiator();
        a.start();
        Bytes msg2 = hex(MSG2_HEX);
        std::copy(point.begin(), point.end(), msg2.begin() + 2);
        EXPECT_EQ(a.on_data(msg2).error(), code(NoiseError::bad_dh));
    }
}

// ---------------------------------------------------------------------------------------------

TEST(NoiseTransport, SplitsLargePlaintextIntoMaximalFrames) {
    NoiseHandshake a = vector_initiator();
    NoiseHandshake b = vector_responder();
    Pair pair = run_handshake(a, b);
    const std::size_t size = 3 * NOISE_MAX_PLAINTEXT_BYTES + 1000;
    const Bytes data = pattern(size);
    Bytes framed = {0xaa};  // encrypt appends
    ASSERT_TRUE(pair.initiator.encrypt(data, framed).has_value());
    ASSERT_EQ(framed.size(), 1 + size + 4 * (2 + crypto::AEAD_TAG_BYTES));
    std::size_t pos = 1;
    for (std::size_t plain : {NOISE_MAX_PLAINTEXT_BYTES, NOISE_MAX_PLAINTEXT_BYTES,
                              NOISE_MAX_PLAINTEXT_BYTES, std::size_t{1000}}) {
        EXPECT_EQ(get_u16be(framed.data() + pos), plain + crypto::AEAD_TAG_BYTES);
        pos += 2 + plain + crypto::AEAD_TAG_BYTES;
    }
    EXPECT_EQ(get_u16be(framed.data() + 1), NOISE_MAX_FRAME_BYTES);

    // Decrypt in uneven chunks that split headers and bodies anywhere.
    Bytes plain = {0xbb};  // decrypt appends
    std::size_t at = 1;
    std::size_t chunk = 1;
    while (at < framed.size()) {
        const std::size_t n = std::min(chunk, framed.size() - at);
        ASSERT_TRUE(pair.responder.decrypt(ByteView(framed).subspan(at, n), plain).has_value());
        at += n;
        chunk = chunk * 7 % 70001 + 1;
    }
    ASSERT_EQ(plain.size(), 1 + size);
    EXPECT_EQ(plain[0], 0xbb);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), plain.begin() + 1));
}

TEST(NoiseTransport, EmptyPlaintextWritesNothing) {
    NoiseHandshake a = vector_initiator();
    NoiseHandshake b = vector_responder();
    Pair pair = run_handshake(a, b);
    Bytes out;
    ASSERT_TRUE(pair.initiator.encrypt({}, out).has_value());
    EXPECT_TRUE(out.empty());
    // ...and the nonce did not move: the next frame is still §14's first frame.
    EXPECT_EQ(util::to_hex(seal_frames(pair.initiator, hex(FIRST_PLAINTEXT_HEX))), FIRST_FRAME_HEX);
}

TEST(NoiseTransport, EmptyFrameFromThePeerIsAccepted) {
    // A frame holding only a tag is a valid transport message (an empty plaintext).
    NoiseHandshake a = vector_initiator();
    NoiseHandshake b = vector_responder();
    Pair pair = run_handshake(a, b);
    AeadKey k2;
    const Bytes k2_bytes = hex(K2_HEX);
    std::memcpy(k2.data(), k2_bytes.data(), k2.size());
    Bytes frame = {0x00, 0x10};
    frame.resize(2 + crypto::AEAD_TAG_BYTES);
    crypto::ChaChaPoly(k2).encrypt(0, {}, {}, frame.data() + 2);
    Bytes plain;
    ASSERT_TRUE(pair.initiator.decrypt(frame, plain).has_value());
    EXPECT_TRUE(plain.empty());
}

TEST(NoiseTransport, TamperedFramesFail) {
    for (std::size_t at : {std::size_t{2}, std::size_t{20}, std::size_t{51}}) {
        NoiseHandshake a = vector_initiator();
        NoiseHandshake b = vector_responder();
        Pair pair = run_handshake(a, b);
        Bytes frame = hex(FIRST_FRAME_HEX);
        frame[at] ^= 0x04;
        Bytes plain;
        EXPECT_EQ(pair.responder.decrypt(frame, plain).error(), code(NoiseError::decrypt_failed));
        EXPECT_TRUE(plain.empty());
    }
    // A good frame followed by a bad one: the good plaintext stays, then the error.
    {
        NoiseHandshake a = vector_initiator();
        NoiseHandshake b = vector_responder();
        Pair pair = run_handshake(a, b);
        Bytes framed = seal_frames(pair.initiator, Bytes{1, 2, 3});
        Bytes second = seal_frames(pair.initiator, Bytes{4, 5, 6});
        second.back() ^= 1;
        append(framed, second);
        Bytes plain;
        EXPECT_EQ(pair.responder.decrypt(framed, plain).error(), code(NoiseError::decrypt_failed));
        EXPECT_EQ(plain, (Bytes{1, 2, 3}));
    }
    // Replayed and reordered frames fail: nonces are implicit.
    {
        NoiseHandshake a = vector_initiator();
        NoiseHandshake b = vector_responder();
        Pair pair = run_handshake(a, b);
        const Bytes first = seal_frames(pair.initiator, Bytes{1});
        Bytes plain;
        ASSERT_TRUE(pair.responder.decrypt(first, plain).has_value());
        EXPECT_EQ(pair.responder.decrypt(first, plain).error(), code(NoiseError::decrypt_failed));
    }
    // Frames shorter than a tag cannot authenticate, whole or split.
    {
        NoiseHandshake a = vector_initiator();
        NoiseHandshake b = vector_responder();
        Pair pair = run_handshake(a, b);
        Bytes plain;
        const Bytes short_frame = {0x00, 0x03, 1, 2, 3};
        EXPECT_EQ(pair.responder.decrypt(short_frame, plain).error(),
                  code(NoiseError::decrypt_failed));
        EXPECT_TRUE(pair.initiator.decrypt(ByteView(short_frame).first(3), plain).has_value());
        EXPECT_EQ(pair.initiator.decrypt(ByteView(short_frame).subspan(3), plain).error(),
                  code(NoiseError::decrypt_failed));
        EXPECT_TRUE(plain.empty());
    }
}

TEST(NoiseTransport, LargestFrameLengthIsBufferedNotRefused) {
    // u16 lengths cannot exceed NOISE_MAX_FRAME_BYTES; a 65535-byte frame arriving split is
    // held (one frame at most) until complete.
    NoiseHandshake a = vector_initiator();
    NoiseHandshake b = vector_responder();
    Pair pair = run_handshake(a, b);
    const Bytes data = pattern(NOISE_MAX_PLAINTEXT_BYTES);
    const Bytes framed = seal_frames(pair.initiator, data);
    ASSERT_EQ(framed.size(), 2 + NOISE_MAX_FRAME_BYTES);
    EXPECT_EQ(framed[0], 0xff);
    EXPECT_EQ(framed[1], 0xff);
    Bytes plain;
    ASSERT_TRUE(pair.responder.decrypt(ByteView(framed).first(40000), plain).has_value());
    EXPECT_TRUE(plain.empty());
    ASSERT_TRUE(pair.responder.decrypt(ByteView(framed).subspan(40000), plain).has_value());
    EXPECT_EQ(plain, data);
}

}  // namespace
}  // namespace chainmesh::wire
