#pragma once
// libp2p's PublicKey message (peer-ids spec): a key type and the key bytes, encoded
// deterministically because peer ids are hashes of this encoding.
//
// Only Ed25519 keys can sign and verify here; other types decode (so their peer ids can be
// shown and compared) and fail verification.

#include <chainmesh/crypto/ed25519.hpp>
#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>

#include <compare>
#include <cstdint>

namespace chainmesh::crypto {

// Bound on a serialized public key we accept from a peer (RSA-4096 SPKI is about 550 bytes).
inline constexpr std::size_t PUBLIC_KEY_MAX_BYTES = 1024;

enum class KeyType : std::uint8_t { rsa = 0, ed25519 = 1, secp256k1 = 2, ecdsa = 3 };

enum class KeyError {
    malformed = 1,
    missing_field,
    unknown_type,
    bad_key_length,
    too_large,
    public_key_mismatch,
};
std::string_view describe(KeyError e);

// The two fields libp2p's PublicKey and PrivateKey messages share (peer-ids spec): a key type
// and the key bytes, both present and nothing else. `data` is a view into the input.
struct KeyFields {
    std::uint64_t type = 0;
    ByteView data;
};
Result<KeyFields> decode_key_fields(ByteView encoded);

struct PublicKey {
    KeyType type = KeyType::ed25519;
    Bytes data;

    static PublicKey ed25519(const Ed25519PublicKey& key);
    static Result<PublicKey> decode(ByteView encoded);

    Bytes encode() const;
    bool verify(ByteView message, ByteView signature) const;

    friend bool operator==(const PublicKey&, const PublicKey&) = default;
};

}  // namespace chainmesh::crypto

CHAINMESH_ERROR_ENUM(chainmesh::crypto, KeyError, "key")
