#pragma once
// The peer book: every peer this node knows an address for, whom to dial next, and when.
// Like go-libp2p's peerstore joined with a much simpler Bitcoin Core addrman. A pure engine:
// time comes in as an Instant, randomness from the Rng it is given; the only I/O is the
// explicit save_file/load_file pair.
//
// What it tracks, per peer: up to max_addrs_per_peer dialable addresses, each with the source
// that told us of it; whether the peer is static; whether we are connected or dialing;
// consecutive dial failures and the instant before which it is not redialed; whether and when
// we last reached it. Bans are kept apart, per peer id, so they hold for peers the book does
// not (yet) list.
//
// Rules, each with its rationale:
// 1. Only dialable TCP addresses are kept: /ip4|/ip6|/dns4|/dns6/<host>/tcp/<port>, optionally
//    ending in /p2p/<the same peer>, which is stripped; port 0, 0.0.0.0 and :: are refused,
//    and so are DNS names that are not plain host names (letters, digits, '-', '_', '.').
//    An address whose /p2p/ names another peer is dropped. Loopback is kept: local testnets
//    run on it. /dns (either family) and /dnsaddr are not kept. Rationale: we only dial TCP,
//    an unspecified address or port cannot be dialed, and a resolver cannot look up a name
//    with other bytes (keeping them out also keeps the JSON file plain ASCII).
// 2. Sources rank static_peer > bootstrap, identify, inbound (first-hand) > exchange,
//    peer_list (second-hand). Within one add_addresses call, earlier addresses count as newer
//    (callers list addresses best first, as identify does). Past max_addrs_per_peer the
//    oldest address of the lowest rank goes; a new address of lower rank than every kept one
//    is dropped instead. Rationale: newest first follows peers that move, but what other
//    peers tell us about a peer must not push out what the peer or the operator told us.
// 3. At max_peers, a new peer takes the place of the worst evictable peer: not static, not
//    connected, not dialing; worst means banned, then the most failures, then never reached,
//    then the oldest success, then the oldest entry. Only bootstrap and static peers may take
//    the place of a peer we reached whose last dial did not fail; if they cannot (or no peer
//    is evictable) the new peer is dropped. Rationale: nothing remote peers say, and no
//    inbound connection, can flush the peers we know work (the eclipse attack addrman's tried
//    table resists); static peers are operator intent and are never evicted.
// 4. Backoff: each failed dial sets the next attempt to now + min(max_backoff,
//    initial_backoff·2^(failures-1)) × (1 ± jitter), jitter drawn from the Rng; a connection
//    clears failures and backoff; a disconnection waits initial_backoff (× 1 ± jitter) before
//    the next dial. Rationale: dead peers cost a dial per max_backoff at most, jitter keeps
//    restarted nodes from dialing in lockstep, and a peer that accepts and drops at once is
//    not redialed in a busy loop. Static peers are redialed forever, on the same backoff.
// 5. Dial order (dial_candidates): static peers, then peers reached before, then the rest;
//    within each, fewer failures first, then the latest success, then the oldest entry.
//    Excluded: self, banned, connected or dialing, in backoff, without an address. Rationale:
//    operator intent, then proven peers, then hearsay; deterministic, so runs replay.
// 6. A banned peer is neither dialed nor shared (sample), and add_addresses ignores it.
//    Rationale: a banned peer must not spend our dials, reach others through us, or push
//    other peers out of the book.
// 7. Persistence keeps peers, addresses, sources, the static flag and whether a peer was ever
//    reached: not bans, failures or backoff, because Instants mean nothing after a restart.
//    Loading is tolerant: a file is a cache, and a bad entry costs that entry, not the node.
//
// Bounds: peers <= max_peers, each with <= max_addrs_per_peer addresses (a dialable address
// is under 300 bytes); bans <= max_bans (when full the ban closest to expiry goes). An input
// costs O(log peers + addresses given × max_addrs_per_peer), plus O(peers) when an eviction
// scans; dial_candidates, next_retry and sample are O(peers log peers). load_json reads at
// most max_peers entries and max_addrs_per_peer addresses each; load_file refuses files above
// max_file_bytes().
//
// Threading: not thread-safe; one owner (the node's I/O thread, or the simulator) calls it.
//
// Driver contract: report every dial: on_dial_started, then on_connected or on_dial_failed;
// report on_connected / on_disconnected for connections in both directions (an inbound peer
// is listed, without addresses, until identify tells its addresses, or until it leaves).
// After a dial failure re-arm a timer at next_retry().

