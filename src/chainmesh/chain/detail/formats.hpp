#pragma once
// The first byte of every canonical encoding (docs/protocol.md §2): it names the object and
// its version, so no two kinds of object ever share a hash preimage.

#include <cstdint>

namespace chainmesh::chain::detail {

inline constexpr std::uint8_t TRANSACTION_FORMAT = 0x01;
inline constexpr std::uint8_t HEADER_FORMAT = 0x02;
inline constexpr std::uint8_t PARAMS_FORMAT = 0x03;
inline constexpr std::uint8_t UNDO_FORMAT = 0x04;

}  // namespace chainmesh::chain::detail
