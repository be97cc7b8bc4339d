#pragma once
// An assert that stays on in release builds, for programmer errors only (STYLE.md "Errors"):
// never for anything a peer or a file controls.

#include <cstdio>
#include <cstdlib>

namespace chainmesh::chain::detail {

[[noreturn]] inline void require_failed(const char* what, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: requirement failed: %s\n", file, line, what);
    std::abort();
}

}  // namespace chainmesh::chain::detail

#define CHAINMESH_CHAIN_REQUIRE(condition)                                              \
    do {                                                                                \
        if (!(condition)) {                                                             \
            ::chainmesh::chain::detail::require_failed(#condition, __FILE__, __LINE__); \
        }                                                                               \
    } while (false)
