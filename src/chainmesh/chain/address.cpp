#include <chainmesh/chain/address.hpp>
#include <chainmesh/util/hex.hpp>

#include <algorithm>
#include <cstring>

namespace chainmesh::chain {

namespace {
ByteArray<ADDRESS_CHECKSUM_BYTES> checksum(const Address& address) {
    crypto::Sha256 hasher;
    const Hash256 digest =
        hasher.update(as_bytes(ADDRESS_CHECKSUM_DOMAIN)).update(address.bytes).finish();
    ByteArray<ADDRESS_CHECKSUM_BYTES> out;
    std::memcpy(out.data(), digest.data(), out.size());
    return out;
}
}  // namespace

Address Address::from_public_key(const crypto::Ed25519PublicKey& key) {
    crypto::Sha256 hasher;
    const Hash256 digest = hasher.update(as_bytes(ADDRESS_DOMAIN)).update(key).finish();
    Address address;
    std::memcpy(address.bytes.data(), digest.data(), ADDRESS_BYTES);
    return address;
}

Result<Address> Address::parse(std::string_view text) {
    if (text.size() != ADDRESS_TEXT_LENGTH || !text.starts_with(ADDRESS_TEXT_PREFIX)) {
        return ChainError::bad_address;
    }
    const auto decoded = util::from_hex(text.substr(ADDRESS_TEXT_PREFIX.size()));
    if (!decoded) {
        return ChainError::bad_address;
    }
    Address address;
    std::memcpy(address.bytes.data(), decoded->data(), ADDRESS_BYTES);
    const auto expected = checksum(address);
    if (!std::equal(expected.begin(), expected.end(), decoded->begin() + ADDRESS_BYTES)) {
        return ChainError::bad_address;
    }
    return address;
}

std::string Address::to_string() const {
    Bytes raw(bytes.begin(), bytes.end());
    append(raw, checksum(*this));
    return std::string(ADDRESS_TEXT_PREFIX) + util::to_hex(raw);
}

bool Address::is_zero() const {
    return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

}  // namespace chainmesh::chain
