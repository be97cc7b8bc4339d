#include <chainmesh/chain/apply.hpp>
#include <chainmesh/chain/genesis.hpp>
#include <chainmesh/chain/memory_state.hpp>
#include <chainmesh/store/block_store.hpp>
#include <chainmesh/store/detail/layout.hpp>
#include <chainmesh/store/detail/rocks.hpp>
#include <chainmesh/util/hex.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace chainmesh::store {
namespace {

namespace fs = std::filesystem;
using chain::Account;
using chain::Address;
using chain::Block;
using chain::Genesis;
using chain::SignatureCheck;
using chain::Transaction;
using ::testing::HasSubstr;

crypto::Ed25519PrivateKey key(std::uint8_t n) {
    crypto::Ed25519Seed seed;
    seed.fill(n);
    return crypto::Ed25519PrivateKey::from_seed(seed);
}

Address address_of(std::uint8_t n) {
    return Address::from_public_key(key(n).public_key());
}

Genesis make_genesis(const std::string& network) {
    Genesis genesis;
    genesis.params.network_id = network;
    genesis.params.block_reward = 50;
    genesis.params.pow.initial_target = chain::target_from_difficulty(1);
    genesis.timestamp_ms = 1'700'000'000'000;
    for (std::uint8_t i = 1; i <= 8; ++i) {
        genesis.allocations.push_back({address_of(i), 1'000'000});
    }
    std::sort(genesis.allocations.begin(), genesis.allocations.end(),
              [](const auto& a, const auto& b) { return a.address < b.address; });
    return genesis;
}

// The chain the tests import: block h moves funds between keys 1..8, paid to beneficiary h.
// `reference` follows it in memory.
struct ReferenceChain {
    Genesis genesis = make_genesis("storetest");
    chain::MemoryState reference = genesis.initial_state();
    std::vector<Block> blocks{genesis.block()};
    std::vector<std::vector<Account>> before;  // accounts 1..8 before each block

    const Block& next() {
        const Block& parent = blocks.back();
        const std::uint64_t height = parent.header.height + 1;
        std::vector<Transaction> txs;
        for (std::uint8_t i = 0; i < 3; ++i) {
            const std::uint8_t from = static_cast<std::uint8_t>(1 + (height + i) % 8);
            const std::uint8_t to = static_cast<std::uint8_t>(1 + (height + i + 3) % 8);
            Transaction tx;
            tx.network_id = genesis.params.network_id;
            tx.recipient = address_of(to);
            tx.amount = 100 + height;
            tx.fee = 1 + i;
            tx.nonce = reference.account(address_of(from)).nonce;
            tx.sign(key(from));
            txs.push_back(tx);
        }
        Address beneficiary;
        beneficiary.bytes.fill(static_cast<std::uint8_t>(0x80 + height % 64));
        auto proposal = chain::propose_block(reference, parent.header, txs, beneficiary,
                                             parent.header.timestamp_ms + 1000, genesis.params);
        EXPECT_TRUE(proposal && proposal->rejected.empty());
        auto effects =
            chain::apply_block(reference, proposal->block, genesis.params, SignatureCheck::verify);
        EXPECT_TRUE(effects.has_value());
        blocks.push_back(proposal->block);
        return blocks.back();
    }
};

class BlockStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_dir = fs::temp_directory_path() /
                ("chainmesh-store-test-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(m_dir);
    }
    void TearDown() override { fs::remove_all(m_dir); }

    std::unique_ptr<BlockStore> open() { return BlockStore::open(m_dir, m_chain.genesis); }

    void import(BlockStore& store, int count) {
        for (int i = 0; i < count; ++i) {
            const Block& block = m_chain.next();
            auto imported = store.import_block(block, SignatureCheck::verify);
            ASSERT_TRUE(imported.has_value()) << imported.error().message();
        }
    }

    // The message of the StoreOpenError that opening throws, or "" if it opens.
    std::string open_error(const Genesis& genesis) {
        try {
            BlockStore::open(m_dir, genesis);
        } catch (const StoreOpenError& e) {
            return e.what();
        }
        return "";
    }
    std::string open_error() { return open_error(m_chain.genesis); }

