#pragma once
// Builders for the proof-of-work tests: a small pow network, a header branch held in a
// vector, and a chain builder that assembles, mines (for real, at an easy target) and applies
// blocks on its own copy of the state.

#include "../chain/chain_fixture.hpp"

#include <chainmesh/chain/apply.hpp>
#include <chainmesh/chain/fork_choice.hpp>
#include <chainmesh/chain/genesis.hpp>
#include <chainmesh/chain/memory_state.hpp>
#include <chainmesh/consensus/pow/pow.hpp>
#include <chainmesh/consensus/pow/pow_engine.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace chainmesh::consensus::test {

using chain::test::address_from_byte;
using chain::test::address_of;
using chain::test::key;
using chain::test::transfer;

inline constexpr std::uint64_t GENESIS_TIME_MS = 1'700'000'000'000;

struct PowSettings {
    std::uint64_t difficulty = 4;
    std::uint64_t block_time_ms = 1000;
    std::uint32_t window = 1000;
    std::uint32_t max_reorg_depth = 100;
};

inline chain::Genesis pow_genesis(const PowSettings& settings) {
    chain::Genesis genesis;
    genesis.params.network_id = "testnet";
    genesis.params.block_reward = 50;
    genesis.params.pow.initial_target = chain::target_from_difficulty(settings.difficulty);
    genesis.params.pow.target_block_time_ms = settings.block_time_ms;
    genesis.params.pow.retarget_window = settings.window;
    genesis.params.pow.max_reorg_depth = settings.max_reorg_depth;
    genesis.timestamp_ms = GENESIS_TIME_MS;
    for (std::uint8_t i = 1; i <= 4; ++i) {
        genesis.allocations.push_back({address_of(key(i)), 1'000'000});
    }
    std::sort(genesis.allocations.begin(), genesis.allocations.end(),
              [](const auto& a, const auto& b) { return a.address < b.address; });
    return genesis;
}

// Headers by height, genesis first: a HeaderBranch for engines outside a fork choice.
struct VectorBranch final : chain::HeaderBranch {
    std::vector<chain::BlockHeader> headers;
    const chain::BlockHeader* at_height(std::uint64_t height) const override {
        return height < headers.size() ? &headers[height] : nullptr;
    }
};

// Finds a nonce for `header` (whose target is set) with pow::mine, in chunks.
inline void solve(chain::BlockHeader& header) {
    const Bytes prefix = pow::header_prefix(header);
    std::uint64_t nonce = 0;
    for (;;) {
        const auto found = pow::mine(prefix, header.target, nonce, 4096);
        if (found.nonce) {
            header.nonce = *found.nonce;
            return;
        }
        nonce += found.attempts;
    }
}

// One branch of a chain: its headers, its state, and the blocks it added since it was built
// or copied. Copy a builder to fork the chain.
struct ChainBuilder {
    const pow::PowEngine* engine;
    chain::MemoryState state;
    VectorBranch branch;
    std::vector<chain::Block> blocks;

    ChainBuilder(const pow::PowEngine& e, const chain::Genesis& genesis)
        : engine(&e), state(genesis.initial_state()) {
        branch.headers.push_back(genesis.block().header);
    }

    const chain::BlockHeader& tip() const { return branch.headers.back(); }

    // A valid, mined block on the tip holding exactly `txs`, applied to this builder.
    // `spacing_ms` after the parent's timestamp.
    chain::Block extend(const std::vector<chain::Transaction>& txs, std::uint8_t beneficiary = 9,
                        std::uint64_t spacing_ms = 1000) {
        auto proposal =
            engine->make_template(state, tip(), branch, txs, address_from_byte(beneficiary),
                                  tip().timestamp_ms + spacing_ms);
        EXPECT_TRUE(proposal.has_value());
        EXPECT_TRUE(proposal->rejected.empty());
        chain::Block block = std::move(proposal->block);
        solve(block.header);
        push(block);
        return block;
    }

    // Adds an already built block (applying it).
    void push(const chain::Block& block) {
        const auto applied =
            chain::apply_block(state, block, engine->params(), chain::SignatureCheck::verify);
        EXPECT_TRUE(applied.has_value()) << applied.error().message();
        branch.headers.push_back(block.header);
        blocks.push_back(block);
    }
};

}  // namespace chainmesh::consensus::test
