#include <chainmesh/discovery/peer_list.hpp>
#include <chainmesh/sim/eclipse_network.hpp>
#include <chainmesh/sim/event_queue.hpp>
#include <chainmesh/util/rng.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

namespace chainmesh::sim {

namespace {

using crypto::PeerId;
using discovery::PeerRecord;
using discovery::PeerSource;
using wire::Multiaddr;

struct Identity {
    PeerId id;
    Multiaddr addr;
    bool honest = true;
};

PeerId random_peer_id(Rng& rng) {
    Bytes multihash{0x12, 0x20};
    multihash.resize(34);
    rng.fill(MutableByteView(multihash).subspan(2));
    return PeerId::from_bytes(multihash).value();
}

Multiaddr ip4_tcp(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    const Bytes ip{a, b, c, d};
    return Multiaddr::from_ip_tcp(ip, 4001);
}

Duration exponential(Rng& rng, Duration mean) {
    const double u = std::max(rng.uniform_real(), 1e-12);
    return Duration{static_cast<std::int64_t>(-std::log(u) * static_cast<double>(mean.count()))};
}

class EclipseRun {
public:
    explicit EclipseRun(const EclipseConfig& config)
        : m_config(config),
          m_rng(config.seed),
          m_self(random_peer_id(m_rng)),
          m_book(config.book, m_rng.fork()),
          m_slots(config.slots) {
        m_book.set_self(m_self);
        // Honest peer i lives alone in the public /16 (20 + i / 200).(i % 200).
        for (std::size_t i = 0; i < config.honest_nodes; ++i) {
            add_identity(ip4_tcp(static_cast<std::uint8_t>(20 + i / 200),
                                 static_cast<std::uint8_t>(i % 200), 0, 1),
                         true);
        }
        for (std::size_t j = 0; j < config.attacker_identities; ++j) {
            add_identity(ip4_tcp(config.attacker_prefix[0], config.attacker_prefix[1],
                                 static_cast<std::uint8_t>(j / 250),
                                 static_cast<std::uint8_t>(1 + j % 250)),
                         false);
        }
    }

    EclipseMetrics run() {
        start_victim();
        schedule(m_config.attack_start, [this] { attacker_connect(); });
        schedule(exponential(m_rng, m_config.honest_inbound_interval),
                 [this] { honest_inbound(); });
        if (m_config.restart_at) {
            schedule(*m_config.restart_at, [this] { restart(); });
        }
        schedule(m_config.sample_interval, [this] { sample(); });
        const Instant end = Instant{} + m_config.duration;
        while (!m_queue.empty() && *m_queue.next_time() <= end &&
               m_queue.events_run() < m_config.max_events) {
            m_queue.run_next();
        }
        finish();
        m_metrics.events = m_queue.events_run();
        return m_metrics;
    }

private:
    struct Connection {
        bool inbound = false;
        std::uint64_t serial = 0;  // tells a stale lifetime event from the current one
    };

    void add_identity(Multiaddr addr, bool honest) {
        Identity identity{random_peer_id(m_rng), std::move(addr), honest};
        m_index.emplace(identity.id, m_identities.size());
        (honest ? m_honest : m_attackers).push_back(m_identities.size());
        m_identities.push_back(std::move(identity));
    }

    const Identity& identity(const PeerId& peer) const { return m_identities[m_index.at(peer)]; }
    Instant now() const { return m_queue.now(); }

    void schedule(Duration delay, EventQueue::Callback callback) {
        m_queue.schedule(now() + delay, std::move(callback));
    }
    // An event that is dropped when the victim restarted in between.
    void schedule_victim(Duration delay, std::function<void()> callback) {
        schedule(delay, [this, incarnation = m_incarnation, callback = std::move(callback)] {
            if (incarnation == m_incarnation) {
                callback();
            }
        });
    }

    // --- the victim ---

    void start_victim() {
        for (std::size_t i = 0; i < std::min(m_config.bootstrap, m_honest.size()); ++i) {
            const Identity& peer = m_identities[m_honest[i]];
            const Multiaddr addrs[] = {peer.addr};
            m_book.add_addresses(peer.id, addrs, PeerSource::bootstrap, now());
        }
        dial_tick();
    }

    void dial_tick() {
        dial_some();
        schedule_victim(m_config.dial_interval, [this] { dial_tick(); });
    }

    std::size_t dials_wanted() const {
        if (m_config.slot_policy) {
            return m_slots.outbound_wanted();
        }
        // The node before slots: dial while fewer than min_peers in all (<= max_peers).
        const std::size_t busy = m_connections.size() + m_dialing.size();
        return busy >= m_config.min_peers ? 0 : m_config.min_peers - busy;
    }

