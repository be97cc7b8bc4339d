#include <chainmesh/chain/detail/require.hpp>
#include <chainmesh/chain/memory_state.hpp>

#include <algorithm>

namespace chainmesh::chain {

namespace {
// The tree branches on the key's bits, most significant first.
unsigned bit(const Hash256& key, unsigned depth) {
    return (key[depth / 8] >> (7 - depth % 8)) & 1U;
}

bool same_prefix(const Hash256& a, const Hash256& b, unsigned bits) {
    for (unsigned i = 0; i < bits; ++i) {
        if (bit(a, i) != bit(b, i)) {
            return false;
        }
    }
    return true;
}
}  // namespace

const Hash256& MemoryState::hash_of(NodeRef ref) const {
    if (ref == EMPTY) {
        return EMPTY_STATE_ROOT;
    }
    if (is_leaf(ref)) {
        return m_leaves[index(ref)].hash;
    }
    return m_inners[ref].hash;
}

MemoryState::NodeRef MemoryState::new_leaf(const Item& item) {
    Leaf leaf{item.key, state_leaf_hash(item.key, item.account), item.address, item.account};
    std::uint32_t i = 0;
    if (!m_free_leaves.empty()) {
        i = m_free_leaves.back();
        m_free_leaves.pop_back();
        m_leaves[i] = leaf;
    } else {
        CHAINMESH_CHAIN_REQUIRE(m_leaves.size() < LEAF_FLAG);
        i = static_cast<std::uint32_t>(m_leaves.size());
        m_leaves.push_back(leaf);
    }
    ++m_size;
    return i | LEAF_FLAG;
}

MemoryState::NodeRef MemoryState::new_inner(NodeRef left, NodeRef right) {
    Inner inner{state_node_hash(hash_of(left), hash_of(right)), {left, right}};
    std::uint32_t i = 0;
    if (!m_free_inners.empty()) {
        i = m_free_inners.back();
        m_free_inners.pop_back();
        m_inners[i] = inner;
    } else {
        CHAINMESH_CHAIN_REQUIRE(m_inners.size() < LEAF_FLAG);
        i = static_cast<std::uint32_t>(m_inners.size());
        m_inners.push_back(inner);
    }
    return i;
}

void MemoryState::free_node(NodeRef ref) {
    if (is_leaf(ref)) {
        --m_size;
        m_free_leaves.push_back(index(ref));
    } else {
        m_free_inners.push_back(ref);
    }
}

Account MemoryState::account(const Address& address) const {
    const Hash256 key = state_key(address);
    NodeRef node = m_root;
    unsigned depth = 0;
    while (node != EMPTY && !is_leaf(node)) {
        node = m_inners[node].children[bit(key, depth)];
        ++depth;
    }
    if (node != EMPTY && m_leaves[index(node)].key == key) {
        return m_leaves[index(node)].account;
    }
    return {};
}

Hash256 MemoryState::root() const {
    return hash_of(m_root);
}

void MemoryState::apply(std::span<const AccountUpdate> updates) {
    if (updates.empty()) {
        return;
    }
    std::vector<Item> items;
    items.reserve(updates.size());
    for (const AccountUpdate& u : updates) {
        items.push_back(Item{state_key(u.address), u.address, u.account});
    }
    std::stable_sort(items.begin(), items.end(),
                     [](const Item& a, const Item& b) { return a.key < b.key; });
    // Of several updates to one account, the last one wins.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i + 1 < items.size() && items[i + 1].key == items[i].key) {
            continue;
        }
        items[kept++] = items[i];
    }
    items.resize(kept);
    m_root = update(m_root, 0, items.data(), items.data() + items.size());
}