    // Writes `value` (or deletes the key when nullopt) in a column family, behind the store.
    void poke(std::string_view cf, ByteView key, std::optional<Bytes> value) {
        std::vector<rocksdb::ColumnFamilyDescriptor> families;
        for (auto name : detail::COLUMN_FAMILIES) {
            families.emplace_back(std::string(name), rocksdb::ColumnFamilyOptions());
        }
        std::vector<rocksdb::ColumnFamilyHandle*> handles;
        rocksdb::DB* raw = nullptr;
        ASSERT_TRUE(
            rocksdb::DB::Open(rocksdb::DBOptions(), m_dir.string(), families, &handles, &raw).ok());
        std::unique_ptr<rocksdb::DB> db(raw);
        const auto index = static_cast<std::size_t>(
            std::find(detail::COLUMN_FAMILIES.begin(), detail::COLUMN_FAMILIES.end(), cf) -
            detail::COLUMN_FAMILIES.begin());
        if (value) {
            EXPECT_TRUE(
                db->Put({}, handles[index], detail::slice(key), detail::slice(*value)).ok());
        } else {
            EXPECT_TRUE(db->Delete({}, handles[index], detail::slice(key)).ok());
        }
        for (auto* handle : handles) {
            db->DestroyColumnFamilyHandle(handle);
        }
    }
    std::optional<Bytes> peek(std::string_view cf, ByteView key) {
        std::vector<rocksdb::ColumnFamilyDescriptor> families;
        for (auto name : detail::COLUMN_FAMILIES) {
            families.emplace_back(std::string(name), rocksdb::ColumnFamilyOptions());
        }
        std::vector<rocksdb::ColumnFamilyHandle*> handles;
        rocksdb::DB* raw = nullptr;
        EXPECT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), m_dir.string(), families,
                                                 &handles, &raw)
                        .ok());
        std::unique_ptr<rocksdb::DB> db(raw);
        const auto index = static_cast<std::size_t>(
            std::find(detail::COLUMN_FAMILIES.begin(), detail::COLUMN_FAMILIES.end(), cf) -
            detail::COLUMN_FAMILIES.begin());
        std::string value;
        const auto status = db->Get({}, handles[index], detail::slice(key), &value);
        for (auto* handle : handles) {
            db->DestroyColumnFamilyHandle(handle);
        }
        if (!status.ok()) {
            return std::nullopt;
        }
        return to_bytes(value);
    }
    void poke_meta(std::string_view name, std::optional<Bytes> value) {
        poke(detail::CF_META, as_bytes(name), std::move(value));
    }

    fs::path m_dir;
    ReferenceChain m_chain;
};

TEST_F(BlockStoreTest, NewDirStartsAtTheGenesis) {
    auto store = open();
    const auto genesis_hash = m_chain.blocks[0].hash();
    EXPECT_EQ(store->genesis_hash(), genesis_hash);
    EXPECT_EQ(store->tip(), (Tip{genesis_hash, 0}));
    EXPECT_EQ(store->tip_header(), m_chain.blocks[0].header);
    EXPECT_EQ(store->hash_at(0).value(), genesis_hash);
    EXPECT_EQ(store->block(genesis_hash).value(), m_chain.blocks[0]);
    EXPECT_EQ(store->state().root(), m_chain.reference.root());
    EXPECT_EQ(store->state().account(address_of(3)), (Account{1'000'000, 0}));
    EXPECT_EQ(store->revert_tip().error(), StoreError::at_genesis);
}

TEST_F(BlockStoreTest, CommitsBlocksHeadersAndIndexes) {
    auto store = open();
    import(*store, 5);
    EXPECT_EQ(store->tip().height, 5u);
    EXPECT_EQ(store->state().root(), m_chain.reference.root());
    EXPECT_FALSE(store->state().has_pending());
    for (std::uint64_t h = 0; h <= 5; ++h) {
        const Block& block = m_chain.blocks[h];
        const auto hash = block.hash();
        EXPECT_EQ(store->hash_at(h).value(), hash);
        EXPECT_EQ(store->block(hash).value(), block);
        EXPECT_EQ(store->header(hash).value(), block.header);
        EXPECT_TRUE(store->contains_block(hash));
        for (std::uint32_t i = 0; i < block.transactions.size(); ++i) {
            const auto id = block.transactions[i].id();
            EXPECT_EQ(store->transaction_location(id).value(), (TransactionLocation{hash, i}));
            EXPECT_EQ(store->transaction(id).value(), block.transactions[i]);
        }
        if (h > 0) {
            const auto undo = store->undo(hash);
            ASSERT_TRUE(undo.has_value());
            EXPECT_EQ(undo->block_hash, hash);
            EXPECT_EQ(undo->previous_state_root, m_chain.blocks[h - 1].header.state_root);
        }
    }
    EXPECT_EQ(store->hash_at(6).error(), StoreError::not_found);
    EXPECT_EQ(store->transaction_location(chain::Hash256{}).error(), StoreError::not_found);
    EXPECT_EQ(store->block(chain::Hash256{}).error(), StoreError::not_found);
    for (std::uint8_t i = 1; i <= 8; ++i) {
        EXPECT_EQ(store->state().account(address_of(i)), m_chain.reference.account(address_of(i)));
    }
    EXPECT_GT(store->last_batch().entries, 3u + 5u);
}

