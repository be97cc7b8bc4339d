#pragma once
// Registration of fuzz targets into the one chainmesh_fuzz binary.
//
//     CHAINMESH_FUZZ_TARGET(uvarint, data) { ...use data (a ByteView)... }

#include <chainmesh/util/bytes.hpp>

#include <string_view>

namespace chainmesh::fuzz {

using TargetFunction = void (*)(ByteView data);

struct TargetRegistration {
    TargetRegistration(std::string_view name, TargetFunction function);
};

}  // namespace chainmesh::fuzz

#define CHAINMESH_FUZZ_TARGET(name, data)                                                \
    static void fuzz_target_##name(::chainmesh::ByteView data);                          \
    static const ::chainmesh::fuzz::TargetRegistration fuzz_registration_##name(#name,   \
                                                                 &fuzz_target_##name);    \
    static void fuzz_target_##name(::chainmesh::ByteView data)
