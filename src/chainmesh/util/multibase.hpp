#pragma once
// Multibase text: a one-character prefix naming the base, then the encoded bytes.
// Supported: 'b' base32 (RFC 4648 lowercase, no padding), 'z' base58btc, 'f' base16.

#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>

#include <string>
#include <string_view>

namespace chainmesh::util {

inline constexpr std::size_t MULTIBASE_MAX_CHARS = 1024;

enum class MultibaseError { empty = 1, unsupported_base, bad_character, too_long };
std::string_view describe(MultibaseError e);

std::string base32_encode(ByteView bytes);  // lowercase, no padding
Result<Bytes> base32_decode(std::string_view text);

// Encodes with base32 ('b'), the form CIDv1 text uses.
std::string multibase_encode_base32(ByteView bytes);
Result<Bytes> multibase_decode(std::string_view text);

}  // namespace chainmesh::util

CHAINMESH_ERROR_ENUM(chainmesh::util, MultibaseError, "multibase")
