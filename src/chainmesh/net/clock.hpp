#pragma once
// The real driver's clock: engines get Instants made here from std::chrono::steady_clock.

#include <chainmesh/util/instant.hpp>

#include <chrono>

namespace chainmesh::net {

inline Instant now_instant() {
    return Instant{std::chrono::duration_cast<Duration>(
        std::chrono::steady_clock::now().time_since_epoch())};
}

// The steady_clock time point of an Instant made by now_instant(), for arming Asio timers.
inline std::chrono::steady_clock::time_point to_steady(Instant instant) {
    return std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            instant.time_since_epoch()));
}

}  // namespace chainmesh::net
