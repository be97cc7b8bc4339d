// The libFuzzer entry points: picks the target named by CHAINMESH_FUZZ_TARGET at start-up.

#include "fuzz_target.hpp"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

namespace chainmesh::fuzz {
namespace {
std::map<std::string, TargetFunction, std::less<>>& registry() {
    static std::map<std::string, TargetFunction, std::less<>> targets;
    return targets;
}
TargetFunction selected = nullptr;
}  // namespace

TargetRegistration::TargetRegistration(std::string_view name, TargetFunction function) {
    registry().emplace(std::string(name), function);
}
}  // namespace chainmesh::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    using namespace chainmesh::fuzz;
    const char* name = std::getenv("CHAINMESH_FUZZ_TARGET");
    const auto it = name != nullptr ? registry().find(name) : registry().end();
    if (it == registry().end()) {
        std::fprintf(stderr, "set CHAINMESH_FUZZ_TARGET to one of:");
        for (const auto& [target, function] : registry()) {
            std::fprintf(stderr, " %s", target.c_str());
        }
        std::fprintf(stderr, "\n");
        std::exit(2);
    }
    selected = it->second;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    chainmesh::fuzz::selected(chainmesh::ByteView(data, size));
    return 0;
}
