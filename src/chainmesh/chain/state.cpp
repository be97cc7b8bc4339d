#include <chainmesh/chain/detail/require.hpp>
#include <chainmesh/chain/state.hpp>

#include <cstring>

namespace chainmesh::chain {

Hash256 state_key(const Address& address) {
    return crypto::sha256(address.bytes);
}

Hash256 state_leaf_hash(const Hash256& key, const Account& account) {
    ByteArray<1 + 32 + 8 + 8> preimage;
    preimage[0] = 0x00;
    std::memcpy(preimage.data() + 1, key.data(), key.size());
    for (std::size_t i = 0; i < 8; ++i) {
        preimage[33 + i] = static_cast<std::uint8_t>(account.balance >> (56 - 8 * i));
        preimage[41 + i] = static_cast<std::uint8_t>(account.nonce >> (56 - 8 * i));
    }
    return crypto::sha256(preimage);
}

Hash256 state_node_hash(const Hash256& left, const Hash256& right) {
    ByteArray<1 + 64> preimage;
    preimage[0] = 0x01;
    std::memcpy(preimage.data() + 1, left.data(), left.size());
    std::memcpy(preimage.data() + 33, right.data(), right.size());
    return crypto::sha256(preimage);
}

ByteArray<ACCOUNT_BYTES> encode_account(const Account& account) {
    ByteArray<ACCOUNT_BYTES> out;
    for (std::size_t i = 0; i < 8; ++i) {
        out[i] = static_cast<std::uint8_t>(account.balance >> (56 - 8 * i));
        out[8 + i] = static_cast<std::uint8_t>(account.nonce >> (56 - 8 * i));
    }
    return out;
}

Result<Account> decode_account(ByteView encoded) {
    if (encoded.size() != ACCOUNT_BYTES) {
        return ChainError::malformed;
    }
    const Account account{get_u64be(encoded.data()), get_u64be(encoded.data() + 8)};
    if (account.is_empty()) {
        return ChainError::malformed;
    }
    return account;
}

void AccountState::accounts(std::span<const Address> addresses, std::span<Account> out) const {
    CHAINMESH_CHAIN_REQUIRE(addresses.size() == out.size());
    for (std::size_t i = 0; i < addresses.size(); ++i) {
        out[i] = account(addresses[i]);
    }
}

}  // namespace chainmesh::chain
