#pragma once
// An eclipse attempt in virtual time (issue 5): one victim node runs the real peer-management
// engines (discovery::PeerBook, discovery::PeerSlots, the /chainmesh/peers/1.0.0 codec)
// against an attacker with many identities in one /16 and a population of honest peers, each
// in a /16 of its own. Same seed, same run, byte for byte.
//
// What is modelled, at the connection level (no gossip: an eclipsed node is one whose every
// connection is the attacker's, whatever runs over them):
// - The victim starts from `bootstrap` honest peers, keeps its outbound slots filled from its
//   book (a dial takes one round trip; every peer accepts), asks a connected peer for a peer
//   list when it has nobody left to dial, and asks each new outbound peer for one while it is
//   short. Lists travel as encoded bytes and are decoded on arrival.
// - Honest peers answer a peer list with honest peers, but `hearsay_pollution` of each answer
//   names attacker identities (the attacker spreads its addresses through honest nodes too);
//   the attacker answers with its own identities only. An inbound peer's identify tells its
//   listen address (PeerSource::identify), as in the node.
// - Honest connections end after an exponential lifetime (churn); honest peers dial the victim
//   now and then. The attacker, from attack_start, opens one inbound connection per
//   connect_interval from its identities in turn, never drops one, and accepts every dial.
// - Optionally the victim restarts: connections and slots are lost, the book survives through
//   its JSON form (PeerBook::to_json / load_json, as peers.json across a real restart).
// - With slot_policy off (the control), the victim behaves as the node did before peer slots:
//   one pool of max_peers connections, first come first served, dialing while it has fewer
//   than min_peers in all. The attacker must win there, proving the check bites.
//
// The invariant: from attack_start + warmup on (and again warmup after a restart), at every
// sample the victim has at least min_honest connections to honest peers. Every sample also
// runs PeerBook::check_invariants and PeerSlots::check_invariants (they abort on a broken
// bound).
//
// Bounds: honest_nodes + attacker_identities ids and addresses; one event per dial, list,
// connection end and sample; a run stops at max_events.

#include <chainmesh/discovery/peer_book.hpp>
#include <chainmesh/discovery/peer_slots.hpp>
#include <chainmesh/util/instant.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace chainmesh::sim {

struct EclipseConfig {
    std::uint64_t seed = 1;
    std::size_t honest_nodes = 40;
    std::size_t attacker_identities = 500;
    std::uint8_t attacker_prefix[2] = {45, 67};  // the attacker's /16
    bool slot_policy = true;
    discovery::PeerSlotsConfig slots;
    std::size_t max_peers = 64;  // slot_policy off: one pool
    std::size_t min_peers = 8;   // slot_policy off: dial while below
    discovery::PeerBookConfig book{.max_peers = 256};
    std::size_t bootstrap = 4;
    Duration attack_start = std::chrono::seconds{10};
    Duration connect_interval = std::chrono::milliseconds{200};
    Duration honest_lifetime = std::chrono::seconds{60};         // mean
    Duration honest_inbound_interval = std::chrono::seconds{5};  // mean
    double hearsay_pollution = 0.5;
    std::optional<Duration> restart_at;
    Duration latency = std::chrono::milliseconds{50};  // one way
    Duration dial_interval = std::chrono::seconds{1};
    Duration warmup = std::chrono::seconds{10};
    Duration sample_interval = std::chrono::seconds{1};
    std::size_t min_honest = 4;
    Duration duration = std::chrono::seconds{300};
    std::uint64_t max_events = 10'000'000;
};

struct EclipseMetrics {
    std::uint64_t samples = 0;          // judged samples (after warmup)
    std::uint64_t failing_samples = 0;  // below min_honest
    std::uint64_t eclipsed_samples = 0;  // no honest connection at all
    std::size_t min_honest_connections = 0;  // over the judged samples
    double max_attacker_share = 0.0;         // of the victim's connections, judged samples
    std::size_t final_honest_inbound = 0;
    std::size_t final_honest_outbound = 0;
    std::size_t final_attacker_inbound = 0;
    std::size_t final_attacker_outbound = 0;
    double final_book_attacker_share = 0.0;  // of the victim's book entries
    std::uint64_t attacker_attempts = 0;
    std::uint64_t refused = 0;
    std::uint64_t evicted_honest = 0;
    std::uint64_t evicted_attacker = 0;
    std::uint64_t dials = 0;
    std::uint64_t peer_lists = 0;
    std::uint64_t events = 0;
    std::optional<Duration> first_failure;  // since the start
};

// Text, one `name value` per line; fixed formatting.
std::string format_eclipse_metrics(const EclipseMetrics& metrics);

// Runs the whole attack; deterministic for a config.
EclipseMetrics run_eclipse(const EclipseConfig& config);

}  // namespace chainmesh::sim
