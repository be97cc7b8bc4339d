#include <chainmesh/sim/topology.hpp>

#include <algorithm>
#include <set>

namespace chainmesh::sim {

Links full_links(std::size_t nodes) {
    Links links;
    for (NodeIndex a = 0; a < nodes; ++a) {
        for (NodeIndex b = a + 1; b < nodes; ++b) {
            links.emplace_back(a, b);
        }
    }
    return links;
}

Links line_links(std::size_t nodes) {
    Links links;
    for (NodeIndex a = 0; a + 1 < nodes; ++a) {
        links.emplace_back(a, a + 1);
    }
    return links;
}

void make_random_regular(std::size_t nodes, std::size_t degree, Rng& rng,
                         const std::function<void(NodeIndex, NodeIndex)>& make) {
    if (nodes < 2) {
        return;
    }
    const auto n = static_cast<NodeIndex>(nodes);
    std::set<std::pair<NodeIndex, NodeIndex>> made;  // (low, high)
    std::vector<std::size_t> count(nodes, 0);
    const auto add = [&](NodeIndex a, NodeIndex b) {
        if (made.emplace(std::min(a, b), std::max(a, b)).second) {
            ++count[a];
            ++count[b];
            make(a, b);
        }
    };
    for (NodeIndex a = 0; a < n; ++a) {
        add(a, (a + 1) % n);
    }
    degree = std::min<std::size_t>(degree, nodes - 1);
    for (NodeIndex a = 0; a < n; ++a) {
        for (std::size_t tries = 0; count[a] < degree && tries < 20 * degree; ++tries) {
            const auto b = static_cast<NodeIndex>(rng.uniform(n));
            if (b != a && count[b] < degree + 2) {
                add(a, b);
            }
        }
    }
}

Links random_regular_links(std::size_t nodes, std::size_t degree, Rng& rng) {
    Links links;
    make_random_regular(nodes, degree, rng,
                        [&links](NodeIndex a, NodeIndex b) { links.emplace_back(a, b); });
    return links;
}

}  // namespace chainmesh::sim
