#include <chainmesh/store/block_store.hpp>
#include <chainmesh/store/detail/layout.hpp>
#include <chainmesh/store/detail/options.hpp>
#include <chainmesh/store/detail/rocks.hpp>
#include <chainmesh/util/hex.hpp>

#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <vector>

namespace chainmesh::store {

namespace fs = std::filesystem;
using chain::Block;
using chain::BlockHeader;
using chain::BlockUndo;
using chain::Hash256;
using detail::Cf;

namespace detail {

rocksdb::DBOptions db_options(bool create) {
    rocksdb::DBOptions options;
    options.create_if_missing = create;
    options.create_missing_column_families = create;
    options.error_if_exists = create;
    options.paranoid_checks = true;
    // A process killed mid-write leaves at most a torn last log record: recovery stops at the
    // last complete batch, which is a block boundary.
    options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
    options.db_write_buffer_size = 64 * 1024 * 1024;
    options.max_background_jobs = 2;
    options.keep_log_file_num = 4;
    return options;
}

rocksdb::ColumnFamilyOptions cf_options(const std::shared_ptr<rocksdb::Cache>& cache) {
    rocksdb::ColumnFamilyOptions options;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = cache;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    options.level_compaction_dynamic_level_bytes = true;
    return options;
}

}  // namespace detail

struct BlockStore::Handles {
    std::array<rocksdb::ColumnFamilyHandle*, detail::COLUMN_FAMILIES.size()> cf{};
    rocksdb::ColumnFamilyHandle* operator[](std::size_t i) const { return cf[i]; }
};

namespace {

std::string hex(ByteView bytes) {
    return util::to_hex(bytes);
}

std::vector<rocksdb::ColumnFamilyDescriptor> descriptors(const Options& options) {
    const auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
    std::vector<rocksdb::ColumnFamilyDescriptor> out;
    for (const std::string_view name : detail::COLUMN_FAMILIES) {
        out.emplace_back(std::string(name), detail::cf_options(cache));
    }
    return out;
}

// RocksDB writes these before CURRENT when it creates a database; a dir holding nothing else
// is a creation that was interrupted (no log or table file, so no data).
bool only_creation_files(const fs::path& dir) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        const bool creation = name == "LOCK" || name == "IDENTITY" || name.starts_with("LOG") ||
                              name.starts_with("MANIFEST-") || name.starts_with("OPTIONS-") ||
                              name.ends_with(".dbtmp");
        if (!creation || !entry.is_regular_file()) {
            return false;
        }
    }
    return !ec;
}

Bytes encode_tip(const Tip& tip) {
    Bytes out;
    append(out, tip.hash);
    put_u64be(out, tip.height);
    return out;
}

}  // namespace

BlockStore::BlockStore(fs::path dir, Options options)
    : m_dir(std::move(dir)), m_options(options), m_handles(std::make_unique<Handles>()) {}

BlockStore::~BlockStore() {
    m_state.reset();
    if (m_db) {
        for (rocksdb::ColumnFamilyHandle*& handle : m_handles->cf) {
            if (handle != nullptr) {
                m_db->DestroyColumnFamilyHandle(handle);
                handle = nullptr;
            }
        }
        m_db->Close();
    }
}

std::unique_ptr<BlockStore> BlockStore::open(const fs::path& dir, const chain::Genesis& genesis,
                                             Options options) {
    std::unique_ptr<BlockStore> store(new BlockStore(dir, options));
    store->open_or_create(genesis);
    return store;
}

bool BlockStore::families_empty(const std::vector<std::string>& names) const {
    const auto cache = rocksdb::NewLRUCache(1 << 20);
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names) {
        families.emplace_back(name, detail::cf_options(cache));
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status opened = rocksdb::DB::OpenForReadOnly(
        detail::db_options(false), m_dir.string(), families, &handles, &raw);
    if (!opened.ok()) {
        throw_damaged(opened.ToString());
    }
    std::unique_ptr<rocksdb::DB> db(raw);
    bool empty = true;
    for (rocksdb::ColumnFamilyHandle* handle : handles) {
        std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handle));
        it->SeekToFirst();
        empty = empty && it->status().ok() && !it->Valid();
        it.reset();
        db->DestroyColumnFamilyHandle(handle);
    }
    return empty;
}

