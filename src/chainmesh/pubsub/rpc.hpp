#pragma once
// The pubsub RPC protobuf (libp2p pubsub/README.md, gossipsub-v1.1.md, v1.2 IDONTWANT;
// libp2p-interop.md §9): what one length-prefixed frame on a `/meshsub/1.x.0` stream holds.
// The length prefix itself is the driver's; these functions see one RPC body.
//
// Rules:
// - Decoding is bounded: the body must be at most `max_bytes` (checked before anything is
//   read), and every list is capped by RpcLimits; a body over a bound is an error, not a
//   truncation. Rationale: protobuf entries cost 2 bytes on the wire but a struct each in
//   memory, so the byte bound alone does not bound allocation.
// - Unknown fields are skipped at every level (pitfall 10); a known field with the wrong wire
//   type is malformed.
// - Presence is kept for the Message fields that StrictSign and StrictNoSign talk about
//   (`from`, `data`, `seqno`, `signature`, `key`): StrictNoSign requires them *absent*, and the
//   signed bytes are a re-encoding, so a field the sender wrote empty must be written again.
// - Encoding writes fields in ascending number order with minimal varints (deterministic), and
//   always writes the topic strings; StrictSign signs "libp2p-pubsub:" ‖ fields 1-4 of the
//   Message in that form (signing_bytes()).

#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chainmesh::pubsub {

using Topic = std::string;
using MessageId = Bytes;

inline constexpr std::string_view SIGNING_PREFIX = "libp2p-pubsub:";
inline constexpr std::size_t SEQNO_BYTES = 8;

enum class PubsubError {
    rpc_too_large = 1,
    malformed_rpc,
    too_many_entries,
    message_too_large,
    duplicate_message,
};
std::string_view describe(PubsubError e);

// Caps on the lists of one decoded RPC. The defaults leave room for what go and js send
// (IHAVE carries up to 5000 ids per topic) while keeping a 4 MiB body to a few MiB of memory.
struct RpcLimits {
    std::size_t max_subscriptions = 5000;
    std::size_t max_messages = 10000;
    std::size_t max_control_entries = 5000;  // per list: ihave, iwant, graft, prune, idontwant
    std::size_t max_message_ids = 20000;     // over all IHAVE, IWANT and IDONTWANT entries together
    std::size_t max_prune_peers = 256;       // PX entries over all PRUNEs
};

struct SubOpts {
    bool subscribe = false;
    Topic topic;
    friend bool operator==(const SubOpts&, const SubOpts&) = default;
};

struct Message {
    std::optional<Bytes> from;   // 1: the author's peer id bytes
    std::optional<Bytes> data;   // 2
    std::optional<Bytes> seqno;  // 3: 8 bytes, big-endian
    Topic topic;                 // 4
    std::optional<Bytes> signature;  // 5
    std::optional<Bytes> key;        // 6: the author's PublicKey protobuf

    // All present fields, ascending.
    Bytes encode() const;
    // "libp2p-pubsub:" ‖ protobuf of fields 1-4 only: what StrictSign signs.
    Bytes signing_bytes() const;
    // A single Message body; unknown fields skipped. Not bounded by itself: callers bound the
    // input (Rpc::decode does).
    static Result<Message> decode(ByteView body);

    friend bool operator==(const Message&, const Message&) = default;
};

struct ControlIHave {
    Topic topic;
    std::vector<MessageId> message_ids;
    friend bool operator==(const ControlIHave&, const ControlIHave&) = default;
};

struct ControlIWant {
    std::vector<MessageId> message_ids;
    friend bool operator==(const ControlIWant&, const ControlIWant&) = default;
};

struct ControlGraft {
    Topic topic;
    friend bool operator==(const ControlGraft&, const ControlGraft&) = default;
};

struct PeerInfo {
    Bytes peer_id;
    std::optional<Bytes> signed_peer_record;
    friend bool operator==(const PeerInfo&, const PeerInfo&) = default;
};

struct ControlPrune {
    Topic topic;
    std::vector<PeerInfo> peers;                  // v1.1 peer exchange
    std::optional<std::uint64_t> backoff_seconds;  // v1.1
    friend bool operator==(const ControlPrune&, const ControlPrune&) = default;
};

struct ControlIDontWant {
    std::vector<MessageId> message_ids;
    friend bool operator==(const ControlIDontWant&, const ControlIDontWant&) = default;
};

struct ControlMessage {
    std::vector<ControlIHave> ihave;
    std::vector<ControlIWant> iwant;
    std::vector<ControlGraft> graft;
    std::vector<ControlPrune> prune;
    std::vector<ControlIDontWant> idontwant;

    bool empty() const {
        return ihave.empty() && iwant.empty() && graft.empty() && prune.empty() &&
               idontwant.empty();
    }
    Bytes encode() const;
    friend bool operator==(const ControlMessage&, const ControlMessage&) = default;
};

struct Rpc {
    std::vector<SubOpts> subscriptions;
    std::vector<Message> messages;  // field 2, "publish" in the .proto
    std::optional<ControlMessage> control;

    Bytes encode() const;
    static Result<Rpc> decode(ByteView body, std::size_t max_bytes, const RpcLimits& limits = {});

    friend bool operator==(const Rpc&, const Rpc&) = default;
};

// Builds an RPC body from parts, the messages already encoded (Message::encode), so that a
// message is encoded once however many peers it goes to. `control` may be null or empty.
Bytes encode_rpc(std::span<const SubOpts> subscriptions, std::span<const ByteView> messages,
                 const ControlMessage* control);

// Bytes a length-delimited field of `payload_bytes` adds to its parent (key, length, payload),
// for field numbers below 16.
std::size_t field_bytes(std::size_t payload_bytes);

}  // namespace chainmesh::pubsub

CHAINMESH_ERROR_ENUM(chainmesh::pubsub, PubsubError, "pubsub")
