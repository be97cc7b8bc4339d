#include <chainmesh/store/detail/rocks.hpp>
#include <chainmesh/store/disk_state.hpp>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace chainmesh::store {

using chain::Account;
using chain::Address;
using chain::Hash256;
using detail::InnerRecord;
using detail::NodeKey;
using detail::Slot;
using detail::SlotKind;

namespace {

void require(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "store: requirement failed: %s\n", what);
        std::abort();
    }
}

}  // namespace

DiskState::DiskState(rocksdb::DB& db, rocksdb::ColumnFamilyHandle& accounts,
                     rocksdb::ColumnFamilyHandle& nodes)
    : m_db(&db),
      m_accounts_cf(&accounts),
      m_nodes_cf(&nodes),
      m_cache((std::size_t{1} << CACHED_DEPTH) - 1) {}

// Position in a complete binary tree: depth d, path bits p (the first d bits) -> 2^d - 1 + p.
std::size_t DiskState::cache_index(const NodeKey& key) {
    const std::size_t top = (std::size_t{key.path[0]} << 8) | key.path[1];
    const std::size_t bits = key.depth == 0 ? 0 : top >> (16 - key.depth);
    return (std::size_t{1} << key.depth) - 1 + bits;
}

void DiskState::fail(StoreError error, std::string detail) const {
    if (!m_failure) {
        m_failure = Failure{error, std::move(detail)};
    }
}

Account DiskState::account(const Address& address) const {
    if (const auto it = m_pending_accounts.find(address); it != m_pending_accounts.end()) {
        return it->second;
    }
    rocksdb::PinnableSlice value;
    const rocksdb::Status status =
        m_db->Get(rocksdb::ReadOptions(), m_accounts_cf, detail::slice(address.bytes), &value);
    if (status.IsNotFound()) {
        return {};
    }
    if (!status.ok()) {
        fail(StoreError::io_error,
             "reading account " + address.to_string() + ": " + status.ToString());
        return {};
    }
    const auto decoded = detail::decode_account(detail::view(value));
    if (!decoded) {
        fail(StoreError::corrupt, "account " + address.to_string() + " is malformed");
        return {};
    }
    return *decoded;
}

void DiskState::accounts(std::span<const Address> addresses, std::span<Account> out) const {
    require(addresses.size() == out.size(), "accounts(): sizes differ");
    std::vector<rocksdb::Slice> keys;
    std::vector<std::size_t> positions;
    keys.reserve(addresses.size());
    positions.reserve(addresses.size());
    for (std::size_t i = 0; i < addresses.size(); ++i) {
        if (const auto it = m_pending_accounts.find(addresses[i]); it != m_pending_accounts.end()) {
            out[i] = it->second;
        } else {
            keys.push_back(detail::slice(addresses[i].bytes));
            positions.push_back(i);
        }
    }
    if (keys.empty()) {
        return;
    }
    std::vector<rocksdb::PinnableSlice> values(keys.size());
    std::vector<rocksdb::Status> statuses(keys.size());
    m_db->MultiGet(rocksdb::ReadOptions(), m_accounts_cf, keys.size(), keys.data(), values.data(),
                   statuses.data());
    for (std::size_t j = 0; j < keys.size(); ++j) {
        const std::size_t i = positions[j];
        out[i] = {};
        if (statuses[j].IsNotFound()) {
            continue;
        }
        if (!statuses[j].ok()) {
            fail(StoreError::io_error,
                 "reading account " + addresses[i].to_string() + ": " + statuses[j].ToString());
            continue;
        }
        const auto decoded = detail::decode_account(detail::view(values[j]));
        if (!decoded) {
            fail(StoreError::corrupt, "account " + addresses[i].to_string() + " is malformed");
            continue;
        }
        out[i] = *decoded;
    }
}

void DiskState::apply(std::span<const chain::AccountUpdate> updates) {
    if (m_failure || updates.empty()) {
        return;
    }
    m_dirty = true;
    m_items.clear();
    m_items.reserve(updates.size());
    for (const chain::AccountUpdate& update : updates) {
        m_pending_accounts[update.address] = update.account;
        Item item;
        item.key = chain::state_key(update.address);
        item.remove = update.account.is_empty();
        if (!item.remove) {
            item.leaf_hash = chain::state_leaf_hash(item.key, update.account);
        }
        m_items.push_back(item);
    }
    // The last update of an address wins: after a stable sort it is the last of its run.
    std::stable_sort(m_items.begin(), m_items.end(),
                     [](const Item& a, const Item& b) { return a.key < b.key; });
    std::size_t kept = 0;
    for (std::size_t i = 0; i < m_items.size(); ++i) {
        if (i + 1 < m_items.size() && m_items[i + 1].key == m_items[i].key) {
            continue;
        }
        m_items[kept++] = m_items[i];
    }
    m_items.resize(kept);
    m_root = update(m_root, 0, Hash256{}, m_items.data(), m_items.data() + m_items.size());
}

