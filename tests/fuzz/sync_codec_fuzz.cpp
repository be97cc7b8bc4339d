// Fuzz target `sync_codec`: the sync protocol's decoder on arbitrary bytes. A message that
// decodes must re-encode to exactly the input (the codec is strict: one encoding each).

#include "fuzz_target.hpp"

#include <chainmesh/sync/sync_codec.hpp>

#include <cstdlib>

CHAINMESH_FUZZ_TARGET(sync_codec, data) {
    auto message = chainmesh::sync::decode(data);
    if (!message) {
        return;
    }
    if (!chainmesh::equal(chainmesh::sync::encode(*message), data)) {
        std::abort();
    }
}
