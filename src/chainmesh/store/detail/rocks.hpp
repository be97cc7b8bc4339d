#pragma once
// Conversions between chainmesh byte types and RocksDB slices.

#include <chainmesh/util/bytes.hpp>

#include <rocksdb/slice.h>

#include <string_view>

namespace chainmesh::store::detail {

inline rocksdb::Slice slice(ByteView bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

inline rocksdb::Slice slice(std::string_view text) {
    return {text.data(), text.size()};
}

inline ByteView view(const rocksdb::Slice& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace chainmesh::store::detail
