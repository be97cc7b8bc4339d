#pragma once
// Peer slots: which connections a node keeps, so that no one party can take all of them (an
// eclipse). Bitcoin Core's outbound/inbound split, netgroup diversity and inbound eviction
// (net.cpp, AttemptToEvictConnection), reduced to what a libp2p node needs. A pure engine:
// time comes in as an Instant; the driver carries out what it answers.
//
// Network groups: an address's group is who plausibly controls it: the /16 of a public IPv4
// address, the /32 of a public IPv6 one (an IPv4-mapped IPv6 address counts as its IPv4
// address). Loopback, private (RFC 1918, RFC 4193), link-local, CGNAT and unspecified
// addresses have no group ("local"): the rules below do not apply to them. Rationale: one
// operator gets a /16 or a /32 far more cheaply than addresses in many of them; local
// addresses are reachable only from the operator's own site, and local testnets run every
// node on one of them.
//
// Rules, each with its rationale:
// 1. Slots are split: at most max_outbound connections we dialed, at most max_inbound that
//    dialed us. An inbound flood never takes an outbound slot, so the node always gets to
//    choose some of its peers itself. Static peers (operator intent) hold slots beyond these
//    counts, in either direction, and are never refused or evicted.
// 2. Outbound diversity: no two outbound connections (or dials in progress) to one group.
//    Rationale: the peers we choose are the eclipse's hardest target; one range, however many
//    addresses it fills our book with, gets one of them.
// 3. Inbound per group: at most max_inbound_per_group inbound peers from one group; more are
//    refused. Rationale: one range cannot fill the inbound slots either.
// 4. Eviction: an inbound peer arriving when the inbound slots are full takes the place of
//    one already there, if one may go: not the protected_longest peers connected longest,
//    not the protected_useful peers that most recently brought us something new (a block or
//    a transaction, reported with on_useful); of the rest, the youngest peer of the group
//    with the most of them goes (local peers form one group here). If none may go, the
//    newcomer is refused. Rationale: a node must keep accepting peers (a full node that
//    refuses everyone stops the network from growing), but the peers that proved themselves
//    by time or by work stay, and the largest group, where an attacker's identities gather,
//    pays for the newcomer.
// 5. A peer holds one slot whatever the number of connections to it; its direction is that
//    of the connection that took the slot.
//
// Bounds: at most max_outbound + max_inbound peers plus the static peers connected, one
// entry each (its group is under 40 bytes). Each call is O(peers) at worst (eviction sorts
// the inbound peers: O(inbound log inbound)).
//
// Threading: not thread-safe; one owner (the node's I/O thread, or the simulator).
//
// Driver contract: call admit_inbound for every new inbound connection and disconnect what
// it answers (the newcomer when refused, the evicted peer otherwise); call may_dial before
// dialing and reserve_outbound when the dial starts, then on_outbound_connected or
// release; call release when a peer's last connection closes.

#include <chainmesh/crypto/peer_id.hpp>
#include <chainmesh/util/instant.hpp>
#include <chainmesh/wire/multiaddr.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace chainmesh::discovery {

// A network group, as text ("45.67.0.0/16", "2001:db8::/32"); nullopt for local addresses
// and for addresses that are not IP (a DNS name: its group is known once connected).
std::optional<std::string> net_group(const wire::Multiaddr& addr);

struct PeerSlotsConfig {
    std::size_t max_outbound = 8;
    std::size_t max_inbound = 56;
    std::size_t max_inbound_per_group = 8;  // >= 1
    std::size_t protected_longest = 4;
    std::size_t protected_useful = 4;
};

enum class SlotDirection { inbound, outbound };

struct InboundDecision {
    bool accept = false;
    std::optional<crypto::PeerId> evict;  // disconnect this peer first (accept is then true)
    std::string_view reason;              // why refused or why evicted; static text
};

class PeerSlots {
public:
    // Aborts when max_inbound_per_group is 0 (a programmer error).
    explicit PeerSlots(PeerSlotsConfig config);

    // A new inbound connection from `peer` at `remote`. When accepted the peer holds an
    // inbound slot (and the evicted one, if any, no longer holds its own). A peer that
    // already holds a slot is accepted as it is; a static peer always is.
    InboundDecision admit_inbound(const crypto::PeerId& peer, const wire::Multiaddr& remote,
                                  bool is_static, Instant now);

    // Outbound slots free: max_outbound less outbound peers (static ones excepted) and dials.
    std::size_t outbound_wanted() const;
    // False when an outbound peer or a dial already holds `addr`'s group (rule 2).
    bool may_dial(const wire::Multiaddr& addr) const;
    // A dial to `peer` at `addr` starts; static dials skip the checks (rule 1).
    void reserve_outbound(const crypto::PeerId& peer, const wire::Multiaddr& addr,
                          bool is_static, Instant now);
    // The dial reached the peer at `remote`, the connection's IP address (its group may
    // differ from the address dialed, for a DNS name). A peer with no reservation (a dial by
    // address alone) is taken as outbound too.
    void on_outbound_connected(const crypto::PeerId& peer, const wire::Multiaddr& remote,
                               bool is_static, Instant now);
    // The dial failed, or the peer's last connection closed: its slot is free.
    void release(const crypto::PeerId& peer);
    // The peer brought something new and valid (rule 4).
    void on_useful(const crypto::PeerId& peer, Instant now);

    // Queries.
    bool holds(const crypto::PeerId& peer) const { return m_peers.contains(peer); }
    std::optional<SlotDirection> direction(const crypto::PeerId& peer) const;
    // Static peers are not counted; outbound counts dials in progress.
    std::size_t inbound_count() const { return m_inbound; }
    std::size_t outbound_count() const { return m_outbound; }
    std::size_t evictions() const { return m_evictions; }
    std::size_t refusals() const { return m_refusals; }
    const PeerSlotsConfig& config() const { return m_config; }

    // Aborts when a count or a bound is broken. Tests and the simulator call it.
    void check_invariants() const;

private:
    struct Slot {
        SlotDirection direction = SlotDirection::inbound;
        std::optional<std::string> group;
        bool is_static = false;
        Instant connected{};  // or the dial started
        std::optional<Instant> last_useful;
    };

    std::optional<crypto::PeerId> eviction_candidate() const;
    std::size_t inbound_in_group(const std::string& group) const;
    void erase(std::map<crypto::PeerId, Slot>::iterator it);

    PeerSlotsConfig m_config;
    std::map<crypto::PeerId, Slot> m_peers;
    std::size_t m_inbound = 0;   // non-static
    std::size_t m_outbound = 0;  // non-static, dials in progress included
    std::size_t m_evictions = 0;
    std::size_t m_refusals = 0;
};

}  // namespace chainmesh::discovery
