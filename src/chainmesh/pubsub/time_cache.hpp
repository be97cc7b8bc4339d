#pragma once
// Maps and sets whose entries leave `ttl` after they were inserted, holding at most
// `max_entries` (the oldest go first): the gossipsub seen cache and the score's delivery
// records.
//
// Entries leave only in insertion order, so one FIFO of pointers into the map's nodes (stable
// across rehashing) is all the bookkeeping: insert, lookup and expiry are O(1) amortised, and
// each key is stored once. Insert times are expected not to decrease; when a caller's clock
// does go back, entries still leave in insertion order.

#include <chainmesh/util/instant.hpp>

#include <cassert>
#include <cstddef>
#include <deque>
#include <functional>
#include <unordered_map>
#include <utility>

namespace chainmesh::pubsub {

template <class Key, class Value, class Hash = std::hash<Key>>
class TimeMap {
public:
    TimeMap(Duration ttl, std::size_t max_entries, Hash hash = Hash{})
        : m_entries(16, std::move(hash)), m_ttl(ttl), m_max_entries(max_entries) {
        assert(max_entries > 0);
    }

    // Adds `key` with `value`; when the key is present, returns the entry held, unchanged
    // (its expiry is not extended), and false.
    std::pair<Value*, bool> insert(const Key& key, Value value, Instant now) {
        auto [it, added] = m_entries.try_emplace(key, Entry{now, std::move(value)});
        if (!added) {
            return {&it->second.value, false};
        }
        m_order.push_back(&*it);
        while (m_entries.size() > m_max_entries) {
            pop_oldest();
        }
        // Erasing other elements leaves `it` valid, and the new entry is the youngest.
        return {&it->second.value, true};
    }

    Value* find(const Key& key) {
        auto it = m_entries.find(key);
        return it == m_entries.end() ? nullptr : &it->second.value;
    }
    const Value* find(const Key& key) const {
        auto it = m_entries.find(key);
        return it == m_entries.end() ? nullptr : &it->second.value;
    }
    bool contains(const Key& key) const { return m_entries.contains(key); }

    // Forgets the entries inserted at or before now - ttl.
    void expire(Instant now) {
        while (!m_order.empty() && m_order.front()->second.inserted + m_ttl <= now) {
            pop_oldest();
        }
    }

    std::size_t size() const { return m_entries.size(); }
    std::size_t max_entries() const { return m_max_entries; }
    bool consistent() const {
        return m_order.size() == m_entries.size() && m_entries.size() <= m_max_entries;
    }

private:
    struct Entry {
        Instant inserted;
        Value value;
    };
    using Map = std::unordered_map<Key, Entry, Hash>;

    void pop_oldest() {
        const auto* oldest = m_order.front();
        m_order.pop_front();
        m_entries.erase(m_entries.find(oldest->first));
    }

    Map m_entries;
    std::deque<const typename Map::value_type*> m_order;
    Duration m_ttl;
    std::size_t m_max_entries;
};

template <class Key, class Hash = std::hash<Key>>
class TimeCache {
public:
    TimeCache(Duration ttl, std::size_t max_entries, Hash hash = Hash{})
        : m_map(ttl, max_entries, std::move(hash)) {}

    // Adds `key`; false when it is already present.
    bool insert(const Key& key, Instant now) { return m_map.insert(key, Empty{}, now).second; }
    bool contains(const Key& key) const { return m_map.contains(key); }
    void expire(Instant now) { m_map.expire(now); }
    std::size_t size() const { return m_map.size(); }
    std::size_t max_entries() const { return m_map.max_entries(); }
    bool consistent() const { return m_map.consistent(); }

private:
    struct Empty {};
    TimeMap<Key, Empty, Hash> m_map;
};

}  // namespace chainmesh::pubsub
