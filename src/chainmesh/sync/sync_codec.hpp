#pragma once
// The wire messages of /chainmesh/sync/1.0.0.
//
// Framing: one request per stream. The requester opens a stream, negotiates
// /chainmesh/sync/1.0.0, writes one frame and half-closes; the responder writes one frame and
// closes. A frame is uvarint(length) ‖ message, length at most MAX_MESSAGE_BYTES (checked
// before reading the body). Rationale: a stream per request gives each request its own
// deadline and lets several be in flight to one peer without matching ids on the wire.
//
//     request      response
//     Status       Status       (both sides send one on connect)
//     GetHeaders   Headers
//     GetBlocks    Blocks
//
// Message encoding, integers big-endian, u8 kind first:
//
//     1 Status     32 genesis hash ‖ u64 best height ‖ 32 best hash ‖ 32 cumulative work
//     2 GetHeaders u8 n (1..MAX_LOCATOR_HASHES) ‖ n×32 locator ‖ 32 stop hash (zeros: none)
//                  ‖ u16 max count (1..MAX_HEADERS_PER_MESSAGE)
//     3 Headers    u16 n (0..MAX_HEADERS_PER_MESSAGE) ‖ n header encodings back to back
//                  (chain::BlockHeader, self-delimiting)
//     4 GetBlocks  u16 n (1..MAX_BLOCKS_PER_MESSAGE) ‖ n×32 block hashes
//     5 Blocks     u16 n (0..MAX_BLOCKS_PER_MESSAGE) ‖ n × (u32 length ‖ block encoding)
//
// The locator lists hashes of the requester's chain from its tip down: the last 10 one by
// one, then with doubling gaps, always ending with the genesis (Bitcoin's block locator). The
// responder answers with the headers following the highest locator hash on its best chain, up
// to max count or the stop hash. Blocks answers with the requested blocks it has, in request
// order; missing ones are left out.
//
// Decoding is strict: a kind and counts within bounds, every byte consumed, nothing allocated
// before its length is checked against the bytes present.

#include <chainmesh/chain/block.hpp>
#include <chainmesh/chain/fork_choice.hpp>
#include <chainmesh/crypto/sha256.hpp>
#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

namespace chainmesh::sync {

using crypto::Hash256;

inline constexpr std::string_view PROTOCOL_ID = "/chainmesh/sync/1.0.0";
inline constexpr std::size_t MAX_MESSAGE_BYTES = 32 * 1024 * 1024;
inline constexpr std::size_t MAX_LOCATOR_HASHES = 64;
inline constexpr std::size_t MAX_HEADERS_PER_MESSAGE = 2000;
inline constexpr std::size_t MAX_BLOCKS_PER_MESSAGE = 128;

enum class MessageKind : std::uint8_t {
    status = 1,
    get_headers = 2,
    headers = 3,
    get_blocks = 4,
    blocks = 5,
};

struct Status {
    Hash256 genesis_hash{};
    std::uint64_t best_height = 0;
    Hash256 best_hash{};
    chain::Work cumulative_work;
    friend bool operator==(const Status&, const Status&) = default;
};

struct GetHeaders {
    std::vector<Hash256> locator;  // 1..MAX_LOCATOR_HASHES, tip first
    Hash256 stop_hash{};           // zeros: no stop
    std::uint16_t max_count = 0;   // 1..MAX_HEADERS_PER_MESSAGE
    friend bool operator==(const GetHeaders&, const GetHeaders&) = default;
};

struct Headers {
    std::vector<chain::BlockHeader> headers;
    friend bool operator==(const Headers&, const Headers&) = default;
};

struct GetBlocks {
    std::vector<Hash256> hashes;  // 1..MAX_BLOCKS_PER_MESSAGE
    friend bool operator==(const GetBlocks&, const GetBlocks&) = default;
};

struct Blocks {
    std::vector<chain::Block> blocks;
    friend bool operator==(const Blocks&, const Blocks&) = default;
};

using Message = std::variant<Status, GetHeaders, Headers, GetBlocks, Blocks>;
using Request = std::variant<Status, GetHeaders, GetBlocks>;

// The message without its frame. Requires the counts within the bounds above.
Bytes encode(const Message& message);
Bytes encode(const Request& request);

// One message, the frame's body: malformed, unknown_kind, too_large, too_many_items, or a
// header's or block's own decoding error.
Result<Message> decode(ByteView body);

}  // namespace chainmesh::sync
