#include <chainmesh/wire/noise.hpp>

#include <chainmesh/util/protobuf.hpp>

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

namespace chainmesh::wire {

std::string_view describe(NoiseError e) {
    switch (e) {
        case NoiseError::bad_message_length: return "noise handshake message has the wrong length";
        case NoiseError::decrypt_failed: return "noise message failed authentication";
        case NoiseError::bad_dh: return "noise peer sent a low-order public key";
        case NoiseError::bad_payload: return "noise handshake payload is malformed";
        case NoiseError::bad_identity_key: return "noise handshake identity key is unusable";
        case NoiseError::bad_signature: return "noise identity signature does not verify";
        case NoiseError::peer_id_mismatch: return "noise peer is not the peer that was dialed";
        case NoiseError::payload_too_large: return "noise handshake payload is too large";
        case NoiseError::frame_too_large: return "noise frame is too large";
        case NoiseError::nonce_exhausted: return "noise nonce space is exhausted";
        case NoiseError::handshake_finished: return "noise handshake input after completion";
    }
    return "unknown noise error";
}

namespace {

using crypto::AEAD_TAG_BYTES;
using crypto::Hash256;
using crypto::X25519_KEY_BYTES;
using crypto::X25519Key;

// Exactly HASHLEN (32) bytes, so Noise uses the name itself as the initial h (§5.2).
constexpr std::string_view PROTOCOL_NAME = "Noise_XX_25519_ChaChaPoly_SHA256";
static_assert(PROTOCOL_NAME.size() == crypto::SHA256_BYTES);

constexpr std::string_view SIGNATURE_PREFIX = "noise-libp2p-static-key:";

constexpr std::size_t FRAME_HEADER_BYTES = 2;
constexpr std::size_t SEALED_KEY_BYTES = X25519_KEY_BYTES + AEAD_TAG_BYTES;

// NoiseHandshakePayload and NoiseExtensions field numbers (libp2p noise spec).
constexpr std::uint32_t PAYLOAD_IDENTITY_KEY = 1;
constexpr std::uint32_t PAYLOAD_IDENTITY_SIG = 2;
constexpr std::uint32_t PAYLOAD_EXTENSIONS = 4;
constexpr std::uint32_t EXTENSIONS_STREAM_MUXERS = 2;

// The nonce 2^64-1 is reserved by Noise (§5.1); a cipher stops before it.
constexpr std::uint64_t NONCE_LIMIT = std::numeric_limits<std::uint64_t>::max();

// Programmer errors (calling methods out of order) stop the process, in release builds too.
void require(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "chainmesh noise: %s\n", what);
        std::abort();
    }
}

template <class T>
void wipe(T& secret) {
    sodium_memzero(secret.data(), secret.size());
}

X25519Key key_from(ByteView bytes) {
    X25519Key key;
    std::memcpy(key.data(), bytes.data(), key.size());
    return key;
}

crypto::AeadKey aead_key_from(const Hash256& hash) {
    crypto::AeadKey key;
    std::memcpy(key.data(), hash.data(), key.size());
    return key;
}

// HKDF with two outputs (Noise §4.3), over HMAC-SHA256.
std::pair<Hash256, Hash256> hkdf(const Hash256& chaining_key, ByteView input_key_material) {
    Hash256 temp_key = crypto::hmac_sha256(chaining_key, input_key_material);
    const std::uint8_t one = 0x01;
    const Hash256 output1 = crypto::hmac_sha256(temp_key, ByteView(&one, 1));
    ByteArray<crypto::SHA256_BYTES + 1> second_input;
    std::memcpy(second_input.data(), output1.data(), output1.size());
    second_input.back() = 0x02;
    const Hash256 output2 = crypto::hmac_sha256(temp_key, second_input);
    wipe(temp_key);
    wipe(second_input);
    return {output1, output2};
}

