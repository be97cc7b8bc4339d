#pragma once
// The simulator's virtual clock and event queue (issue 5).
//
// Events run in time order; events at the same instant run in the order they were scheduled
// (a sequence number breaks the tie). Rationale: a run must not depend on how a container
// orders equal keys, so that one seed replays one run.
//
// Time only moves when an event runs: now() is the time of the event being run (or of the
// last one), or what advance_to() set. Nothing here reads a clock.
//
// Bounds: one entry per scheduled event; the driver bounds how many it schedules (every
// network event is caused by an earlier one, and runs stop at a deadline and an event cap).

#include <chainmesh/util/instant.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>

namespace chainmesh::sim {

class EventQueue {
public:
    using Callback = std::function<void()>;

    Instant now() const { return m_now; }
    // An event in the past runs at now() (time never goes back).
    void schedule(Instant at, Callback callback);
    // Runs the earliest event; false when there is none.
    bool run_next();
    std::optional<Instant> next_time() const;
    // Moves the clock forward without running anything (to a deadline with no event).
    void advance_to(Instant at);
    bool empty() const { return m_events.empty(); }
    std::size_t size() const { return m_events.size(); }
    std::uint64_t events_run() const { return m_events_run; }

private:
    Instant m_now{};
    std::uint64_t m_next_sequence = 0;
    std::uint64_t m_events_run = 0;
    std::map<std::pair<Instant, std::uint64_t>, Callback> m_events;
};

}  // namespace chainmesh::sim