void BlockStore::throw_damaged(const std::string& problem) const {
    throw StoreOpenError(fmt::format("data dir {} is damaged: {}", m_dir.string(), problem));
}

void BlockStore::open_or_create(const chain::Genesis& genesis) {
    const std::string dir = m_dir.string();
    std::error_code ec;
    const bool exists = fs::exists(m_dir, ec);
    if (ec) {
        throw StoreOpenError(fmt::format("cannot read data dir {}: {}", dir, ec.message()));
    }
    if (exists && !fs::is_directory(m_dir, ec)) {
        throw StoreOpenError(fmt::format("data dir {} is not a directory", dir));
    }
    const bool has_current = exists && fs::exists(m_dir / "CURRENT", ec);
    bool fresh = !exists;
    if (exists && !has_current) {
        fresh = only_creation_files(m_dir);
        if (!fresh) {
            throw StoreOpenError(fmt::format(
                "data dir {} is not empty but holds no store (RocksDB's CURRENT file is "
                "missing): damaged, or not a chainmesh data dir",
                dir));
        }
    }
    bool create_families = fresh;
    if (fresh) {
        fs::create_directories(m_dir, ec);
        if (ec) {
            throw StoreOpenError(fmt::format("cannot create data dir {}: {}", dir, ec.message()));
        }
    } else {
        std::vector<std::string> names;
        const rocksdb::Status listed =
            rocksdb::DB::ListColumnFamilies(detail::db_options(false), dir, &names);
        if (!listed.ok()) {
            throw_damaged(listed.ToString());
        }
        for (const std::string& name : names) {
            if (std::find(detail::COLUMN_FAMILIES.begin(), detail::COLUMN_FAMILIES.end(), name) ==
                detail::COLUMN_FAMILIES.end()) {
                throw StoreOpenError(fmt::format(
                    "data dir {} has column family '{}', unknown to this build (schema version "
                    "{}): written by a newer version?",
                    dir, name, detail::SCHEMA_VERSION));
            }
        }
        for (const std::string_view name : detail::COLUMN_FAMILIES) {
            if (std::find(names.begin(), names.end(), name) == names.end()) {
                // RocksDB creates families one at a time: a store killed while being created
                // can lack some and hold no data. Anything else is damage.
                if (!families_empty(names)) {
                    throw_damaged(fmt::format("column family '{}' is missing", name));
                }
                create_families = true;
            }
        }
    }

    auto options = detail::db_options(fresh);
    options.create_missing_column_families = create_families;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    const rocksdb::Status opened =
        rocksdb::DB::Open(options, dir, descriptors(m_options), &handles, &db);
    if (!opened.ok()) {
        const std::string status = opened.ToString();
        if (opened.IsIOError() && status.find("lock") != std::string::npos) {
            throw StoreOpenError(
                fmt::format("data dir {} is in use by another process ({})", dir, status));
        }
        if (opened.IsCorruption()) {
            throw_damaged(status);
        }
        throw StoreOpenError(fmt::format("cannot open data dir {}: {}", dir, status));
    }
    m_db.reset(db);
    for (std::size_t i = 0; i < handles.size(); ++i) {
        m_handles->cf[i] = handles[i];
    }
    m_state = std::make_unique<DiskState>(*m_db, *m_handles->cf[Cf::accounts],
                                          *m_handles->cf[Cf::state_nodes]);
    m_params = genesis.params;

    // Creation is not one batch (RocksDB creates its files and families first), so a store
    // killed while being created has families and no data: initialising it loses nothing.
    bool empty = true;
    for (rocksdb::ColumnFamilyHandle* handle : m_handles->cf) {
        std::unique_ptr<rocksdb::Iterator> it(m_db->NewIterator(rocksdb::ReadOptions(), handle));
        it->SeekToFirst();
        if (!it->status().ok()) {
            throw_damaged(it->status().ToString());
        }
        if (it->Valid()) {
            empty = false;
            break;
        }
    }
    if (empty) {
        initialise(genesis);
    } else {
        check_opened(genesis);
    }
}

