#pragma once
// A small fixed-width unsigned 256-bit integer for proof of work: targets, work, retargeting
// (docs/protocol.md §11). Only what those need: compare, add and multiply with an overflow
// flag, subtract, divide with remainder, shift.
//
// Costs: everything is O(1) on four 64-bit limbs; divmod is a 256-step shift-and-subtract
// (about a microsecond), done once per header checked, never in the mining loop.

#include <chainmesh/crypto/sha256.hpp>

#include <array>
#include <compare>
#include <cstdint>

namespace chainmesh::consensus::pow {

using crypto::Hash256;

class UInt256 {
public:
    constexpr UInt256() = default;
    static UInt256 from_u64(std::uint64_t value);
    // 32 bytes, big-endian (targets and hashes are read this way).
    static UInt256 from_bytes(const Hash256& big_endian);
    static UInt256 max();

    Hash256 to_bytes() const;
    bool is_zero() const;
    // The low 64 bits.
    std::uint64_t low_u64() const { return m_limbs[0]; }

    // Sum or product, and whether it overflowed 2^256 - 1 (then the value is the low bits).
    struct Checked;
    static Checked add(const UInt256& a, const UInt256& b);
    static Checked mul(const UInt256& a, const UInt256& b);
    // a - b modulo 2^256.
    static UInt256 sub(const UInt256& a, const UInt256& b);
    // Quotient and remainder; the divisor must not be zero (a programmer error).
    struct DivMod;
    static DivMod divmod(const UInt256& dividend, const UInt256& divisor);

    UInt256 operator~() const;
    UInt256 shifted_right(unsigned bits) const;  // bits < 256

    friend std::strong_ordering operator<=>(const UInt256& a, const UInt256& b);
    friend bool operator==(const UInt256&, const UInt256&) = default;

private:
    std::array<std::uint64_t, 4> m_limbs{};  // least significant first
};

struct UInt256::Checked {
    UInt256 value;
    bool overflow = false;
};

struct UInt256::DivMod {
    UInt256 quotient;
    UInt256 remainder;
};

}  // namespace chainmesh::consensus::pow
