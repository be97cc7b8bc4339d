#include <chainmesh/discovery/peer_slots.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace chainmesh::discovery {

namespace {

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

std::optional<std::string> ip4_group(const std::uint8_t* a) {
    const bool local = a[0] == 0 || a[0] == 10 || a[0] == 127 ||
                       (a[0] == 100 && (a[1] & 0xc0) == 64) ||  // 100.64.0.0/10, CGNAT
                       (a[0] == 169 && a[1] == 254) || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
                       (a[0] == 192 && a[1] == 168);
    if (local) {
        return std::nullopt;
    }
    char text[24];
    std::snprintf(text, sizeof text, "%u.%u.0.0/16", a[0], a[1]);
    return std::string(text);
}

std::optional<std::string> ip6_group(const std::uint8_t* a) {
    static constexpr std::array<std::uint8_t, 12> MAPPED{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(MAPPED.begin(), MAPPED.end(), a)) {
        return ip4_group(a + 12);
    }
    const bool zero_prefix = std::all_of(a, a + 15, [](std::uint8_t b) { return b == 0; });
    const bool local = (zero_prefix && a[15] <= 1) ||                // :: and ::1
                       (a[0] & 0xfe) == 0xfc ||                      // fc00::/7
                       (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);      // fe80::/10
    if (local) {
        return std::nullopt;
    }
    char text[24];
    std::snprintf(text, sizeof text, "%x:%x::/32", (a[0] << 8) | a[1], (a[2] << 8) | a[3]);
    return std::string(text);
}

const std::string LOCAL_GROUP = "local";

InboundDecision accepted() {
    InboundDecision decision;
    decision.accept = true;
    return decision;
}

InboundDecision refused(std::string_view reason) {
    InboundDecision decision;
    decision.reason = reason;
    return decision;
}

}  // namespace

std::optional<std::string> net_group(const wire::Multiaddr& addr) {
    if (addr.components().empty()) {
        return std::nullopt;
    }
    const auto& first = addr.components().front();
    if (first.code == wire::protocol_code::IP4 && first.value.size() == 4) {
        return ip4_group(first.value.data());
    }
    if (first.code == wire::protocol_code::IP6 && first.value.size() == 16) {
        return ip6_group(first.value.data());
    }
    return std::nullopt;
}

PeerSlots::PeerSlots(PeerSlotsConfig config) : m_config(config) {
    require(m_config.max_inbound_per_group >= 1);
}

InboundDecision PeerSlots::admit_inbound(const crypto::PeerId& peer,
                                         const wire::Multiaddr& remote, bool is_static,
                                         Instant now) {
    if (m_peers.contains(peer)) {
        return accepted();
    }
    Slot slot;
    slot.group = net_group(remote);
    slot.is_static = is_static;
    slot.connected = now;
    if (is_static) {
        m_peers.emplace(peer, std::move(slot));
        return accepted();
    }
    if (slot.group && inbound_in_group(*slot.group) >= m_config.max_inbound_per_group) {
        ++m_refusals;
        return refused("too many inbound peers from its network group");
    }
    InboundDecision decision = accepted();
    if (m_inbound >= m_config.max_inbound) {
        const auto victim = eviction_candidate();
        if (!victim) {
            ++m_refusals;
            return refused("inbound slots full, none evictable");
        }
        erase(m_peers.find(*victim));
        ++m_evictions;
        decision.evict = *victim;
        decision.reason = "evicted: youngest of the largest network group";
    }
    m_peers.emplace(peer, std::move(slot));
    ++m_inbound;
    return decision;
}

std::size_t PeerSlots::outbound_wanted() const {
    return m_outbound >= m_config.max_outbound ? 0 : m_config.max_outbound - m_outbound;
}

bool PeerSlots::may_dial(const wire::Multiaddr& addr) const {
    const auto group = net_group(addr);
    if (!group) {
        return true;
    }
    return std::none_of(m_peers.begin(), m_peers.end(), [&](const auto& entry) {
        return entry.second.direction == SlotDirection::outbound && entry.second.group == group;
    });
}

void PeerSlots::reserve_outbound(const crypto::PeerId& peer, const wire::Multiaddr& addr,
                                 bool is_static, Instant now) {
    if (m_peers.contains(peer)) {
        return;
    }
    Slot slot;
    slot.direction = SlotDirection::outbound;
    slot.group = net_group(addr);
    slot.is_static = is_static;
    slot.connected = now;
    m_peers.emplace(peer, std::move(slot));
    if (!is_static) {
        ++m_outbound;
    }
}

