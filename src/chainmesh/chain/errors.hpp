#pragma once
// The chain's one error enum: every decoding failure and every validation rule of
// docs/protocol.md has its own value, so a peer that sends a bad block or transaction can be
// told (and logged) exactly why.
//
// The values are grouped by the check that produces them (docs/protocol.md §8):
//   decoding           malformed, bad_address
//   stateless (tx)     wrong_network, memo_too_long, zero_amount, self_transfer, bad_signature
//   stateful (tx)      nonce_too_low, nonce_gap, insufficient_balance, balance_overflow
//   block body         block_too_large, too_many_transactions, bad_merkle_root,
//                      duplicate_transaction
//   contextual         wrong_parent, wrong_height, timestamp_not_after_parent,
//                      timestamp_too_far_in_future
//   block state        bad_state_root
//   undo               bad_undo

#include <chainmesh/util/result.hpp>

#include <string_view>

namespace chainmesh::chain {

enum class ChainError {
    malformed = 1,
    bad_address,
    wrong_network,
    memo_too_long,
    zero_amount,
    self_transfer,
    bad_signature,
    nonce_too_low,
    nonce_gap,
    insufficient_balance,
    balance_overflow,
    block_too_large,
    too_many_transactions,
    bad_merkle_root,
    duplicate_transaction,
    wrong_parent,
    wrong_height,
    timestamp_not_after_parent,
    timestamp_too_far_in_future,
    bad_state_root,
    bad_undo,
};
std::string_view describe(ChainError e);

// The enum's value name ("nonce_gap"), for logs, metrics and tests.
std::string_view name(ChainError e);

}  // namespace chainmesh::chain

CHAINMESH_ERROR_ENUM(chainmesh::chain, ChainError, "chain")
