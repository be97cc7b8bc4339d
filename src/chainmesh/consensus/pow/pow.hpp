#pragma once
// Proof of work: the work a target proves, the retarget rule, the proof check, and the nonce
// search (docs/protocol.md §11, where each rule has its rationale).
//
//   work(target)      = floor(2^256 / (target + 1))        (2^256 - 1 for target 0)
//   retarget height   h with h % W == 0 and h >= W + 2     (W = retarget_window)
//   retarget          over the W block intervals from block h-1-W to block h-1:
//                     new = floor(target × actual / (W × block time)), clamped to
//                     [floor(target / 4), target × 4] (and to [1, 2^256 - 1])
//   other heights     the parent's target
//   proof             header.target == the expected target, and hash(header) <= target
//
// Everything here is pure: no clock, no threads. mine() is a single-threaded, restartable
// search over a nonce range; the node's miner (node/miner.hpp) calls it in chunks from its
// worker threads and checks between chunks whether its job is still current.

#include <chainmesh/chain/block.hpp>
#include <chainmesh/chain/fork_choice.hpp>
#include <chainmesh/chain/params.hpp>
#include <chainmesh/crypto/sha256.hpp>
#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>

#include <cstdint>
#include <optional>

namespace chainmesh::consensus::pow {

using crypto::Hash256;

// The clamp of one retarget: the target moves by at most this factor either way.
inline constexpr std::uint64_t RETARGET_MAX_FACTOR = 4;

// floor(2^256 / (target + 1)): the expected number of hashes to meet `target`. Target 0
// (never valid) gives 2^256 - 1, the largest value there is.
chain::Work block_work(const Hash256& target);

bool is_retarget_height(std::uint64_t height, std::uint32_t window);

// The retarget rule's arithmetic: `target` scaled by actual_timespan_ms over
// window × target_block_time_ms, clamped as above. window and target_block_time_ms >= 1.
Hash256 retarget(const Hash256& target, std::uint64_t actual_timespan_ms,
                 std::uint64_t target_block_time_ms, std::uint32_t window);

// The target a child of `parent` must carry. `branch` ends at `parent` (it gives the window's
// first block); unknown_ancestor when it lacks it.
Result<Hash256> next_target(const chain::PowParams& params, const chain::BlockHeader& parent,
                            const chain::HeaderBranch& branch);

// bad_target unless header.target == expected_target, then bad_proof_of_work unless the
// header's hash meets it.
Result<void> check_proof(const chain::BlockHeader& header, const Hash256& expected_target);

// The header's encoding without its last 8 bytes (the nonce): what mine() takes.
Bytes header_prefix(const chain::BlockHeader& header);

struct MineResult {
    std::optional<std::uint64_t> nonce;  // the first nonce in the range that meets the target
    Hash256 hash{};                      // the block hash with that nonce
    std::uint64_t attempts = 0;          // hashes computed
};

// Tries nonces nonce_start, nonce_start + 1, ... (count of them, stopping after 2^64 - 1
// without wrapping) and returns at the first whose header hash meets `target`. The prefix is
// hashed once (a SHA-256 midstate); each attempt hashes only the last bytes. Single-threaded
// and restartable: call it again with nonce_start advanced by `attempts`.
MineResult mine(ByteView header_prefix, const Hash256& target, std::uint64_t nonce_start,
                std::uint64_t count);

}  // namespace chainmesh::consensus::pow
