#include <chainmesh/chain/memory_state.hpp>
#include <chainmesh/chain/state.hpp>
#include <chainmesh/util/rng.hpp>
#include "chain_fixture.hpp"

#include <gtest/gtest.h>

#include <map>

namespace chainmesh::chain {
namespace {

Address random_address(Rng& rng) {
    Address address;
    for (auto& b : address.bytes) {
        b = static_cast<std::uint8_t>(rng.next_u64());
    }
    return address;
}

unsigned bit(const Hash256& key, unsigned depth) {
    return (key[depth / 8] >> (7 - depth % 8)) & 1U;
}

// The root of docs/protocol.md §6.1, computed from scratch over a plain map.
Hash256 reference_root(const std::vector<std::pair<Hash256, Account>>& leaves, unsigned depth) {
    if (leaves.empty()) {
        return EMPTY_STATE_ROOT;
    }
    if (leaves.size() == 1) {
        return state_leaf_hash(leaves[0].first, leaves[0].second);
    }
    std::vector<std::pair<Hash256, Account>> zero;
    std::vector<std::pair<Hash256, Account>> one;
    for (const auto& leaf : leaves) {
        (bit(leaf.first, depth) == 0 ? zero : one).push_back(leaf);
    }
    return state_node_hash(reference_root(zero, depth + 1), reference_root(one, depth + 1));
}

Hash256 reference_root(const std::map<Address, Account>& accounts) {
    std::vector<std::pair<Hash256, Account>> leaves;
    for (const auto& [address, account] : accounts) {
        if (!account.is_empty()) {
            leaves.emplace_back(state_key(address), account);
        }
    }
    return reference_root(leaves, 0);
}

TEST(StateHashes, FollowTheSpec) {
    const Address address = test::address_from_byte(7);
    EXPECT_EQ(state_key(address), crypto::sha256(address.bytes));
    const Hash256 key = state_key(address);
    Bytes leaf = {0x00};
    append(leaf, key);
    put_u64be(leaf, 500);
    put_u64be(leaf, 3);
    EXPECT_EQ(state_leaf_hash(key, Account{500, 3}), crypto::sha256(leaf));
    Bytes node = {0x01};
    append(node, key);
    append(node, EMPTY_STATE_ROOT);
    EXPECT_EQ(state_node_hash(key, EMPTY_STATE_ROOT), crypto::sha256(node));
}

TEST(AccountEncoding, IsBalanceThenNonce) {
    const auto encoded = encode_account(Account{0x0102, 7});
    EXPECT_EQ(Bytes(encoded.begin(), encoded.end()),
              (Bytes{0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 7}));
    EXPECT_EQ(*decode_account(encoded), (Account{0x0102, 7}));
    EXPECT_EQ(decode_account(ByteView(encoded).first(15)).error(), ChainError::malformed);
    EXPECT_EQ(decode_account(encode_account(Account{})).error(), ChainError::malformed);
}

TEST(MemoryState, EmptyAndSingleAccountRoots) {
    MemoryState state;
    EXPECT_EQ(state.root(), EMPTY_STATE_ROOT);
    const Address a = test::address_from_byte(1);
    const std::vector<AccountUpdate> set{{a, Account{10, 0}}};
    state.apply(set);
    EXPECT_EQ(state.root(), state_leaf_hash(state_key(a), Account{10, 0}));
    EXPECT_EQ(state.account(a), (Account{10, 0}));
    EXPECT_EQ(state.account(test::address_from_byte(2)), Account{});
    const std::vector<AccountUpdate> clear{{a, Account{}}};
    state.apply(clear);
    EXPECT_EQ(state.root(), EMPTY_STATE_ROOT);
    EXPECT_EQ(state.size(), 0U);
    state.check_invariants();
}

TEST(MemoryState, TwoAccountsSplitOnTheirFirstDifferentBit) {
    const Address a = test::address_from_byte(1);
    const Address b = test::address_from_byte(2);
    MemoryState state;
    const std::vector<AccountUpdate> set{{a, Account{1, 0}}, {b, Account{2, 0}}};
    state.apply(set);
    std::map<Address, Account> model{{a, Account{1, 0}}, {b, Account{2, 0}}};
    EXPECT_EQ(state.root(), reference_root(model));
    state.check_invariants();
}

TEST(MemoryState, RootDependsOnContentNotOnOrderOrBatching) {
    Rng rng(7);
    std::vector<AccountUpdate> updates;
    for (int i = 0; i < 300; ++i) {
        updates.push_back({random_address(rng), Account{rng.next_u64() % 1000 + 1, 0}});
    }
    MemoryState all_at_once;
    all_at_once.apply(updates);

    MemoryState one_by_one;
    for (auto it = updates.rbegin(); it != updates.rend(); ++it) {
        one_by_one.apply(std::span(&*it, 1));
    }
    EXPECT_EQ(all_at_once.root(), one_by_one.root());

    // Insert everything plus extra accounts, then remove the extras: same root.
    MemoryState detour;
    std::vector<AccountUpdate> extras;
    for (int i = 0; i < 100; ++i) {
        extras.push_back({random_address(rng), Account{5, 5}});
    }
    detour.apply(extras);
    detour.apply(updates);
    for (auto& extra : extras) {
        extra.account = Account{};
    }
    detour.apply(extras);
    EXPECT_EQ(detour.root(), all_at_once.root());
    detour.check_invariants();

    // Any change of content changes the root.
    MemoryState changed = all_at_once;
    const std::vector<AccountUpdate> bump{
        {updates[17].address, Account{updates[17].account.balance, 1}}};
    changed.apply(bump);
    EXPECT_NE(changed.root(), all_at_once.root());
}

TEST(MemoryState, LastUpdateOfAnAddressInABatchWins) {
    const Address a = test::address_from_byte(1);
    MemoryState state;
    const std::vector<AccountUpdate> updates{{a, Account{1, 0}}, {a, Account{2, 0}}};
    state.apply(updates);
    EXPECT_EQ(state.account(a), (Account{2, 0}));
    EXPECT_EQ(state.size(), 1U);
}

TEST(MemoryState, MatchesAReferenceModelUnderRandomBatches) {
    Rng rng(42);
    std::vector<Address> pool;
    for (int i = 0; i < 400; ++i) {
        pool.push_back(random_address(rng));
    }
    std::map<Address, Account> model;
    MemoryState state;
    for (int round = 0; round < 60; ++round) {
        std::vector<AccountUpdate> batch;
        const std::size_t size = rng.next_u64() % 40;
        for (std::size_t i = 0; i < size; ++i) {
            const Address& address = pool[rng.next_u64() % pool.size()];
            // A third of the updates remove the account.
            const Account account = rng.next_u64() % 3 == 0
                                        ? Account{}
                                        : Account{rng.next_u64() % 100, rng.next_u64() % 3};
            batch.push_back({address, account});
        }
        for (const auto& update : batch) {
            model[update.address] = update.account;
        }
        state.apply(batch);
        state.check_invariants();
        ASSERT_EQ(state.root(), reference_root(model)) << round;
    }
    std::size_t present = 0;
    for (const auto& [address, account] : model) {
        EXPECT_EQ(state.account(address), account);
        present += account.is_empty() ? 0 : 1;
    }
    EXPECT_EQ(state.size(), present);

    std::vector<Hash256> keys;
    state.for_each([&](const Address& address, const Account& account) {
        EXPECT_EQ(model[address], account);
        keys.push_back(state_key(address));
    });
    EXPECT_EQ(keys.size(), present);
    EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
}

}  // namespace
}  // namespace chainmesh::chain
