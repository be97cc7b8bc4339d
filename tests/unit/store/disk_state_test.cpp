// DiskState against chain::MemoryState, the reference: the same updates must give the same
// root and the same accounts, whether the changes are pending, committed, or discarded, and
// the node records on disk must be exactly the tree's inner nodes (no stale leftovers).

#include <chainmesh/chain/memory_state.hpp>
#include <chainmesh/store/detail/layout.hpp>
#include <chainmesh/store/detail/rocks.hpp>
#include <chainmesh/store/disk_state.hpp>
#include <chainmesh/util/rng.hpp>

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <vector>

namespace chainmesh::store {
namespace {

using chain::Account;
using chain::AccountUpdate;
using chain::Address;

class DiskStateTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_dir = std::filesystem::temp_directory_path() /
                ("chainmesh-disk-state-test-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(m_dir);
        rocksdb::DBOptions options;
        options.create_if_missing = true;
        options.create_missing_column_families = true;
        std::vector<rocksdb::ColumnFamilyDescriptor> families = {
            {"default", {}}, {"accounts", {}}, {"state_nodes", {}}};
        std::vector<rocksdb::ColumnFamilyHandle*> handles;
        rocksdb::DB* db = nullptr;
        ASSERT_TRUE(rocksdb::DB::Open(options, m_dir.string(), families, &handles, &db).ok());
        m_db.reset(db);
        m_handles = handles;
        m_state = std::make_unique<DiskState>(*m_db, *m_handles[1], *m_handles[2]);
    }

    void TearDown() override {
        m_state.reset();
        for (auto* handle : m_handles) {
            m_db->DestroyColumnFamilyHandle(handle);
        }
        m_db.reset();
        std::filesystem::remove_all(m_dir);
    }

    void commit() {
        rocksdb::WriteBatch batch;
        m_state->write_pending(batch, *m_handles[0]);
        ASSERT_TRUE(m_db->Write(rocksdb::WriteOptions(), &batch).ok());
        m_state->mark_committed();
    }

    // A new DiskState over the same database, as after a restart (nothing cached).
    void reopen_state() {
        std::string root;
        ASSERT_TRUE(m_db->Get(rocksdb::ReadOptions(), m_handles[0],
                              detail::slice(detail::META_STATE_ROOT), &root)
                        .ok());
        const auto slot = detail::decode_root_slot(as_bytes(root));
        ASSERT_TRUE(slot.has_value());
        m_state = std::make_unique<DiskState>(*m_db, *m_handles[1], *m_handles[2]);
        m_state->set_committed_root(*slot);
    }

    // Walks the tree from the stored root slot; returns the number of inner nodes reached and
    // checks each hash against its children.
    std::size_t walk(const detail::Slot& slot, unsigned depth, const chain::Hash256& path) {
        if (slot.kind != detail::SlotKind::inner) {
            return 0;
        }
        std::string value;
        const Bytes key = detail::encode_node_key({static_cast<std::uint8_t>(depth), path});
        EXPECT_TRUE(
            m_db->Get(rocksdb::ReadOptions(), m_handles[2], detail::slice(key), &value).ok());
        const auto record = detail::decode_record(as_bytes(value));
        EXPECT_TRUE(record.has_value());
        if (!record) {
            return 0;
        }
        EXPECT_EQ(slot.hash,
                  chain::state_node_hash(record->children[0].hash, record->children[1].hash));
        return 1 + walk(record->children[0], depth + 1, path) +
               walk(record->children[1], depth + 1, detail::child_path(path, depth, 1));
    }

    void expect_no_stale_nodes() {
        std::string root;
        ASSERT_TRUE(m_db->Get(rocksdb::ReadOptions(), m_handles[0],
                              detail::slice(detail::META_STATE_ROOT), &root)
                        .ok());
        const auto slot = detail::decode_root_slot(as_bytes(root));
        ASSERT_TRUE(slot.has_value());
        EXPECT_EQ(slot->hash, m_state->root());
        std::size_t stored = 0;
        std::unique_ptr<rocksdb::Iterator> it(
            m_db->NewIterator(rocksdb::ReadOptions(), m_handles[2]));
        for (it->SeekToFirst(); it->Valid(); it->Next()) {
            ++stored;
        }
        EXPECT_EQ(walk(*slot, 0, {}), stored);
    }

