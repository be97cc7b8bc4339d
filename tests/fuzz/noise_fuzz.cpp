// Noise fuzz targets.
//
// noise_handshake: byte 0 picks the side (bit 0: initiator, bit 1: expect the §14 peer id);
// the rest is a list of chunks `u8(n) ‖ n bytes`, fed to on_data() as the peer's bytes. Both
// sides use the fixed §14 keys (the responder also B's stream_muxers), so a seed holding the
// real transcript reaches completion; the remainder and later chunks then go to the transport.
//
// noise_transport: the input is a list of chunks `u8(n) ‖ n bytes` of framed ciphertext, fed to
// decrypt() under §14's k1 (so the §14 first frame authenticates) and checked against one
// decrypt() of the whole stream; then the whole input is encrypted and decrypted back in
// chunks whose sizes come from the input.

#include "fuzz_target.hpp"

#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/util/hex.hpp>
#include <chainmesh/wire/noise.hpp>

#include <cstdio>
#include <cstdlib>

namespace chainmesh::fuzz {
namespace {

void check(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "noise fuzz invariant broken: %s\n", what);
        std::abort();
    }
}

template <class Array>
Array counting(std::uint8_t first) {
    Array out;
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<std::uint8_t>(first + i);
    }
    return out;
}

crypto::AeadKey key_from_hex(std::string_view text) {
    const Bytes bytes = *util::from_hex(text);
    crypto::AeadKey key;
    std::copy(bytes.begin(), bytes.end(), key.begin());
    return key;
}

struct Fixture {
    crypto::Identity a{crypto::Ed25519PrivateKey::from_seed(counting<crypto::Ed25519Seed>(0x00))};
    crypto::Identity b{crypto::Ed25519PrivateKey::from_seed(counting<crypto::Ed25519Seed>(0x40))};
    crypto::X25519KeyPair a_e =
        crypto::X25519KeyPair::from_private(counting<crypto::X25519Key>(0x80));
    crypto::X25519KeyPair a_s =
        crypto::X25519KeyPair::from_private(counting<crypto::X25519Key>(0xa0));
    crypto::X25519KeyPair b_e =
        crypto::X25519KeyPair::from_private(counting<crypto::X25519Key>(0xc0));
    crypto::X25519KeyPair b_s =
        crypto::X25519KeyPair::from_private(counting<crypto::X25519Key>(0xe0));
    crypto::AeadKey k1 =
        key_from_hex("23540c721d530ec467835825504c2c8b5e8a79089eaccae49a686a18b37c8342");
    crypto::AeadKey k2 =
        key_from_hex("f48d96ef11756dcf242f9eb1970a0f490867cc1f5554b2d936382a25b7c10399");
};

const Fixture& fixture() {
    static const Fixture f;
    return f;
}

// Splits `data` into `u8(n) ‖ n bytes` chunks (the last one possibly short).
class Chunks {
public:
    explicit Chunks(ByteView data) : m_data(data) {}
    bool done() const { return m_pos >= m_data.size(); }
    ByteView next() {
        const std::size_t n = m_data[m_pos++];
        const std::size_t take = std::min(n, m_data.size() - m_pos);
        const ByteView chunk = m_data.subspan(m_pos, take);
        m_pos += take;
        return chunk;
    }

private:
    ByteView m_data;
    std::size_t m_pos = 0;
};

bool frames_are_well_formed(ByteView framed) {
    std::size_t pos = 0;
    while (pos < framed.size()) {
        if (framed.size() - pos < 2) {
            return false;
        }
        const std::size_t body = get_u16be(framed.data() + pos);
        if (body < crypto::AEAD_TAG_BYTES || framed.size() - pos - 2 < body) {
            return false;
        }
        pos += 2 + body;
    }
    return true;
}

void exercise_transport(wire::NoiseTransport& transport, Chunks& chunks, Bytes first) {
    Bytes plain;
    if (!first.empty() && !transport.decrypt(first, plain)) {
        return;
    }
    while (!chunks.done()) {
        if (!transport.decrypt(chunks.next(), plain)) {
            return;
        }
    }
    Bytes framed;
    check(transport.encrypt(plain, framed).has_value(), "encrypt after the handshake");
    check(frames_are_well_formed(framed), "encrypt frames");
}

}  // namespace

