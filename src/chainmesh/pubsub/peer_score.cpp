#include <chainmesh/pubsub/peer_score.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace chainmesh::pubsub {

namespace {

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "peer score invariant violated: %s\n", what);
        std::abort();
    }
}

bool is_decay(double factor) { return factor > 0.0 && factor < 1.0; }

std::string topic_error(const Topic& topic, const TopicScoreParams& p) {
    const std::string where = "score params for topic '" + topic + "': ";
    if (p.topic_weight < 0) {
        return where + "topic_weight must be non-negative";
    }
    if (p.time_in_mesh_weight < 0 || p.time_in_mesh_cap < 0 ||
        p.time_in_mesh_quantum <= Duration::zero()) {
        return where + "time in mesh needs a positive quantum and non-negative weight and cap";
    }
    if (p.first_message_deliveries_weight < 0 || p.first_message_deliveries_cap < 0 ||
        !is_decay(p.first_message_deliveries_decay)) {
        return where + "first message deliveries need weight, cap >= 0 and decay in (0, 1)";
    }
    if (p.mesh_message_deliveries_weight > 0 || !is_decay(p.mesh_message_deliveries_decay) ||
        p.mesh_message_deliveries_threshold < 0 ||
        p.mesh_message_deliveries_cap < p.mesh_message_deliveries_threshold ||
        p.mesh_message_deliveries_activation < Duration::zero() ||
        p.mesh_message_deliveries_window < Duration::zero()) {
        return where +
               "mesh message deliveries need weight <= 0, decay in (0, 1), cap >= threshold >= 0";
    }
    if (p.mesh_failure_penalty_weight > 0 || !is_decay(p.mesh_failure_penalty_decay)) {
        return where + "mesh failure penalty needs weight <= 0 and decay in (0, 1)";
    }
    if (p.invalid_message_deliveries_weight > 0 || !is_decay(p.invalid_message_deliveries_decay)) {
        return where + "invalid message deliveries need weight <= 0 and decay in (0, 1)";
    }
    return {};
}

// Multiplies by factor^intervals, snapping to zero below the limit.
void decay_counter(double& value, double factor, double intervals, double to_zero) {
    value *= std::pow(factor, intervals);
    if (value < to_zero) {
        value = 0;
    }
}

}  // namespace

std::string score_config_error(const ScoreParams& params, const ScoreThresholds& t) {
    for (const auto& [topic, p] : params.topics) {
        if (auto e = topic_error(topic, p); !e.empty()) {
            return e;
        }
    }
    if (params.topic_score_cap < 0) {
        return "topic_score_cap must be non-negative (0: no cap)";
    }
    if (params.app_specific_weight < 0) {
        return "app_specific_weight must be non-negative";
    }
    if (params.ip_colocation_factor_weight > 0 || params.ip_colocation_factor_threshold < 1) {
        return "IP colocation needs weight <= 0 and threshold >= 1";
    }
    if (params.behaviour_penalty_weight > 0 || params.behaviour_penalty_threshold < 0 ||
        !is_decay(params.behaviour_penalty_decay)) {
        return "behaviour penalty needs weight <= 0, threshold >= 0 and decay in (0, 1)";
    }
    if (params.decay_interval <= Duration::zero() || params.decay_to_zero <= 0 ||
        params.decay_to_zero >= 1) {
        return "decay needs a positive interval and decay_to_zero in (0, 1)";
    }
    if (params.retain_score < Duration::zero() || params.max_retained_peers == 0) {
        return "retain_score must be non-negative and max_retained_peers positive";
    }
    if (!(t.gossip <= 0 && t.publish <= t.gossip && t.graylist < t.publish)) {
        return "thresholds must satisfy graylist < publish <= gossip <= 0";
    }
    if (t.accept_px < 0 || t.opportunistic_graft < 0) {
        return "accept_px and opportunistic_graft thresholds must be non-negative";
    }
    return {};
}

PeerScore::PeerScore(ScoreParams params, Duration record_ttl, std::size_t max_records,
                     MessageIdHasher hasher)
    : m_params(std::move(params)), m_records(record_ttl, std::max<std::size_t>(max_records, 1),
                                             hasher) {}

void PeerScore::touch(Instant now) { m_now = std::max(m_now, now); }

PeerScore::TopicStats* PeerScore::topic_stats(const crypto::PeerId& peer, const Topic& topic) {
    auto peer_it = m_peers.find(peer);
    if (peer_it == m_peers.end() || !m_params.topics.contains(topic)) {
        return nullptr;
    }
    return &peer_it->second.topics[topic];
}