// Noise's SymmetricState with its CipherState (§5.1, §5.2).
class SymmetricState {
public:
    SymmetricState() {
        std::memcpy(m_h.data(), PROTOCOL_NAME.data(), m_h.size());
        m_ck = m_h;
        mix_hash(ByteView{});  // the empty prologue is still hashed
    }
    ~SymmetricState() { wipe(m_ck); }
    SymmetricState(const SymmetricState&) = delete;
    SymmetricState& operator=(const SymmetricState&) = delete;

    const Hash256& handshake_hash() const { return m_h; }

    void mix_hash(ByteView data) { m_h = m_hasher.update(m_h).update(data).finish(); }

    void mix_key(const X25519Key& input_key_material) {
        auto [chaining_key, key] = hkdf(m_ck, input_key_material);
        m_ck = chaining_key;
        crypto::AeadKey aead_key = aead_key_from(key);
        m_cipher.emplace(aead_key);
        m_n = 0;
        wipe(chaining_key);
        wipe(key);
        wipe(aead_key);
    }

    // Appends the (possibly encrypted) `plaintext` to `out` and hashes what was appended.
    void encrypt_and_hash(ByteView plaintext, Bytes& out) {
        const std::size_t at = out.size();
        if (!m_cipher) {
            append(out, plaintext);
        } else {
            out.resize(at + plaintext.size() + AEAD_TAG_BYTES);
            m_cipher->encrypt(m_n++, m_h, plaintext, out.data() + at);
        }
        mix_hash(ByteView(out).subspan(at));
    }

    // Writes ciphertext.size() - AEAD_TAG_BYTES bytes (all of them without a key) to `out`.
    bool decrypt_and_hash(ByteView ciphertext, std::uint8_t* out) {
        if (!m_cipher) {
            if (!ciphertext.empty()) {
                std::memcpy(out, ciphertext.data(), ciphertext.size());
            }
        } else if (!m_cipher->decrypt(m_n++, m_h, ciphertext, out)) {
            return false;
        }
        mix_hash(ciphertext);
        return true;
    }

    // (k1, k2): the initiator sends with k1, the responder with k2.
    std::pair<crypto::AeadKey, crypto::AeadKey> split() {
        auto [first, second] = hkdf(m_ck, ByteView{});
        std::pair<crypto::AeadKey, crypto::AeadKey> keys{aead_key_from(first),
                                                         aead_key_from(second)};
        wipe(first);
        wipe(second);
        wipe(m_ck);
        m_cipher.reset();
        return keys;
    }

private:
    Hash256 m_h{};
    Hash256 m_ck{};
    crypto::Sha256 m_hasher;
    std::optional<crypto::ChaChaPoly> m_cipher;
    std::uint64_t m_n = 0;
};

Bytes signed_static_key_message(const X25519Key& static_public) {
    Bytes message;
    message.reserve(SIGNATURE_PREFIX.size() + static_public.size());
    append(message, SIGNATURE_PREFIX);
    append(message, static_public);
    return message;
}

Bytes encode_payload(const crypto::Identity& identity, const X25519Key& static_public,
                     const std::vector<std::string>& stream_muxers) {
    const Bytes key = identity.public_key().encode();
    const crypto::Ed25519Signature signature =
        identity.sign(signed_static_key_message(static_public));
    Bytes payload;
    util::ProtoWriter writer(payload);
    writer.bytes(PAYLOAD_IDENTITY_KEY, key);
    writer.bytes(PAYLOAD_IDENTITY_SIG, signature);
    if (!stream_muxers.empty()) {
        Bytes extensions;
        util::ProtoWriter extensions_writer(extensions);
        for (const std::string& muxer : stream_muxers) {
            extensions_writer.string(EXTENSIONS_STREAM_MUXERS, muxer);
        }
        writer.bytes(PAYLOAD_EXTENSIONS, extensions);
    }
    return payload;
}

