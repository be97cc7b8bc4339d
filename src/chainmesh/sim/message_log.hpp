#pragma once
// What a simulated network remembers of each message published (gossip_network.hpp,
// wire_network.hpp): who published it, when, and when each node delivered it; and the
// delivery statistics both reports print, with one definition of p99 (nearest rank).
//
// Bounds: one record per message published, each with one optional time per node (the
// callers bound messages × nodes: scenario.hpp's SCENARIO_RECORDS_MAX).

#include <chainmesh/pubsub/gossip_router.hpp>
#include <chainmesh/util/instant.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace chainmesh::sim {

using NodeIndex = std::uint32_t;

struct MessageRecord {
    pubsub::MessageId id;
    NodeIndex publisher = 0;
    pubsub::Topic topic;
    Instant published{};
    std::vector<std::optional<Instant>> delivered;  // per node
    std::set<NodeIndex> expected;  // filled by a network that judges delivery (gossip_network)
};

class MessageLog {
public:
    // Logs a message published now; returns its index (publish order).
    std::size_t add(pubsub::MessageId id, NodeIndex publisher, pubsub::Topic topic,
                    Instant published, std::size_t node_count) {
        MessageRecord record;
        record.id = std::move(id);
        record.publisher = publisher;
        record.topic = std::move(topic);
        record.published = published;
        record.delivered.assign(node_count, std::nullopt);
        const std::size_t index = m_records.size();
        m_index.emplace(record.id, index);
        m_records.push_back(std::move(record));
        return index;
    }

    // The first delivery of a logged message at `node` counts; later ones and messages
    // published outside the log (none here) are ignored.
    void on_deliver(const pubsub::MessageId& id, NodeIndex node, Instant at) {
        const auto it = m_index.find(id);
        if (it != m_index.end()) {
            auto& slot = m_records[it->second].delivered.at(node);
            if (!slot) {
                slot = at;
            }
        }
    }

    std::size_t size() const { return m_records.size(); }
    MessageRecord& at(std::size_t index) { return m_records.at(index); }
    const MessageRecord& at(std::size_t index) const { return m_records.at(index); }
    const std::vector<MessageRecord>& records() const { return m_records; }

private:
    std::vector<MessageRecord> m_records;
    std::map<pubsub::MessageId, std::size_t> m_index;
};

struct DeliveryStats {
    std::uint64_t deliveries = 0;  // (message, node ≠ publisher) pairs delivered
    double delivery_ratio = 0.0;   // deliveries / (messages × (nodes − 1))
    Duration p50{0};
    Duration p90{0};
    Duration p99{0};
    Duration max{0};
};

// Over `records`, latencies by nearest rank.
inline DeliveryStats delivery_stats(const std::vector<const MessageRecord*>& records,
                                    std::size_t node_count) {
    DeliveryStats stats;
    std::vector<Duration> latencies;
    for (const MessageRecord* record : records) {
        for (NodeIndex node = 0; node < record->delivered.size(); ++node) {
            if (node != record->publisher && record->delivered[node]) {
                ++stats.deliveries;
                latencies.push_back(*record->delivered[node] - record->published);
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
