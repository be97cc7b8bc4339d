#pragma once
// The peer-list exchange, /chainmesh/peers/1.0.0: ask a connected peer for some of the peers
// it knows, to fill our PeerBook (peer_book.hpp) beyond the bootstrap list.
//
// Framing: the requester opens a stream, negotiates PEER_LIST_PROTOCOL_ID, sends nothing and
// half-closes; the responder writes one frame, uvarint(length) ‖ body, and closes. The caller
// checks the length against MAX_PEER_LIST_BYTES before reading the body. Rationale: a request
// with no parameters needs no request message; the responder decides what to share (a random
// sample, PeerBook::sample), so a requester cannot walk the responder's whole book.
//
// Body, integers big-endian:
//
//     u8 n (0..MAX_PEER_LIST_PEERS)
//     n × ( u8 id_len ‖ id_len bytes: crypto::PeerId binary form (its multihash)
//           ‖ u8 m (1..MAX_PEER_LIST_ADDRS)
//           ‖ m × ( u16 len ‖ len bytes: wire::Multiaddr binary form ) )
//
// Decoding is strict: every byte consumed, counts within bounds, each peer id and multiaddr
// must parse, every length checked against the bytes present before anything is allocated.
// Rationale: a response is hostile input, and a strict codec has one encoding per message, so
// fuzzing finds the edge cases of one format, not of two. Decoding does not judge whether an
// address is worth dialing: PeerBook::add_addresses filters, with PeerSource::peer_list.
//
// Bounds: a body is at most MAX_PEER_LIST_BYTES (checked first), so decoding allocates at most
// MAX_PEER_LIST_PEERS records of at most MAX_PEER_LIST_ADDRS addresses, each at most
// wire::MULTIADDR_MAX_BYTES. Pure functions; no state, safe from any thread.

#include <chainmesh/crypto/peer_id.hpp>
#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>
#include <chainmesh/wire/multiaddr.hpp>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace chainmesh::discovery {

inline constexpr std::string_view PEER_LIST_PROTOCOL_ID = "/chainmesh/peers/1.0.0";
inline constexpr std::size_t MAX_PEER_LIST_BYTES = 64 * 1024;
inline constexpr std::size_t MAX_PEER_LIST_PEERS = 32;
inline constexpr std::size_t MAX_PEER_LIST_ADDRS = 8;

enum class PeerListError {
    too_large = 1,      // a body above MAX_PEER_LIST_BYTES
    truncated,          // a count or length promises more bytes than are present
    trailing_bytes,     // bytes left after the last record
    too_many_peers,     // n above MAX_PEER_LIST_PEERS
    bad_address_count,  // m of 0 or above MAX_PEER_LIST_ADDRS
    bad_peer_id,        // id bytes that are not a valid peer id
    bad_multiaddr,      // address bytes that are not a valid multiaddr
};
std::string_view describe(PeerListError e);
std::string_view name(PeerListError e);

// A peer and where it may be reached: what a peer list carries and PeerBook::sample returns.
struct PeerRecord {
    crypto::PeerId peer;
    std::vector<wire::Multiaddr> addrs;

    friend bool operator==(const PeerRecord&, const PeerRecord&) = default;
};

// The body of a response. Encodes what fits the bounds, in order: the first
// MAX_PEER_LIST_PEERS records that have an address, each with its first MAX_PEER_LIST_ADDRS
// non-empty addresses; a record that would take the body past MAX_PEER_LIST_BYTES is left out.
// The result always decodes.
Bytes encode_peer_list(std::span<const PeerRecord> records);

Result<std::vector<PeerRecord>> decode_peer_list(ByteView body);

}  // namespace chainmesh::discovery

CHAINMESH_ERROR_ENUM(chainmesh::discovery, PeerListError, "peer-list")