TEST_F(BlockStoreTest, RevertRestoresThePreviousTipAndStateExactly) {
    auto store = open();
    import(*store, 3);
    const Tip tip_before = store->tip();
    const auto root_before = store->state().root();
    std::vector<Account> accounts_before;
    for (std::uint8_t i = 1; i <= 8; ++i) {
        accounts_before.push_back(store->state().account(address_of(i)));
    }
    import(*store, 1);
    const Block& top = m_chain.blocks[4];

    auto reverted = store->revert_tip();
    ASSERT_TRUE(reverted.has_value()) << reverted.error().message();
    EXPECT_EQ(*reverted, top);
    EXPECT_EQ(store->tip(), tip_before);
    EXPECT_EQ(store->tip_header(), m_chain.blocks[3].header);
    EXPECT_EQ(store->state().root(), root_before);
    for (std::uint8_t i = 1; i <= 8; ++i) {
        EXPECT_EQ(store->state().account(address_of(i)), accounts_before[i - 1]);
    }
    EXPECT_EQ(store->state().account(top.header.beneficiary), Account{});
    EXPECT_EQ(store->hash_at(4).error(), StoreError::not_found);
    EXPECT_EQ(store->undo(top.hash()).error(), StoreError::not_found);
    for (const auto& tx : top.transactions) {
        EXPECT_EQ(store->transaction_location(tx.id()).error(), StoreError::not_found);
    }
    EXPECT_TRUE(store->contains_block(top.hash()));  // kept for a reorg back

    // Reverting survives a restart, and the same block connects again.
    store.reset();
    store = open();
    EXPECT_EQ(store->tip(), tip_before);
    EXPECT_EQ(store->state().root(), root_before);
    ASSERT_TRUE(store->import_block(top, SignatureCheck::verify).has_value());
    EXPECT_EQ(store->state().root(), top.header.state_root);

    // Down to the genesis and no further.
    for (int i = 0; i < 4; ++i) {
        ASSERT_TRUE(store->revert_tip().has_value());
    }
    EXPECT_EQ(store->tip().height, 0u);
    EXPECT_EQ(store->state().root(), m_chain.blocks[0].header.state_root);
    EXPECT_EQ(store->revert_tip().error(), StoreError::at_genesis);
}

TEST_F(BlockStoreTest, ReopenPersistsEverything) {
    {
        auto store = open();
        import(*store, 4);
    }
    auto store = open();
    EXPECT_EQ(store->tip().height, 4u);
    EXPECT_EQ(store->tip().hash, m_chain.blocks[4].hash());
    EXPECT_EQ(store->state().root(), m_chain.reference.root());
    EXPECT_EQ(store->block(m_chain.blocks[2].hash()).value(), m_chain.blocks[2]);
    import(*store, 2);
    EXPECT_EQ(store->state().root(), m_chain.reference.root());
}

TEST_F(BlockStoreTest, RefusesBlocksThatDoNotExtendTheTip) {
    auto store = open();
    import(*store, 2);
    const auto root = store->state().root();
    // Block 1 again: its parent is not the tip.
    EXPECT_EQ(store->import_block(m_chain.blocks[1], SignatureCheck::verify).error(),
              StoreError::not_on_tip);
    EXPECT_EQ(store->state().root(), root);
    EXPECT_EQ(store->tip().height, 2u);
}

TEST_F(BlockStoreTest, InvalidBlockLeavesNoTrace) {
    auto store = open();
    import(*store, 1);
    Block bad = m_chain.next();
    bad.header.state_root[0] ^= 1;
    const auto root = store->state().root();
    EXPECT_EQ(store->import_block(bad, SignatureCheck::verify).error(),
              chain::ChainError::bad_state_root);
    EXPECT_EQ(store->state().root(), root);
    EXPECT_FALSE(store->state().has_pending());
    EXPECT_EQ(store->tip().height, 1u);
    EXPECT_FALSE(store->contains_block(bad.hash()));
    // A commit whose pending state does not match the header is refused too.
    EXPECT_EQ(store->commit_block(m_chain.blocks[2], {}).error(), StoreError::state_mismatch);
    ASSERT_TRUE(store->import_block(m_chain.blocks[2], SignatureCheck::verify).has_value());
}