double PeerScore::deficit(const TopicStats& ts, const TopicScoreParams& p) const {
    const bool active =
        ts.in_mesh && m_now - ts.graft_time > p.mesh_message_deliveries_activation;
    if (!active || ts.mesh_message_deliveries >= p.mesh_message_deliveries_threshold) {
        return 0;
    }
    return p.mesh_message_deliveries_threshold - ts.mesh_message_deliveries;
}

void PeerScore::apply_mesh_failure(TopicStats& ts, const TopicScoreParams& p) const {
    const double d = deficit(ts, p);
    ts.mesh_failure_penalty += d * d;
}

void PeerScore::forget_ip(const PeerStats& stats) {
    if (stats.ip.empty()) {
        return;
    }
    auto it = m_ip_peers.find(stats.ip);
    if (it != m_ip_peers.end() && --it->second == 0) {
        m_ip_peers.erase(it);
    }
}

void PeerScore::add_peer(const crypto::PeerId& peer, std::string ip, Instant now) {
    touch(now);
    auto [it, added] = m_peers.try_emplace(peer);
    PeerStats& stats = it->second;
    if (!added) {
        if (stats.connected) {
            forget_ip(stats);
        } else {
            m_retained.erase({stats.expire, peer});
        }
    }
    stats.connected = true;
    stats.ip = std::move(ip);
    if (!stats.ip.empty()) {
        ++m_ip_peers[stats.ip];
    }
}

void PeerScore::remove_peer(const crypto::PeerId& peer, Instant now) {
    touch(now);
    auto it = m_peers.find(peer);
    if (it == m_peers.end() || !it->second.connected) {
        return;
    }
    const double current = score(peer);
    PeerStats& stats = it->second;
    forget_ip(stats);
    if (current > 0 || m_params.retain_score == Duration::zero()) {
        m_peers.erase(it);
        return;
    }
    for (auto& [topic, ts] : stats.topics) {
        const TopicScoreParams& p = m_params.topics.at(topic);
        ts.first_message_deliveries = 0;
        if (ts.in_mesh) {
            apply_mesh_failure(ts, p);
            ts.in_mesh = false;
        }
    }
    stats.connected = false;
    stats.expire = m_now + m_params.retain_score;
    m_retained.insert({stats.expire, peer});
    while (m_retained.size() > m_params.max_retained_peers) {
        m_peers.erase(m_retained.begin()->second);
        m_retained.erase(m_retained.begin());
    }
}

void PeerScore::graft(const crypto::PeerId& peer, const Topic& topic, Instant now) {
    touch(now);
    if (TopicStats* ts = topic_stats(peer, topic)) {
        ts->in_mesh = true;
        ts->graft_time = m_now;
    }
}

void PeerScore::prune(const crypto::PeerId& peer, const Topic& topic, Instant now) {
    touch(now);
    TopicStats* ts = topic_stats(peer, topic);
    if (ts == nullptr || !ts->in_mesh) {
        return;
    }
    apply_mesh_failure(*ts, m_params.topics.at(topic));
    ts->in_mesh = false;
}

void PeerScore::mark_first_delivery(const crypto::PeerId& peer, const Topic& topic) {
    TopicStats* ts = topic_stats(peer, topic);
    if (ts == nullptr) {
        return;
    }
    const TopicScoreParams& p = m_params.topics.at(topic);
    ts->first_message_deliveries =
        std::min(ts->first_message_deliveries + 1, p.first_message_deliveries_cap);
    if (ts->in_mesh) {
        ts->mesh_message_deliveries =
            std::min(ts->mesh_message_deliveries + 1, p.mesh_message_deliveries_cap);
    }
}

void PeerScore::mark_mesh_delivery(const crypto::PeerId& peer, const Topic& topic) {
    TopicStats* ts = topic_stats(peer, topic);
    if (ts == nullptr || !ts->in_mesh) {
        return;
    }
    const TopicScoreParams& p = m_params.topics.at(topic);
    ts->mesh_message_deliveries =
        std::min(ts->mesh_message_deliveries + 1, p.mesh_message_deliveries_cap);
}

void PeerScore::mark_invalid_delivery(const crypto::PeerId& peer, const Topic& topic) {
    if (TopicStats* ts = topic_stats(peer, topic)) {
        ts->invalid_message_deliveries += 1;
    }
}

