#pragma once
// Peer ids and addresses for the discovery tests: cheap, distinct and readable.

#include <chainmesh/crypto/peer_id.hpp>
#include <chainmesh/util/bytes.hpp>
#include <chainmesh/wire/multiaddr.hpp>

#include <cstdint>
#include <string>

namespace chainmesh::discovery::fixtures {

// A sha2-256 peer id whose digest spells `n`.
inline crypto::PeerId peer(std::uint16_t n) {
    Bytes multihash{0x12, 0x20};
    multihash.resize(34, static_cast<std::uint8_t>(n));
    multihash[2] = static_cast<std::uint8_t>(n >> 8);
    return crypto::PeerId::from_bytes(multihash).value();
}

inline wire::Multiaddr ma(const std::string& text) {
    return wire::Multiaddr::parse(text).value();
}

}  // namespace chainmesh::discovery::fixtures