CHAINMESH_FUZZ_TARGET(noise_handshake, data) {
    if (data.empty()) {
        return;
    }
    const Fixture& f = fixture();
    const bool initiator = (data[0] & 1) != 0;
    const bool expect = (data[0] & 2) != 0;
    std::optional<crypto::PeerId> expected;
    if (expect) {
        expected = initiator ? f.b.peer_id() : f.a.peer_id();
    }
    wire::NoiseHandshake handshake =
        initiator ? wire::NoiseHandshake(wire::NoiseRole::initiator, f.a, f.a_s, f.a_e, expected)
                  : wire::NoiseHandshake(wire::NoiseRole::responder, f.b, f.b_s, f.b_e, expected,
                                         {"/yamux/1.0.0"});
    const Bytes first = handshake.start();
    check(initiator ? first.size() == 34 : first.empty(), "start() output");

    Chunks chunks(data.subspan(1));
    while (!chunks.done()) {
        auto step = handshake.on_data(chunks.next());
        if (!step) {
            // Errors are fatal and sticky.
            auto again = handshake.on_data(Bytes{0});
            check(!again && again.error() == step.error(), "sticky handshake error");
            return;
        }
        check(step->output.empty() || frames_are_well_formed(step->output), "handshake frames");
        check(step->output.size() <= 2 + wire::NOISE_MAX_FRAME_BYTES, "one frame at most");
        if (!step->complete) {
            check(step->remainder.empty(), "remainder before completion");
            continue;
        }
        const crypto::PeerId& remote = handshake.remote_peer_id();
        check(remote == crypto::PeerId::from_public_key(handshake.remote_public_key()),
              "peer id from key");
        check(!expect || remote == *expected, "expected peer");
        (void)handshake.handshake_hash();
        auto after = handshake.on_data(Bytes{0});
        check(!after && after.error() == wire::NoiseError::handshake_finished, "after completion");
        wire::NoiseTransport transport = handshake.take_transport();
        exercise_transport(transport, chunks, std::move(step->remainder));
        return;
    }
}

CHAINMESH_FUZZ_TARGET(noise_transport, data) {
    const Fixture& f = fixture();

    // Chunked decrypt against one decrypt of the whole stream: same plaintext, same verdict.
    {
        wire::NoiseTransport chunked(f.k2, f.k1);
        wire::NoiseTransport whole(f.k2, f.k1);
        Bytes stream;
        Bytes chunked_plain;
        bool chunked_ok = true;
        Chunks chunks(data);
        while (!chunks.done()) {
            const ByteView chunk = chunks.next();
            append(stream, chunk);
            if (chunked_ok && !chunked.decrypt(chunk, chunked_plain)) {
                chunked_ok = false;
            }
        }
        Bytes whole_plain;
        const bool whole_ok = whole.decrypt(stream, whole_plain).has_value();
        check(chunked_ok == whole_ok, "chunked and whole verdicts agree");
        check(chunked_plain == whole_plain, "chunked and whole plaintexts agree");
    }

    // Round trip of the input itself, received in chunks sized by the input's bytes.
    {
        wire::NoiseTransport sender(f.k1, f.k2);
        wire::NoiseTransport receiver(f.k2, f.k1);
        Bytes framed;
        check(sender.encrypt(data, framed).has_value(), "encrypt");
        const std::size_t frames =
            (data.size() + wire::NOISE_MAX_PLAINTEXT_BYTES - 1) / wire::NOISE_MAX_PLAINTEXT_BYTES;
        check(framed.size() == data.size() + frames * (2 + crypto::AEAD_TAG_BYTES), "frame sizes");
        check(frames_are_well_formed(framed), "encrypt frames");
        Bytes plain;
        std::size_t pos = 0;
        std::size_t i = 0;
        while (pos < framed.size()) {
            const std::size_t size =
                data.empty() ? framed.size() : data[i++ % data.size()] * 97 + 1;
            const std::size_t take = std::min(size, framed.size() - pos);
            check(receiver.decrypt(ByteView(framed).subspan(pos, take), plain).has_value(),
                  "decrypt of our own frames");
            pos += take;
        }
        check(equal(plain, data), "round trip");
    }
}

}  // namespace chainmesh::fuzz