void BlockStore::initialise(const chain::Genesis& genesis) {
    const Block block = genesis.block();
    const Hash256 hash = block.hash();
    m_state->set_committed_root({});
    m_state->apply(genesis.initial_accounts());
    if (m_state->failure()) {
        throw StoreOpenError(fmt::format("cannot initialise data dir {}: {}", m_dir.string(),
                                         m_state->failure()->detail));
    }
    if (m_state->root() != block.header.state_root) {
        throw StoreOpenError("genesis: the genesis block's state root is not its allocations'");
    }
    rocksdb::WriteBatch batch;
    const auto meta = m_handles->cf[Cf::meta];
    ByteArray<4> version{};
    version[3] = static_cast<std::uint8_t>(detail::SCHEMA_VERSION);
    batch.Put(meta, detail::slice(detail::META_SCHEMA_VERSION), detail::slice(version));
    batch.Put(meta, detail::slice(detail::META_NETWORK_ID),
              detail::slice(std::string_view(genesis.params.network_id)));
    batch.Put(meta, detail::slice(detail::META_GENESIS_HASH), detail::slice(hash));
    batch.Put(meta, detail::slice(detail::META_TIP), detail::slice(encode_tip({hash, 0})));
    batch.Put(m_handles->cf[Cf::blocks], detail::slice(hash), detail::slice(block.encode()));
    batch.Put(m_handles->cf[Cf::headers], detail::slice(hash),
              detail::slice(block.header.encode()));
    batch.Put(m_handles->cf[Cf::heights], detail::slice(detail::encode_height(0)),
              detail::slice(hash));
    m_state->write_pending(batch, *meta);
    if (!write(batch)) {
        throw StoreOpenError(
            fmt::format("cannot initialise data dir {}: {}", m_dir.string(), m_last_error));
    }
    m_state->mark_committed();
    m_genesis_hash = hash;
    m_tip = {hash, 0};
    m_tip_header = block.header;
}

void BlockStore::check_opened(const chain::Genesis& genesis) {
    const auto read = [&](std::size_t cf, ByteView key, std::string_view what) -> Bytes {
        auto value = get(cf, key);
        if (!value) {
            if (value.error() == StoreError::not_found) {
                throw_damaged(fmt::format("{} is missing", what));
            }
            throw_damaged(fmt::format("reading {}: {}", what, m_last_error));
        }
        return std::move(*value);
    };
    const auto meta = [&](std::string_view name, std::size_t size) -> Bytes {
        const std::string what = fmt::format("metadata '{}'", name);
        Bytes value = read(Cf::meta, as_bytes(name), what);
        if (size != 0 && value.size() != size) {
            throw_damaged(
                fmt::format("{} is malformed ({} bytes, expected {})", what, value.size(), size));
        }
        return value;
    };

    const Bytes version = meta(detail::META_SCHEMA_VERSION, 4);
    if (get_u32be(version.data()) != detail::SCHEMA_VERSION) {
        throw StoreOpenError(
            fmt::format("data dir {} has schema version {}; this build reads "
                        "version {} only",
                        m_dir.string(), get_u32be(version.data()), detail::SCHEMA_VERSION));
    }
    const Bytes network = meta(detail::META_NETWORK_ID, 0);
    const Bytes stored_genesis = meta(detail::META_GENESIS_HASH, 32);
    const Hash256 expected_genesis = genesis.block().hash();
    if (!equal(stored_genesis, expected_genesis)) {
        throw StoreOpenError(fmt::format(
            "data dir {} belongs to network '{}' (genesis {}), not to network '{}' (genesis {}) "
            "of the given genesis",
            m_dir.string(), as_string(network), hex(stored_genesis), genesis.params.network_id,
            hex(expected_genesis)));
    }
    if (as_string(network) != genesis.params.network_id) {
        throw_damaged(fmt::format("metadata 'network_id' is '{}' but its genesis is network '{}'",
                                  as_string(network), genesis.params.network_id));
    }
    std::copy(stored_genesis.begin(), stored_genesis.end(), m_genesis_hash.begin());

    const Bytes tip = meta(detail::META_TIP, detail::TIP_BYTES);
    std::copy_n(tip.begin(), 32, m_tip.hash.begin());
    m_tip.height = get_u64be(tip.data() + 32);
    const std::string tip_text =
        fmt::format("the tip (height {}, block {})", m_tip.height, hex(m_tip.hash));

    auto indexed = get(Cf::heights, detail::encode_height(m_tip.height));
    if (!indexed) {
        if (indexed.error() != StoreError::not_found) {
            throw_damaged(m_last_error);
        }
        throw_damaged(
            fmt::format("{} is not in the height index, which has no block at "
                        "height {}",
                        tip_text, m_tip.height));
    }
    if (!equal(*indexed, m_tip.hash)) {
        throw_damaged(
            fmt::format("{} does not match the height index, which holds {} at "
                        "height {}",
                        tip_text, hex(*indexed), m_tip.height));
    }
    auto beyond = get(Cf::heights, detail::encode_height(m_tip.height + 1));
    if (beyond || beyond.error() != StoreError::not_found) {
        throw_damaged(fmt::format("the height index continues past {}", tip_text));
    }
    if (m_tip.height > 0) {
        auto first = get(Cf::heights, detail::encode_height(0));
        if (!first || !equal(*first, m_genesis_hash)) {
            throw_damaged("the height index does not start at the genesis block");
        }
    }

    auto header = BlockHeader::decode(
        read(Cf::headers, m_tip.hash, fmt::format("the header of {}", tip_text)));
    if (!header || header->hash() != m_tip.hash || header->height != m_tip.height) {
        throw_damaged(fmt::format("the header of {} is malformed", tip_text));
    }
    m_tip_header = std::move(*header);
    if (m_tip.height > 0) {
        read(Cf::undo, m_tip.hash, fmt::format("the undo data of {}", tip_text));
    }

    const Bytes root_slot = meta(detail::META_STATE_ROOT, 0);
    const auto root = detail::decode_root_slot(root_slot);
    if (!root) {
        throw_damaged("metadata 'state_root' is malformed");
    }
    if (root->hash != m_tip_header.state_root) {
        throw_damaged(fmt::format("the state root {} is not that of {}, {}", hex(root->hash),
                                  tip_text, hex(m_tip_header.state_root)));
    }
    m_state->set_committed_root(*root);
}

