#pragma once
// Multiformats unsigned varints: little-endian base 128, minimal, at most 9 bytes (63 bits).
//
// Every length prefix a peer sends goes through decode_uvarint, so it distinguishes "need more
// bytes" (truncated: keep reading, up to the caller's bound) from a malformed varint, which
// is a protocol error. Callers bound the decoded value before allocating for it.

#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>

#include <cstddef>
#include <cstdint>

namespace chainmesh::util {

inline constexpr std::size_t UVARINT_MAX_BYTES = 9;

enum class VarintError { truncated = 1, non_minimal, overflow };
std::string_view describe(VarintError e);

struct DecodedUvarint {
    std::uint64_t value = 0;
    std::size_t size = 0;  // bytes consumed
};

void append_uvarint(Bytes& out, std::uint64_t value);
std::size_t uvarint_size(std::uint64_t value);

// Decodes the varint at the start of `input`. `truncated` means `input` ends inside a varint
// that could still become valid.
Result<DecodedUvarint> decode_uvarint(ByteView input);

}  // namespace chainmesh::util

CHAINMESH_ERROR_ENUM(chainmesh::util, VarintError, "uvarint")
