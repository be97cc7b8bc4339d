#include <chainmesh/chain/errors.hpp>

namespace chainmesh::chain {

std::string_view describe(ChainError e) {
    switch (e) {
        case ChainError::malformed:
            return "encoding is malformed";
        case ChainError::bad_address:
            return "not a chainmesh address";
        case ChainError::wrong_network:
            return "object belongs to another network";
        case ChainError::memo_too_long:
            return "transaction memo is longer than allowed";
        case ChainError::zero_amount:
            return "transaction transfers nothing";
        case ChainError::self_transfer:
            return "transaction sends to its own sender";
        case ChainError::bad_signature:
            return "transaction signature does not verify";
        case ChainError::nonce_too_low:
            return "transaction nonce was already used";
        case ChainError::nonce_gap:
            return "transaction nonce is ahead of the account's";
        case ChainError::insufficient_balance:
            return "balance does not cover amount and fee";
        case ChainError::balance_overflow:
            return "a balance would exceed 2^64-1";
        case ChainError::block_too_large:
            return "block is larger than allowed";
        case ChainError::too_many_transactions:
            return "block has too many transactions";
        case ChainError::bad_merkle_root:
            return "block transactions do not match its root";
        case ChainError::duplicate_transaction:
            return "block holds a transaction twice";
        case ChainError::wrong_parent:
            return "block does not extend the given parent";
        case ChainError::wrong_height:
            return "block height is not its parent's plus one";
        case ChainError::timestamp_not_after_parent:
            return "block timestamp is not after its parent's";
        case ChainError::timestamp_too_far_in_future:
            return "block timestamp is too far in the future";
        case ChainError::bad_state_root:
            return "block state root does not match its effects";
        case ChainError::bad_undo:
            return "undo data does not match the state";
    }
    return "unknown chain error";
}

std::string_view name(ChainError e) {
    switch (e) {
        case ChainError::malformed:
            return "malformed";
        case ChainError::bad_address:
            return "bad_address";
        case ChainError::wrong_network:
            return "wrong_network";
        case ChainError::memo_too_long:
            return "memo_too_long";
        case ChainError::zero_amount:
            return "zero_amount";
        case ChainError::self_transfer:
            return "self_transfer";
        case ChainError::bad_signature:
            return "bad_signature";
        case ChainError::nonce_too_low:
            return "nonce_too_low";
        case ChainError::nonce_gap:
            return "nonce_gap";
        case ChainError::insufficient_balance:
            return "insufficient_balance";
        case ChainError::balance_overflow:
            return "balance_overflow";
        case ChainError::block_too_large:
            return "block_too_large";
        case ChainError::too_many_transactions:
            return "too_many_transactions";
        case ChainError::bad_merkle_root:
            return "bad_merkle_root";
        case ChainError::duplicate_transaction:
            return "duplicate_transaction";
        case ChainError::wrong_parent:
            return "wrong_parent";
        case ChainError::wrong_height:
            return "wrong_height";
        case ChainError::timestamp_not_after_parent:
            return "timestamp_not_after_parent";
        case ChainError::timestamp_too_far_in_future:
            return "timestamp_too_far_in_future";
        case ChainError::bad_state_root:
            return "bad_state_root";
        case ChainError::bad_undo:
            return "bad_undo";
    }
    return "unknown";
}

}  // namespace chainmesh::chain