#include <chainmesh/crypto/peer_id.hpp>
#include <chainmesh/discovery/peer_list.hpp>
#include <chainmesh/util/instant.hpp>
#include <chainmesh/util/result.hpp>
#include <chainmesh/util/rng.hpp>
#include <chainmesh/wire/multiaddr.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chainmesh::discovery {

using namespace std::chrono_literals;

enum class PeerSource : std::uint8_t {
    bootstrap,    // the configured bootstrap list
    static_peer,  // a configured static peer (add_static)
    identify,     // the peer's own listen addresses, from identify
    exchange,     // another peer's hearsay (gossipsub PX)
    peer_list,    // another peer's hearsay (/chainmesh/peers/1.0.0)
    inbound,      // where an inbound connection came from
};
std::string_view name(PeerSource source);
std::optional<PeerSource> peer_source_from_name(std::string_view text);

struct PeerBookConfig {
    std::size_t max_peers = 2048;        // >= 1
    std::size_t max_addrs_per_peer = 8;  // >= 1
    Duration initial_backoff = 1s;       // > 0
    Duration max_backoff = 5min;         // >= initial_backoff
    double jitter = 0.2;                 // in [0, 1)
    std::size_t max_bans = 1024;         // >= 1
};

struct DialCandidate {
    crypto::PeerId peer;
    std::vector<wire::Multiaddr> addrs;  // in the order to try them
};

// `addr` as the book keeps it (rule 1): without its /p2p/ suffix; nullopt when it is not a
// dialable TCP address of `peer`.
std::optional<wire::Multiaddr> dialable_address(const wire::Multiaddr& addr,
                                                const crypto::PeerId& peer);

class PeerBook {
public:
    // Aborts on a config outside the ranges noted in PeerBookConfig (a programmer error: the
    // node validates what users configure).
    PeerBook(PeerBookConfig config, Rng rng);

    // Our own id: never listed, dialed or shared. Forgets an entry already listed for it.
    void set_self(const crypto::PeerId& self);

    // Addresses of `peer` learnt from `source`; undialable ones are dropped (rule 1). Source
    // static_peer makes the peer static, as add_static does.
    void add_addresses(const crypto::PeerId& peer, std::span<const wire::Multiaddr> addrs,
                       PeerSource source, Instant now);
    // A configured peer: never evicted, redialed forever. False when the address is not
    // dialable, `peer` is self, or the book is full of peers it may not evict.
    bool add_static(const crypto::PeerId& peer, const wire::Multiaddr& addr);

    // Dial lifecycle, for connections in both directions (see the driver contract above).
    void on_dial_started(const crypto::PeerId& peer, Instant now);
    void on_connected(const crypto::PeerId& peer, Instant now);
    void on_dial_failed(const crypto::PeerId& peer, Instant now);
    void on_disconnected(const crypto::PeerId& peer, Instant now);

    // Up to `max` peers to dial now, in dial order (rule 5), each with its addresses.
    std::vector<DialCandidate> dial_candidates(
        std::size_t max, Instant now, const std::set<crypto::PeerId>& connected_or_dialing) const;
    // The earliest instant after `now` when a peer in backoff (or banned) becomes dialable;
    // nullopt when no peer waits.
    std::optional<Instant> next_retry(Instant now) const;

