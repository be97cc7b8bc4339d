#pragma once
// Validation rules (docs/protocol.md §8), split by what each check needs, so that the mempool
// reuses the transaction checks and a node can spread the expensive ones over workers:
//
//   stateless    check_transaction    the transaction alone; cheap (one SHA-256)
//                check_signature      the transaction alone; one Ed25519 verify (~50 µs)
//   stateful     check_against_account  the sender's account as the transaction finds it
//   contextual   check_header         a header against its parent header and the clock
//   block body   check_block_body     sizes, counts, duplicates, Merkle root, and every
//                                     transaction's stateless check (signatures excepted)
//   block state  apply_block (apply.hpp): every stateful check in order, then the state root
//
// Each rule yields one ChainError; where a block breaks several, the first check in the
// order above (and within a check, the order written below) names it.
//
// A block is valid when check_header, check_block_body, every check_signature and
// apply_block pass. Proof of work (hash <= target, the retarget) is the pow engine's rule.

#include <chainmesh/chain/block.hpp>
#include <chainmesh/chain/errors.hpp>
#include <chainmesh/chain/params.hpp>
#include <chainmesh/chain/state.hpp>
#include <chainmesh/chain/transaction.hpp>
#include <chainmesh/util/result.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace chainmesh::chain {

// In order: wrong_network (tx.network_id differs from params), memo_too_long (more than
// MEMO_MAX_BYTES), zero_amount (amount 0: a transfer of nothing is only spam), self_transfer
// (recipient is the sender's own address: it would only move a fee).
Result<void> check_transaction(const Transaction& tx, const ChainParams& params);

// bad_signature unless the signature verifies. Thread-safe: run it on a worker pool.
Result<void> check_signature(const Transaction& tx);
// The same over a slice (a pool worker's share of a block); the first failure wins.
Result<void> check_signatures(std::span<const Transaction> txs);

// Against the sender's account before this transaction: nonce_too_low when tx.nonce is below
// the account's nonce (already used; also when the account has used all 2^64 - 1 nonces),
// nonce_gap when above it, insufficient_balance when amount + fee (computed without
// overflow) exceeds the balance. A mempool with pending transactions from the sender passes
// the account as those would leave it: {balance - their amounts and fees, nonce + count}.
Result<void> check_against_account(const Transaction& tx, const Account& sender);

// In order: wrong_network, wrong_height (not parent's + 1), wrong_parent (previous_hash is not
// the parent's hash), timestamp_not_after_parent (timestamp <= parent's),
// timestamp_too_far_in_future (timestamp > now_ms + params.max_timestamp_drift_ms).
// `now_ms` is the caller's clock (ms since the Unix epoch): this code never reads one.
Result<void> check_header(const BlockHeader& header, const BlockHeader& parent,
                          const ChainParams& params, std::uint64_t now_ms);

// In order: block_too_large (encoded size > params.max_block_bytes), too_many_transactions
// (> params.max_block_transactions), each transaction's check_transaction,
// duplicate_transaction (one id twice), bad_merkle_root. Returns the transaction ids, in
// block order, for callers that need them next (apply_block does).
Result<std::vector<Hash256>> check_block_body(const Block& block, const ChainParams& params);

}  // namespace chainmesh::chain
