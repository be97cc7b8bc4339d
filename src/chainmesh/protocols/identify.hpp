#pragma once
// The identify protocol's message (libp2p identify spec; libp2p-interop.md §8).
//
// `/ipfs/id/1.0.0`: the stream's opener reads one or more length-prefixed Identify messages
// until EOF; the listener writes its own and closes. `/ipfs/id/push/1.0.0`: the opener writes
// one and closes, and the receiver merges the fields that are present.
//
// Bounds: a message is at most IDENTIFY_MAX_MESSAGE_BYTES, a stream carries at most
// IDENTIFY_MAX_MESSAGES, and each list at most IDENTIFY_MAX_LIST_ENTRIES entries.
// Unknown fields (go's signedPeerRecord, field 8, for now) are skipped.

#include <chainmesh/crypto/public_key.hpp>
#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>
#include <chainmesh/wire/multiaddr.hpp>

#include <optional>
#include <string>
#include <vector>

namespace chainmesh::protocols {

inline constexpr std::string_view IDENTIFY_PROTOCOL_ID = "/ipfs/id/1.0.0";
inline constexpr std::string_view IDENTIFY_PUSH_PROTOCOL_ID = "/ipfs/id/push/1.0.0";
inline constexpr std::string_view IDENTIFY_PROTOCOL_VERSION = "ipfs/0.1.0";
inline constexpr std::size_t IDENTIFY_MAX_MESSAGE_BYTES = 8 * 1024;
inline constexpr std::size_t IDENTIFY_MAX_MESSAGES = 10;
inline constexpr std::size_t IDENTIFY_MAX_LIST_ENTRIES = 128;

enum class IdentifyError { malformed = 1, too_large, too_many_entries, bad_public_key };
std::string_view describe(IdentifyError e);

struct IdentifyMessage {
    std::optional<std::string> protocol_version;
    std::optional<std::string> agent_version;
    std::optional<crypto::PublicKey> public_key;
    // Addresses that do not decode are kept out, not an error: a peer may know protocols we don't.
    std::vector<wire::Multiaddr> listen_addrs;
    std::optional<wire::Multiaddr> observed_addr;
    std::vector<std::string> protocols;

    Bytes encode() const;  // the protobuf body, without length prefix
    static Result<IdentifyMessage> decode(ByteView body);
    // Push semantics: fields present in `update` replace ours.
    void merge(const IdentifyMessage& update);
};

}  // namespace chainmesh::protocols

CHAINMESH_ERROR_ENUM(chainmesh::protocols, IdentifyError, "identify")
