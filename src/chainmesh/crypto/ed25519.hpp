#pragma once
// Ed25519 identity keys (libsodium): plain RFC 8032 signatures, no pre-hash, as libp2p uses.

#include <chainmesh/util/bytes.hpp>

namespace chainmesh::crypto {

inline constexpr std::size_t ED25519_SEED_BYTES = 32;
inline constexpr std::size_t ED25519_PUBLIC_KEY_BYTES = 32;
inline constexpr std::size_t ED25519_SIGNATURE_BYTES = 64;

using Ed25519PublicKey = ByteArray<ED25519_PUBLIC_KEY_BYTES>;
using Ed25519Signature = ByteArray<ED25519_SIGNATURE_BYTES>;
using Ed25519Seed = ByteArray<ED25519_SEED_BYTES>;

// Makes sure libsodium is initialised; safe to call from any thread, any number of times.
void ensure_sodium();

class Ed25519PrivateKey {
public:
    static Ed25519PrivateKey generate();
    static Ed25519PrivateKey from_seed(const Ed25519Seed& seed);

    ~Ed25519PrivateKey();
    Ed25519PrivateKey(const Ed25519PrivateKey&) = default;
    Ed25519PrivateKey& operator=(const Ed25519PrivateKey&) = default;

    const Ed25519PublicKey& public_key() const { return m_public; }
    Ed25519Seed seed() const;
    Ed25519Signature sign(ByteView message) const;

private:
    Ed25519PrivateKey() = default;

    ByteArray<64> m_secret{};  // libsodium layout: seed ‖ public key
    Ed25519PublicKey m_public{};
};

bool ed25519_verify(const Ed25519PublicKey& key, ByteView message, ByteView signature);

}  // namespace chainmesh::crypto
