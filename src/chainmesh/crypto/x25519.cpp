#include <chainmesh/crypto/ed25519.hpp>
#include <chainmesh/crypto/x25519.hpp>

#include <sodium.h>

namespace chainmesh::crypto {

X25519KeyPair X25519KeyPair::generate() {
    ensure_sodium();
    X25519Key private_key;
    randombytes_buf(private_key.data(), private_key.size());
    auto pair = from_private(private_key);
    sodium_memzero(private_key.data(), private_key.size());
    return pair;
}

X25519KeyPair X25519KeyPair::from_private(const X25519Key& private_key) {
    ensure_sodium();
    X25519KeyPair pair;
    pair.private_key = private_key;
    crypto_scalarmult_base(pair.public_key.data(), private_key.data());
    return pair;
}

std::optional<X25519Key> x25519(const X25519Key& private_key, const X25519Key& public_key) {
    ensure_sodium();
    X25519Key shared;
    if (crypto_scalarmult(shared.data(), private_key.data(), public_key.data()) != 0) {
        return std::nullopt;
    }
    return shared;
}

}  // namespace chainmesh::crypto
