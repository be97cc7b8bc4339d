#pragma once
// Shared builders for the chain tests: deterministic keys, a small network and signed
// transfers.

#include <chainmesh/chain/apply.hpp>
#include <chainmesh/chain/block.hpp>
#include <chainmesh/chain/genesis.hpp>
#include <chainmesh/chain/memory_state.hpp>
#include <chainmesh/chain/merkle.hpp>
#include <chainmesh/chain/params.hpp>
#include <chainmesh/chain/transaction.hpp>
#include <chainmesh/crypto/ed25519.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chainmesh::chain::test {

inline crypto::Ed25519PrivateKey key(std::uint8_t n) {
    crypto::Ed25519Seed seed;
    seed.fill(n);
    return crypto::Ed25519PrivateKey::from_seed(seed);
}

inline Address address_of(const crypto::Ed25519PrivateKey& k) {
    return Address::from_public_key(k.public_key());
}

inline Address address_from_byte(std::uint8_t n) {
    Address address;
    address.bytes.fill(n);
    return address;
}

inline ChainParams test_params() {
    ChainParams params;
    params.network_id = "testnet";
    params.block_reward = 50;
    params.pow.initial_target = target_from_difficulty(1);
    return params;
}

inline Transaction transfer(const crypto::Ed25519PrivateKey& from, const Address& to,
                            std::uint64_t amount, std::uint64_t fee, std::uint64_t nonce,
                            std::string_view memo = "", std::string_view network = "testnet") {
    Transaction tx;
    tx.network_id = std::string(network);
    tx.recipient = to;
    tx.amount = amount;
    tx.fee = fee;
    tx.nonce = nonce;
    tx.memo = to_bytes(memo);
    tx.sign(from);
    return tx;
}

inline void fix_merkle_root(Block& block) {
    const auto ids = block.transaction_ids();
    block.header.transactions_root = merkle_root(ids);
}

// A genesis funding keys 1..4 with 1,000,000 each, and its state.
struct TestChain {
    ChainParams params = test_params();
    Genesis genesis;
    MemoryState state;
    Block genesis_block;

    TestChain() {
        genesis.params = params;
        genesis.timestamp_ms = 1'700'000'000'000;
        for (std::uint8_t i = 1; i <= 4; ++i) {
            genesis.allocations.push_back({address_of(key(i)), 1'000'000});
        }
        std::sort(genesis.allocations.begin(), genesis.allocations.end(),
                  [](const auto& a, const auto& b) { return a.address < b.address; });
        state = genesis.initial_state();
        genesis_block = genesis.block();
    }

    // A valid block on `parent` (whose state `state` is) holding `txs`, all of which must pass.
    Block make_block(const BlockHeader& parent, const std::vector<Transaction>& txs,
                     std::uint8_t beneficiary = 9) {
        auto proposal = propose_block(state, parent, txs, address_from_byte(beneficiary),
                                      parent.timestamp_ms + 1000, params);
        EXPECT_TRUE(proposal.has_value());
        EXPECT_TRUE(proposal->rejected.empty());
        return proposal->block;
    }
};

}  // namespace chainmesh::chain::test
