#pragma once
// The account state on disk: chain::AccountState over a store's RocksDB, with the state tree
// of chain/state.hpp kept as node records so that a block costs what it touches.
//
// Contract:
// - Reads see the committed state (what the last commit wrote) overlaid with the pending
//   changes of apply() calls since; nothing reaches the disk until the owning BlockStore
//   writes the pending changes in the same WriteBatch as the block they belong to.
//   Rationale: one batch per block is what makes a SIGKILL at any instant leave the state at
//   a block boundary, the one the tip names.
// - The tree (detail/layout.hpp): one record per inner node, keyed by its depth and path,
//   holding its two children's slots (kind, hash, and for a one-account subtree its key).
//   A node's hash is computed from its record, so no stored hash can disagree with its
//   children's. apply() of K updates reads and rewrites only the inner nodes on the K
//   paths: about K × (log2(accounts) − log2(K) + 1) point reads and as many writes, and the
//   same number of SHA-256s. Rationale: the root of a million-account state then costs a
//   block what MemoryState would, without holding the tree in memory or rebuilding it at
//   startup.
// - Errors: AccountState has no error channel, so a read that fails (I/O) or finds damaged
//   data records the first such failure, reads as an empty account, and makes apply() stop
//   changing anything; BlockStore checks failure() before it commits and reports it as
//   StoreError::io_error or corrupt. A failed DiskState stays failed until discard().
//
// - The inner nodes above depth CACHED_DEPTH are kept in memory once read (every block walks
//   them), in an array indexed by position; the rest are read from RocksDB (memtable, block
//   cache, then tables). Rationale: the top of the tree is shared by all paths, and a fixed
//   position array needs no eviction policy and has no hashing a peer could aim at.
//
// Bounds: the pending changes hold one entry per account and per inner node touched since the
// last commit (a block: at most 2 × transactions + 1 accounts, ~log2(accounts) nodes each).
// The node cache holds at most 2^CACHED_DEPTH − 1 records (about 9 MiB when full) plus 8 bytes
// per position. Depth is at most 256 (distinct SHA-256 keys differ within 256 bits).
//
// Not thread-safe; owned by BlockStore, which outlives every use of the reference it hands out.

#include <chainmesh/chain/state.hpp>
#include <chainmesh/store/detail/layout.hpp>
#include <chainmesh/store/errors.hpp>

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace chainmesh::store {

class DiskState final : public chain::AccountState {
public:
    static constexpr unsigned CACHED_DEPTH = 16;

    DiskState(rocksdb::DB& db, rocksdb::ColumnFamilyHandle& accounts,
              rocksdb::ColumnFamilyHandle& nodes);
    DiskState(const DiskState&) = delete;
    DiskState& operator=(const DiskState&) = delete;

    chain::Account account(const chain::Address& address) const override;
    // One RocksDB MultiGet for the addresses without a pending value.
    void accounts(std::span<const chain::Address> addresses,
                  std::span<chain::Account> out) const override;
    chain::Hash256 root() const override { return m_root.hash; }
    void apply(std::span<const chain::AccountUpdate> updates) override;

    // True when apply() ran since the last commit or discard.
    bool has_pending() const { return m_dirty; }
    // The first read failure since the last commit or discard (see the contract above).
    struct Failure {
        StoreError error;
        std::string detail;
    };
    const std::optional<Failure>& failure() const { return m_failure; }
    // Drops the pending changes: reads see the committed state again.
    void discard();

    // For BlockStore: the committed root as opening found it.
    void set_committed_root(const detail::Slot& root);
    // Adds the pending changes, and the root slot, to the batch being committed.
    void write_pending(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle& meta) const;
    // After the batch is durable: the pending changes are now the committed state.
    void mark_committed();
    std::size_t pending_accounts() const { return m_pending_accounts.size(); }
    std::size_t pending_nodes() const { return m_pending_nodes.size(); }

private:
    struct Item {
        chain::Hash256 key;
        chain::Hash256 leaf_hash;
        bool remove = false;
    };
    struct Leaf {
        chain::Hash256 key;
        chain::Hash256 hash;
    };

    detail::Slot update(const detail::Slot& slot, unsigned depth, const chain::Hash256& path,
                        const Item* first, const Item* last);
    detail::Slot build(unsigned depth, const chain::Hash256& path, std::span<const Leaf> leaves);
    detail::Slot combine(const detail::NodeKey& key, const detail::Slot& left,
                         const detail::Slot& right, bool had_record);
    std::optional<detail::InnerRecord> load_record(const detail::NodeKey& key);
    static std::size_t cache_index(const detail::NodeKey& key);
    void fail(StoreError error, std::string detail) const;

    rocksdb::DB* m_db;
    rocksdb::ColumnFamilyHandle* m_accounts_cf;
    rocksdb::ColumnFamilyHandle* m_nodes_cf;

    detail::Slot m_committed_root;
    detail::Slot m_root;
    std::map<chain::Address, chain::Account> m_pending_accounts;  // empty account: delete
    std::map<detail::NodeKey, std::optional<detail::InnerRecord>> m_pending_nodes;
    bool m_dirty = false;
    mutable std::optional<Failure> m_failure;
    // Committed records of the nodes above CACHED_DEPTH, by position (see cache_index).
    std::vector<std::unique_ptr<detail::InnerRecord>> m_cache;

    std::vector<Item> m_items;   // apply()'s scratch
    std::vector<Leaf> m_leaves;  // update()'s scratch, one subtree at a time
};

}  // namespace chainmesh::store
