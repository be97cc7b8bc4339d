#include <chainmesh/chain/merkle.hpp>
#include <chainmesh/chain/validation.hpp>

#include <algorithm>
#include <limits>

namespace chainmesh::chain {

Result<void> check_transaction(const Transaction& tx, const ChainParams& params) {
    if (tx.network_id != params.network_id) {
        return ChainError::wrong_network;
    }
    if (tx.memo.size() > MEMO_MAX_BYTES) {
        return ChainError::memo_too_long;
    }
    if (tx.amount == 0) {
        return ChainError::zero_amount;
    }
    if (tx.recipient == tx.sender_address()) {
        return ChainError::self_transfer;
    }
    return {};
}

Result<void> check_signature(const Transaction& tx) {
    if (!tx.verify()) {
        return ChainError::bad_signature;
    }
    return {};
}

Result<void> check_signatures(std::span<const Transaction> txs) {
    for (const Transaction& tx : txs) {
        if (!tx.verify()) {
            return ChainError::bad_signature;
        }
    }
    return {};
}

Result<void> check_against_account(const Transaction& tx, const Account& sender) {
    constexpr auto MAX = std::numeric_limits<std::uint64_t>::max();
    if (tx.nonce < sender.nonce || sender.nonce == MAX) {
        return ChainError::nonce_too_low;
    }
    if (tx.nonce > sender.nonce) {
        return ChainError::nonce_gap;
    }
    if (tx.amount > MAX - tx.fee || tx.amount + tx.fee > sender.balance) {
        return ChainError::insufficient_balance;
    }
    return {};
}

Result<void> check_header(const BlockHeader& header, const BlockHeader& parent,
                          const ChainParams& params, std::uint64_t now_ms) {
    if (header.network_id != params.network_id) {
        return ChainError::wrong_network;
    }
    if (parent.height == std::numeric_limits<std::uint64_t>::max() ||
        header.height != parent.height + 1) {
        return ChainError::wrong_height;
    }
    if (header.previous_hash != parent.hash()) {
        return ChainError::wrong_parent;
    }
    if (header.timestamp_ms <= parent.timestamp_ms) {
        return ChainError::timestamp_not_after_parent;
    }
    const std::uint64_t drift = params.max_timestamp_drift_ms;
    const std::uint64_t latest = now_ms > std::numeric_limits<std::uint64_t>::max() - drift
                                     ? std::numeric_limits<std::uint64_t>::max()
                                     : now_ms + drift;
    if (header.timestamp_ms > latest) {
        return ChainError::timestamp_too_far_in_future;
    }
    return {};
}

Result<std::vector<Hash256>> check_block_body(const Block& block, const ChainParams& params) {
    if (block.encoded_size() > params.max_block_bytes) {
        return ChainError::block_too_large;
    }
    if (block.transactions.size() > params.max_block_transactions) {
        return ChainError::too_many_transactions;
    }
    for (const Transaction& tx : block.transactions) {
        auto checked = check_transaction(tx, params);
        if (!checked) {
            return checked.error();
        }
    }
    std::vector<Hash256> ids = block.transaction_ids();
    std::vector<Hash256> sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
        return ChainError::duplicate_transaction;
    }
    if (merkle_root(ids) != block.header.transactions_root) {
        return ChainError::bad_merkle_root;
    }
    return ids;
}

}  // namespace chainmesh::chain