TEST_F(BlockStoreTest, SideBlocksAreStoredButNotIndexed) {
    auto store = open();
    import(*store, 1);
    Block side = m_chain.next();
    side.header.timestamp_ms += 7;  // another block at height 2
    ASSERT_TRUE(store->put_block(side).has_value());
    EXPECT_EQ(store->block(side.hash()).value(), side);
    EXPECT_EQ(store->hash_at(2).error(), StoreError::not_found);
    EXPECT_EQ(store->tip().height, 1u);
}

TEST_F(BlockStoreTest, OtherNetworkIsRefusedNamingBoth) {
    open()->flush();
    const Genesis other = make_genesis("othernet");
    const std::string message = open_error(other);
    EXPECT_THAT(message, HasSubstr(m_dir.string()));
    EXPECT_THAT(message, HasSubstr("'storetest'"));
    EXPECT_THAT(message, HasSubstr("'othernet'"));
    EXPECT_THAT(message, HasSubstr(util::to_hex(m_chain.blocks[0].hash())));
    EXPECT_THAT(message, HasSubstr(util::to_hex(other.block().hash())));
    // Same network name, different allocations: a different genesis too.
    Genesis changed = m_chain.genesis;
    changed.allocations[0].amount += 1;
    EXPECT_THAT(open_error(changed), HasSubstr("not to network 'storetest' (genesis "));
    EXPECT_EQ(open_error(), "");  // and nothing was reset
}

TEST_F(BlockStoreTest, DamagedMetadataIsNamed) {
    {
        auto store = open();
        import(*store, 2);
    }
    const auto tip_hash = m_chain.blocks[2].hash();
    Bytes tip;
    append(tip, tip_hash);
    put_u64be(tip, 2);

    poke_meta(detail::META_TIP, Bytes(tip.begin(), tip.end() - 1));
    EXPECT_THAT(open_error(), HasSubstr("metadata 'tip' is malformed (39 bytes, expected 40)"));

    Bytes wrong_hash = tip;
    wrong_hash[0] ^= 0xff;
    poke_meta(detail::META_TIP, wrong_hash);
    EXPECT_THAT(open_error(), HasSubstr("does not match the height index"));

    Bytes too_high = tip;
    too_high.back() = 1;  // height 1, but block 2 is indexed
    poke_meta(detail::META_TIP, too_high);
    EXPECT_THAT(open_error(), HasSubstr("does not match the height index"));
    poke_meta(detail::META_TIP, tip);

    poke_meta(detail::META_SCHEMA_VERSION, Bytes{0, 0, 0, 9});
    EXPECT_THAT(open_error(), HasSubstr("has schema version 9; this build reads version 1"));
    poke_meta(detail::META_SCHEMA_VERSION, Bytes{0, 0, 0, 1});

    poke_meta(detail::META_GENESIS_HASH, std::nullopt);
    EXPECT_THAT(open_error(), HasSubstr("is damaged: metadata 'genesis_hash' is missing"));
    poke_meta(detail::META_GENESIS_HASH, to_bytes(ByteView(m_chain.blocks[0].hash())));

    poke_meta(detail::META_NETWORK_ID, to_bytes("storetesx"));
    EXPECT_THAT(open_error(), HasSubstr("metadata 'network_id' is 'storetesx'"));
    poke_meta(detail::META_NETWORK_ID, to_bytes("storetest"));

    const Bytes root_slot = peek(detail::CF_META, as_bytes(detail::META_STATE_ROOT)).value();
    poke_meta(detail::META_STATE_ROOT, Bytes{7});
    EXPECT_THAT(open_error(), HasSubstr("metadata 'state_root' is malformed"));
    poke_meta(detail::META_STATE_ROOT, detail::encode_slot(detail::Slot{}));
    EXPECT_THAT(open_error(), HasSubstr("is not that of the tip"));

    // Put back, it opens again: nothing was touched by the failed opens.
    poke_meta(detail::META_STATE_ROOT, root_slot);
    auto store = open();
    EXPECT_EQ(store->tip().height, 2u);
    EXPECT_EQ(store->state().root(), m_chain.reference.root());
}

TEST_F(BlockStoreTest, MissingIndexEntriesAreNamed) {
    {
        auto store = open();
        import(*store, 2);
    }
    const auto tip_hash = m_chain.blocks[2].hash();
    poke(detail::CF_UNDO, tip_hash, std::nullopt);
    EXPECT_THAT(open_error(), HasSubstr("the undo data of the tip (height 2"));
    poke(detail::CF_HEIGHTS, detail::encode_height(2), std::nullopt);
    EXPECT_THAT(open_error(), HasSubstr("is not in the height index"));
    poke(detail::CF_HEIGHTS, detail::encode_height(3), to_bytes(ByteView(tip_hash)));
    poke(detail::CF_HEIGHTS, detail::encode_height(2), to_bytes(ByteView(tip_hash)));
    EXPECT_THAT(open_error(), HasSubstr("the height index continues past the tip"));
}

