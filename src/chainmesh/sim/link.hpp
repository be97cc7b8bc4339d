#pragma once
// Simulated links: how long an RPC takes from one node to another, and whether it arrives.
//
// - Latency is drawn per RPC from a LatencyModel: fixed, uniform in [base, base + spread], or
//   lognormal-ish (median `base`, shape `sigma`, capped at `cap`). Rationale: internet RTTs
//   have a long right tail; a cap keeps a run's length bounded.
// - Loss, with probability `loss` per attempt. Default: the RPC is dropped whole (a harsh
//   model: a lost SUBSCRIBE or GRAFT is never resent, so state between two routers diverges).
//   With `loss_retransmits`, a loss costs a retransmission timeout instead (doubling per
//   attempt, at most MAX_RETRANSMITS, then dropped), and later RPCs on that direction wait
//   behind it (head-of-line blocking). Rationale: libp2p streams run over TCP or QUIC, which
//   turn packet loss into delay, not into lost RPCs.
// - Bandwidth (bytes/s, 0 = unlimited) serialises RPCs per link direction: an RPC starts
//   once the previous one has left, and takes size / bandwidth to leave.
// - Order: RPCs on one direction arrive in the order they were sent, as on the one stream
//   per peer that the gossipsub driver contract assumes (an RPC never overtakes an earlier one).
// Every draw comes from the Rng the caller passes (the network's one seeded Rng).

#include <chainmesh/util/instant.hpp>
#include <chainmesh/util/rng.hpp>

#include <chrono>
#include <cstdint>

namespace chainmesh::sim {

struct LatencyModel {
    enum class Kind { fixed, uniform, lognormal };
    Kind kind = Kind::fixed;
    Duration base = std::chrono::milliseconds{10};  // fixed value, uniform low end, median
    Duration spread{0};                             // uniform: high end - low end
    double sigma = 0.5;                             // lognormal shape
    Duration cap = std::chrono::seconds{2};         // lognormal: largest value drawn

    static LatencyModel fixed_latency(Duration value);
    static LatencyModel uniform_latency(Duration low, Duration high);
    static LatencyModel lognormal_latency(Duration median, double sigma, Duration cap);

    Duration sample(Rng& rng) const;
};

inline constexpr std::size_t MAX_RETRANSMITS = 8;

struct LinkConfig {
    LatencyModel latency;
    double loss = 0.0;  // per attempt
    bool loss_retransmits = false;
    Duration retransmit_timeout = std::chrono::milliseconds{200};  // the first; then doubled
    std::uint64_t bandwidth_bytes_per_second = 0;                  // 0: unlimited
};

// One direction of a link: when it is free to send again, and the latest arrival so far.
struct LinkDirection {
    Instant busy_until{};
    Instant last_arrival{};
};

// When an RPC of `bytes` sent at `now` arrives (`extra` is added, e.g. a slow receiver);
// updates the direction's state. Does not decide loss.
Instant schedule_transfer(const LinkConfig& config, LinkDirection& direction, std::size_t bytes,
                          Instant now, Rng& rng, Duration extra = Duration{0});

// Under loss_retransmits: the delay that losses add to one RPC, or nullopt when it was lost
// MAX_RETRANSMITS + 1 times. `retransmits` counts the losses drawn.
struct LossOutcome {
    bool delivered = true;
    Duration delay{0};
    std::size_t retransmits = 0;
};
LossOutcome draw_loss(const LinkConfig& config, Rng& rng);

}  // namespace chainmesh::sim
