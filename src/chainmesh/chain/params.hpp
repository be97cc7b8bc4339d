#pragma once
// A network's fixed parameters (docs/protocol.md §7): everything two nodes must agree on to
// accept the same blocks, all of it taken from the genesis file and committed to by the
// genesis block (its consensus_data holds ChainParams::encode()), so nodes configured
// differently see different genesis hashes instead of forking later for no visible reason.
//
// Bounds: the *_LIMIT constants are what the decoders enforce whatever a genesis says; a
// genesis may only lower them. NETWORK_ID_MAX_BYTES and MEMO_MAX_BYTES are protocol constants.

#include <chainmesh/chain/address.hpp>
#include <chainmesh/crypto/sha256.hpp>
#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace chainmesh::chain {

inline constexpr std::size_t NETWORK_ID_MAX_BYTES = 32;
inline constexpr std::size_t MEMO_MAX_BYTES = 256;
inline constexpr std::size_t CONSENSUS_DATA_MAX_BYTES = 8 * 1024;
inline constexpr std::uint32_t BLOCK_MAX_BYTES_LIMIT = 16 * 1024 * 1024;
inline constexpr std::uint32_t BLOCK_MAX_TRANSACTIONS_LIMIT = 65'536;
inline constexpr std::uint32_t BLOCK_MIN_BYTES_LIMIT = 4 * 1024;

inline constexpr std::uint32_t DEFAULT_MAX_BLOCK_BYTES = 2 * 1024 * 1024;
inline constexpr std::uint32_t DEFAULT_MAX_BLOCK_TRANSACTIONS = 10'000;
inline constexpr std::uint64_t DEFAULT_MAX_TIMESTAMP_DRIFT_MS = 15'000;

enum class ConsensusKind : std::uint8_t { pow = 1, bft = 2 };
std::string_view to_string(ConsensusKind kind);

struct PowParams {
    // A block's hash, read as a 256-bit big-endian number, must be <= its header's target.
    Hash256 initial_target{};
    std::uint64_t target_block_time_ms = 10'000;
    std::uint32_t retarget_window = 32;  // blocks between retargets
    std::uint32_t max_reorg_depth = 100;

    friend bool operator==(const PowParams&, const PowParams&) = default;
};

struct ChainParams {
    std::string network_id;  // 1..32 bytes of [a-z0-9._-]
    std::uint64_t block_reward = 0;
    std::uint32_t max_block_bytes = DEFAULT_MAX_BLOCK_BYTES;
    std::uint32_t max_block_transactions = DEFAULT_MAX_BLOCK_TRANSACTIONS;
    std::uint64_t max_timestamp_drift_ms = DEFAULT_MAX_TIMESTAMP_DRIFT_MS;
    ConsensusKind consensus = ConsensusKind::pow;
    PowParams pow;  // meaningful when consensus == pow; the bft engine adds its own struct

    // Canonical bytes (docs/protocol.md §7), the genesis block's consensus_data.
    Bytes encode() const;
    static Result<ChainParams> decode(ByteView encoded);

    friend bool operator==(const ChainParams&, const ChainParams&) = default;
};

bool is_valid_network_id(std::string_view id);

// Empty when the values are acceptable; otherwise a sentence naming the genesis key at fault
// and its value, e.g. `limits.max_block_bytes = 10 is below 4096`.
std::string params_problem(const ChainParams& params);

// Proof-of-work helpers. Difficulty d means target floor((2^256 - 1) / d); d >= 1.
Hash256 target_from_difficulty(std::uint64_t difficulty);
bool hash_meets_target(const Hash256& hash, const Hash256& target);

}  // namespace chainmesh::chain