TEST_F(BlockStoreTest, DeletedFilesAreReportedNotReset) {
    {
        auto store = open();
        import(*store, 3);
        ASSERT_TRUE(store->flush().has_value());
    }
    std::vector<fs::path> tables;
    for (const auto& entry : fs::directory_iterator(m_dir)) {
        if (entry.path().extension() == ".sst") {
            tables.push_back(entry.path());
        }
    }
    ASSERT_FALSE(tables.empty());
    const fs::path moved = m_dir.string() + "-moved.sst";
    fs::rename(tables.front(), moved);
    const std::string message = open_error();
    EXPECT_THAT(message, HasSubstr("data dir " + m_dir.string() + " is damaged"));
    EXPECT_THAT(message, HasSubstr(tables.front().stem().string()));  // RocksDB names it .ldb
    EXPECT_EQ(message.find('\n'), std::string::npos);
    fs::rename(moved, tables.front());

    const fs::path current = m_dir / "CURRENT";
    const fs::path saved = m_dir.string() + "-CURRENT";
    fs::rename(current, saved);
    EXPECT_THAT(open_error(), HasSubstr("RocksDB's CURRENT file is missing"));
    fs::rename(saved, current);

    auto store = open();  // everything back: it opens where it was
    EXPECT_EQ(store->tip().height, 3u);
    EXPECT_EQ(store->state().root(), m_chain.reference.root());
}

TEST_F(BlockStoreTest, ForeignDirIsRefused) {
    fs::create_directories(m_dir);
    std::ofstream(m_dir / "notes.txt") << "not a store";
    EXPECT_THAT(open_error(), HasSubstr("is not empty but holds no store"));
    EXPECT_TRUE(fs::exists(m_dir / "notes.txt"));
}

TEST_F(BlockStoreTest, InterruptedCreationIsCompleted) {
    // RocksDB files and families, no data: what a kill during creation leaves.
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (auto name : detail::COLUMN_FAMILIES) {
        families.emplace_back(std::string(name), rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, m_dir.string(), families, &handles, &raw).ok());
    for (auto* handle : handles) {
        raw->DestroyColumnFamilyHandle(handle);
    }
    delete raw;
    auto store = open();
    EXPECT_EQ(store->tip().hash, m_chain.blocks[0].hash());
}

// A database with only some of the families, as RocksDB leaves one killed while it creates
// them; with `data`, one of them holds a value.
void make_partial_database(const fs::path& dir, bool data) {
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {{"default", {}}, {"blocks", {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir.string(), families, &handles, &raw).ok());
    if (data) {
        EXPECT_TRUE(raw->Put({}, handles[1], "key", "value").ok());
    }
    for (auto* handle : handles) {
        raw->DestroyColumnFamilyHandle(handle);
    }
    delete raw;
}

TEST_F(BlockStoreTest, MissingColumnFamilyIsNamed) {
    make_partial_database(m_dir, true);
    EXPECT_THAT(open_error(), HasSubstr("is damaged: column family 'headers' is missing"));
}

TEST_F(BlockStoreTest, CreationInterruptedBetweenFamiliesIsCompleted) {
    make_partial_database(m_dir, false);
    auto store = open();
    EXPECT_EQ(store->tip().hash, m_chain.blocks[0].hash());
    import(*store, 1);
}

TEST_F(BlockStoreTest, CreationInterruptedBeforeCurrentIsCompleted) {
    // What RocksDB has written before CURRENT when a kill stops its creation.
    fs::create_directories(m_dir);
    for (const char* name : {"LOCK", "LOG", "IDENTITY", "MANIFEST-000001", "000001.dbtmp"}) {
        std::ofstream(m_dir / name) << "";
    }
    auto store = open();
    EXPECT_EQ(store->tip().hash, m_chain.blocks[0].hash());
    store.reset();
    // A log file means data may exist: that is never taken for an interrupted creation.
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
    std::ofstream(m_dir / "LOCK") << "";
    std::ofstream(m_dir / "000004.log") << "x";
    EXPECT_THAT(open_error(), HasSubstr("RocksDB's CURRENT file is missing"));
}

TEST_F(BlockStoreTest, DirInUseIsNamed) {
    auto store = open();
    EXPECT_THAT(open_error(), HasSubstr("is in use by another process"));
}

}  // namespace
}  // namespace chainmesh::store
