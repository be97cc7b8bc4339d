#pragma once
// The mempool's own refusals: pool policy, as opposed to the chain's rules (chain::ChainError),
// which admission also returns (wrong_network, nonce_gap, insufficient_balance, ...).

#include <chainmesh/util/result.hpp>

#include <string_view>

namespace chainmesh::mempool {

enum class MempoolError {
    already_known = 1,        // a transaction with this id is in the pool
    replacement_underpriced,  // same sender and nonce as a pooled one, fee not raised enough
    sender_limit,             // the sender has max_per_sender transactions pending
    pool_full,                // the pool is full of transactions paying a better fee rate
};
std::string_view describe(MempoolError e);

// The enum's value name ("pool_full"), for logs, metrics and tests.
std::string_view name(MempoolError e);

}  // namespace chainmesh::mempool

CHAINMESH_ERROR_ENUM(chainmesh::mempool, MempoolError, "mempool")