void PeerSlots::on_outbound_connected(const crypto::PeerId& peer, const wire::Multiaddr& remote,
                                      bool is_static, Instant now) {
    const auto it = m_peers.find(peer);
    if (it == m_peers.end()) {
        reserve_outbound(peer, remote, is_static, now);
        return;
    }
    Slot& slot = it->second;
    if (slot.direction != SlotDirection::outbound) {
        return;  // rule 5: the inbound connection took the slot first
    }
    slot.connected = now;
    slot.group = net_group(remote);
}

void PeerSlots::release(const crypto::PeerId& peer) {
    if (const auto it = m_peers.find(peer); it != m_peers.end()) {
        erase(it);
    }
}

void PeerSlots::on_useful(const crypto::PeerId& peer, Instant now) {
    if (const auto it = m_peers.find(peer); it != m_peers.end()) {
        it->second.last_useful = now;
    }
}

std::optional<SlotDirection> PeerSlots::direction(const crypto::PeerId& peer) const {
    const auto it = m_peers.find(peer);
    return it == m_peers.end() ? std::nullopt : std::optional(it->second.direction);
}

void PeerSlots::erase(std::map<crypto::PeerId, Slot>::iterator it) {
    if (!it->second.is_static) {
        --(it->second.direction == SlotDirection::inbound ? m_inbound : m_outbound);
    }
    m_peers.erase(it);
}

std::size_t PeerSlots::inbound_in_group(const std::string& group) const {
    return static_cast<std::size_t>(std::count_if(m_peers.begin(), m_peers.end(), [&](const auto& e) {
        return e.second.direction == SlotDirection::inbound && !e.second.is_static &&
               e.second.group == group;
    }));
}

std::optional<crypto::PeerId> PeerSlots::eviction_candidate() const {
    struct Candidate {
        const crypto::PeerId* peer;
        const Slot* slot;
    };
    std::vector<Candidate> candidates;
    for (const auto& [peer, slot] : m_peers) {
        if (slot.direction == SlotDirection::inbound && !slot.is_static) {
            candidates.push_back({&peer, &slot});
        }
    }
    // Drops the first `count` candidates in `better` order from eviction.
    const auto protect = [&](std::size_t count, auto better) {
        const std::size_t n = std::min(count, candidates.size());
        std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(n),
                          candidates.end(), better);
        candidates.erase(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(n));
    };
    // The longest connected (ties: the lower id, so runs replay).
    protect(m_config.protected_longest, [](const Candidate& a, const Candidate& b) {
        return a.slot->connected != b.slot->connected ? a.slot->connected < b.slot->connected
                                                      : *a.peer < *b.peer;
    });
    // Of the rest, those useful most recently; a peer never useful is not protected (an
    // empty optional orders below every instant, so those come last).
    const auto ever_useful = static_cast<std::size_t>(std::count_if(
        candidates.begin(), candidates.end(), [](const Candidate& c) { return c.slot->last_useful.has_value(); }));
    protect(std::min(m_config.protected_useful, ever_useful),
            [](const Candidate& a, const Candidate& b) {
                return a.slot->last_useful != b.slot->last_useful
                           ? a.slot->last_useful > b.slot->last_useful
                           : *a.peer < *b.peer;
            });
    if (candidates.empty()) {
        return std::nullopt;
    }
    // The group with the most candidates; ties go to the group with the youngest member.
    struct Group {
        std::size_t size = 0;
        const Candidate* youngest = nullptr;
    };
    const auto younger = [](const Candidate& a, const Candidate& b) {
        return a.slot->connected != b.slot->connected ? a.slot->connected > b.slot->connected
                                                      : *b.peer < *a.peer;
    };
    std::map<std::string, Group> groups;
    for (const auto& c : candidates) {
        Group& g = groups[c.slot->group.value_or(LOCAL_GROUP)];
        ++g.size;
        if (g.youngest == nullptr || younger(c, *g.youngest)) {
            g.youngest = &c;
        }
    }
    const Group* chosen = nullptr;
    for (const auto& [name, group] : groups) {
        if (chosen == nullptr || group.size > chosen->size ||
            (group.size == chosen->size && younger(*group.youngest, *chosen->youngest))) {
            chosen = &group;
        }
    }
    return *chosen->youngest->peer;
}

void PeerSlots::check_invariants() const {
    std::size_t inbound = 0;
    std::size_t outbound = 0;
    std::map<std::string, std::size_t> per_group;
    for (const auto& [peer, slot] : m_peers) {
        if (slot.is_static) {
            continue;
        }
        if (slot.direction == SlotDirection::inbound) {
            ++inbound;
            if (slot.group) {
                require(++per_group[*slot.group] <= m_config.max_inbound_per_group);
            }
        } else {
            ++outbound;
        }
    }
    require(inbound == m_inbound && outbound == m_outbound);
    require(m_inbound <= m_config.max_inbound);
}

}  // namespace chainmesh::discovery
