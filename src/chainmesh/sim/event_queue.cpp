#include <chainmesh/sim/event_queue.hpp>

namespace chainmesh::sim {

void EventQueue::schedule(Instant at, Callback callback) {
    if (at < m_now) {
        at = m_now;
    }
    m_events.emplace(std::pair{at, m_next_sequence++}, std::move(callback));
}

bool EventQueue::run_next() {
    if (m_events.empty()) {
        return false;
    }
    auto node = m_events.extract(m_events.begin());
    m_now = node.key().first;
    ++m_events_run;
    node.mapped()();
    return true;
}

std::optional<Instant> EventQueue::next_time() const {
    if (m_events.empty()) {
        return std::nullopt;
    }
    return m_events.begin()->first.first;
}

void EventQueue::advance_to(Instant at) {
    if (at > m_now) {
        m_now = at;
    }
}

}  // namespace chainmesh::sim
