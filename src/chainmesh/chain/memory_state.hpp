#pragma once
// The account state in memory: the sparse Merkle tree of state.hpp with every node's hash
// cached, so a batch of updates rehashes only the paths it touches.
//
// Costs, for A accounts and a batch touching K of them: account() is one SHA-256 and a walk
// of about log2(A) nodes; apply() sorts the batch and rehashes each touched path once (paths
// shared near the root once for the whole batch), about K × log2(A) hashes. Memory is about
// 100 bytes per account plus 40 per inner node (A - 1 inner nodes, plus a few where keys share
// long prefixes). Building from scratch is apply() on an empty state: one hash per node.
// Depth is bounded by 256 (distinct SHA-256 keys differ within 256 bits).
//
// Not thread-safe; copyable (a deep copy).

#include <chainmesh/chain/state.hpp>

#include <functional>
#include <vector>

namespace chainmesh::chain {

class MemoryState final : public AccountState {
public:
    Account account(const Address& address) const override;
    Hash256 root() const override;
    void apply(std::span<const AccountUpdate> updates) override;

    std::size_t size() const { return m_size; }  // accounts present
    // Visits every account in key order (SHA-256(address)), which is the tree's order.
    void for_each(const std::function<void(const Address&, const Account&)>& visit) const;
    // Aborts when the tree breaks a structural rule or a cached hash is stale.
    void check_invariants() const;

private:
    using NodeRef = std::uint32_t;
    static constexpr NodeRef EMPTY = 0xffffffffU;
    static constexpr NodeRef LEAF_FLAG = 0x80000000U;

    struct Inner {
        Hash256 hash;
        NodeRef children[2];
    };
    struct Leaf {
        Hash256 key;
        Hash256 hash;
        Address address;
        Account account;
    };
    struct Item {
        Hash256 key;
        Address address;
        Account account;  // empty: remove
    };

    static bool is_leaf(NodeRef ref) { return ref != EMPTY && (ref & LEAF_FLAG) != 0; }
    static std::uint32_t index(NodeRef ref) { return ref & ~LEAF_FLAG; }

    const Hash256& hash_of(NodeRef ref) const;
    NodeRef new_leaf(const Item& item);
    NodeRef new_inner(NodeRef left, NodeRef right);
    void free_node(NodeRef ref);
    NodeRef update(NodeRef node, unsigned depth, Item* first, Item* last);
    NodeRef build(unsigned depth, Item* first, Item* last);
    std::size_t check_node(NodeRef node, unsigned depth, const Hash256& path) const;
    void visit_node(NodeRef node,
                    const std::function<void(const Address&, const Account&)>& visit) const;

    std::vector<Inner> m_inners;
    std::vector<Leaf> m_leaves;
    std::vector<std::uint32_t> m_free_inners;
    std::vector<std::uint32_t> m_free_leaves;
    std::vector<Item> m_scratch;
    NodeRef m_root = EMPTY;
    std::size_t m_size = 0;
};

}  // namespace chainmesh::chain