ErrorCode BlockStore::error(StoreError e, std::string detail) const {
    m_last_error = std::move(detail);
    return e;
}

ErrorCode BlockStore::state_failure() {
    const auto& failure = m_state->failure();
    if (!failure) {
        return {};
    }
    return error(failure->error, failure->detail);
}

Result<void> BlockStore::write(rocksdb::WriteBatch& batch) {
    rocksdb::WriteOptions options;
    options.sync = m_options.sync;
    m_last_batch = {batch.GetDataSize(), static_cast<std::size_t>(batch.Count())};
    const rocksdb::Status status = m_db->Write(options, &batch);
    if (!status.ok()) {
        return error(StoreError::io_error, "writing a batch: " + status.ToString());
    }
    return {};
}

Result<Bytes> BlockStore::get(std::size_t cf, ByteView key) const {
    rocksdb::PinnableSlice value;
    const rocksdb::Status status =
        m_db->Get(rocksdb::ReadOptions(), m_handles->cf[cf], detail::slice(key), &value);
    if (status.IsNotFound()) {
        return StoreError::not_found;
    }
    if (!status.ok()) {
        return error(
            StoreError::io_error,
            fmt::format("reading from '{}': {}", detail::COLUMN_FAMILIES[cf], status.ToString()));
    }
    const ByteView bytes = detail::view(value);
    return Bytes(bytes.begin(), bytes.end());
}

Result<chain::BlockEffects> BlockStore::import_block(const Block& block,
                                                     chain::SignatureCheck signatures) {
    m_state->discard();
    if (block.header.previous_hash != m_tip.hash || block.header.height != m_tip.height + 1) {
        return StoreError::not_on_tip;
    }
    auto effects = chain::apply_block(*m_state, block, m_params, signatures);
    if (!effects) {
        // A read failure shows up in apply_block as a wrong root; report the store's fault.
        const ErrorCode failure = state_failure();
        m_state->discard();
        return failure ? failure : effects.error();
    }
    auto committed = commit_block(block, effects->undo);
    if (!committed) {
        return committed.error();
    }
    return effects;
}

