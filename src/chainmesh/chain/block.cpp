#include <chainmesh/chain/block.hpp>
#include <chainmesh/chain/detail/formats.hpp>
#include <chainmesh/chain/detail/reader.hpp>
#include <chainmesh/chain/detail/require.hpp>

#include <algorithm>

namespace chainmesh::chain {

void BlockHeader::encode_to(Bytes& out) const {
    CHAINMESH_CHAIN_REQUIRE(network_id.size() <= 0xff);
    CHAINMESH_CHAIN_REQUIRE(consensus_data.size() <= 0xffff);
    out.push_back(detail::HEADER_FORMAT);
    out.push_back(static_cast<std::uint8_t>(network_id.size()));
    append(out, network_id);
    put_u64be(out, height);
    append(out, previous_hash);
    append(out, transactions_root);
    append(out, state_root);
    put_u64be(out, timestamp_ms);
    append(out, beneficiary.bytes);
    append(out, target);
    put_u16be(out, static_cast<std::uint16_t>(consensus_data.size()));
    append(out, consensus_data);
    put_u64be(out, nonce);
}

Bytes BlockHeader::encode() const {
    Bytes out;
    out.reserve(encoded_size());
    encode_to(out);
    return out;
}

Hash256 BlockHeader::hash() const {
    return crypto::sha256(encode());
}

Result<BlockHeader> BlockHeader::decode(ByteView encoded) {
    std::size_t consumed = 0;
    auto header = decode_prefix(encoded, consumed);
    if (header && consumed != encoded.size()) {
        return ChainError::malformed;
    }
    return header;
}

Result<BlockHeader> BlockHeader::decode_prefix(ByteView input, std::size_t& consumed) {
    detail::Reader reader(input);
    BlockHeader header;
    if (reader.u8() != detail::HEADER_FORMAT) {
        return ChainError::malformed;
    }
    const std::size_t network_size = reader.u8();
    header.network_id = std::string(as_string(reader.view(network_size)));
    if (!reader.ok() || !is_valid_network_id(header.network_id)) {
        return ChainError::malformed;
    }
    header.height = reader.u64();
    reader.array(header.previous_hash);
    reader.array(header.transactions_root);
    reader.array(header.state_root);
    header.timestamp_ms = reader.u64();
    reader.array(header.beneficiary.bytes);
    reader.array(header.target);
    const std::size_t data_size = reader.u16();
    if (data_size > CONSENSUS_DATA_MAX_BYTES) {
        return ChainError::malformed;
    }
    const ByteView data = reader.view(data_size);
    header.consensus_data.assign(data.begin(), data.end());
    header.nonce = reader.u64();
    if (!reader.ok()) {
        return ChainError::malformed;
    }
    consumed = reader.position();
    return header;
}

std::vector<Hash256> Block::transaction_ids() const {
    std::vector<Hash256> ids;
    ids.reserve(transactions.size());
    Bytes buffer;
    buffer.reserve(TRANSACTION_MAX_BYTES);
    for (const Transaction& tx : transactions) {
        buffer.clear();
        tx.encode_to(buffer);
        ids.push_back(crypto::sha256(buffer));
    }
    return ids;
}

std::size_t Block::encoded_size() const {
    std::size_t size = header.encoded_size() + 4;
    for (const Transaction& tx : transactions) {
        size += tx.encoded_size();
    }
    return size;
}

Bytes Block::encode() const {
    CHAINMESH_CHAIN_REQUIRE(transactions.size() <= 0xffffffffU);
    Bytes out;
    out.reserve(encoded_size());
    header.encode_to(out);
    put_u32be(out, static_cast<std::uint32_t>(transactions.size()));
    for (const Transaction& tx : transactions) {
        tx.encode_to(out);
    }
    return out;
}

Result<Block> Block::decode(ByteView encoded) {
    if (encoded.size() > BLOCK_MAX_BYTES_LIMIT) {
        return ChainError::block_too_large;
    }
    Block block;
    std::size_t consumed = 0;
    auto header = BlockHeader::decode_prefix(encoded, consumed);
    if (!header) {
        return header.error();
    }
    block.header = std::move(*header);
    ByteView rest = encoded.subspan(consumed);
    if (rest.size() < 4) {
        return ChainError::malformed;
    }
    const std::uint32_t count = get_u32be(rest.data());
    rest = rest.subspan(4);
    if (count > BLOCK_MAX_TRANSACTIONS_LIMIT) {
        return ChainError::too_many_transactions;
    }
    // A count the remaining bytes cannot hold is malformed before anything is reserved.
    if (count > rest.size() / TRANSACTION_MIN_BYTES) {
        return ChainError::malformed;
    }
    block.transactions.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        auto tx = Transaction::decode_prefix(rest, consumed);
        if (!tx) {
            return tx.error();
        }
        block.transactions.push_back(std::move(*tx));
        rest = rest.subspan(consumed);
    }
    if (!rest.empty()) {
        return ChainError::malformed;
    }
    return block;
}

}  // namespace chainmesh::chain
