#pragma once
// The deterministic chain of the store crash test, shared by the child that imports it and
// the test that replays it in memory: a genesis funding KEYS accounts, and block h made of
// transfers among them chosen by Rng(seed, h) from the state at h - 1. The same seed gives the
// same blocks, hashes and state roots in both processes.

#include <chainmesh/chain/apply.hpp>
#include <chainmesh/chain/genesis.hpp>
#include <chainmesh/crypto/ed25519.hpp>
#include <chainmesh/util/rng.hpp>

#include <algorithm>
#include <vector>

namespace chainmesh::store::crash_test {

inline constexpr std::size_t KEYS = 16;
inline constexpr std::uint64_t FUNDS = 1'000'000'000'000;
inline constexpr std::uint64_t TRANSACTIONS_MAX = 16;  // per block; small blocks, many commits

class CrashChain {
public:
    explicit CrashChain(std::uint64_t seed) : m_seed(seed) {
        Rng rng(seed);
        for (std::size_t i = 0; i < KEYS; ++i) {
            crypto::Ed25519Seed key_seed;
            rng.fill(key_seed);
            m_keys.push_back(crypto::Ed25519PrivateKey::from_seed(key_seed));
            m_addresses.push_back(chain::Address::from_public_key(m_keys.back().public_key()));
        }
        m_genesis.params.network_id = "crashnet";
        m_genesis.params.block_reward = 10;
        m_genesis.params.pow.initial_target = chain::target_from_difficulty(1);
        m_genesis.timestamp_ms = 1'700'000'000'000;
        for (const auto& address : m_addresses) {
            m_genesis.allocations.push_back({address, FUNDS});
        }
        std::sort(m_genesis.allocations.begin(), m_genesis.allocations.end(),
                  [](const auto& a, const auto& b) { return a.address < b.address; });
    }

    const chain::Genesis& genesis() const { return m_genesis; }

    // The block after `parent`, whose state `state` is (left as it was).
    chain::Block next_block(chain::AccountState& state, const chain::BlockHeader& parent) const {
        const std::uint64_t height = parent.height + 1;
        Rng rng(m_seed ^ (height * 0x9e3779b97f4a7c15ULL));
        const std::uint64_t count = 1 + rng.uniform(TRANSACTIONS_MAX);
        std::vector<std::uint64_t> sent(KEYS, 0);
        std::vector<chain::Transaction> txs;
        for (std::uint64_t i = 0; i < count; ++i) {
            const auto from = static_cast<std::size_t>(rng.uniform(KEYS));
            const auto to = static_cast<std::size_t>((from + 1 + rng.uniform(KEYS - 1)) % KEYS);
            chain::Transaction tx;
            tx.network_id = m_genesis.params.network_id;
            tx.recipient = m_addresses[to];
            tx.amount = 1 + rng.uniform(1'000'000);
            tx.fee = rng.uniform(100);
            tx.nonce = state.account(m_addresses[from]).nonce + sent[from]++;
            tx.sign(m_keys[from]);
            txs.push_back(std::move(tx));
        }
        auto proposal = chain::propose_block(state, parent, txs, m_addresses[height % KEYS],
                                             parent.timestamp_ms + 1000, m_genesis.params);
        return std::move(proposal.value().block);
    }

private:
    std::uint64_t m_seed;
    std::vector<crypto::Ed25519PrivateKey> m_keys;
    std::vector<chain::Address> m_addresses;
    chain::Genesis m_genesis;
};

}  // namespace chainmesh::store::crash_test
