#pragma once
// Time as engines see it.
//
// MonoClock has no now(): engines cannot read a clock, so they run the same in virtual time
// (the simulator) and in real time (net/, which makes an Instant from std::chrono::steady_clock).
// An Instant counts nanoseconds from an arbitrary epoch chosen by the driver.

#include <chrono>
#include <cstdint>

namespace chainmesh {

struct MonoClock {
    using rep = std::int64_t;
    using period = std::nano;
    using duration = std::chrono::nanoseconds;
    using time_point = std::chrono::time_point<MonoClock>;
    static constexpr bool is_steady = true;
};

using Instant = MonoClock::time_point;
using Duration = MonoClock::duration;

inline constexpr Instant instant_from_nanos(std::int64_t nanos) {
    return Instant{Duration{nanos}};
}

}  // namespace chainmesh
