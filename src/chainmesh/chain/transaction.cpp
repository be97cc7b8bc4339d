#include <chainmesh/chain/detail/formats.hpp>
#include <chainmesh/chain/detail/reader.hpp>
#include <chainmesh/chain/detail/require.hpp>
#include <chainmesh/chain/transaction.hpp>

namespace chainmesh::chain {

namespace {
void encode_unsigned(const Transaction& tx, Bytes& out) {
    CHAINMESH_CHAIN_REQUIRE(tx.network_id.size() <= 0xff);
    CHAINMESH_CHAIN_REQUIRE(tx.memo.size() <= 0xffff);
    out.push_back(detail::TRANSACTION_FORMAT);
    out.push_back(static_cast<std::uint8_t>(tx.network_id.size()));
    append(out, tx.network_id);
    append(out, tx.sender);
    append(out, tx.recipient.bytes);
    put_u64be(out, tx.amount);
    put_u64be(out, tx.fee);
    put_u64be(out, tx.nonce);
    put_u16be(out, static_cast<std::uint16_t>(tx.memo.size()));
    append(out, tx.memo);
}
}  // namespace

Bytes Transaction::signing_bytes() const {
    Bytes out;
    out.reserve(TRANSACTION_SIGNING_DOMAIN.size() + encoded_size());
    append(out, TRANSACTION_SIGNING_DOMAIN);
    encode_unsigned(*this, out);
    return out;
}

void Transaction::sign(const crypto::Ed25519PrivateKey& key) {
    sender = key.public_key();
    signature = key.sign(signing_bytes());
}

bool Transaction::verify() const {
    return crypto::ed25519_verify(sender, signing_bytes(), signature);
}

void Transaction::encode_to(Bytes& out) const {
    encode_unsigned(*this, out);
    append(out, signature);
}

Bytes Transaction::encode() const {
    Bytes out;
    out.reserve(encoded_size());
    encode_to(out);
    return out;
}

Hash256 Transaction::id() const {
    return crypto::sha256(encode());
}

Result<Transaction> Transaction::decode(ByteView encoded) {
    std::size_t consumed = 0;
    auto tx = decode_prefix(encoded, consumed);
    if (tx && consumed != encoded.size()) {
        return ChainError::malformed;
    }
    return tx;
}

Result<Transaction> Transaction::decode_prefix(ByteView input, std::size_t& consumed) {
    // Every length is checked before anything is copied: at most 255 + 256 bytes are.
    detail::Reader reader(input);
    Transaction tx;
    if (reader.u8() != detail::TRANSACTION_FORMAT) {
        return ChainError::malformed;
    }
    const std::size_t network_size = reader.u8();
    tx.network_id = std::string(as_string(reader.view(network_size)));
    if (!reader.ok() || !is_valid_network_id(tx.network_id)) {
        return ChainError::malformed;
    }
    reader.array(tx.sender);
    reader.array(tx.recipient.bytes);
    tx.amount = reader.u64();
    tx.fee = reader.u64();
    tx.nonce = reader.u64();
    const std::size_t memo_size = reader.u16();
    if (reader.ok() && memo_size > MEMO_MAX_BYTES) {
        return ChainError::memo_too_long;
    }
    const ByteView memo = reader.view(memo_size);
    tx.memo.assign(memo.begin(), memo.end());
    reader.array(tx.signature);
    if (!reader.ok()) {
        return ChainError::malformed;
    }
    consumed = reader.position();
    return tx;
}

}  // namespace chainmesh::chain