// Returns the new root of the subtree at `node` (depth `depth`) after applying the sorted,
// distinct updates [first, last), all of which share the subtree's key prefix.
MemoryState::NodeRef MemoryState::update(NodeRef node, unsigned depth, Item* first, Item* last) {
    if (first == last) {
        return node;
    }
    if (node == EMPTY) {
        return build(depth, first, last);
    }
    if (is_leaf(node)) {
        const Leaf& leaf = m_leaves[index(node)];
        const Item existing{leaf.key, leaf.address, leaf.account};
        if (last - first == 1 && first->key == existing.key) {
            if (first->account.is_empty()) {
                free_node(node);
                return EMPTY;
            }
            Leaf& changed = m_leaves[index(node)];
            changed.account = first->account;
            changed.hash = state_leaf_hash(changed.key, changed.account);
            return node;
        }
        // The leaf meets other keys: rebuild this subtree from the batch plus the leaf.
        free_node(node);
        Item* match = std::lower_bound(first, last, existing.key,
                                       [](const Item& a, const Hash256& k) { return a.key < k; });
        if (match != last && match->key == existing.key) {
            return build(depth, first, last);
        }
        m_scratch.assign(first, match);
        m_scratch.push_back(existing);
        m_scratch.insert(m_scratch.end(), match, last);
        return build(depth, m_scratch.data(), m_scratch.data() + m_scratch.size());
    }
    Item* mid = std::partition_point(first, last,
                                     [depth](const Item& it) { return bit(it.key, depth) == 0; });
    const NodeRef left = update(m_inners[node].children[0], depth + 1, first, mid);
    const NodeRef right = update(m_inners[node].children[1], depth + 1, mid, last);
    // A subtree left with one account collapses into that account's leaf.
    if (left == EMPTY && (right == EMPTY || is_leaf(right))) {
        free_node(node);
        return right;
    }
    if (right == EMPTY && is_leaf(left)) {
        free_node(node);
        return left;
    }
    Inner& inner = m_inners[node];
    inner.children[0] = left;
    inner.children[1] = right;
    inner.hash = state_node_hash(hash_of(left), hash_of(right));
    return node;
}

// Builds the subtree of the sorted, distinct items [first, last), skipping removals.
MemoryState::NodeRef MemoryState::build(unsigned depth, Item* first, Item* last) {
    const Item* live = nullptr;
    std::size_t count = 0;
    for (const Item* it = first; it != last && count < 2; ++it) {
        if (!it->account.is_empty()) {
            live = it;
            ++count;
        }
    }
    if (count == 0) {
        return EMPTY;
    }
    if (count == 1) {
        return new_leaf(*live);
    }
    CHAINMESH_CHAIN_REQUIRE(depth < 256);
    Item* mid = std::partition_point(first, last,
                                     [depth](const Item& it) { return bit(it.key, depth) == 0; });
    const NodeRef left = build(depth + 1, first, mid);
    const NodeRef right = build(depth + 1, mid, last);
    return new_inner(left, right);
}

void MemoryState::for_each(const std::function<void(const Address&, const Account&)>& visit) const {
    visit_node(m_root, visit);
}

void MemoryState::visit_node(
    NodeRef node, const std::function<void(const Address&, const Account&)>& visit) const {
    if (node == EMPTY) {
        return;
    }
    if (is_leaf(node)) {
        const Leaf& leaf = m_leaves[index(node)];
        visit(leaf.address, leaf.account);
        return;
    }
    visit_node(m_inners[node].children[0], visit);
    visit_node(m_inners[node].children[1], visit);
}

void MemoryState::check_invariants() const {
    CHAINMESH_CHAIN_REQUIRE(check_node(m_root, 0, Hash256{}) == m_size);
    CHAINMESH_CHAIN_REQUIRE(m_leaves.size() - m_free_leaves.size() == m_size);
}

std::size_t MemoryState::check_node(NodeRef node, unsigned depth, const Hash256& path) const {
    if (node == EMPTY) {
        return 0;
    }
    if (is_leaf(node)) {
        const Leaf& leaf = m_leaves[index(node)];
        CHAINMESH_CHAIN_REQUIRE(!leaf.account.is_empty());
        CHAINMESH_CHAIN_REQUIRE(leaf.key == state_key(leaf.address));
        CHAINMESH_CHAIN_REQUIRE(leaf.hash == state_leaf_hash(leaf.key, leaf.account));
        CHAINMESH_CHAIN_REQUIRE(same_prefix(leaf.key, path, depth));
        return 1;
    }
    CHAINMESH_CHAIN_REQUIRE(depth < 256);
    const Inner& inner = m_inners[node];
    const NodeRef left = inner.children[0];
    const NodeRef right = inner.children[1];
    CHAINMESH_CHAIN_REQUIRE(!(left == EMPTY && (right == EMPTY || is_leaf(right))));
    CHAINMESH_CHAIN_REQUIRE(!(right == EMPTY && is_leaf(left)));
    CHAINMESH_CHAIN_REQUIRE(inner.hash == state_node_hash(hash_of(left), hash_of(right)));
    Hash256 right_path = path;
    right_path[depth / 8] =
        static_cast<std::uint8_t>(right_path[depth / 8] | (0x80U >> (depth % 8)));
    return check_node(left, depth + 1, path) + check_node(right, depth + 1, right_path);
}

}  // namespace chainmesh::chain
