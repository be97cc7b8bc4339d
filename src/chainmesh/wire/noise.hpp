#pragma once
// Noise_XX_25519_ChaChaPoly_SHA256 with libp2p's handshake payload (libp2p noise spec;
// libp2p-interop.md §5), as pure state machines: framed bytes in, framed bytes out.
//
// NoiseHandshake runs the three XX messages. The TCP dialer is the initiator. Each side signs
// "noise-libp2p-static-key:" ‖ its X25519 static key with its identity key and sends the
// signature with its PublicKey in the encrypted payload; the receiver verifies the signature
// against the static key it decrypted and derives the remote peer id from the key. A dialer
// that knows whom it dialed passes `expected_remote`; a different peer id fails the
// handshake. Rationale: without that check anyone could answer for the dialed peer.
//
// Rules:
// - Every message is framed as u16be(len) ‖ body; frames may arrive split or joined.
// - No extensions are sent, and the muxer is always negotiated with multistream afterwards
//   (the "simplest correct plan" of §5); received extensions are parsed and ignored.
// - Bytes that follow the last handshake message (the peer's first transport frames) come
//   back in HandshakeStep::remainder for the transport.
// Bounds: a frame body is at most NOISE_MAX_FRAME_BYTES; the handshake payload at most
// NOISE_MAX_PAYLOAD_BYTES; the receive buffer at most one frame plus its length.

#include <chainmesh/crypto/aead.hpp>
#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/crypto/peer_id.hpp>
#include <chainmesh/crypto/public_key.hpp>
#include <chainmesh/crypto/sha256.hpp>
#include <chainmesh/crypto/x25519.hpp>
#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace chainmesh::wire {

inline constexpr std::string_view NOISE_PROTOCOL_ID = "/noise";
inline constexpr std::size_t NOISE_MAX_FRAME_BYTES = 65535;
inline constexpr std::size_t NOISE_MAX_PLAINTEXT_BYTES = NOISE_MAX_FRAME_BYTES - crypto::AEAD_TAG_BYTES;
inline constexpr std::size_t NOISE_MAX_PAYLOAD_BYTES = 4096;

enum class NoiseError {
    bad_message_length = 1,  // a handshake message shorter or longer than its tokens need
    decrypt_failed,          // AEAD tag mismatch
    bad_dh,                  // a low-order public key
    bad_payload,             // payload does not decode, or lacks key or signature
    bad_identity_key,        // payload key is not a usable public key
    bad_signature,           // identity signature over the static key does not verify
    peer_id_mismatch,        // the remote is not the peer that was dialed
    payload_too_large,
    frame_too_large,
    nonce_exhausted,
    handshake_finished,      // input after completion
};
std::string_view describe(NoiseError e);

enum class NoiseRole { initiator, responder };

class NoiseTransport;

struct HandshakeStep {
    Bytes output;            // framed bytes to write to the peer now
    bool complete = false;   // once true, call NoiseHandshake::take_transport()
    Bytes remainder;         // bytes received after the final handshake message
};

class NoiseHandshake {
public:
    // `static_key` and `ephemeral_key` are injected so tests can replay known transcripts;
    // the host makes fresh ones with X25519KeyPair::generate(). `stream_muxers`, when not
    // empty, is sent as extensions.stream_muxers; the node leaves it empty (see Rules), tests
    // use it to replay transcripts of peers that send it.
    NoiseHandshake(NoiseRole role, const crypto::Identity& identity,
                   crypto::X25519KeyPair static_key, crypto::X25519KeyPair ephemeral_key,
                   std::optional<crypto::PeerId> expected_remote = std::nullopt,
                   std::vector<std::string> stream_muxers = {});
    ~NoiseHandshake();
    NoiseHandshake(NoiseHandshake&&) noexcept;
    NoiseHandshake& operator=(NoiseHandshake&&) noexcept;

    // The initiator's first message (framed); empty for the responder.
    Bytes start();
    Result<HandshakeStep> on_data(ByteView data);

    // Valid once complete.
    const crypto::PeerId& remote_peer_id() const;
    const crypto::PublicKey& remote_public_key() const;
    // The handshake hash, for channel binding and tests.
    const crypto::Hash256& handshake_hash() const;
    NoiseTransport take_transport();

private:
    struct State;
    std::unique_ptr<State> m_state;
};

// The transport phase: ChaChaPoly frames with implicit nonces, one cipher each way.
class NoiseTransport {
public:
    NoiseTransport(const crypto::AeadKey& send_key, const crypto::AeadKey& receive_key);

    // Appends `plaintext` to `out` as one or more frames of at most
    // NOISE_MAX_PLAINTEXT_BYTES plaintext each.
    Result<void> encrypt(ByteView plaintext, Bytes& out);
    // Feeds framed bytes; appends the plaintext of every complete frame to `plaintext`.
    // Partial frames are kept for the next call. Any error is fatal for the connection.
    Result<void> decrypt(ByteView framed, Bytes& plaintext);

private:
    crypto::ChaChaPoly m_send;
    crypto::ChaChaPoly m_receive;
    std::uint64_t m_send_nonce = 0;
    std::uint64_t m_receive_nonce = 0;
    Bytes m_partial;  // an incomplete frame carried to the next decrypt()
};

}  // namespace chainmesh::wire

CHAINMESH_ERROR_ENUM(chainmesh::wire, NoiseError, "noise")
