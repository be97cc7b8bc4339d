#pragma once
// Message ids (libp2p-interop.md §9, pitfall 1): the bytes that name a message in the seen
// cache, the message cache, IHAVE/IWANT/IDONTWANT and scoring. They cross the wire, so every
// node of a network must compute the same function.
//
// - js_message_id (our default under StrictSign, so that we interoperate with js-libp2p out of
//   the box): the author's PublicKey protobuf ‖ seqno. For an Ed25519 author that is the peer
//   id without its `00 24` identity-multihash prefix. For a hashed peer id (RSA, ECDSA) the key
//   comes from the message's `key` field.
// - go_message_id: `from` ‖ seqno, the raw bytes.
// - content_message_id: SHA-256(topic ‖ data)[:20], for StrictNoSign, where no author exists.
// The functions are total: a missing field counts as empty bytes (the router checks the
// signing policy before it asks for an id).
//
// MessageIdHasher keys unordered containers by id with SipHash-2-4 under a key the router
// draws from its Rng. Rationale: under the js or go id a peer picks 8 bytes of every id (its
// seqno) for free, and an unkeyed hash would let it aim every id at one bucket.

#include <chainmesh/pubsub/rpc.hpp>

#include <cstdint>
#include <functional>

namespace chainmesh::pubsub {

inline constexpr std::size_t CONTENT_MESSAGE_ID_BYTES = 20;

using MessageIdFn = std::function<MessageId(const Message&)>;

MessageId js_message_id(const Message& message);
MessageId go_message_id(const Message& message);
MessageId content_message_id(const Message& message);

// SipHash-2-4 (Aumasson and Bernstein) of `data` under the 128-bit key (k0, k1), the key's
// bytes read little-endian.
std::uint64_t siphash24(std::uint64_t k0, std::uint64_t k1, ByteView data);

struct MessageIdHasher {
    std::uint64_t k0 = 0x0706050403020100ULL;
    std::uint64_t k1 = 0x0f0e0d0c0b0a0908ULL;
    std::size_t operator()(const MessageId& id) const noexcept {
        return static_cast<std::size_t>(siphash24(k0, k1, id));
    }
};

}  // namespace chainmesh::pubsub
