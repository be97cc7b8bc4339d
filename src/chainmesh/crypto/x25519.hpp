#pragma once
// X25519 Diffie-Hellman (libsodium), the DH of Noise_XX_25519.

#include <chainmesh/util/bytes.hpp>

#include <optional>

namespace chainmesh::crypto {

inline constexpr std::size_t X25519_KEY_BYTES = 32;
using X25519Key = ByteArray<X25519_KEY_BYTES>;

struct X25519KeyPair {
    X25519Key private_key{};
    X25519Key public_key{};

    static X25519KeyPair generate();
    // Any 32 bytes are a private key (X25519 clamps them); used by tests and the simulator.
    static X25519KeyPair from_private(const X25519Key& private_key);
};

// nullopt when the result is all zeros (a low-order public key), which Noise lets us refuse.
std::optional<X25519Key> x25519(const X25519Key& private_key, const X25519Key& public_key);

}  // namespace chainmesh::crypto
