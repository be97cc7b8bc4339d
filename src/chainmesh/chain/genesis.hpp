#pragma once
// A network's genesis: its parameters, its start time and its first accounts, read from and
// written to TOML (docs/protocol.md §7). The caller reads the file; this code sees text only.
//
//     network = "devnet"                  # 1..32 of [a-z0-9._-]
//     timestamp_ms = 1700000000000        # ms since the Unix epoch
//     block_reward = 0                    # optional, default 0
//
//     [limits]                            # optional, defaults shown
//     max_block_bytes = 2097152
//     max_block_transactions = 10000
//     max_timestamp_drift_ms = 15000
//
//     [consensus]
//     kind = "pow"                        # "bft" is reserved for the BFT engine
//
//     [consensus.pow]
//     initial_difficulty = 1000           # or initial_target = "<64 hex digits>", not both
//     target_block_time_ms = 10000        # optional, default 10000
//     retarget_window = 32                # optional, default 32
//     max_reorg_depth = 100               # optional, default 100
//
//     [allocations]                       # optional
//     "cm…" = 1000000                     # address = amount (> 0)
//
// Rules: unknown keys are errors (a misspelt key would otherwise silently fork a network);
// u64 values may also be written as decimal strings, for values above TOML's 2^63 - 1; the
// allocations' total must fit in 64 bits. Every error names the key and the value.
//
// The genesis block (height 0, zero previous hash, no transactions) carries the initial
// state's root, the initial target, and ChainParams::encode() as its consensus_data, so its
// hash commits to every parameter here. It is not mined and pays no reward.

#include <chainmesh/chain/address.hpp>
#include <chainmesh/chain/block.hpp>
#include <chainmesh/chain/memory_state.hpp>
#include <chainmesh/chain/params.hpp>
#include <chainmesh/chain/state.hpp>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chainmesh::chain {

inline constexpr std::size_t GENESIS_MAX_BYTES = 16 * 1024 * 1024;

struct GenesisAllocation {
    Address address;
    std::uint64_t amount = 0;

    friend bool operator==(const GenesisAllocation&, const GenesisAllocation&) = default;
};

struct Genesis {
    ChainParams params;
    std::uint64_t timestamp_ms = 0;
    std::vector<GenesisAllocation> allocations;  // ascending by address, distinct, amounts > 0

    std::vector<AccountUpdate> initial_accounts() const;
    MemoryState initial_state() const;
    Block block() const;

    friend bool operator==(const Genesis&, const Genesis&) = default;
};

// One line for the user: `genesis: consensus.kind = "raft": ...`.
struct GenesisError {
    std::string message;
};
// value() on an error throws std::runtime_error(message), for the CLI's startup path.
[[noreturn]] void throw_exception_from_error(const GenesisError& error,
                                             const boost::source_location& location);

using GenesisResult = boost::system::result<Genesis, GenesisError>;

GenesisResult parse_genesis(std::string_view toml_text);

// TOML that parse_genesis reads back to an equal Genesis, with a comment per section.
std::string write_genesis(const Genesis& genesis);

// A proof-of-work genesis from what `chainmesh genesis new` and `chainmesh testnet` ask for:
// allocations in any order (sorted here; an address named twice is an error), the params
// checked with params_problem. The errors name the bad value.
struct PowGenesisSpec {
    std::string network_id;
    std::uint64_t difficulty = 1;
    std::uint64_t block_time_ms = 10'000;
    std::uint64_t block_reward = 0;
    std::uint64_t timestamp_ms = 0;
    std::vector<GenesisAllocation> allocations;
};
GenesisResult make_pow_genesis(PowGenesisSpec spec);

}  // namespace chainmesh::chain
