// Fuzz target `peer_list`: the /chainmesh/peers/1.0.0 decoder on arbitrary bytes. A list that
// decodes must re-encode to exactly the input (the codec is strict: one encoding each).

#include "fuzz_target.hpp"

#include <chainmesh/discovery/peer_list.hpp>

#include <cstdlib>

CHAINMESH_FUZZ_TARGET(peer_list, data) {
    auto records = chainmesh::discovery::decode_peer_list(data);
    if (!records) {
        return;
    }
    if (!chainmesh::equal(chainmesh::discovery::encode_peer_list(*records), data)) {
        std::abort();
    }
}