    void dial_some() {
        std::size_t wanted = dials_wanted();
        if (wanted == 0) {
            return;
        }
        std::set<PeerId> busy(m_dialing.begin(), m_dialing.end());
        for (const auto& [peer, connection] : m_connections) {
            busy.insert(peer);
        }
        bool dialed = false;
        for (auto& candidate : m_book.dial_candidates(m_book.size(), now(), busy)) {
            if (wanted == 0) {
                break;
            }
            if (m_config.slot_policy) {
                if (!m_slots.may_dial(candidate.addrs.front())) {
                    continue;
                }
                m_slots.reserve_outbound(candidate.peer, candidate.addrs.front(), false, now());
            }
            m_book.on_dial_started(candidate.peer, now());
            m_dialing.insert(candidate.peer);
            ++m_metrics.dials;
            --wanted;
            dialed = true;
            schedule_victim(2 * m_config.latency,
                            [this, peer = candidate.peer] { dial_answered(peer); });
        }
        if (!dialed && !m_connections.empty()) {
            // Nobody left to dial: ask a connected peer, each in turn.
            auto it = m_connections.begin();
            std::advance(it, static_cast<std::ptrdiff_t>(m_list_turn++ % m_connections.size()));
            ask_peer_list(it->first);
        }
    }

    void dial_answered(const PeerId& peer) {
        m_dialing.erase(peer);
        if (!m_config.slot_policy && m_connections.size() >= m_config.max_peers) {
            m_book.on_dial_failed(peer, now());
            return;
        }
        const Identity& remote = identity(peer);
        if (m_config.slot_policy) {
            m_slots.on_outbound_connected(peer, remote.addr, false, now());
        }
        m_book.on_connected(peer, now());
        connect(peer, false);
        if (dials_wanted() > 0) {
            ask_peer_list(peer);
        }
    }

    void connect(const PeerId& peer, bool inbound) {
        const std::uint64_t serial = ++m_serial;
        m_connections[peer] = Connection{inbound, serial};
        if (identity(peer).honest) {
            schedule_victim(exponential(m_rng, m_config.honest_lifetime), [this, peer, serial] {
                const auto it = m_connections.find(peer);
                if (it != m_connections.end() && it->second.serial == serial) {
                    disconnect(peer);
                }
            });
        }
    }

    void disconnect(const PeerId& peer) {
        m_connections.erase(peer);
        m_slots.release(peer);
        m_book.on_disconnected(peer, now());
        dial_some();  // look for a replacement now, as the node does
    }

    // An inbound connection from `peer` arrives at the victim.
    void inbound(const PeerId& peer) {
        if (m_connections.contains(peer) || m_dialing.contains(peer)) {
            return;
        }
        const Identity& remote = identity(peer);
        if (m_config.slot_policy) {
            const auto decision = m_slots.admit_inbound(peer, remote.addr, false, now());
            if (!decision.accept) {
                ++m_metrics.refused;
                return;
            }
            if (decision.evict) {
                ++(identity(*decision.evict).honest ? m_metrics.evicted_honest
                                                    : m_metrics.evicted_attacker);
                m_connections.erase(*decision.evict);
                m_book.on_disconnected(*decision.evict, now());
            }
        } else if (m_connections.size() >= m_config.max_peers) {
            ++m_metrics.refused;
            return;
        }
        connect(peer, true);
        // Identify: the peer's own listen address.
        const Multiaddr addrs[] = {remote.addr};
        m_book.add_addresses(peer, addrs, PeerSource::identify, now());
    }

    void ask_peer_list(const PeerId& peer) {
        ++m_metrics.peer_lists;
        const Bytes body = discovery::encode_peer_list(answer_peer_list(peer));
        schedule_victim(2 * m_config.latency, [this, body] {
            const auto records = discovery::decode_peer_list(body);
            if (!records) {
                return;
            }
            for (const auto& record : *records) {
                m_book.add_addresses(record.peer, record.addrs, PeerSource::peer_list, now());
            }
            dial_some();
        });
    }

    // What `peer` answers: the attacker names itself; an honest peer names honest peers,
    // polluted with attacker hearsay.
    std::vector<PeerRecord> answer_peer_list(const PeerId& peer) {
        std::vector<PeerRecord> records;
        const bool honest = identity(peer).honest;
        for (std::size_t i = 0; i < discovery::MAX_PEER_LIST_PEERS; ++i) {
            const bool name_attacker =
                !honest || (!m_attackers.empty() && m_rng.uniform_real() < m_config.hearsay_pollution);
            const auto& pool = name_attacker ? m_attackers : m_honest;
            const Identity& named = m_identities[pool[m_rng.uniform(pool.size())]];
            if (named.id != peer) {
                records.push_back({named.id, {named.addr}});
            }
        }
        return records;
    }

    void restart() {
        ++m_incarnation;
        const std::string saved = m_book.to_json();
        m_book = discovery::PeerBook(m_config.book, m_rng.fork());
        m_book.set_self(m_self);
        m_book.load_json(saved, now());
        m_slots = discovery::PeerSlots(m_config.slots);
        m_connections.clear();
        m_dialing.clear();
        m_restarted_at = now();
        start_victim();
    }

    // --- the others ---

    void attacker_connect() {
        if (!m_attackers.empty()) {
            const PeerId peer = m_identities[m_attackers[m_attacker_turn++ % m_attackers.size()]].id;
            ++m_metrics.attacker_attempts;
            schedule(m_config.latency, [this, peer] { inbound(peer); });
        }
        schedule(m_config.connect_interval, [this] { attacker_connect(); });
    }