// Checks the remote's payload against the static key it just sent; returns its identity key.
Result<crypto::PublicKey> verify_payload(ByteView payload, const X25519Key& remote_static) {
    util::ProtoReader reader(payload);
    std::optional<ByteView> key_bytes;
    std::optional<ByteView> signature;
    for (;;) {
        auto field = reader.next();
        if (!field) {
            return NoiseError::bad_payload;
        }
        if (!*field) {
            break;
        }
        const util::ProtoField& f = **field;
        if (f.number == PAYLOAD_IDENTITY_KEY || f.number == PAYLOAD_IDENTITY_SIG) {
            if (f.type != util::WireType::length_delimited) {
                return NoiseError::bad_payload;
            }
            (f.number == PAYLOAD_IDENTITY_KEY ? key_bytes : signature) = f.bytes;
        }
        // Extensions (inlined muxer negotiation, WebTransport hashes) and unknown fields are
        // skipped: we always negotiate the muxer with multistream afterwards.
    }
    if (!key_bytes || !signature) {
        return NoiseError::bad_payload;
    }
    auto key = crypto::PublicKey::decode(*key_bytes);
    // Only Ed25519 keys verify here (PublicKey::verify); any other type cannot authenticate.
    if (!key || key->type != crypto::KeyType::ed25519) {
        return NoiseError::bad_identity_key;
    }
    if (!key->verify(signed_static_key_message(remote_static), *signature)) {
        return NoiseError::bad_signature;
    }
    return std::move(*key);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// NoiseHandshake

namespace {
enum class Stage {
    not_started,    // initiator, before start()
    awaiting_msg1,  // responder
    awaiting_msg2,  // initiator
    awaiting_msg3,  // responder
    complete,
    transport_taken,
};

// Smallest and largest body of each message we receive: its keys, a tag where the payload is
// encrypted, and a payload of at most NOISE_MAX_PAYLOAD_BYTES.
struct BodyBounds {
    std::size_t min = 0;
    std::size_t max = 0;
};

BodyBounds body_bounds(Stage stage) {
    constexpr std::size_t payload = NOISE_MAX_PAYLOAD_BYTES;
    switch (stage) {
        case Stage::awaiting_msg1: return {X25519_KEY_BYTES, X25519_KEY_BYTES + payload};
        case Stage::awaiting_msg2:
            return {X25519_KEY_BYTES + SEALED_KEY_BYTES + AEAD_TAG_BYTES,
                    X25519_KEY_BYTES + SEALED_KEY_BYTES + AEAD_TAG_BYTES + payload};
        case Stage::awaiting_msg3:
            return {SEALED_KEY_BYTES + AEAD_TAG_BYTES, SEALED_KEY_BYTES + AEAD_TAG_BYTES + payload};
        default: return {};
    }
}
}  // namespace

struct NoiseHandshake::State {
    NoiseRole role = NoiseRole::initiator;
    Stage stage = Stage::not_started;
    std::optional<crypto::PeerId> expected_remote;
    crypto::X25519KeyPair static_key;
    crypto::X25519KeyPair ephemeral_key;
    X25519Key remote_ephemeral{};
    X25519Key remote_static{};
    Bytes payload;  // our signed NoiseHandshakePayload, made once at construction
    SymmetricState symmetric;
    Bytes buffer;  // a frame split across on_data calls: header and body, one frame at most
    std::optional<ErrorCode> error;
    std::optional<crypto::PublicKey> remote_key;
    std::optional<crypto::PeerId> remote_id;
    crypto::AeadKey send_key{};
    crypto::AeadKey receive_key{};

    ~State() {
        wipe(static_key.private_key);
        wipe(ephemeral_key.private_key);
        wipe(send_key);
        wipe(receive_key);
    }

    Result<void> check_length(std::size_t body_bytes) const {
        const BodyBounds bounds = body_bounds(stage);
        if (body_bytes < bounds.min) {
            return NoiseError::bad_message_length;
        }
        if (body_bytes > bounds.max) {
            return NoiseError::payload_too_large;
        }
        return {};
    }

    // The next whole frame body: a view into `data` when the frame is there in one piece,
    // else into `buffer` once enough calls have filled it; nullopt while incomplete.
    Result<std::optional<ByteView>> next_frame(ByteView data, std::size_t& pos) {
        const std::size_t available = data.size() - pos;
        if (buffer.empty() && available >= FRAME_HEADER_BYTES) {
            const std::size_t body_bytes = get_u16be(data.data() + pos);
            if (auto ok = check_length(body_bytes); !ok) {
                return ok.error();
            }
            if (available - FRAME_HEADER_BYTES >= body_bytes) {
                const ByteView body = data.subspan(pos + FRAME_HEADER_BYTES, body_bytes);
                pos += FRAME_HEADER_BYTES + body_bytes;
                return std::optional<ByteView>(body);
            }
        }
        if (buffer.size() < FRAME_HEADER_BYTES) {
            const std::size_t take =
                std::min(FRAME_HEADER_BYTES - buffer.size(), data.size() - pos);
            append(buffer, data.subspan(pos, take));
            pos += take;
            if (buffer.size() < FRAME_HEADER_BYTES) {
                return std::optional<ByteView>{};
            }
        }
        const std::size_t body_bytes = get_u16be(buffer.data());
        if (auto ok = check_length(body_bytes); !ok) {
            return ok.error();
        }
        const std::size_t body_take =
            std::min(FRAME_HEADER_BYTES + body_bytes - buffer.size(), data.size() - pos);
        append(buffer, data.subspan(pos, body_take));
        pos += body_take;
        if (buffer.size() < FRAME_HEADER_BYTES + body_bytes) {
            return std::optional<ByteView>{};
        }
        return std::optional<ByteView>(ByteView(buffer).subspan(FRAME_HEADER_BYTES));
    }

    Result<void> mix_dh(const X25519Key& private_key, const X25519Key& public_key) {
        std::optional<X25519Key> shared = crypto::x25519(private_key, public_key);
        if (!shared) {
            return NoiseError::bad_dh;
        }
        symmetric.mix_key(*shared);
        wipe(*shared);
        return {};
    }

    // Decrypts the remote's sealed static key (`rs`).
    Result<void> read_remote_static(ByteView sealed) {
        if (!symmetric.decrypt_and_hash(sealed, remote_static.data())) {
            return NoiseError::decrypt_failed;
        }
        return {};
    }

    // Decrypts and checks the remote's payload, which ends the message.
    Result<void> read_payload(ByteView sealed) {
        ByteArray<NOISE_MAX_PAYLOAD_BYTES> plain;
        const std::size_t plain_bytes = sealed.size() - AEAD_TAG_BYTES;
        if (!symmetric.decrypt_and_hash(sealed, plain.data())) {
            return NoiseError::decrypt_failed;
        }
        auto key = verify_payload(ByteView(plain).first(plain_bytes), remote_static);
        if (!key) {
            return key.error();
        }
        crypto::PeerId id = crypto::PeerId::from_public_key(*key);
        if (expected_remote && id != *expected_remote) {
            return NoiseError::peer_id_mismatch;
        }
        remote_key = std::move(*key);
        remote_id = std::move(id);
        return {};
    }

    void finish() {
        auto [k1, k2] = symmetric.split();
        send_key = role == NoiseRole::initiator ? k1 : k2;
        receive_key = role == NoiseRole::initiator ? k2 : k1;
        wipe(k1);
        wipe(k2);
        wipe(static_key.private_key);
        wipe(ephemeral_key.private_key);
        stage = Stage::complete;
    }

    // u16be(len) ‖ body, with the body written by `write`.
    template <class Write>
    void write_frame(Bytes& out, Write write) {
        const std::size_t at = out.size();
        out.resize(at + FRAME_HEADER_BYTES);
        write(out);
        const std::size_t body_bytes = out.size() - at - FRAME_HEADER_BYTES;
        require(body_bytes <= NOISE_MAX_FRAME_BYTES, "handshake message exceeds a frame");
        out[at] = static_cast<std::uint8_t>(body_bytes >> 8);
        out[at + 1] = static_cast<std::uint8_t>(body_bytes);
    }

    // -> e  (written by the initiator)
    Bytes write_msg1() {
        Bytes out;
        write_frame(out, [&](Bytes& o) {
            append(o, ephemeral_key.public_key);
            symmetric.mix_hash(ephemeral_key.public_key);
            symmetric.encrypt_and_hash(ByteView{}, o);  // the empty payload, hashed all the same
        });
        stage = Stage::awaiting_msg2;
        return out;
    }

    // <- e, ee, s, es  (written by the responder); fails on a low-order initiator ephemeral.
    Result<void> write_msg2(Bytes& out) {
        Result<void> result;
        write_frame(out, [&](Bytes& o) {
            append(o, ephemeral_key.public_key);
            symmetric.mix_hash(ephemeral_key.public_key);
            if (result = mix_dh(ephemeral_key.private_key, remote_ephemeral); !result) {
                return;
            }
            symmetric.encrypt_and_hash(static_key.public_key, o);
            if (result = mix_dh(static_key.private_key, remote_ephemeral); !result) {
                return;
            }
            symmetric.encrypt_and_hash(payload, o);
        });
        return result;
    }

    // -> s, se  (written by the initiator)
    Result<void> write_msg3(Bytes& out) {
        Result<void> result;
        write_frame(out, [&](Bytes& o) {
            symmetric.encrypt_and_hash(static_key.public_key, o);
            if (result = mix_dh(static_key.private_key, remote_ephemeral); !result) {
                return;
            }
            symmetric.encrypt_and_hash(payload, o);
        });
        return result;
    }

    // One whole message body from the remote; appends our reply, if any, to `out`.
    Result<void> on_message(ByteView body, Bytes& out) {
        switch (stage) {
            case Stage::awaiting_msg1: {
                remote_ephemeral = key_from(body.first(X25519_KEY_BYTES));
                symmetric.mix_hash(remote_ephemeral);
                // The initiator sends no payload in msg 1; whatever is there is cleartext that
                // Noise hashes, and we ignore it.
                symmetric.mix_hash(body.subspan(X25519_KEY_BYTES));
                if (auto r = write_msg2(out); !r) {
                    return r;
                }
                stage = Stage::awaiting_msg3;
                return {};
            }
            case Stage::awaiting_msg2: {
                remote_ephemeral = key_from(body.first(X25519_KEY_BYTES));
                symmetric.mix_hash(remote_ephemeral);
                if (auto r = mix_dh(ephemeral_key.private_key, remote_ephemeral); !r) {
                    return r;
                }
                if (auto r = read_remote_static(body.subspan(X25519_KEY_BYTES, SEALED_KEY_BYTES));
                    !r) {
                    return r;
                }
                if (auto r = mix_dh(ephemeral_key.private_key, remote_static); !r) {
                    return r;
                }
                if (auto r = read_payload(body.subspan(X25519_KEY_BYTES + SEALED_KEY_BYTES)); !r) {
                    return r;
                }
                if (auto r = write_msg3(out); !r) {
                    return r;
                }
                finish();
                return {};
            }
            case Stage::awaiting_msg3: {
                if (auto r = read_remote_static(body.first(SEALED_KEY_BYTES)); !r) {
                    return r;
                }
                if (auto r = mix_dh(ephemeral_key.private_key, remote_static); !r) {
                    return r;
                }
                if (auto r = read_payload(body.subspan(SEALED_KEY_BYTES)); !r) {
                    return r;
                }
                finish();
                return {};
            }
            default: require(false, "noise message in a stage that expects none"); return {};
        }
    }
};

NoiseHandshake::NoiseHandshake(NoiseRole role, const crypto::Identity& identity,
                               crypto::X25519KeyPair static_key,
                               crypto::X25519KeyPair ephemeral_key,
                               std::optional<crypto::PeerId> expected_remote,
                               std::vector<std::string> stream_muxers)
    : m_state(std::make_unique<State>()) {
    State& state = *m_state;
    state.role = role;
    state.stage = role == NoiseRole::initiator ? Stage::not_started : Stage::awaiting_msg1;
    state.expected_remote = std::move(expected_remote);
    state.static_key = static_key;
    state.ephemeral_key = ephemeral_key;
    wipe(static_key.private_key);
    wipe(ephemeral_key.private_key);
    state.payload = encode_payload(identity, state.static_key.public_key, stream_muxers);
    require(state.payload.size() <= NOISE_MAX_PAYLOAD_BYTES, "our handshake payload is too large");
}

NoiseHandshake::~NoiseHandshake() = default;
NoiseHandshake::NoiseHandshake(NoiseHandshake&&) noexcept = default;
NoiseHandshake& NoiseHandshake::operator=(NoiseHandshake&&) noexcept = default;

Bytes NoiseHandshake::start() {
    State& state = *m_state;
    if (state.role == NoiseRole::responder) {
        return {};
    }
    require(state.stage == Stage::not_started, "start() called twice");
    return state.write_msg1();
}

Result<HandshakeStep> NoiseHandshake::on_data(ByteView data) {
    State& state = *m_state;
    if (state.error) {
        return *state.error;
    }
    if (state.stage == Stage::complete || state.stage == Stage::transport_taken) {
        return NoiseError::handshake_finished;
    }
    require(state.stage != Stage::not_started, "on_data() before start() on the initiator");

    HandshakeStep step;
    std::size_t pos = 0;
    while (state.stage != Stage::complete && pos < data.size()) {
        auto frame = state.next_frame(data, pos);
        if (!frame) {
            state.error = frame.error();
            return frame.error();
        }
        if (!*frame) {
            break;  // everything is buffered until the rest of the frame arrives
        }
        auto handled = state.on_message(**frame, step.output);
        // The frame may have been a view into the buffer: clear it only once it is used.
        state.buffer.clear();
        if (!handled) {
            state.error = handled.error();
            return handled.error();
        }
    }
    if (state.stage == Stage::complete) {
        step.complete = true;
        step.remainder = to_bytes(data.subspan(pos));
        state.buffer = Bytes{};
    }
    return step;
}

const crypto::PeerId& NoiseHandshake::remote_peer_id() const {
    require(m_state->remote_id.has_value(), "remote_peer_id() before the handshake completed");
    return *m_state->remote_id;
}

const crypto::PublicKey& NoiseHandshake::remote_public_key() const {
    require(m_state->remote_key.has_value(), "remote_public_key() before the handshake completed");
    return *m_state->remote_key;
}

const crypto::Hash256& NoiseHandshake::handshake_hash() const {
    require(m_state->stage == Stage::complete || m_state->stage == Stage::transport_taken,
            "handshake_hash() before the handshake completed");
    return m_state->symmetric.handshake_hash();
}

NoiseTransport NoiseHandshake::take_transport() {
    State& state = *m_state;
    require(state.stage == Stage::complete, "take_transport() before completion or twice");
    NoiseTransport transport(state.send_key, state.receive_key);
    wipe(state.send_key);
    wipe(state.receive_key);
    state.stage = Stage::transport_taken;
    return transport;
}

// ---------------------------------------------------------------------------------------------
// NoiseTransport

NoiseTransport::NoiseTransport(const crypto::AeadKey& send_key, const crypto::AeadKey& receive_key)
    : m_send(send_key), m_receive(receive_key) {}

Result<void> NoiseTransport::encrypt(ByteView plaintext, Bytes& out) {
    if (plaintext.empty()) {
        return {};  // nothing to say; an empty frame would only cost a nonce
    }
    const std::size_t frames =
        (plaintext.size() + NOISE_MAX_PLAINTEXT_BYTES - 1) / NOISE_MAX_PLAINTEXT_BYTES;
    if (frames > NONCE_LIMIT - m_send_nonce) {
        return NoiseError::nonce_exhausted;
    }
    // One resize for every frame; each frame is then sealed in place.
    const std::size_t at = out.size();
    out.resize(at + plaintext.size() + frames * (FRAME_HEADER_BYTES + AEAD_TAG_BYTES));
    std::uint8_t* cursor = out.data() + at;
    for (std::size_t offset = 0; offset < plaintext.size();) {
        const std::size_t chunk = std::min(NOISE_MAX_PLAINTEXT_BYTES, plaintext.size() - offset);
        const std::size_t body_bytes = chunk + AEAD_TAG_BYTES;
        cursor[0] = static_cast<std::uint8_t>(body_bytes >> 8);
        cursor[1] = static_cast<std::uint8_t>(body_bytes);
        m_send.encrypt(m_send_nonce++, ByteView{}, plaintext.subspan(offset, chunk),
                       cursor + FRAME_HEADER_BYTES);
        cursor += FRAME_HEADER_BYTES + body_bytes;
        offset += chunk;
    }
    return {};
}

Result<void> NoiseTransport::decrypt(ByteView framed, Bytes& plaintext) {
    std::size_t pos = 0;

    // First finish the frame carried over from the last call, if there is one.
    if (!m_partial.empty()) {
        if (m_partial.size() < FRAME_HEADER_BYTES) {
            const std::size_t take = std::min(FRAME_HEADER_BYTES - m_partial.size(), framed.size());
            append(m_partial, framed.first(take));
            pos += take;
            if (m_partial.size() < FRAME_HEADER_BYTES) {
                return {};
            }
        }
        const std::size_t frame_bytes = FRAME_HEADER_BYTES + get_u16be(m_partial.data());
        const std::size_t take = std::min(frame_bytes - m_partial.size(), framed.size() - pos);
        m_partial.reserve(frame_bytes);
        append(m_partial, framed.subspan(pos, take));
        pos += take;
        if (m_partial.size() < frame_bytes) {
            return {};
        }
        if (m_receive_nonce == NONCE_LIMIT) {
            return NoiseError::nonce_exhausted;
        }
        const ByteView body = ByteView(m_partial).subspan(FRAME_HEADER_BYTES);
        const std::size_t at = plaintext.size();
        plaintext.resize(at + (body.size() >= AEAD_TAG_BYTES ? body.size() - AEAD_TAG_BYTES : 0));
        if (!m_receive.decrypt(m_receive_nonce, ByteView{}, body, plaintext.data() + at)) {
            plaintext.resize(at);
            return NoiseError::decrypt_failed;
        }
        ++m_receive_nonce;
        m_partial.clear();
    }

    // Then every whole frame straight from the input: size the output once, decrypt in place.
    std::size_t end = pos;
    std::size_t total_plain = 0;
    while (framed.size() - end >= FRAME_HEADER_BYTES) {
        const std::size_t body_bytes = get_u16be(framed.data() + end);
        if (framed.size() - end - FRAME_HEADER_BYTES < body_bytes) {
            break;
        }
        total_plain += body_bytes >= AEAD_TAG_BYTES ? body_bytes - AEAD_TAG_BYTES : 0;
        end += FRAME_HEADER_BYTES + body_bytes;
    }
    std::size_t at = plaintext.size();
    plaintext.resize(at + total_plain);
    while (pos < end) {
        const std::size_t body_bytes = get_u16be(framed.data() + pos);
        if (m_receive_nonce == NONCE_LIMIT) {
            plaintext.resize(at);
            return NoiseError::nonce_exhausted;
        }
        const ByteView body = framed.subspan(pos + FRAME_HEADER_BYTES, body_bytes);
        if (!m_receive.decrypt(m_receive_nonce, ByteView{}, body, plaintext.data() + at)) {
            plaintext.resize(at);  // keep only the frames that authenticated
            return NoiseError::decrypt_failed;
        }
        ++m_receive_nonce;
        at += body_bytes - AEAD_TAG_BYTES;
        pos += FRAME_HEADER_BYTES + body_bytes;
    }

    // Only an incomplete frame (at most one) is copied, to wait for its remaining bytes.
    if (pos < framed.size()) {
        m_partial.assign(framed.begin() + static_cast<std::ptrdiff_t>(pos), framed.end());
    }
    return {};
}

}  // namespace chainmesh::wire
