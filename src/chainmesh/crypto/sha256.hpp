#pragma once
// SHA-256 and HMAC-SHA256 (OpenSSL; its SHA-256 is several times faster than libsodium's here).

#include <chainmesh/util/bytes.hpp>

#include <memory>

namespace chainmesh::crypto {

inline constexpr std::size_t SHA256_BYTES = 32;
using Hash256 = ByteArray<SHA256_BYTES>;

// Incremental hashing; reusable after finish().
class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;

    Sha256& update(ByteView data);
    Hash256 finish();

private:
    struct Context;
    std::unique_ptr<Context> m_context;
};

Hash256 sha256(ByteView data);
Hash256 hmac_sha256(ByteView key, ByteView data);

}  // namespace chainmesh::crypto