void PeerScore::validate_message(const crypto::PeerId& from, const MessageId& id,
                                 const Topic& topic, Instant now) {
    touch(now);
    auto topic_it = m_params.topics.find(topic);
    if (topic_it == m_params.topics.end()) {
        return;
    }
    auto [record, added] =
        m_records.insert(id, DeliveryRecord{&*topic_it, DeliveryStatus::pending, {}, from, {}},
                         m_now);
    if (!added) {
        duplicate_message(from, id, now);
    }
}

void PeerScore::duplicate_message(const crypto::PeerId& from, const MessageId& id,
                                  Instant now) {
    touch(now);
    DeliveryRecord* record = m_records.find(id);
    if (record == nullptr || record->first == from ||
        std::find(record->peers.begin(), record->peers.end(), from) != record->peers.end() ||
        record->peers.size() >= MAX_DELIVERY_PEERS) {
        return;
    }
    const Topic& topic = record->topic->first;
    switch (record->status) {
        case DeliveryStatus::pending: break;  // credited or penalised when validation ends
        case DeliveryStatus::valid:
            if (m_now - record->validated <= record->topic->second.mesh_message_deliveries_window) {
                mark_mesh_delivery(from, topic);
            }
            break;
        case DeliveryStatus::invalid: mark_invalid_delivery(from, topic); break;
        case DeliveryStatus::ignored: break;
    }
    record->peers.push_back(from);
}

void PeerScore::deliver_message(const MessageId& id, Instant now) {
    touch(now);
    DeliveryRecord* record = m_records.find(id);
    if (record == nullptr || record->status != DeliveryStatus::pending) {
        return;
    }
    record->status = DeliveryStatus::valid;
    record->validated = m_now;
    const Topic& topic = record->topic->first;
    mark_first_delivery(record->first, topic);
    for (const crypto::PeerId& peer : record->peers) {
        mark_mesh_delivery(peer, topic);
    }
}

void PeerScore::reject_message(const MessageId& id, Instant now) {
    touch(now);
    DeliveryRecord* record = m_records.find(id);
    if (record == nullptr || record->status != DeliveryStatus::pending) {
        return;
    }
    record->status = DeliveryStatus::invalid;
    const Topic& topic = record->topic->first;
    mark_invalid_delivery(record->first, topic);
    for (const crypto::PeerId& peer : record->peers) {
        mark_invalid_delivery(peer, topic);
    }
}

void PeerScore::ignore_message(const MessageId& id, Instant now) {
    touch(now);
    DeliveryRecord* record = m_records.find(id);
    if (record != nullptr && record->status == DeliveryStatus::pending) {
        record->status = DeliveryStatus::ignored;
    }
}

void PeerScore::reject_unverified(const crypto::PeerId& from, const Topic& topic, Instant now) {
    touch(now);
    mark_invalid_delivery(from, topic);
}

void PeerScore::add_penalty(const crypto::PeerId& peer, double count) {
    auto it = m_peers.find(peer);
    if (it != m_peers.end()) {
        it->second.behaviour_penalty += count;
    }
}

void PeerScore::set_application_score(const crypto::PeerId& peer, double score) {
    auto it = m_peers.find(peer);
    if (it != m_peers.end()) {
        it->second.application_score = score;
    }
}

void PeerScore::decay(double intervals) {
    const double to_zero = m_params.decay_to_zero;
    for (auto& [peer, stats] : m_peers) {
        for (auto& [topic, ts] : stats.topics) {
            const TopicScoreParams& p = m_params.topics.at(topic);
            decay_counter(ts.first_message_deliveries, p.first_message_deliveries_decay,
                          intervals, to_zero);
            decay_counter(ts.mesh_message_deliveries, p.mesh_message_deliveries_decay, intervals,
                          to_zero);
            decay_counter(ts.mesh_failure_penalty, p.mesh_failure_penalty_decay, intervals,
                          to_zero);
            decay_counter(ts.invalid_message_deliveries, p.invalid_message_deliveries_decay,
                          intervals, to_zero);
        }
        decay_counter(stats.behaviour_penalty, m_params.behaviour_penalty_decay, intervals,
                      to_zero);
    }
}

void PeerScore::refresh(Instant now) {
    touch(now);
    while (!m_retained.empty() && m_retained.begin()->first <= m_now) {
        m_peers.erase(m_retained.begin()->second);
        m_retained.erase(m_retained.begin());
    }
    m_records.expire(m_now);
    if (!m_next_decay) {
        m_next_decay = m_now + m_params.decay_interval;
        return;
    }
    if (m_now < *m_next_decay) {
        return;
    }
    const auto intervals = 1 + (m_now - *m_next_decay) / m_params.decay_interval;
    *m_next_decay += intervals * m_params.decay_interval;
    decay(static_cast<double>(intervals));
}