// Items are sorted by key and all share the subtree's `depth`-bit path.
Slot DiskState::update(const Slot& slot, unsigned depth, const Hash256& path, const Item* first,
                       const Item* last) {
    if (first == last || m_failure) {
        return slot;
    }
    if (slot.kind == SlotKind::inner) {
        if (depth >= 256) {  // only damaged records can claim an inner node down there
            fail(StoreError::corrupt, "a state node lies deeper than 256 levels");
            return slot;
        }
        const NodeKey key{static_cast<std::uint8_t>(depth), path};
        const auto record = load_record(key);
        if (!record) {
            return slot;
        }
        const Item* middle = std::partition_point(first, last, [depth](const Item& item) {
            return detail::key_bit(item.key, depth) == 0;
        });
        const Slot left = update(record->children[0], depth + 1, path, first, middle);
        const Slot right = update(record->children[1], depth + 1,
                                  detail::child_path(path, depth, 1), middle, last);
        if (m_failure) {
            return slot;
        }
        return combine(key, left, right, true);
    }
    // An empty or one-account subtree has no records below it: rebuild it from its leaves.
    m_leaves.clear();
    bool old_leaf_replaced = slot.kind != SlotKind::leaf;
    for (const Item* item = first; item != last; ++item) {
        if (slot.kind == SlotKind::leaf && item->key == slot.key) {
            old_leaf_replaced = true;
        }
        if (!item->remove) {
            m_leaves.push_back({item->key, item->leaf_hash});
        }
    }
    if (!old_leaf_replaced) {
        const Leaf old{slot.key, slot.hash};
        m_leaves.insert(
            std::lower_bound(m_leaves.begin(), m_leaves.end(), old,
                             [](const Leaf& a, const Leaf& b) { return a.key < b.key; }),
            old);
    }
    return build(depth, path, m_leaves);
}

Slot DiskState::build(unsigned depth, const Hash256& path, std::span<const Leaf> leaves) {
    if (leaves.empty()) {
        return {};
    }
    if (leaves.size() == 1) {
        return {SlotKind::leaf, leaves[0].hash, leaves[0].key};
    }
    require(depth < 256, "two leaves share a 256-bit key");
    const auto middle = std::partition_point(leaves.begin(), leaves.end(), [depth](const Leaf& l) {
        return detail::key_bit(l.key, depth) == 0;
    });
    const auto split = static_cast<std::size_t>(middle - leaves.begin());
    const Slot left = build(depth + 1, path, leaves.first(split));
    const Slot right = build(depth + 1, detail::child_path(path, depth, 1), leaves.subspan(split));
    return combine({static_cast<std::uint8_t>(depth), path}, left, right, false);
}

Slot DiskState::combine(const NodeKey& key, const Slot& left, const Slot& right, bool had_record) {
    const bool collapses = (left.kind == SlotKind::empty && right.kind != SlotKind::inner) ||
                           (right.kind == SlotKind::empty && left.kind != SlotKind::inner);
    if (collapses) {
        if (had_record) {
            m_pending_nodes[key] = std::nullopt;
        }
        return left.kind == SlotKind::empty ? right : left;
    }
    m_pending_nodes[key] = InnerRecord{{left, right}};
    return {SlotKind::inner, chain::state_node_hash(left.hash, right.hash), {}};
}

std::optional<InnerRecord> DiskState::load_record(const NodeKey& key) {
    if (const auto it = m_pending_nodes.find(key); it != m_pending_nodes.end()) {
        if (!it->second) {
            fail(StoreError::corrupt, "state node at depth " + std::to_string(key.depth) +
                                          " is referenced after its removal");
        }
        return it->second;
    }
    const bool cached = key.depth < CACHED_DEPTH;
    if (cached) {
        if (const auto& record = m_cache[cache_index(key)]) {
            return *record;
        }
    }
    const Bytes encoded_key = detail::encode_node_key(key);
    rocksdb::PinnableSlice value;
    const rocksdb::Status status =
        m_db->Get(rocksdb::ReadOptions(), m_nodes_cf, detail::slice(encoded_key), &value);
    if (!status.ok()) {
        if (status.IsNotFound()) {
            fail(StoreError::corrupt,
                 "state node at depth " + std::to_string(key.depth) + " is missing");
        } else {
            fail(StoreError::io_error, "reading a state node: " + status.ToString());
        }
        return std::nullopt;
    }
    auto record = detail::decode_record(detail::view(value));
    if (!record) {
        fail(StoreError::corrupt,
             "state node at depth " + std::to_string(key.depth) + " is malformed");
    } else if (cached) {
        m_cache[cache_index(key)] = std::make_unique<InnerRecord>(*record);
    }
    return record;
}

void DiskState::discard() {
    m_pending_accounts.clear();
    m_pending_nodes.clear();
    m_root = m_committed_root;
    m_dirty = false;
    m_failure.reset();
}

void DiskState::set_committed_root(const Slot& root) {
    for (auto& entry : m_cache) {
        entry.reset();
    }
    m_committed_root = root;
    discard();
}

void DiskState::write_pending(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle& meta) const {
    for (const auto& [address, account] : m_pending_accounts) {
        if (account.is_empty()) {
            batch.Delete(m_accounts_cf, detail::slice(address.bytes));
        } else {
            batch.Put(m_accounts_cf, detail::slice(address.bytes),
                      detail::slice(detail::encode_account(account)));
        }
    }
    for (const auto& [key, record] : m_pending_nodes) {
        const Bytes encoded_key = detail::encode_node_key(key);
        if (record) {
            batch.Put(m_nodes_cf, detail::slice(encoded_key),
                      detail::slice(detail::encode_record(*record)));
        } else {
            batch.Delete(m_nodes_cf, detail::slice(encoded_key));
        }
    }
    batch.Put(&meta, detail::slice(detail::META_STATE_ROOT),
              detail::slice(detail::encode_slot(m_root)));
}

void DiskState::mark_committed() {
    for (const auto& [key, record] : m_pending_nodes) {
        if (key.depth < CACHED_DEPTH) {
            auto& entry = m_cache[cache_index(key)];
            if (record && entry) {
                *entry = *record;
            } else if (record) {
                entry = std::make_unique<InnerRecord>(*record);
            } else {
                entry.reset();
            }
        }
    }
    m_committed_root = m_root;
    m_pending_accounts.clear();
    m_pending_nodes.clear();
    m_dirty = false;
}

}  // namespace chainmesh::store
