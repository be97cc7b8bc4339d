#include <chainmesh/crypto/ed25519.hpp>

#include <sodium.h>

#include <cstring>
#include <stdexcept>

namespace chainmesh::crypto {

void ensure_sodium() {
    static const bool ready = sodium_init() >= 0;
    if (!ready) {
        throw std::runtime_error("libsodium failed to initialise");
    }
}

Ed25519PrivateKey Ed25519PrivateKey::generate() {
    ensure_sodium();
    Ed25519Seed seed;
    randombytes_buf(seed.data(), seed.size());
    auto key = from_seed(seed);
    sodium_memzero(seed.data(), seed.size());
    return key;
}

Ed25519PrivateKey Ed25519PrivateKey::from_seed(const Ed25519Seed& seed) {
    ensure_sodium();
    Ed25519PrivateKey key;
    crypto_sign_seed_keypair(key.m_public.data(), key.m_secret.data(), seed.data());
    return key;
}

Ed25519PrivateKey::~Ed25519PrivateKey() { sodium_memzero(m_secret.data(), m_secret.size()); }

Ed25519Seed Ed25519PrivateKey::seed() const {
    Ed25519Seed seed;
    std::memcpy(seed.data(), m_secret.data(), seed.size());
    return seed;
}

Ed25519Signature Ed25519PrivateKey::sign(ByteView message) const {
    Ed25519Signature signature;
    crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(),
                         m_secret.data());
    return signature;
}

bool ed25519_verify(const Ed25519PublicKey& key, ByteView message, ByteView signature) {
    if (signature.size() != ED25519_SIGNATURE_BYTES) {
        return false;
    }
    ensure_sodium();
    return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                       key.data()) == 0;
}

}  // namespace chainmesh::crypto
