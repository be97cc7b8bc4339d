#pragma once
// Delivery statistics over the message records a simulated network keeps (gossip_network.hpp,
// wire_network.hpp): how many (message, node ≠ publisher) pairs were delivered, and the
// latency percentiles, by nearest rank. One definition, so that the message-level and the
// wire-stack reports mean the same thing by p99.

#include <chainmesh/util/instant.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace chainmesh::sim {

struct DeliveryStats {
    std::uint64_t deliveries = 0;
    double delivery_ratio = 0.0;  // deliveries / (messages × (nodes − 1))
    Duration p50{0};
    Duration p90{0};
    Duration p99{0};
    Duration max{0};
};

// `Record` has `publisher` (a node index), `published` (an Instant) and `delivered` (one
// std::optional<Instant> per node).
template <class Record>
DeliveryStats delivery_stats(const std::vector<Record>& records, std::size_t node_count) {
    DeliveryStats stats;
    std::vector<Duration> latencies;
    for (const Record& record : records) {
        for (std::size_t node = 0; node < record.delivered.size(); ++node) {
            if (node != record.publisher && record.delivered[node]) {
                ++stats.deliveries;
                latencies.push_back(*record.delivered[node] - record.published);
            }
        }
    }
    if (node_count > 1 && !records.empty()) {
        stats.delivery_ratio = static_cast<double>(stats.deliveries) /
                               static_cast<double>(records.size() * (node_count - 1));
    }
    std::sort(latencies.begin(), latencies.end());
    const auto percentile = [&](std::size_t p) {
        if (latencies.empty()) {
            return Duration{0};
        }
        const std::size_t rank = (p * latencies.size() + 99) / 100;  // nearest rank
        return latencies[std::max<std::size_t>(rank, 1) - 1];
    };
    stats.p50 = percentile(50);
    stats.p90 = percentile(90);
    stats.p99 = percentile(99);
    stats.max = percentile(100);
    return stats;
}

}  // namespace chainmesh::sim
