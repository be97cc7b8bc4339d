#pragma once
// Hex literals for test vectors. A malformed literal is a broken test, reported by name
// (gtest turns the exception into a failure) rather than an assertion deep in boost.

#include <chainmesh/util/hex.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace chainmesh::testing {

inline Bytes hex(std::string_view text) {
    auto bytes = util::from_hex(text);
    if (!bytes) {
        throw std::invalid_argument("bad hex literal in a test: '" + std::string(text) + "'");
    }
    return *bytes;
}

}  // namespace chainmesh::testing
