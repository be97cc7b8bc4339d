// peer_id: the input as text goes to PeerId::parse, and as bytes to PeerId::from_bytes. A valid
// id must survive both text forms and its bytes unchanged.

#include "fuzz_target.hpp"

#include <chainmesh/crypto/peer_id.hpp>

#include <cstdio>
#include <cstdlib>

namespace chainmesh::fuzz {
namespace {

void check(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "peer_id fuzz invariant broken: %s\n", what);
        std::abort();
    }
}

void check_round_trips(const crypto::PeerId& id) {
    check(id.bytes().size() <= crypto::PEER_ID_MAX_BYTES, "id within its bound");
    auto from_base58 = crypto::PeerId::parse(id.to_base58());
    check(from_base58 && *from_base58 == id, "base58 text round-trips");
    auto from_cid = crypto::PeerId::parse(id.to_cid());
    check(from_cid && *from_cid == id, "CID text round-trips");
    auto from_bytes = crypto::PeerId::from_bytes(id.bytes());
    check(from_bytes && *from_bytes == id, "bytes round-trip");
    (void)id.public_key();
    (void)std::hash<crypto::PeerId>{}(id);
}

}  // namespace

CHAINMESH_FUZZ_TARGET(peer_id, data) {
    if (auto id = crypto::PeerId::parse(as_string(data))) {
        check_round_trips(*id);
    }
    if (auto id = crypto::PeerId::from_bytes(data)) {
        check(equal(id->bytes(), data), "from_bytes keeps the bytes as given");
        check_round_trips(*id);
    }
}

}  // namespace chainmesh::fuzz