double PeerScore::score(const crypto::PeerId& peer) const {
    auto it = m_peers.find(peer);
    if (it == m_peers.end()) {
        return 0;
    }
    const PeerStats& stats = it->second;
    double topics = 0;
    for (const auto& [topic, ts] : stats.topics) {
        const TopicScoreParams& p = m_params.topics.at(topic);
        double t = 0;
        if (ts.in_mesh) {
            const double quanta =
                std::floor(static_cast<double>((m_now - ts.graft_time).count()) /
                           static_cast<double>(p.time_in_mesh_quantum.count()));
            t += p.time_in_mesh_weight * std::min(quanta, p.time_in_mesh_cap);
        }
        t += p.first_message_deliveries_weight * ts.first_message_deliveries;
        const double d = deficit(ts, p);
        t += p.mesh_message_deliveries_weight * d * d;
        t += p.mesh_failure_penalty_weight * ts.mesh_failure_penalty;
        t += p.invalid_message_deliveries_weight * ts.invalid_message_deliveries *
             ts.invalid_message_deliveries;
        topics += p.topic_weight * t;
    }
    if (m_params.topic_score_cap > 0) {
        topics = std::min(topics, m_params.topic_score_cap);
    }
    double total = topics + m_params.app_specific_weight * stats.application_score;
    if (stats.connected && !stats.ip.empty() &&
        !m_params.ip_colocation_factor_whitelist.contains(stats.ip)) {
        auto ip = m_ip_peers.find(stats.ip);
        const double peers = ip == m_ip_peers.end() ? 0.0 : static_cast<double>(ip->second);
        if (peers > m_params.ip_colocation_factor_threshold) {
            const double surplus = peers - m_params.ip_colocation_factor_threshold;
            total += m_params.ip_colocation_factor_weight * surplus * surplus;
        }
    }
    if (stats.behaviour_penalty > m_params.behaviour_penalty_threshold) {
        const double excess = stats.behaviour_penalty - m_params.behaviour_penalty_threshold;
        total += m_params.behaviour_penalty_weight * excess * excess;
    }
    return total;
}

std::optional<PeerScoreSnapshot> PeerScore::snapshot(const crypto::PeerId& peer) const {
    auto it = m_peers.find(peer);
    if (it == m_peers.end()) {
        return std::nullopt;
    }
    PeerScoreSnapshot s;
    s.connected = it->second.connected;
    s.application_score = it->second.application_score;
    s.behaviour_penalty = it->second.behaviour_penalty;
    for (const auto& [topic, ts] : it->second.topics) {
        s.topics[topic] = TopicScoreSnapshot{ts.in_mesh, ts.first_message_deliveries,
                                             ts.mesh_message_deliveries, ts.mesh_failure_penalty,
                                             ts.invalid_message_deliveries};
    }
    return s;
}

void PeerScore::check_invariants() const {
    std::unordered_map<std::string, std::size_t> ips;
    std::size_t disconnected = 0;
    for (const auto& [peer, stats] : m_peers) {
        if (stats.connected) {
            if (!stats.ip.empty()) {
                ++ips[stats.ip];
            }
        } else {
            ++disconnected;
            require(m_retained.contains({stats.expire, peer}), "retained peers are indexed");
        }
        require(stats.behaviour_penalty >= 0, "behaviour penalty non-negative");
        for (const auto& [topic, ts] : stats.topics) {
            auto p = m_params.topics.find(topic);
            require(p != m_params.topics.end(), "stats only for configured topics");
            require(stats.connected || !ts.in_mesh, "disconnected peers are in no mesh");
            require(ts.first_message_deliveries >= 0 &&
                        ts.first_message_deliveries <= p->second.first_message_deliveries_cap,
                    "first deliveries within cap");
            require(ts.mesh_message_deliveries >= 0 &&
                        ts.mesh_message_deliveries <= p->second.mesh_message_deliveries_cap,
                    "mesh deliveries within cap");
            require(ts.mesh_failure_penalty >= 0 && ts.invalid_message_deliveries >= 0,
                    "penalties non-negative");
        }
    }
    require(disconnected == m_retained.size(), "retained index matches");
    require(m_retained.size() <= m_params.max_retained_peers, "retained peers bounded");
    require(ips == m_ip_peers, "IP colocation counts match connected peers");
    require(m_records.consistent(), "delivery records bounded and indexed");
}

}  // namespace chainmesh::pubsub
