#pragma once
// The ping protocol (libp2p ping spec; libp2p-interop.md §7): the dialer writes 32 random bytes,
// the listener echoes them, repeated on one stream; no framing.

#include <cstddef>
#include <string_view>
#include <chrono>

namespace chainmesh::protocols {

inline constexpr std::string_view PING_PROTOCOL_ID = "/ipfs/ping/1.0.0";
inline constexpr std::size_t PING_PAYLOAD_BYTES = 32;
// Listeners accept at most this many concurrent inbound ping streams per peer.
inline constexpr std::size_t PING_MAX_INBOUND_STREAMS_PER_PEER = 2;

}  // namespace chainmesh::protocols
