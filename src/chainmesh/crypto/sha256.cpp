#include <chainmesh/crypto/sha256.hpp>

#include <openssl/evp.h>

#include <cstring>
#include <stdexcept>

namespace chainmesh::crypto {

namespace {
// Fetching the digest once avoids a provider lookup per hash (OpenSSL 3 "explicit fetch").
const EVP_MD* sha256_md() {
    static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (md == nullptr) {
        throw std::runtime_error("OpenSSL has no SHA256 digest");
    }
    return md;
}
}  // namespace

struct Sha256::Context {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Context() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : m_context(std::make_unique<Context>()) {
    if (m_context->ctx == nullptr || EVP_DigestInit_ex(m_context->ctx, sha256_md(), nullptr) != 1) {
        throw std::runtime_error("EVP_DigestInit_ex failed");
    }
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

Sha256& Sha256::update(ByteView data) {
    EVP_DigestUpdate(m_context->ctx, data.data(), data.size());
    return *this;
}

Hash256 Sha256::finish() {
    Hash256 out{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(m_context->ctx, out.data(), &len);
    EVP_DigestInit_ex(m_context->ctx, sha256_md(), nullptr);
    return out;
}

Hash256 sha256(ByteView data) {
    Hash256 out{};
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), out.data(), &len, sha256_md(), nullptr);
    return out;
}

Hash256 hmac_sha256(ByteView key, ByteView data) {
    // RFC 2104 over our own SHA-256: a handful of calls per Noise handshake, so clarity wins.
    constexpr std::size_t BLOCK = 64;
    ByteArray<BLOCK> block_key{};
    if (key.size() > BLOCK) {
        const Hash256 hashed = sha256(key);
        std::memcpy(block_key.data(), hashed.data(), hashed.size());
    } else if (!key.empty()) {
        std::memcpy(block_key.data(), key.data(), key.size());
    }
    ByteArray<BLOCK> ipad{};
    ByteArray<BLOCK> opad{};
    for (std::size_t i = 0; i < BLOCK; ++i) {
        ipad[i] = static_cast<std::uint8_t>(block_key[i] ^ 0x36);
        opad[i] = static_cast<std::uint8_t>(block_key[i] ^ 0x5c);
    }
    Sha256 inner;
    const Hash256 inner_hash = inner.update(ipad).update(data).finish();
    Sha256 outer;
    return outer.update(opad).update(inner_hash).finish();
}

}  // namespace chainmesh::crypto
