#pragma once
// ChaCha20-Poly1305 (RFC 8439, 12-byte nonce) with Noise's nonce layout: 4 zero bytes then the
// 64-bit counter little-endian. OpenSSL's implementation; the cipher context is kept for the
// life of the key so a frame costs no allocation.

#include <chainmesh/util/bytes.hpp>

#include <cstdint>
#include <memory>

namespace chainmesh::crypto {

inline constexpr std::size_t AEAD_KEY_BYTES = 32;
inline constexpr std::size_t AEAD_TAG_BYTES = 16;
using AeadKey = ByteArray<AEAD_KEY_BYTES>;

class ChaChaPoly {
public:
    explicit ChaChaPoly(const AeadKey& key);
    ~ChaChaPoly();
    ChaChaPoly(ChaChaPoly&&) noexcept;
    ChaChaPoly& operator=(ChaChaPoly&&) noexcept;

    // Writes plaintext.size() + AEAD_TAG_BYTES bytes to `out`.
    void encrypt(std::uint64_t nonce, ByteView ad, ByteView plaintext, std::uint8_t* out);
    // Writes ciphertext.size() - AEAD_TAG_BYTES bytes to `out`; false if the tag is wrong
    // or the input is shorter than a tag.
    bool decrypt(std::uint64_t nonce, ByteView ad, ByteView ciphertext, std::uint8_t* out);

private:
    struct Contexts;
    std::unique_ptr<Contexts> m_contexts;
};

}  // namespace chainmesh::crypto
