#include <chainmesh/util/rng.hpp>

#include <cassert>

namespace chainmesh {

namespace {
std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(std::uint64_t seed) {
    for (auto& word : m_state) {
        word = splitmix64(seed);
    }
}

std::uint64_t Rng::next_u64() {
    const std::uint64_t result = rotl(m_state[1] * 5, 7) * 9;
    const std::uint64_t t = m_state[1] << 17;
    m_state[2] ^= m_state[0];
    m_state[3] ^= m_state[1];
    m_state[1] ^= m_state[2];
    m_state[0] ^= m_state[3];
    m_state[2] ^= t;
    m_state[3] = rotl(m_state[3], 45);
    return result;
}

std::uint64_t Rng::uniform(std::uint64_t bound) {
    assert(bound > 0);
    // Rejection sampling keeps the result unbiased.
    const std::uint64_t limit = max() - max() % bound;
    std::uint64_t x = next_u64();
    while (x >= limit) {
        x = next_u64();
    }
    return x % bound;
}

double Rng::uniform_real() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

void Rng::fill(MutableByteView out) {
    std::size_t i = 0;
    while (i < out.size()) {
        std::uint64_t word = next_u64();
        for (int k = 0; k < 8 && i < out.size(); ++k, ++i) {
            out[i] = static_cast<std::uint8_t>(word);
            word >>= 8;
        }
    }
}

}  // namespace chainmesh
