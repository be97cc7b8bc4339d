#pragma once
// A node's chain on disk (RocksDB): blocks, headers, the best chain's height and transaction
// indexes, the account state, undo data, and the metadata that ties them together.
// The layout is in detail/layout.hpp.
//
// Rules:
// - One block, one batch. commit_block writes the block, its header, its height and
//   transaction index entries, its state changes, its undo data and the new tip as ONE
//   RocksDB WriteBatch, through the write-ahead log; revert_tip removes the tip block from the
//   indexes, puts the state back from the undo data and moves the tip to the parent in one
//   batch too. Rationale: a process killed at any instant (SIGKILL, power loss with sync on)
//   reopens at a block boundary where tip, indexes and state agree; there is no repair step.
// - Sync: by default each batch is fsynced (Options::sync); every batch changes the tip, so
//   a block that was reported committed survives power loss. With sync off it still survives
//   a process crash (the log is written before the call returns), not a power cut.
// - Opening never resets, repairs or deletes anything. A new (absent or empty) dir is
//   initialised from the genesis: network id, genesis hash, schema version, the genesis block
//   and its state, in one batch. Any other dir must be a store of the same genesis and schema
//   whose tip agrees with the height index and whose state root is the tip header's; anything
//   else throws StoreOpenError naming the dir and the problem. A store whose creation was
//   interrupted is completed: a dir holding only the files RocksDB writes before CURRENT
//   (LOCK, LOG*, IDENTITY, MANIFEST-*, OPTIONS-*, *.dbtmp), or a database whose families,
//   some possibly missing, are all empty. Neither holds any data.
// - Only the best chain is indexed: heights, transactions and undo data cover blocks from the
//   genesis to the tip. Blocks and headers stay after a revert (a reorg may come back to
//   them) and put_block stores side-chain blocks without indexing them.
// - The store checks what makes its own data consistent (parent is the tip, state root
//   matches); consensus and header rules (check_header, proof of work) are the caller's.
//
// Costs: a commit is one batch of about block bytes + 100 bytes per transaction + 140 bytes
// per inner state node rewritten; reads are point lookups (bloom filters on every family).
// Memory: RocksDB's memtables (64 MiB per family at most) and the shared block cache
// (Options::block_cache_bytes), plus one block's pending state changes.
//
// Threads: not thread-safe. Call it from one thread (a node's storage worker); RocksDB does
// its flushes and compactions on its own background threads.

#include <chainmesh/chain/apply.hpp>
#include <chainmesh/chain/block.hpp>
#include <chainmesh/chain/genesis.hpp>
#include <chainmesh/store/disk_state.hpp>
#include <chainmesh/store/errors.hpp>
#include <chainmesh/util/result.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace chainmesh::store {

struct Options {
    bool sync = true;                                  // fsync the log with every batch
    std::size_t block_cache_bytes = 64 * 1024 * 1024;  // RocksDB's shared block cache
};

struct Tip {
    chain::Hash256 hash{};
    std::uint64_t height = 0;

    friend bool operator==(const Tip&, const Tip&) = default;
};

struct TransactionLocation {
    chain::Hash256 block_hash{};
    std::uint32_t position = 0;  // index in the block's transactions

    friend bool operator==(const TransactionLocation&, const TransactionLocation&) = default;
};

// The size of the last batch written, for benchmarks and logs.
struct BatchStats {
    std::size_t bytes = 0;    // WriteBatch::GetDataSize()
    std::size_t entries = 0;  // puts and deletes
};

class BlockStore {
public:
    // Opens the store in `dir` (the store owns the whole dir), creating it from `genesis` when
    // it is absent or empty. Throws StoreOpenError with a one-line message otherwise (see the
    // rules above).
    static std::unique_ptr<BlockStore> open(const std::filesystem::path& dir,
                                            const chain::Genesis& genesis, Options options = {});
    ~BlockStore();
    BlockStore(const BlockStore&) = delete;
    BlockStore& operator=(const BlockStore&) = delete;

    const chain::ChainParams& params() const { return m_params; }
    const chain::Hash256& genesis_hash() const { return m_genesis_hash; }
    const Tip& tip() const { return m_tip; }
    const chain::BlockHeader& tip_header() const { return m_tip_header; }

    // The state at the tip, plus whatever apply() changed since the last commit. Block
    // application and proposal run against it; commit_block writes its pending changes.
    DiskState& state() { return *m_state; }
    const DiskState& state() const { return *m_state; }

    // Applies `block` to the tip state (chain::apply_block) and commits it. Returns
    // not_on_tip when it does not extend the tip, the chain's rule when the block breaks one
    // (the state unchanged), io_error or corrupt when the store failed. Any pending state
    // changes are discarded first.
    Result<chain::BlockEffects> import_block(const chain::Block& block,
                                             chain::SignatureCheck signatures);

    // Commits a block the caller applied to state() itself (apply_block returned `undo` as part
    // of its effects): not_on_tip, state_mismatch when state().root() is not the header's.
    // On any error the pending changes are discarded.
    Result<void> commit_block(const chain::Block& block, const chain::BlockUndo& undo);

    // Undoes the tip block (its undo data back into the state, its index entries removed, the
    // tip moved to its parent) and returns it, for the mempool to take its transactions back.
    // at_genesis at height 0. Pending state changes are discarded first.
    Result<chain::Block> revert_tip();

    // Stores a block off the best chain (a fork's), unindexed; a no-op when already stored.
    Result<void> put_block(const chain::Block& block);

    Result<chain::Block> block(const chain::Hash256& hash) const;
    Result<chain::BlockHeader> header(const chain::Hash256& hash) const;
    bool contains_block(const chain::Hash256& hash) const;
    // The best chain's block at `height` (not_found above the tip).
    Result<chain::Hash256> hash_at(std::uint64_t height) const;
    Result<TransactionLocation> transaction_location(const chain::Hash256& id) const;
    Result<chain::Transaction> transaction(const chain::Hash256& id) const;
    // Undo data of a best-chain block above the genesis.
    Result<chain::BlockUndo> undo(const chain::Hash256& hash) const;

    // The sentence behind the last corrupt or io_error result.
    const std::string& last_error_detail() const { return m_last_error; }
    BatchStats last_batch() const { return m_last_batch; }

    // Writes the memtables to table files (tests and shutdown; commits never need it).
    Result<void> flush();

private:
    struct Handles;
    BlockStore(std::filesystem::path dir, Options options);

    void open_or_create(const chain::Genesis& genesis);
    void initialise(const chain::Genesis& genesis);
    void check_opened(const chain::Genesis& genesis);
    bool families_empty(const std::vector<std::string>& names) const;
    [[noreturn]] void throw_damaged(const std::string& problem) const;

    Result<void> write(rocksdb::WriteBatch& batch);
    Result<Bytes> get(std::size_t cf, ByteView key) const;
    ErrorCode state_failure();
    ErrorCode error(StoreError e, std::string detail) const;

    std::filesystem::path m_dir;
    Options m_options;
    std::unique_ptr<rocksdb::DB> m_db;
    std::unique_ptr<Handles> m_handles;
    std::unique_ptr<DiskState> m_state;
    chain::ChainParams m_params;
    chain::Hash256 m_genesis_hash{};
    Tip m_tip;
    chain::BlockHeader m_tip_header;
    BatchStats m_last_batch;
    mutable std::string m_last_error;
};

}  // namespace chainmesh::store
