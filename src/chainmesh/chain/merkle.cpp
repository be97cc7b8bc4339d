#include <chainmesh/chain/merkle.hpp>

#include <cstring>

namespace chainmesh::chain {

Hash256 merkle_leaf(const Hash256& id) {
    ByteArray<1 + 32> preimage;
    preimage[0] = 0x00;
    std::memcpy(preimage.data() + 1, id.data(), id.size());
    return crypto::sha256(preimage);
}

Hash256 merkle_node(const Hash256& left, const Hash256& right) {
    ByteArray<1 + 64> preimage;
    preimage[0] = 0x01;
    std::memcpy(preimage.data() + 1, left.data(), left.size());
    std::memcpy(preimage.data() + 33, right.data(), right.size());
    return crypto::sha256(preimage);
}

Hash256 merkle_root(std::span<const Hash256> ids) {
    if (ids.empty()) {
        return Hash256{};
    }
    std::vector<Hash256> level;
    level.reserve(ids.size());
    for (const Hash256& id : ids) {
        level.push_back(merkle_leaf(id));
    }
    // Pairing left to right and carrying an odd last node up unchanged gives exactly the
    // split-at-the-largest-power-of-two tree of the definition.
    while (level.size() > 1) {
        std::size_t out = 0;
        for (std::size_t i = 0; i + 1 < level.size(); i += 2) {
            level[out++] = merkle_node(level[i], level[i + 1]);
        }
        if (level.size() % 2 == 1) {
            level[out++] = level.back();
        }
        level.resize(out);
    }
    return level.front();
}

}  // namespace chainmesh::chain
