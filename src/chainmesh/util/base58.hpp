#pragma once
// base58btc (Bitcoin alphabet), the text form of libp2p peer ids.
//
// Decoding is quadratic in the input length, so it takes a bound: text longer than
// `max_chars` is refused before any work. Peer ids are about 52 characters.

#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>

#include <string>
#include <string_view>

namespace chainmesh::util {

inline constexpr std::size_t BASE58_DEFAULT_MAX_CHARS = 256;

enum class Base58Error { bad_character = 1, too_long };
std::string_view describe(Base58Error e);

std::string base58_encode(ByteView bytes);
Result<Bytes> base58_decode(std::string_view text, std::size_t max_chars = BASE58_DEFAULT_MAX_CHARS);

}  // namespace chainmesh::util

CHAINMESH_ERROR_ENUM(chainmesh::util, Base58Error, "base58")
