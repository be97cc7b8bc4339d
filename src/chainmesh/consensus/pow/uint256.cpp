#include <chainmesh/consensus/pow/uint256.hpp>

#include <cstdio>
#include <cstdlib>

namespace chainmesh::consensus::pow {

namespace {
__extension__ using Wide = unsigned __int128;
}  // namespace

UInt256 UInt256::from_u64(std::uint64_t value) {
    UInt256 out;
    out.m_limbs[0] = value;
    return out;
}

UInt256 UInt256::from_bytes(const Hash256& big_endian) {
    UInt256 out;
    for (std::size_t limb = 0; limb < 4; ++limb) {
        out.m_limbs[3 - limb] = get_u64be(big_endian.data() + 8 * limb);
    }
    return out;
}

UInt256 UInt256::max() {
    UInt256 out;
    out.m_limbs.fill(~std::uint64_t{0});
    return out;
}

Hash256 UInt256::to_bytes() const {
    Hash256 out{};
    for (std::size_t limb = 0; limb < 4; ++limb) {
        const std::uint64_t value = m_limbs[3 - limb];
        for (std::size_t i = 0; i < 8; ++i) {
            out[8 * limb + i] = static_cast<std::uint8_t>(value >> (56 - 8 * i));
        }
    }
    return out;
}

bool UInt256::is_zero() const {
    return (m_limbs[0] | m_limbs[1] | m_limbs[2] | m_limbs[3]) == 0;
}

UInt256::Checked UInt256::add(const UInt256& a, const UInt256& b) {
    Checked out;
    Wide carry = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        const Wide sum = Wide{a.m_limbs[i]} + b.m_limbs[i] + carry;
        out.value.m_limbs[i] = static_cast<std::uint64_t>(sum);
        carry = sum >> 64;
    }
    out.overflow = carry != 0;
    return out;
}

UInt256::Checked UInt256::mul(const UInt256& a, const UInt256& b) {
    // Schoolbook over 64-bit limbs; any partial product landing at limb 4 or above, or a carry
    // out of limb 3, is an overflow.
    Checked out;
    for (std::size_t i = 0; i < 4; ++i) {
        if (a.m_limbs[i] == 0) {
            continue;
        }
        Wide carry = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            const Wide product = Wide{a.m_limbs[i]} * b.m_limbs[j];
            if (i + j >= 4) {
                if (product != 0) {
                    out.overflow = true;
                }
                continue;
            }
            const Wide sum = product + out.value.m_limbs[i + j] + carry;
            out.value.m_limbs[i + j] = static_cast<std::uint64_t>(sum);
            carry = sum >> 64;
        }
        if (carry != 0) {
            out.overflow = true;
        }
    }
    return out;
}

UInt256 UInt256::sub(const UInt256& a, const UInt256& b) {
    UInt256 out;
    std::uint64_t borrow = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        const std::uint64_t x = a.m_limbs[i];
        const std::uint64_t y = b.m_limbs[i];
        out.m_limbs[i] = x - y - borrow;
        borrow = (x < y || (x == y && borrow != 0)) ? 1 : 0;
    }
    return out;
}

UInt256::DivMod UInt256::divmod(const UInt256& dividend, const UInt256& divisor) {
    if (divisor.is_zero()) {
        std::fprintf(stderr, "UInt256::divmod: division by zero\n");
        std::abort();
    }
    DivMod out;
    for (int bit = 255; bit >= 0; --bit) {
        // remainder = remainder * 2 + the dividend's next bit; the bit shifted out of the top
        // means the true value is >= 2^256 > divisor, so the subtraction below is due and its
        // result (computed modulo 2^256) is exact.
        const bool top = (out.remainder.m_limbs[3] >> 63) != 0;
        for (std::size_t i = 3; i > 0; --i) {
            out.remainder.m_limbs[i] =
                (out.remainder.m_limbs[i] << 1) | (out.remainder.m_limbs[i - 1] >> 63);
        }
        const auto limb = static_cast<std::size_t>(bit / 64);
        const auto shift = static_cast<unsigned>(bit % 64);
        out.remainder.m_limbs[0] =
            (out.remainder.m_limbs[0] << 1) | ((dividend.m_limbs[limb] >> shift) & 1);
        if (top || out.remainder >= divisor) {
            out.remainder = sub(out.remainder, divisor);
            out.quotient.m_limbs[limb] |= std::uint64_t{1} << shift;
        }
    }
    return out;
}

UInt256 UInt256::operator~() const {
    UInt256 out;
    for (std::size_t i = 0; i < 4; ++i) {
        out.m_limbs[i] = ~m_limbs[i];
    }
    return out;
}

UInt256 UInt256::shifted_right(unsigned bits) const {
    UInt256 out;
    const unsigned limbs = bits / 64;
    const unsigned rest = bits % 64;
    for (std::size_t i = 0; i + limbs < 4; ++i) {
        std::uint64_t value = m_limbs[i + limbs] >> rest;
        if (rest != 0 && i + limbs + 1 < 4) {
            value |= m_limbs[i + limbs + 1] << (64 - rest);
        }
        out.m_limbs[i] = value;
    }
    return out;
}

std::strong_ordering operator<=>(const UInt256& a, const UInt256& b) {
    for (std::size_t i = 4; i-- > 0;) {
        if (a.m_limbs[i] != b.m_limbs[i]) {
            return a.m_limbs[i] <=> b.m_limbs[i];
        }
    }
    return std::strong_ordering::equal;
}

}  // namespace chainmesh::consensus::pow