Result<void> BlockStore::commit_block(const Block& block, const BlockUndo& undo) {
    const BlockHeader& header = block.header;
    const auto fail = [&](ErrorCode e) -> ErrorCode {
        m_state->discard();
        return e;
    };
    if (header.previous_hash != m_tip.hash || header.height != m_tip.height + 1) {
        return fail(StoreError::not_on_tip);
    }
    if (const ErrorCode failure = state_failure()) {
        return fail(failure);
    }
    const Hash256 hash = block.hash();
    if (m_state->root() != header.state_root || undo.block_hash != hash ||
        undo.previous_state_root != m_tip_header.state_root) {
        return fail(StoreError::state_mismatch);
    }

    rocksdb::WriteBatch batch;
    batch.Put(m_handles->cf[Cf::blocks], detail::slice(hash), detail::slice(block.encode()));
    batch.Put(m_handles->cf[Cf::headers], detail::slice(hash), detail::slice(header.encode()));
    batch.Put(m_handles->cf[Cf::heights], detail::slice(detail::encode_height(header.height)),
              detail::slice(hash));
    const std::vector<Hash256> ids = block.transaction_ids();
    ByteArray<detail::TX_LOCATION_BYTES> location{};
    std::copy(hash.begin(), hash.end(), location.begin());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        for (std::size_t b = 0; b < 4; ++b) {
            location[32 + b] = static_cast<std::uint8_t>(i >> (24 - 8 * b));
        }
        batch.Put(m_handles->cf[Cf::transactions], detail::slice(ids[i]), detail::slice(location));
    }
    batch.Put(m_handles->cf[Cf::undo], detail::slice(hash), detail::slice(undo.encode()));
    m_state->write_pending(batch, *m_handles->cf[Cf::meta]);
    const Tip tip{hash, header.height};
    batch.Put(m_handles->cf[Cf::meta], detail::slice(detail::META_TIP),
              detail::slice(encode_tip(tip)));
    if (auto written = write(batch); !written) {
        return fail(written.error());
    }
    m_state->mark_committed();
    m_tip = tip;
    m_tip_header = header;
    return {};
}

Result<Block> BlockStore::revert_tip() {
    m_state->discard();
    if (m_tip.height == 0) {
        return StoreError::at_genesis;
    }
    const std::string tip_text =
        fmt::format("tip block {} at height {}", hex(m_tip.hash), m_tip.height);
    // Every piece of the tip is indexed, so "not found" here means damage.
    const auto damaged = [&](ErrorCode e, std::string_view what) -> ErrorCode {
        m_state->discard();
        if (e == StoreError::not_found) {
            return error(StoreError::corrupt, fmt::format("{} of {} is missing", what, tip_text));
        }
        return e;
    };
    auto tip_block = block(m_tip.hash);
    if (!tip_block) {
        return damaged(tip_block.error(), "the block");
    }
    auto tip_undo = undo(m_tip.hash);
    if (!tip_undo) {
        return damaged(tip_undo.error(), "the undo data");
    }
    auto parent = header(m_tip_header.previous_hash);
    if (!parent) {
        return damaged(parent.error(), "the parent header");
    }
    auto reverted = chain::revert_block(*m_state, m_tip_header, *tip_undo);
    if (const ErrorCode failure = state_failure()) {
        m_state->discard();
        return failure;
    }
    if (!reverted || m_state->root() != parent->state_root) {
        m_state->discard();
        return error(
            StoreError::corrupt,
            fmt::format("the undo data of {} does not restore its parent's state root", tip_text));
    }

    rocksdb::WriteBatch batch;
    batch.Delete(m_handles->cf[Cf::heights], detail::slice(detail::encode_height(m_tip.height)));
    for (const Hash256& id : tip_block->transaction_ids()) {
        batch.Delete(m_handles->cf[Cf::transactions], detail::slice(id));
    }
    batch.Delete(m_handles->cf[Cf::undo], detail::slice(m_tip.hash));
    m_state->write_pending(batch, *m_handles->cf[Cf::meta]);
    const Tip tip{m_tip_header.previous_hash, m_tip.height - 1};
    batch.Put(m_handles->cf[Cf::meta], detail::slice(detail::META_TIP),
              detail::slice(encode_tip(tip)));
    if (auto written = write(batch); !written) {
        m_state->discard();
        return written.error();
    }
    m_state->mark_committed();
    m_tip = tip;
    m_tip_header = std::move(*parent);
    return tip_block;
}

