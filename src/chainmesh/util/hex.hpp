#pragma once
// Lowercase hexadecimal text, as logs, tests and the CLI show bytes.

#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>

#include <string>
#include <string_view>

namespace chainmesh::util {

enum class HexError { odd_length = 1, bad_digit };
std::string_view describe(HexError e);

std::string to_hex(ByteView bytes);

// Accepts upper and lower case; no prefix, no separators.
Result<Bytes> from_hex(std::string_view text);

}  // namespace chainmesh::util

CHAINMESH_ERROR_ENUM(chainmesh::util, HexError, "hex")