    void honest_inbound() {
        if (!m_honest.empty()) {
            const PeerId peer = m_identities[m_honest[m_rng.uniform(m_honest.size())]].id;
            schedule(m_config.latency, [this, peer] { inbound(peer); });
        }
        schedule(exponential(m_rng, m_config.honest_inbound_interval), [this] { honest_inbound(); });
    }

    // --- judging ---

    struct Census {
        std::size_t honest_inbound = 0;
        std::size_t honest_outbound = 0;
        std::size_t attacker_inbound = 0;
        std::size_t attacker_outbound = 0;
    };

    Census census() const {
        Census c;
        for (const auto& [peer, connection] : m_connections) {
            if (identity(peer).honest) {
                ++(connection.inbound ? c.honest_inbound : c.honest_outbound);
            } else {
                ++(connection.inbound ? c.attacker_inbound : c.attacker_outbound);
            }
        }
        return c;
    }

    void sample() {
        m_book.check_invariants();
        m_slots.check_invariants();
        const Instant judged_from =
            std::max(Instant{} + m_config.attack_start, m_restarted_at) + m_config.warmup;
        if (now() >= judged_from) {
            const Census c = census();
            const std::size_t honest = c.honest_inbound + c.honest_outbound;
            const std::size_t total = m_connections.size();
            if (m_metrics.samples == 0 || honest < m_metrics.min_honest_connections) {
                m_metrics.min_honest_connections = honest;
            }
            ++m_metrics.samples;
            if (honest < m_config.min_honest) {
                ++m_metrics.failing_samples;
                if (!m_metrics.first_failure) {
                    m_metrics.first_failure = now() - Instant{};
                }
            }
            if (honest == 0) {
                ++m_metrics.eclipsed_samples;
            }
            if (total > 0) {
                m_metrics.max_attacker_share =
                    std::max(m_metrics.max_attacker_share,
                             static_cast<double>(total - honest) / static_cast<double>(total));
            }
        }
        schedule(m_config.sample_interval, [this] { sample(); });
    }

    void finish() {
        const Census c = census();
        m_metrics.final_honest_inbound = c.honest_inbound;
        m_metrics.final_honest_outbound = c.honest_outbound;
        m_metrics.final_attacker_inbound = c.attacker_inbound;
        m_metrics.final_attacker_outbound = c.attacker_outbound;
        std::size_t attacker_entries = 0;
        for (const std::size_t index : m_attackers) {
            attacker_entries += m_book.contains(m_identities[index].id) ? 1 : 0;
        }
        m_metrics.final_book_attacker_share =
            m_book.size() == 0 ? 0.0
                               : static_cast<double>(attacker_entries) /
                                     static_cast<double>(m_book.size());
    }

    EclipseConfig m_config;
    Rng m_rng;
    PeerId m_self;
    discovery::PeerBook m_book;
    discovery::PeerSlots m_slots;
    EventQueue m_queue;
    std::vector<Identity> m_identities;
    std::unordered_map<PeerId, std::size_t> m_index;
    std::vector<std::size_t> m_honest;
    std::vector<std::size_t> m_attackers;
    std::map<PeerId, Connection> m_connections;
    std::set<PeerId> m_dialing;
    std::uint64_t m_serial = 0;
    std::uint64_t m_incarnation = 0;
    std::size_t m_list_turn = 0;
    std::size_t m_attacker_turn = 0;
    Instant m_restarted_at{};
    EclipseMetrics m_metrics;
};

std::string fixed(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4f", value);
    return text;
}

}  // namespace

EclipseMetrics run_eclipse(const EclipseConfig& config) {
    return EclipseRun(config).run();
}

std::string format_eclipse_metrics(const EclipseMetrics& m) {
    std::string out;
    const auto line = [&](const char* name, const std::string& value) {
        out += name;
        out += ' ';
        out += value;
        out += '\n';
    };
    const auto n = [](std::uint64_t v) { return std::to_string(v); };
    line("samples_judged", n(m.samples));
    line("samples_below_min_honest", n(m.failing_samples));
    line("samples_eclipsed", n(m.eclipsed_samples));
    line("min_honest_connections", n(m.min_honest_connections));
    line("max_attacker_share", fixed(m.max_attacker_share));
    line("final_honest_outbound", n(m.final_honest_outbound));
    line("final_honest_inbound", n(m.final_honest_inbound));
    line("final_attacker_outbound", n(m.final_attacker_outbound));
    line("final_attacker_inbound", n(m.final_attacker_inbound));
    line("final_book_attacker_share", fixed(m.final_book_attacker_share));
    line("attacker_attempts", n(m.attacker_attempts));
    line("refused", n(m.refused));
    line("evicted_honest", n(m.evicted_honest));
    line("evicted_attacker", n(m.evicted_attacker));
    line("dials", n(m.dials));
    line("peer_lists", n(m.peer_lists));
    line("events", n(m.events));
    if (m.first_failure) {
        line("first_failure_s", fixed(std::chrono::duration<double>(*m.first_failure).count()));
    }
    return out;
}

}  // namespace chainmesh::sim
