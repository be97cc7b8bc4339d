#pragma once
// The Merkle root of a block's transaction ids (docs/protocol.md §5.3).
//
//     leaf(id)     = SHA-256(0x00 ‖ id)
//     node(l, r)   = SHA-256(0x01 ‖ l ‖ r)
//     root([])     = 32 zero bytes
//     root([x])    = leaf(x)
//     root(list)   = node(root(first k), root(rest)), k the largest power of two < size
//
// This is RFC 6962's tree shape: an odd node is carried up unchanged, never paired with a
// copy of itself. Rationale: Bitcoin duplicates the last node of an odd level, so [a, b, c]
// and [a, b, c, c] share a root (CVE-2012-2459); here they do not, and the 0x00/0x01 prefixes
// stop a pair of ids from passing as an inner node (a second preimage with a shorter list).

#include <chainmesh/crypto/sha256.hpp>

#include <span>
#include <vector>

namespace chainmesh::chain {

using crypto::Hash256;

Hash256 merkle_leaf(const Hash256& id);
Hash256 merkle_node(const Hash256& left, const Hash256& right);

// Linear time, one pass per level, hashing each inner node once.
Hash256 merkle_root(std::span<const Hash256> ids);

}  // namespace chainmesh::chain