Result<void> BlockStore::put_block(const Block& block) {
    const Hash256 hash = block.hash();
    if (contains_block(hash)) {
        return {};
    }
    rocksdb::WriteBatch batch;
    batch.Put(m_handles->cf[Cf::blocks], detail::slice(hash), detail::slice(block.encode()));
    batch.Put(m_handles->cf[Cf::headers], detail::slice(hash),
              detail::slice(block.header.encode()));
    return write(batch);
}

Result<Block> BlockStore::block(const Hash256& hash) const {
    auto encoded = get(Cf::blocks, hash);
    if (!encoded) {
        return encoded.error();
    }
    auto decoded = Block::decode(*encoded);
    if (!decoded || decoded->hash() != hash) {
        return error(StoreError::corrupt, fmt::format("block {} is malformed", hex(hash)));
    }
    return decoded;
}

Result<BlockHeader> BlockStore::header(const Hash256& hash) const {
    auto encoded = get(Cf::headers, hash);
    if (!encoded) {
        return encoded.error();
    }
    auto decoded = BlockHeader::decode(*encoded);
    if (!decoded || decoded->hash() != hash) {
        return error(StoreError::corrupt, fmt::format("header {} is malformed", hex(hash)));
    }
    return decoded;
}

bool BlockStore::contains_block(const Hash256& hash) const {
    return get(Cf::headers, hash).has_value();
}

Result<Hash256> BlockStore::hash_at(std::uint64_t height) const {
    if (height > m_tip.height) {
        return StoreError::not_found;
    }
    auto encoded = get(Cf::heights, detail::encode_height(height));
    if (!encoded) {
        return encoded.error();
    }
    if (encoded->size() != 32) {
        return error(StoreError::corrupt,
                     fmt::format("height index entry {} is malformed", height));
    }
    Hash256 hash;
    std::copy(encoded->begin(), encoded->end(), hash.begin());
    return hash;
}

Result<TransactionLocation> BlockStore::transaction_location(const Hash256& id) const {
    auto encoded = get(Cf::transactions, id);
    if (!encoded) {
        return encoded.error();
    }
    if (encoded->size() != detail::TX_LOCATION_BYTES) {
        return error(StoreError::corrupt,
                     fmt::format("transaction index entry {} is malformed", hex(id)));
    }
    TransactionLocation location;
    std::copy_n(encoded->begin(), 32, location.block_hash.begin());
    location.position = get_u32be(encoded->data() + 32);
    return location;
}

Result<chain::Transaction> BlockStore::transaction(const Hash256& id) const {
    auto location = transaction_location(id);
    if (!location) {
        return location.error();
    }
    auto holder = block(location->block_hash);
    if (!holder) {
        if (holder.error() == StoreError::not_found) {
            return error(StoreError::corrupt,
                         fmt::format("transaction {} is indexed in missing block {}", hex(id),
                                     hex(location->block_hash)));
        }
        return holder.error();
    }
    if (location->position >= holder->transactions.size() ||
        holder->transactions[location->position].id() != id) {
        return error(StoreError::corrupt,
                     fmt::format("transaction index entry {} points elsewhere", hex(id)));
    }
    return std::move(holder->transactions[location->position]);
}

Result<BlockUndo> BlockStore::undo(const Hash256& hash) const {
    auto encoded = get(Cf::undo, hash);
    if (!encoded) {
        return encoded.error();
    }
    auto decoded = BlockUndo::decode(*encoded);
    if (!decoded || decoded->block_hash != hash) {
        return error(StoreError::corrupt, fmt::format("undo data of {} is malformed", hex(hash)));
    }
    return decoded;
}

Result<void> BlockStore::flush() {
    const std::vector<rocksdb::ColumnFamilyHandle*> handles(m_handles->cf.begin(),
                                                            m_handles->cf.end());
    const rocksdb::Status status = m_db->Flush(rocksdb::FlushOptions(), handles);
    if (!status.ok()) {
        return error(StoreError::io_error, "flushing: " + status.ToString());
    }
    return {};
}

}  // namespace chainmesh::store