    // Bans hold until `until` whether or not the peer is listed; a later ban of the same peer
    // extends it, an earlier one does not shorten it.
    void ban(const crypto::PeerId& peer, Instant until);
    bool is_banned(const crypto::PeerId& peer, Instant now) const;

    // Up to `max` peers drawn uniformly from those listed with an address and not banned,
    // each with up to MAX_PEER_LIST_ADDRS addresses in dial order: the answer to a peer-list
    // request.
    std::vector<PeerRecord> sample(std::size_t max, Rng& rng, Instant now) const;

    // Queries.
    std::size_t size() const { return m_peers.size(); }
    bool contains(const crypto::PeerId& peer) const { return m_peers.contains(peer); }
    // In dial order; empty for a peer not listed.
    std::vector<wire::Multiaddr> addresses(const crypto::PeerId& peer) const;
    bool is_static(const crypto::PeerId& peer) const;
    // Consecutive failed dials since the last connection; 0 for a peer not listed.
    std::uint32_t failures(const crypto::PeerId& peer) const;

    // Persistence (rule 7). to_json is deterministic for a given book. load_json merges into
    // the book as if the peers were added now, and returns how many entries it skipped (peers
    // or addresses malformed, undialable or beyond the bounds; 1 for a document that is not
    // a peer book at all); it never throws.
    std::string to_json() const;
    std::size_t load_json(std::string_view text, Instant now);
    // Writes `path`.tmp then renames it over `path`, so `path` is always either the old file
    // or the new one. The error is the OS's.
    Result<void> save_file(const std::filesystem::path& path) const;
    // As load_json; a missing file loads nothing and skips nothing; an unreadable or oversized
    // one counts as one skipped entry.
    std::size_t load_file(const std::filesystem::path& path, Instant now);
    // The largest file load_file reads: far above what to_json writes for this config.
    std::size_t max_file_bytes() const;

    // Aborts when a bound or an index is broken. Tests and the simulator call it.
    void check_invariants() const;

private:
    struct Address {
        wire::Multiaddr addr;
        PeerSource source = PeerSource::exchange;
    };
    struct Entry {
        std::vector<Address> addrs;  // oldest first
        bool is_static = false;
        bool connected = false;
        bool dialing = false;
        bool reached = false;
        Instant last_success{};           // when `reached`
        std::uint32_t failures = 0;       // consecutive, saturating
        std::optional<Instant> retry_at;  // not dialed before this
        std::uint64_t order = 0;          // entry order, for deterministic ties
    };
    using Peers = std::map<crypto::PeerId, Entry>;

    // Finds or makes the entry for a new peer from `source` (rule 3); end() when there is no
    // room for it.
    // Without `now` (add_static) bans are not considered when choosing whom to evict.
    Peers::iterator find_or_insert(const crypto::PeerId& peer, PeerSource source,
                                   std::optional<Instant> now);
    // The add path shared by add_addresses, add_static and load_json: `addrs` dialable and
    // stripped, newest last.
    bool add_checked(const crypto::PeerId& peer, std::span<const Address> addrs, bool make_static,
                     std::optional<Instant> now);
    std::size_t load_peer(const nlohmann::json& json_peer, Instant now);
    // Adds or refreshes one (dialable, stripped) address (rule 2).
    void insert_address(Entry& entry, const wire::Multiaddr& addr, PeerSource source);
    std::vector<wire::Multiaddr> dial_order(const Entry& entry, std::size_t max) const;
    Duration jittered(Duration base);
    Duration backoff(std::uint32_t failures);
    std::optional<Instant> ban_until(const crypto::PeerId& peer) const;

    PeerBookConfig m_config;
    Rng m_rng;
    std::optional<crypto::PeerId> m_self;
    Peers m_peers;
    std::map<crypto::PeerId, Instant> m_bans;
    std::uint64_t m_next_order = 0;
};

}  // namespace chainmesh::discovery
