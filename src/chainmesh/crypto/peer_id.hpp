#pragma once
// libp2p peer ids (peer-ids spec): the multihash of a serialized PublicKey, the identity
// multihash when that encoding is at most 42 bytes (Ed25519: `00 24 ‖ key`), else SHA-256.
//
// Text forms: base58btc of the multihash (`12D3KooW…` for Ed25519), the default everywhere;
// and CIDv1 (`bafzaa…`: multibase base32 of `01 72 ‖ multihash`). parse() accepts both.

#include <chainmesh/crypto/public_key.hpp>
#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>

#include <compare>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace chainmesh::crypto {

// Identity multihash of the largest key we inline, or a 34-byte SHA-256 multihash.
inline constexpr std::size_t PEER_ID_MAX_BYTES = 2 + 42;

enum class PeerIdError { malformed = 1, unsupported_hash, bad_key, not_a_peer_id_cid, too_long };
std::string_view describe(PeerIdError e);

class PeerId {
public:
    static PeerId from_public_key(const PublicKey& key);
    // Validates the multihash: identity (whose digest must decode as a PublicKey) or sha2-256.
    static Result<PeerId> from_bytes(ByteView multihash);
    static Result<PeerId> parse(std::string_view text);

    const Bytes& bytes() const { return m_bytes; }
    std::string to_base58() const;
    std::string to_cid() const;
    std::string to_string() const { return to_base58(); }
    // The key inlined in an identity multihash; nullopt for hashed (RSA, ECDSA) ids.
    std::optional<PublicKey> public_key() const;

    friend auto operator<=>(const PeerId&, const PeerId&) = default;
    friend bool operator==(const PeerId&, const PeerId&) = default;

private:
    explicit PeerId(Bytes bytes) : m_bytes(std::move(bytes)) {}
    Bytes m_bytes;
};

}  // namespace chainmesh::crypto

template <>
struct std::hash<chainmesh::crypto::PeerId> {
    std::size_t operator()(const chainmesh::crypto::PeerId& id) const noexcept;
};

CHAINMESH_ERROR_ENUM(chainmesh::crypto, PeerIdError, "peer-id")
