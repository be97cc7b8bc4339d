#pragma once
// The error model: code that reads bytes from peers or disk returns Result<T>.
//
// Each part declares one error enum and a `describe()` for it, then registers it with
// CHAINMESH_ERROR_ENUM at global scope; after that an enum value converts to ErrorCode and
// can be returned where a Result<T> is expected:
//
//     enum class VarintError { truncated = 1, non_minimal, overflow };
//     std::string_view describe(VarintError e);
//     CHAINMESH_ERROR_ENUM(chainmesh::util, VarintError, "varint")
//
//     Result<Decoded> decode(...) { if (bad) return VarintError::overflow; ... }
//     auto r = decode(...); if (!r) return r.error();

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <string_view>
#include <type_traits>

namespace chainmesh {

using ErrorCode = boost::system::error_code;

template <class T>
using Result = boost::system::result<T, ErrorCode>;

// An error category whose messages come from `describe(E)`, found by argument-dependent lookup.
template <class E>
class EnumErrorCategory final : public boost::system::error_category {
public:
    explicit constexpr EnumErrorCategory(const char* name) noexcept : m_name(name) {}
    const char* name() const noexcept override { return m_name; }
    std::string message(int value) const override {
        return std::string(describe(static_cast<E>(value)));
    }

private:
    const char* m_name;
};

}  // namespace chainmesh

// Registers `Namespace::Enum` as an error code enum of category `name`. Use at global scope,
// after the enum and its describe(); make_error_code lands in the enum's namespace so that
// argument-dependent lookup finds it.
#define CHAINMESH_ERROR_ENUM(Namespace, Enum, name)                                  \
    namespace Namespace {                                                            \
    inline boost::system::error_code make_error_code(Enum e) {                       \
        static const ::chainmesh::EnumErrorCategory<Enum> category(name);            \
        return {static_cast<int>(e), category};                                      \
    }                                                                                \
    }                                                                                \
    template <>                                                                      \
    struct boost::system::is_error_code_enum<Namespace::Enum> : std::true_type {};
