#pragma once
// The seeded random source every engine is given (xoshiro256**, seeded through splitmix64).
//
// Engines never touch the OS random device or a global generator: the real driver seeds an Rng
// from the OS once, the simulator from the scenario seed, so any simulated run replays.
// Not for key material: keys come from libsodium's randombytes (crypto/).

#include <chainmesh/util/bytes.hpp>

#include <array>
#include <cstdint>
#include <limits>

namespace chainmesh {

class Rng {
public:
    using result_type = std::uint64_t;

    explicit Rng(std::uint64_t seed);

    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
    result_type operator()() { return next_u64(); }

    std::uint64_t next_u64();
    // Uniform in [0, bound); bound must be positive.
    std::uint64_t uniform(std::uint64_t bound);
    // Uniform in [0, 1).
    double uniform_real();
    void fill(MutableByteView out);
    // A generator for a child component, independent of this one's later output.
    Rng fork() { return Rng(next_u64()); }

private:
    std::array<std::uint64_t, 4> m_state{};
};

}  // namespace chainmesh
