#pragma once
// Applying a block to the account state, undoing it, and assembling a new one
// (docs/protocol.md §6.2, §8.6).
//
// Effects of a block at height h >= 1, in order: for each transaction, the sender pays
// amount + fee and its nonce goes up by one, then the recipient gains amount; after the last
// transaction the beneficiary gains the sum of the fees plus params.block_reward. Rationale
// for crediting last: a block's fees cannot be spent inside that same block, so the order of
// transactions never depends on where the beneficiary's income lands.
//
// apply_block either changes the state and returns what it changed (the new values, for a
// store to write, and the old ones, as undo data), or returns the first rule broken and leaves
// the state as it was. revert_block puts the old values back. Both cost O(accounts touched)
// reads and one AccountState::apply, so undoing a block costs what applying it did.
//
// Signatures: apply_block checks them itself with SignatureCheck::verify; a caller that ran
// check_signatures on a worker pool (both cores) passes already_verified.

#include <chainmesh/chain/block.hpp>
#include <chainmesh/chain/errors.hpp>
#include <chainmesh/chain/params.hpp>
#include <chainmesh/chain/state.hpp>
#include <chainmesh/util/result.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace chainmesh::chain {

enum class SignatureCheck { verify, already_verified };

// Bound on undo entries: every transaction touches a sender and a recipient, plus the
// beneficiary.
inline constexpr std::size_t UNDO_MAX_ENTRIES = 2 * std::size_t{BLOCK_MAX_TRANSACTIONS_LIMIT} + 1;

// What reverting one block needs. Encoding (docs/protocol.md §6.3), big-endian:
//     u8 format = 0x04 ‖ 32 block hash ‖ 32 state root before the block ‖ u32 count ‖
//     count × (20 address ‖ u64 balance ‖ u64 nonce), addresses strictly ascending
struct BlockUndo {
    Hash256 block_hash{};
    Hash256 previous_state_root{};
    std::vector<AccountUpdate> previous;  // every account the block changed, as it was before

    Bytes encode() const;
    static Result<BlockUndo> decode(ByteView encoded);

    friend bool operator==(const BlockUndo&, const BlockUndo&) = default;
};

struct BlockEffects {
    std::vector<AccountUpdate> updates;  // the accounts' new values, ascending by address
    BlockUndo undo;
};

// Runs check_block_body, the signatures (unless already verified), every transaction's
// check_against_account in block order (or balance_overflow when a credit would pass 2^64-1),
// then compares the resulting root with header.state_root (bad_state_root). The header's
// contextual checks (check_header) are the caller's, before this.
Result<BlockEffects> apply_block(AccountState& state, const Block& block, const ChainParams& params,
                                 SignatureCheck signatures);

// Undoes the block `header` whose undo data is `undo`; `state` must be the state right after
// that block. bad_undo, with the state untouched, when the undo belongs to another block or
// the state's root is not the block's; bad_undo after writing when the result's root is not
// undo.previous_state_root (the stored data is damaged).
Result<void> revert_block(AccountState& state, const BlockHeader& header, const BlockUndo& undo);

// For miners and proposers: a block on top of `parent` holding the candidates that pass, in
// the order given (a sender's transactions in nonce order), with both roots filled in and the
// consensus fields (target, consensus_data, nonce) left for the consensus engine. Candidates
// are expected to be signature-checked (the mempool did). Those that fail a stateless or
// stateful check, repeat an earlier one, or no longer fit the limits are left out and listed in
// `rejected`; too_many_transactions and block_too_large mean "did not fit": keep those pooled.
// Pass a bounded selection (a few blocks' worth), best first. The size limit counts an empty
// consensus_data: an engine that fills it lowers params.max_block_bytes by that much. `state`
// is the state at `parent`, and is that again on return. The only error is balance_overflow,
// when the beneficiary's credit would pass 2^64-1.
struct ProposedBlock {
    Block block;
    struct Rejected {
        Hash256 id;
        ChainError reason;
    };
    std::vector<Rejected> rejected;
};
Result<ProposedBlock> propose_block(AccountState& state, const BlockHeader& parent,
                                    std::span<const Transaction> candidates,
                                    const Address& beneficiary, std::uint64_t timestamp_ms,
                                    const ChainParams& params);

}  // namespace chainmesh::chain
