#include <chainmesh/crypto/aead.hpp>

#include <openssl/evp.h>

#include <stdexcept>

namespace chainmesh::crypto {

namespace {
using Nonce = ByteArray<12>;

Nonce noise_nonce(std::uint64_t n) {
    Nonce nonce{};
    for (int i = 0; i < 8; ++i) {
        nonce[4 + i] = static_cast<std::uint8_t>(n >> (8 * i));
    }
    return nonce;
}

const EVP_CIPHER* chacha_cipher() {
    static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
    if (cipher == nullptr) {
        throw std::runtime_error("OpenSSL has no ChaCha20-Poly1305 cipher");
    }
    return cipher;
}

int as_int(std::size_t n) { return static_cast<int>(n); }
}  // namespace

struct ChaChaPoly::Contexts {
    EVP_CIPHER_CTX* encrypt = EVP_CIPHER_CTX_new();
    EVP_CIPHER_CTX* decrypt = EVP_CIPHER_CTX_new();
    ~Contexts() {
        EVP_CIPHER_CTX_free(encrypt);
        EVP_CIPHER_CTX_free(decrypt);
    }
};

ChaChaPoly::ChaChaPoly(const AeadKey& key) : m_contexts(std::make_unique<Contexts>()) {
    if (m_contexts->encrypt == nullptr || m_contexts->decrypt == nullptr ||
        EVP_EncryptInit_ex2(m_contexts->encrypt, chacha_cipher(), key.data(), nullptr, nullptr) != 1 ||
        EVP_DecryptInit_ex2(m_contexts->decrypt, chacha_cipher(), key.data(), nullptr, nullptr) != 1) {
        throw std::runtime_error("ChaCha20-Poly1305 initialisation failed");
    }
}

ChaChaPoly::~ChaChaPoly() = default;
ChaChaPoly::ChaChaPoly(ChaChaPoly&&) noexcept = default;
ChaChaPoly& ChaChaPoly::operator=(ChaChaPoly&&) noexcept = default;

void ChaChaPoly::encrypt(std::uint64_t n, ByteView ad, ByteView plaintext, std::uint8_t* out) {
    EVP_CIPHER_CTX* ctx = m_contexts->encrypt;
    const Nonce nonce = noise_nonce(n);
    int len = 0;
    EVP_EncryptInit_ex2(ctx, nullptr, nullptr, nonce.data(), nullptr);
    if (!ad.empty()) {
        EVP_EncryptUpdate(ctx, nullptr, &len, ad.data(), as_int(ad.size()));
    }
    if (!plaintext.empty()) {
        EVP_EncryptUpdate(ctx, out, &len, plaintext.data(), as_int(plaintext.size()));
    }
    EVP_EncryptFinal_ex(ctx, out + plaintext.size(), &len);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, AEAD_TAG_BYTES, out + plaintext.size());
}

bool ChaChaPoly::decrypt(std::uint64_t n, ByteView ad, ByteView ciphertext, std::uint8_t* out) {
    if (ciphertext.size() < AEAD_TAG_BYTES) {
        return false;
    }
    EVP_CIPHER_CTX* ctx = m_contexts->decrypt;
    const Nonce nonce = noise_nonce(n);
    const std::size_t body = ciphertext.size() - AEAD_TAG_BYTES;
    int len = 0;
    EVP_DecryptInit_ex2(ctx, nullptr, nullptr, nonce.data(), nullptr);
    if (!ad.empty()) {
        EVP_DecryptUpdate(ctx, nullptr, &len, ad.data(), as_int(ad.size()));
    }
    if (body > 0) {
        EVP_DecryptUpdate(ctx, out, &len, ciphertext.data(), as_int(body));
    }
    // OpenSSL takes the expected tag through a non-const pointer but does not write it.
    auto* tag = const_cast<std::uint8_t*>(ciphertext.data() + body);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG_BYTES, tag);
    return EVP_DecryptFinal_ex(ctx, out + body, &len) == 1;
}

}  // namespace chainmesh::crypto
