#pragma once
// Account state: a balance and a nonce per address, and the state root that commits to all of
// them (docs/protocol.md §6).
//
// The root is that of a sparse Merkle tree over key = SHA-256(address), read MSB first, in
// which a subtree holding a single account is that account's leaf (no chain of single-child
// nodes down to depth 256):
//
//     root(no accounts)      = 32 zero bytes
//     root(one account)      = SHA-256(0x00 ‖ key ‖ u64 balance ‖ u64 nonce)
//     root(two or more)      = SHA-256(0x01 ‖ root(keys with next bit 0) ‖ root(with bit 1))
//
// An account with balance 0 and nonce 0 is absent: it is not stored and not in the root.
// Rationale: the root is a function of the set of accounts alone (any insertion order, any
// history), a block costs O(touched accounts × log(all accounts)) hashes because only the
// touched paths change, and the leaf commits to its full key, so collapsing single-account
// subtrees cannot make two states share a root. The tree also yields inclusion and exclusion
// proofs of about log2(accounts) hashes, for light clients later.
//
// AccountState is the small interface block application runs against; MemoryState
// (memory_state.hpp) implements it in memory, and a disk-backed state (store/) can too.

#include <chainmesh/chain/address.hpp>
#include <chainmesh/chain/errors.hpp>
#include <chainmesh/crypto/sha256.hpp>
#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>

#include <cstdint>
#include <span>

namespace chainmesh::chain {

struct Account {
    std::uint64_t balance = 0;
    std::uint64_t nonce = 0;  // transactions sent so far = the nonce the next one must carry

    bool is_empty() const { return balance == 0 && nonce == 0; }
    friend bool operator==(const Account&, const Account&) = default;
};

// A new value for an account; an empty account removes it.
struct AccountUpdate {
    Address address;
    Account account;

    friend bool operator==(const AccountUpdate&, const AccountUpdate&) = default;
};

inline constexpr Hash256 EMPTY_STATE_ROOT{};

// An account as 16 bytes (u64 balance ‖ u64 nonce, big-endian), for stores. decode_account
// rejects any other length, and the empty account, which is never stored (malformed).
inline constexpr std::size_t ACCOUNT_BYTES = 16;
ByteArray<ACCOUNT_BYTES> encode_account(const Account& account);
Result<Account> decode_account(ByteView encoded);

Hash256 state_key(const Address& address);
Hash256 state_leaf_hash(const Hash256& key, const Account& account);
Hash256 state_node_hash(const Hash256& left, const Hash256& right);

class AccountState {
public:
    virtual ~AccountState() = default;

    // An absent account reads as {0, 0}.
    virtual Account account(const Address& address) const = 0;
    // Reads many at once (a disk-backed state can batch them); out.size() == addresses.size().
    virtual void accounts(std::span<const Address> addresses, std::span<Account> out) const;
    virtual Hash256 root() const = 0;
    // Sets every listed account, then updates the root once. Addresses in one batch are
    // distinct (if not, the last update of an address wins).
    virtual void apply(std::span<const AccountUpdate> updates) = 0;
};

}  // namespace chainmesh::chain