    std::filesystem::path m_dir;
    std::unique_ptr<rocksdb::DB> m_db;
    std::vector<rocksdb::ColumnFamilyHandle*> m_handles;
    std::unique_ptr<DiskState> m_state;
};

Address address(std::uint32_t n) {
    Address a;
    a.bytes[0] = static_cast<std::uint8_t>(n >> 24);
    a.bytes[1] = static_cast<std::uint8_t>(n >> 16);
    a.bytes[2] = static_cast<std::uint8_t>(n >> 8);
    a.bytes[3] = static_cast<std::uint8_t>(n);
    return a;
}

TEST_F(DiskStateTest, EmptyStateHasTheEmptyRoot) {
    EXPECT_EQ(m_state->root(), chain::EMPTY_STATE_ROOT);
    EXPECT_EQ(m_state->account(address(1)), Account{});
}

TEST_F(DiskStateTest, OneAndTwoAccountsFollowTheSpec) {
    const Account a{100, 1};
    m_state->apply(std::vector<AccountUpdate>{{address(1), a}});
    const auto key1 = chain::state_key(address(1));
    EXPECT_EQ(m_state->root(), chain::state_leaf_hash(key1, a));
    commit();

    const Account b{5, 0};
    m_state->apply(std::vector<AccountUpdate>{{address(2), b}});
    chain::MemoryState reference;
    reference.apply(std::vector<AccountUpdate>{{address(1), a}, {address(2), b}});
    EXPECT_EQ(m_state->root(), reference.root());
    commit();
    expect_no_stale_nodes();

    // Removing one of two collapses the tree back to a single leaf, with no records left.
    m_state->apply(std::vector<AccountUpdate>{{address(2), {}}});
    EXPECT_EQ(m_state->root(), chain::state_leaf_hash(key1, a));
    commit();
    expect_no_stale_nodes();
    EXPECT_EQ(m_state->account(address(2)), Account{});
}

TEST_F(DiskStateTest, LastUpdateOfAnAddressInABatchWins) {
    m_state->apply(std::vector<AccountUpdate>{
        {address(1), {1, 1}}, {address(2), {2, 2}}, {address(1), {3, 3}}});
    chain::MemoryState reference;
    reference.apply(std::vector<AccountUpdate>{{address(2), {2, 2}}, {address(1), {3, 3}}});
    EXPECT_EQ(m_state->root(), reference.root());
    EXPECT_EQ(m_state->account(address(1)), (Account{3, 3}));
}

TEST_F(DiskStateTest, DiscardReturnsToTheCommittedState) {
    m_state->apply(std::vector<AccountUpdate>{{address(1), {1, 0}}, {address(2), {2, 0}}});
    commit();
    const auto committed = m_state->root();
    m_state->apply(std::vector<AccountUpdate>{{address(1), {}}, {address(3), {3, 0}}});
    EXPECT_NE(m_state->root(), committed);
    EXPECT_TRUE(m_state->has_pending());
    m_state->discard();
    EXPECT_FALSE(m_state->has_pending());
    EXPECT_EQ(m_state->root(), committed);
    EXPECT_EQ(m_state->account(address(1)), (Account{1, 0}));
    EXPECT_EQ(m_state->account(address(3)), Account{});
}

// Random batches of creations, changes and removals over a few hundred addresses, several
// batches per commit, some discarded: every root equals MemoryState's for the same history.
TEST_F(DiskStateTest, MatchesMemoryStateOverRandomHistories) {
    Rng rng(20240601);
    chain::MemoryState reference;
    chain::MemoryState committed_reference;
    for (int round = 0; round < 120; ++round) {
        std::vector<AccountUpdate> updates;
        const auto count = 1 + rng.uniform(40);
        for (std::uint64_t i = 0; i < count; ++i) {
            const Address a = address(static_cast<std::uint32_t>(rng.uniform(300)));
            const bool remove = rng.uniform(4) == 0;
            updates.push_back(
                {a, remove ? Account{} : Account{1 + rng.uniform(1000), rng.uniform(5)}});
        }
        m_state->apply(updates);
        reference.apply(updates);
        ASSERT_EQ(m_state->root(), reference.root()) << "round " << round;

        std::vector<Address> addresses;
        for (const auto& update : updates) {
            addresses.push_back(update.address);
        }
        std::vector<Account> read(addresses.size());
        m_state->accounts(addresses, read);
        for (std::size_t i = 0; i < addresses.size(); ++i) {
            ASSERT_EQ(read[i], reference.account(addresses[i]));
        }

        switch (rng.uniform(3)) {
            case 0:
                commit();
                committed_reference = reference;
                if (rng.uniform(4) == 0) {
                    reopen_state();  // a cold node cache: reads come from RocksDB
                    ASSERT_EQ(m_state->root(), reference.root());
                }
                break;
            case 1:
                m_state->discard();
                reference = committed_reference;
                ASSERT_EQ(m_state->root(), reference.root());
                break;
            default:
                break;  // keep the changes pending into the next round
        }
    }
    commit();
    EXPECT_FALSE(m_state->failure().has_value());
    expect_no_stale_nodes();
    std::size_t present = 0;
    reference.for_each([&](const Address& a, const Account& account) {
        ++present;
        EXPECT_EQ(m_state->account(a), account);
    });
    EXPECT_EQ(present, reference.size());
}

TEST_F(DiskStateTest, MissingNodeIsReportedAsCorruptNotHidden) {
    std::vector<AccountUpdate> updates;
    for (std::uint32_t i = 0; i < 16; ++i) {
        updates.push_back({address(i), {1 + i, 0}});
    }
    m_state->apply(updates);
    commit();
    // Remove the root node record behind the state's back, and start from a cold cache.
    const Bytes root_key = detail::encode_node_key({0, {}});
    ASSERT_TRUE(m_db->Delete(rocksdb::WriteOptions(), m_handles[2], detail::slice(root_key)).ok());
    reopen_state();
    m_state->apply(std::vector<AccountUpdate>{{address(99), {7, 0}}});
    ASSERT_TRUE(m_state->failure().has_value());
    EXPECT_EQ(m_state->failure()->error, StoreError::corrupt);
    EXPECT_NE(m_state->failure()->detail.find("state node at depth 0 is missing"),
              std::string::npos);
}

}  // namespace
}  // namespace chainmesh::store
