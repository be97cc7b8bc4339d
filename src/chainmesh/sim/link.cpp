#include <chainmesh/sim/link.hpp>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>

namespace chainmesh::sim {

LatencyModel LatencyModel::fixed_latency(Duration value) {
    LatencyModel m;
    m.kind = Kind::fixed;
    m.base = value;
    return m;
}

LatencyModel LatencyModel::uniform_latency(Duration low, Duration high) {
    assert(high >= low);
    LatencyModel m;
    m.kind = Kind::uniform;
    m.base = low;
    m.spread = high - low;
    return m;
}

LatencyModel LatencyModel::lognormal_latency(Duration median, double sigma, Duration cap) {
    LatencyModel m;
    m.kind = Kind::lognormal;
    m.base = median;
    m.sigma = sigma;
    m.cap = cap;
    return m;
}

Duration LatencyModel::sample(Rng& rng) const {
    switch (kind) {
        case Kind::fixed:
            return base;
        case Kind::uniform: {
            const auto span = static_cast<std::uint64_t>(std::max<std::int64_t>(spread.count(), 0));
            return base + Duration{static_cast<std::int64_t>(rng.uniform(span + 1))};
        }
        case Kind::lognormal: {
            // Box-Muller; u1 in (0, 1] so the log is finite.
            const double u1 = 1.0 - rng.uniform_real();
            const double u2 = rng.uniform_real();
            const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
            const double nanos = static_cast<double>(base.count()) * std::exp(sigma * z);
            const double capped = std::min(nanos, static_cast<double>(cap.count()));
            return Duration{static_cast<std::int64_t>(std::max(capped, 0.0))};
        }
    }
    return base;
}

Instant schedule_transfer(const LinkConfig& config, LinkDirection& direction, std::size_t bytes,
                          Instant now, Rng& rng, Duration extra) {
    Instant left = now;
    if (config.bandwidth_bytes_per_second > 0) {
        // bytes × 10⁹ fits 64 bits for any RPC under 18 GB (RPCs are bounded by max_rpc_bytes).
        const Instant start = std::max(now, direction.busy_until);
        const auto nanos =
            static_cast<std::int64_t>((static_cast<std::uint64_t>(bytes) * 1'000'000'000u) /
                                      config.bandwidth_bytes_per_second);
        left = start + Duration{nanos};
        direction.busy_until = left;
    }
    const Instant arrival =
        std::max(left + config.latency.sample(rng) + extra, direction.last_arrival);
    direction.last_arrival = arrival;
    return arrival;
}

LossOutcome draw_loss(const LinkConfig& config, Rng& rng) {
    LossOutcome outcome;
    if (config.loss <= 0.0) {
        return outcome;
    }
    if (!config.loss_retransmits) {
        outcome.delivered = rng.uniform_real() >= config.loss;
        outcome.retransmits = outcome.delivered ? 0 : 1;
        return outcome;
    }
    Duration timeout = config.retransmit_timeout;
    while (rng.uniform_real() < config.loss) {
        if (outcome.retransmits == MAX_RETRANSMITS) {
            outcome.delivered = false;
            return outcome;
        }
        ++outcome.retransmits;
        outcome.delay += timeout;
        timeout *= 2;
    }
    return outcome;
}

}  // namespace chainmesh::sim
