#pragma once
// Block headers and blocks (docs/protocol.md §5).
//
// Header encoding, all integers big-endian (176 + network + consensus_data bytes):
//
//     u8  format = 0x02
//     u8  network id length n (1..32), n bytes of network id
//     u64 height                      (genesis = 0)
//     32  previous hash               (zeros in genesis)
//     32  transactions root           (merkle.hpp over the transaction ids)
//     32  state root                  (state.hpp, after this block's transactions, fees, reward)
//     u64 timestamp, ms since the Unix epoch
//     20  beneficiary address         (receives the fees and the block reward)
//     32  target                      (pow: the header hash must be <= target; bft: zeros)
//     u16 consensus data length c (0..8192), c bytes (opaque to this part; bft's fields)
//     u64 nonce                       (pow)
//
// The block hash is SHA-256(header encoding). The nonce comes last so a miner hashes the
// fixed prefix once and only the final block per attempt.
//
// Block encoding: header ‖ u32 transaction count ‖ the transactions' encodings, back to back
// (each is self-delimiting). At most BLOCK_MAX_BYTES_LIMIT bytes and
// BLOCK_MAX_TRANSACTIONS_LIMIT transactions decode; ChainParams lowers both (validation.hpp).
//
// Decoders take a ByteView, read nothing past it, allocate only after checking a length
// against the bytes present, and reject anything after the object (malformed).

#include <chainmesh/chain/address.hpp>
#include <chainmesh/chain/params.hpp>
#include <chainmesh/chain/transaction.hpp>
#include <chainmesh/crypto/sha256.hpp>
#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace chainmesh::chain {

inline constexpr std::size_t HEADER_FIXED_BYTES =
    1 + 1 + 8 + 32 + 32 + 32 + 8 + ADDRESS_BYTES + 32 + 2 + 8;
inline constexpr std::size_t HEADER_MAX_BYTES =
    HEADER_FIXED_BYTES + NETWORK_ID_MAX_BYTES + CONSENSUS_DATA_MAX_BYTES;

struct BlockHeader {
    std::string network_id;
    std::uint64_t height = 0;
    Hash256 previous_hash{};
    Hash256 transactions_root{};
    Hash256 state_root{};
    std::uint64_t timestamp_ms = 0;
    Address beneficiary;
    Hash256 target{};
    Bytes consensus_data;
    std::uint64_t nonce = 0;

    Hash256 hash() const;

    // Requires network_id.size() <= 255 and consensus_data.size() <= 65535.
    Bytes encode() const;
    void encode_to(Bytes& out) const;  // appends
    std::size_t encoded_size() const {
        return HEADER_FIXED_BYTES + network_id.size() + consensus_data.size();
    }

    static Result<BlockHeader> decode(ByteView encoded);
    static Result<BlockHeader> decode_prefix(ByteView input, std::size_t& consumed);

    friend bool operator==(const BlockHeader&, const BlockHeader&) = default;
};

struct Block {
    BlockHeader header;
    std::vector<Transaction> transactions;

    Hash256 hash() const { return header.hash(); }
    std::vector<Hash256> transaction_ids() const;

    Bytes encode() const;
    std::size_t encoded_size() const;  // what max_block_bytes bounds

    // block_too_large above BLOCK_MAX_BYTES_LIMIT, too_many_transactions above
    // BLOCK_MAX_TRANSACTIONS_LIMIT, otherwise malformed or the transaction's own error.
    static Result<Block> decode(ByteView encoded);

    friend bool operator==(const Block&, const Block&) = default;
};

}  // namespace chainmesh::chain
