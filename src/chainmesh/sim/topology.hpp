#pragma once
// Topologies for the simulated networks (gossip_network.hpp, wire_network.hpp): the links to
// make, as (a, b) pairs in the order they are made, each pair of nodes once. `a` is the end
// that dials where direction matters (the wire stack, a router's outbound flag).

#include <chainmesh/sim/message_log.hpp>
#include <chainmesh/util/rng.hpp>

#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

namespace chainmesh::sim {

using Links = std::vector<std::pair<NodeIndex, NodeIndex>>;

Links full_links(std::size_t nodes);
Links line_links(std::size_t nodes);
// A ring, then random extra links until every node has at least `degree` (at most
// 20 × degree tries per node, and a node already at degree + 2 is not picked: "-ish"), so
// connected by construction. Every draw comes from `rng`, in order; `make` is called for
// each new link as it is chosen, so a caller whose links themselves draw from the same Rng
// (GossipNetwork: a link's first RPCs) keeps one interleaved sequence of draws.
void make_random_regular(std::size_t nodes, std::size_t degree, Rng& rng,
                         const std::function<void(NodeIndex, NodeIndex)>& make);
Links random_regular_links(std::size_t nodes, std::size_t degree, Rng& rng);

}  // namespace chainmesh::sim
