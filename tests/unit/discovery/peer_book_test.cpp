#include <gtest/gtest.h>

#include "peer_fixtures.hpp"

#include <algorithm>
#include <chainmesh/discovery/peer_book.hpp>
#include <chainmesh/discovery/peer_list.hpp>
#include <chainmesh/util/uvarint.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

namespace chainmesh::discovery {
namespace {

using crypto::PeerId;
using wire::Multiaddr;

constexpr std::uint64_t SEED = 42;
const Instant T0 = instant_from_nanos(1'000'000'000'000);

using fixtures::ma;
using fixtures::peer;

// A distinct loopback address per n.
Multiaddr addr(std::uint16_t n) {
    return ma("/ip4/127.0.0.1/tcp/" + std::to_string(1000 + n));
}

PeerBook make_book(PeerBookConfig config = {}) {
    return PeerBook(config, Rng(SEED));
}

void add(PeerBook& book, const PeerId& p, std::vector<Multiaddr> addrs,
         PeerSource source = PeerSource::exchange, Instant now = T0) {
    book.add_addresses(p, addrs, source, now);
}

std::vector<PeerId> ids(const std::vector<DialCandidate>& candidates) {
    std::vector<PeerId> out;
    for (const auto& c : candidates) {
        out.push_back(c.peer);
    }
    return out;
}

// Reached once, then disconnected, with the reconnect delay elapsed by `T0 + 1h`.
void reach(PeerBook& book, const PeerId& p, Instant at) {
    book.on_dial_started(p, at);
    book.on_connected(p, at);
    book.on_disconnected(p, at);
}

const Instant LATER = T0 + std::chrono::hours(1);

// ---- address filtering (rule 1) ----

TEST(PeerBookFilter, KeepsOnlyDialableTcpAddresses) {
    PeerBook book = make_book();
    const PeerId p = peer(1);
    add(book, p,
        {ma("/ip4/1.2.3.4/tcp/4001"), ma("/ip6/2001:db8::1/tcp/4001"),
         ma("/dns4/seed.example.org/tcp/4001"), ma("/dns6/seed6.example.org/tcp/4001"),
         ma("/ip4/127.0.0.1/tcp/4002"), ma("/ip6/::1/tcp/4002"),
         // refused:
         ma("/ip4/1.2.3.4/udp/4001"), ma("/ip4/1.2.3.4/tcp/0"), ma("/ip4/0.0.0.0/tcp/4001"),
         ma("/ip6/::/tcp/4001"), ma("/ip4/1.2.3.4/tcp/4001/ws"), ma("/ip4/1.2.3.4"),
         ma("/dns/seed.example.org/tcp/4001"), ma("/dnsaddr/seed.example.org"),
         ma("/unix/tmp/sock"), ma("/ip6zone/x/ip6/fe80::1/tcp/1"), ma("/dns4/bad name/tcp/1"),
         ma("/ip4/1.2.3.4/udp/1/quic-v1"), Multiaddr()},
        PeerSource::identify);
    const std::vector<Multiaddr> kept = book.addresses(p);
    const std::set<std::string> texts = [&] {
        std::set<std::string> out;
        for (const auto& a : kept) {
            out.insert(a.to_string());
        }
        return out;
    }();
    EXPECT_EQ(texts, (std::set<std::string>{"/ip4/1.2.3.4/tcp/4001", "/ip6/2001:db8::1/tcp/4001",
                                            "/dns4/seed.example.org/tcp/4001",
                                            "/dns6/seed6.example.org/tcp/4001",
                                            "/ip4/127.0.0.1/tcp/4002", "/ip6/::1/tcp/4002"}));
    book.check_invariants();
}

TEST(PeerBookFilter, StripsOwnP2pSuffixAndDropsAnotherPeers) {
    PeerBook book = make_book();
    const PeerId p = peer(1);
    const PeerId other = peer(2);
    add(book, p,
        {ma("/ip4/1.2.3.4/tcp/1/p2p/" + p.to_base58()),
         ma("/ip4/1.2.3.5/tcp/1/p2p/" + other.to_base58())});
    EXPECT_EQ(book.addresses(p), std::vector<Multiaddr>{ma("/ip4/1.2.3.4/tcp/1")});
    EXPECT_FALSE(book.contains(other));
    EXPECT_EQ(dialable_address(ma("/ip4/1.2.3.4/tcp/1/p2p/" + other.to_base58()), p), std::nullopt);
}

TEST(PeerBookFilter, PeerWithoutDialableAddressIsNotListed) {
    PeerBook book = make_book();
    add(book, peer(1), {ma("/ip4/1.2.3.4/udp/1"), ma("/ip4/0.0.0.0/tcp/1")});
    add(book, peer(2), {});
    EXPECT_EQ(book.size(), 0U);
    EXPECT_FALSE(book.add_static(peer(3), ma("/ip4/1.2.3.4/tcp/0")));
    EXPECT_EQ(book.size(), 0U);
}

TEST(PeerBookFilter, SelfIsNeverListed) {
    PeerBook book = make_book();
    add(book, peer(1), {addr(1)});
    book.set_self(peer(1));
    EXPECT_FALSE(book.contains(peer(1)));
    add(book, peer(1), {addr(1)});
    EXPECT_FALSE(book.add_static(peer(1), addr(1)));
    book.on_connected(peer(1), T0);
    EXPECT_EQ(book.size(), 0U);
    book.check_invariants();
}

TEST(PeerBookFilter, DuplicatesAreMerged) {
    PeerBook book = make_book();
    add(book, peer(1),
        {addr(1), addr(1), ma("/ip4/127.0.0.1/tcp/1001/p2p/" + peer(1).to_base58())});
    add(book, peer(1), {addr(1)});
    EXPECT_EQ(book.addresses(peer(1)), std::vector<Multiaddr>{addr(1)});
    EXPECT_EQ(book.size(), 1U);
}

// ---- address bounds (rule 2) ----

TEST(PeerBookAddresses, BoundedNewestKept) {
    PeerBook book = make_book({.max_addrs_per_peer = 3});
    for (std::uint16_t i = 1; i <= 5; ++i) {
        add(book, peer(1), {addr(i)});
    }
    EXPECT_EQ(book.addresses(peer(1)), (std::vector<Multiaddr>{addr(5), addr(4), addr(3)}));
    // Seeing an address again makes it the newest.
    add(book, peer(1), {addr(3)});
    add(book, peer(1), {addr(6)});
    EXPECT_EQ(book.addresses(peer(1)), (std::vector<Multiaddr>{addr(6), addr(3), addr(5)}));
    book.check_invariants();
}

TEST(PeerBookAddresses, EarlierInOneCallCountsAsNewer) {
    PeerBook book = make_book({.max_addrs_per_peer = 3});
    add(book, peer(1), {addr(1), addr(2), addr(3), addr(4), addr(5)}, PeerSource::identify);
    EXPECT_EQ(book.addresses(peer(1)), (std::vector<Multiaddr>{addr(1), addr(2), addr(3)}));
}

TEST(PeerBookAddresses, HearsayCannotPushOutFirstHandAddresses) {
    PeerBook book = make_book({.max_addrs_per_peer = 2});
    add(book, peer(1), {addr(1), addr(2)}, PeerSource::identify);
    add(book, peer(1), {addr(3)}, PeerSource::peer_list);
    EXPECT_EQ(book.addresses(peer(1)), (std::vector<Multiaddr>{addr(1), addr(2)}));

    // Hearsay replaces hearsay, and first-hand replaces hearsay before first-hand.
    PeerBook mixed = make_book({.max_addrs_per_peer = 2});
    add(mixed, peer(1), {addr(1)}, PeerSource::identify);
    add(mixed, peer(1), {addr(2)}, PeerSource::peer_list);
    add(mixed, peer(1), {addr(3)}, PeerSource::exchange);
    EXPECT_EQ(mixed.addresses(peer(1)), (std::vector<Multiaddr>{addr(1), addr(3)}));
    add(mixed, peer(1), {addr(4)}, PeerSource::identify);
    EXPECT_EQ(mixed.addresses(peer(1)), (std::vector<Multiaddr>{addr(4), addr(1)}));
    mixed.check_invariants();
}

TEST(PeerBookAddresses, StaticAddressesComeFirstAndStay) {
    PeerBook book = make_book({.max_addrs_per_peer = 2});
    ASSERT_TRUE(book.add_static(peer(1), addr(1)));
    add(book, peer(1), {addr(2)}, PeerSource::identify);
    add(book, peer(1), {addr(3)}, PeerSource::identify);
    add(book, peer(1), {addr(4)}, PeerSource::bootstrap);
    EXPECT_EQ(book.addresses(peer(1)), (std::vector<Multiaddr>{addr(1), addr(4)}));
    EXPECT_TRUE(book.is_static(peer(1)));
    book.check_invariants();
}

// ---- peer bounds and eviction (rule 3) ----

TEST(PeerBookEviction, FullBookEvictsThePeerWithMostFailures) {
    PeerBook book = make_book({.max_peers = 3});
    for (std::uint16_t i = 1; i <= 3; ++i) {
        add(book, peer(i), {addr(i)});
    }
    book.on_dial_failed(peer(2), T0);
    book.on_dial_failed(peer(2), T0);
    book.on_dial_failed(peer(3), T0);
    add(book, peer(4), {addr(4)});
    EXPECT_EQ(book.size(), 3U);
    EXPECT_FALSE(book.contains(peer(2)));
    EXPECT_TRUE(book.contains(peer(4)));
    book.check_invariants();
}

TEST(PeerBookEviction, NeverReachedGoesBeforeOldestSuccess) {
    PeerBook book = make_book({.max_peers = 3});
    for (std::uint16_t i = 1; i <= 3; ++i) {
        add(book, peer(i), {addr(i)});
    }
    reach(book, peer(1), T0 + std::chrono::seconds(1));
    reach(book, peer(2), T0 + std::chrono::seconds(2));
    add(book, peer(4), {addr(4)}, PeerSource::bootstrap);
    EXPECT_FALSE(book.contains(peer(3)));  // never reached
    // All are reached: a bootstrap peer takes the place of the oldest success.
    reach(book, peer(4), T0 + std::chrono::seconds(3));
    add(book, peer(5), {addr(5)}, PeerSource::bootstrap);
    EXPECT_FALSE(book.contains(peer(1)));
    EXPECT_TRUE(book.contains(peer(2)));
    EXPECT_TRUE(book.contains(peer(4)));
    EXPECT_TRUE(book.contains(peer(5)));
    book.check_invariants();
}

TEST(PeerBookEviction, OldestEntryGoesOnATie) {
    PeerBook book = make_book({.max_peers = 2});
    add(book, peer(1), {addr(1)});
    add(book, peer(2), {addr(2)});
    add(book, peer(3), {addr(3)});
    EXPECT_FALSE(book.contains(peer(1)));
    EXPECT_TRUE(book.contains(peer(2)));
}

TEST(PeerBookEviction, HearsayCannotFlushReachedPeers) {
    PeerBook book = make_book({.max_peers = 2});
    add(book, peer(1), {addr(1)});
    add(book, peer(2), {addr(2)});
    reach(book, peer(1), T0);
    reach(book, peer(2), T0);
    for (std::uint16_t i = 3; i < 20; ++i) {
        add(book, peer(i), {addr(i)}, i % 2 == 0 ? PeerSource::peer_list : PeerSource::exchange);
        add(book, peer(i), {addr(i)}, PeerSource::identify);
        book.on_connected(peer(100 + i), T0);  // an inbound stranger
    }
    EXPECT_TRUE(book.contains(peer(1)));
    EXPECT_TRUE(book.contains(peer(2)));
    EXPECT_EQ(book.size(), 2U);
    // Once a reached peer fails, hearsay may take its place.
    book.on_dial_failed(peer(1), LATER);
    add(book, peer(50), {addr(50)}, PeerSource::peer_list);
    EXPECT_FALSE(book.contains(peer(1)));
    EXPECT_TRUE(book.contains(peer(50)));
    book.check_invariants();
}

TEST(PeerBookEviction, ConnectedAndDialingPeersAreNotEvicted) {
    PeerBook book = make_book({.max_peers = 2});
    add(book, peer(1), {addr(1)});
    add(book, peer(2), {addr(2)});
    book.on_dial_started(peer(1), T0);
    book.on_dial_failed(peer(1), T0);
    book.on_dial_started(peer(1), LATER);  // dialing again: protected, failures and all
    book.on_connected(peer(2), T0);
    add(book, peer(3), {addr(3)}, PeerSource::bootstrap);
    EXPECT_FALSE(book.contains(peer(3)));
    EXPECT_TRUE(book.contains(peer(1)));
    EXPECT_TRUE(book.contains(peer(2)));
    book.check_invariants();
}

TEST(PeerBookEviction, StaticPeersAreNeverEvicted) {
    PeerBook book = make_book({.max_peers = 2});
    ASSERT_TRUE(book.add_static(peer(1), addr(1)));
    for (int i = 0; i < 20; ++i) {
        book.on_dial_failed(peer(1), T0);
    }
    add(book, peer(2), {addr(2)});
    add(book, peer(3), {addr(3)}, PeerSource::bootstrap);
    EXPECT_TRUE(book.contains(peer(1)));
    EXPECT_FALSE(book.contains(peer(2)));
    EXPECT_TRUE(book.contains(peer(3)));
    // A second static peer takes the last evictable place; a third finds none.
    EXPECT_TRUE(book.add_static(peer(4), addr(4)));
    EXPECT_FALSE(book.add_static(peer(5), addr(5)));
    add(book, peer(6), {addr(6)}, PeerSource::bootstrap);
    EXPECT_EQ(book.size(), 2U);
    EXPECT_TRUE(book.is_static(peer(1)) && book.is_static(peer(4)));
    book.check_invariants();
}

TEST(PeerBookEviction, BannedPeersGoFirst) {
    PeerBook book = make_book({.max_peers = 2});
    add(book, peer(1), {addr(1)});
    add(book, peer(2), {addr(2)});
    book.on_dial_failed(peer(1), T0);
    reach(book, peer(2), T0);
    book.ban(peer(2), LATER);
    add(book, peer(3), {addr(3)}, PeerSource::peer_list, T0);
    EXPECT_FALSE(book.contains(peer(2)));
    EXPECT_TRUE(book.contains(peer(1)));
}

TEST(PeerBookEviction, InboundPeerIsListedOnlyWhileConnected) {
    PeerBook book = make_book();
    book.on_connected(peer(1), T0);
    EXPECT_TRUE(book.contains(peer(1)));
    EXPECT_TRUE(book.addresses(peer(1)).empty());
    book.check_invariants();
    book.on_disconnected(peer(1), T0);
    EXPECT_FALSE(book.contains(peer(1)));

    book.on_connected(peer(2), T0);
    add(book, peer(2), {addr(2)}, PeerSource::identify);
    book.on_disconnected(peer(2), T0);
    EXPECT_TRUE(book.contains(peer(2)));
    book.check_invariants();
}

// ---- backoff (rule 4) ----

TEST(PeerBookBackoff, GrowsDoublingToTheCapWithinJitter) {
    const PeerBookConfig config{.initial_backoff = std::chrono::seconds(1),
                                .max_backoff = std::chrono::seconds(30),
                                .jitter = 0.2};
    PeerBook book = make_book(config);
    add(book, peer(1), {addr(1)});
    Instant now = T0;
    std::set<Duration::rep> distinct;
    for (std::uint32_t failures = 1; failures <= 12; ++failures) {
        book.on_dial_started(peer(1), now);
        book.on_dial_failed(peer(1), now);
        EXPECT_EQ(book.failures(peer(1)), failures);
        const Duration base = std::min<Duration>(
            config.max_backoff, config.initial_backoff * (std::int64_t{1} << (failures - 1)));
        const auto retry = book.next_retry(now);
        ASSERT_TRUE(retry.has_value());
        const Duration delay = *retry - now;
        EXPECT_GE(delay.count(), static_cast<Duration::rep>(base.count() * 0.8));
        EXPECT_LE(delay.count(), static_cast<Duration::rep>(base.count() * 1.2));
        distinct.insert(delay.count() * 1000 / base.count());
        // In backoff until the retry instant, dialable from then on.
        EXPECT_TRUE(book.dial_candidates(1, *retry - Duration(1), {}).empty());
        EXPECT_EQ(ids(book.dial_candidates(1, *retry, {})), std::vector<PeerId>{peer(1)});
        now = *retry;
    }
    EXPECT_GT(distinct.size(), 1U);  // the jitter is drawn, not fixed
    book.check_invariants();
}

TEST(PeerBookBackoff, WithoutJitterTheDelaysAreExact) {
    PeerBook book = make_book({.initial_backoff = std::chrono::seconds(1),
                               .max_backoff = std::chrono::seconds(10),
                               .jitter = 0.0});
    add(book, peer(1), {addr(1)});
    const std::vector<int> expected{1, 2, 4, 8, 10, 10, 10};
    for (const int seconds : expected) {
        book.on_dial_failed(peer(1), T0);
        EXPECT_EQ(book.next_retry(T0), T0 + std::chrono::seconds(seconds));
    }
}

TEST(PeerBookBackoff, HugeFailureCountsStayCapped) {
    PeerBook book = make_book({.jitter = 0.0});
    ASSERT_TRUE(book.add_static(peer(1), addr(1)));
    for (int i = 0; i < 500; ++i) {
        book.on_dial_failed(peer(1), T0);
    }
    EXPECT_EQ(book.failures(peer(1)), 500U);
    EXPECT_EQ(book.next_retry(T0), T0 + std::chrono::minutes(5));
    // Static: still listed and still dialed once the backoff has passed.
    EXPECT_EQ(ids(book.dial_candidates(4, T0 + std::chrono::minutes(5), {})),
              std::vector<PeerId>{peer(1)});
}

TEST(PeerBookBackoff, ConnectionClearsFailuresAndBackoff) {
    PeerBook book = make_book();
    add(book, peer(1), {addr(1)});
    for (int i = 0; i < 5; ++i) {
        book.on_dial_failed(peer(1), T0);
    }
    book.on_dial_started(peer(1), T0);
    book.on_connected(peer(1), T0);
    EXPECT_EQ(book.failures(peer(1)), 0U);
    EXPECT_EQ(book.next_retry(T0), std::nullopt);
    // A failed redundant dial while connected does not count.
    book.on_dial_failed(peer(1), T0);
    EXPECT_EQ(book.failures(peer(1)), 0U);
    book.check_invariants();
}

TEST(PeerBookBackoff, DisconnectionWaitsTheInitialBackoff) {
    PeerBook book = make_book();  // 1 s ± 20 %
    add(book, peer(1), {addr(1)});
    book.on_connected(peer(1), T0);
    book.on_disconnected(peer(1), T0);
    EXPECT_TRUE(book.dial_candidates(1, T0 + std::chrono::milliseconds(799), {}).empty());
    EXPECT_EQ(book.dial_candidates(1, T0 + std::chrono::milliseconds(1200), {}).size(), 1U);
    const auto retry = book.next_retry(T0);
    ASSERT_TRUE(retry.has_value());
    EXPECT_GE(*retry, T0 + std::chrono::milliseconds(800));
    EXPECT_LE(*retry, T0 + std::chrono::milliseconds(1200));
}

// ---- dial candidates (rule 5) ----

TEST(PeerBookCandidates, StaticThenReachedThenOthers) {
    PeerBook book = make_book();
    add(book, peer(1), {addr(1)});                           // other, oldest entry
    add(book, peer(2), {addr(2)});                           // other
    add(book, peer(3), {addr(3)});                           // reached first
    add(book, peer(4), {addr(4)});                           // reached last
    ASSERT_TRUE(book.add_static(peer(5), addr(5)));          // static
    add(book, peer(6), {addr(6)}, PeerSource::static_peer);  // static as well
    reach(book, peer(3), T0 + std::chrono::seconds(1));
    reach(book, peer(4), T0 + std::chrono::seconds(2));
    book.on_dial_failed(peer(1), T0);  // failed once: after peer 2
    EXPECT_TRUE(book.is_static(peer(6)));
    EXPECT_EQ(ids(book.dial_candidates(10, LATER, {})),
              (std::vector<PeerId>{peer(5), peer(6), peer(4), peer(3), peer(2), peer(1)}));
    EXPECT_EQ(ids(book.dial_candidates(3, LATER, {})),
              (std::vector<PeerId>{peer(5), peer(6), peer(4)}));
    EXPECT_TRUE(book.dial_candidates(0, LATER, {}).empty());
}

TEST(PeerBookCandidates, Exclusions) {
    PeerBook book = make_book();
    for (std::uint16_t i = 1; i <= 7; ++i) {
        add(book, peer(i), {addr(i)});
    }
    book.set_self(peer(1));
    book.ban(peer(2), LATER);
    book.on_dial_started(peer(3), T0);     // dialing
    book.on_connected(peer(4), T0);        // connected
    book.on_dial_failed(peer(5), T0);      // in backoff
    const std::set<PeerId> busy{peer(6)};  // the driver's own view
    EXPECT_EQ(ids(book.dial_candidates(10, T0, busy)), std::vector<PeerId>{peer(7)});
    // The ban and backoff end; the rest stays excluded.
    EXPECT_EQ(ids(book.dial_candidates(10, LATER, busy)),
              (std::vector<PeerId>{peer(2), peer(7), peer(5)}));
}

TEST(PeerBookCandidates, AddressesInDialOrder) {
    PeerBook book = make_book();
    add(book, peer(1), {addr(1)}, PeerSource::peer_list);
    add(book, peer(1), {addr(2), addr(3)}, PeerSource::identify);
    ASSERT_TRUE(book.add_static(peer(1), addr(4)));
    const auto candidates = book.dial_candidates(1, T0, {});
    ASSERT_EQ(candidates.size(), 1U);
    EXPECT_EQ(candidates[0].addrs, (std::vector<Multiaddr>{addr(4), addr(2), addr(3), addr(1)}));
}

TEST(PeerBookCandidates, DeterministicForAGivenState) {
    const auto build = [] {
        PeerBook book = make_book();
        for (std::uint16_t i = 30; i > 0; --i) {
            add(book, peer(i), {addr(i)});
            if (i % 3 == 0) {
                reach(book, peer(i), T0 + std::chrono::seconds(i % 5));
            }
            if (i % 7 == 0) {
                book.on_dial_failed(peer(i), T0);
            }
        }
        return book;
    };
    const PeerBook a = build();
    const PeerBook b = build();
    const auto first = a.dial_candidates(30, LATER, {});
    EXPECT_EQ(first.size(), 30U);
    EXPECT_EQ(ids(first), ids(a.dial_candidates(30, LATER, {})));
    EXPECT_EQ(ids(first), ids(b.dial_candidates(30, LATER, {})));
}

// ---- next_retry ----

TEST(PeerBookNextRetry, EarliestWaitingPeer) {
    PeerBook book = make_book({.jitter = 0.0});
    EXPECT_EQ(book.next_retry(T0), std::nullopt);
    add(book, peer(1), {addr(1)});
    add(book, peer(2), {addr(2)});
    EXPECT_EQ(book.next_retry(T0), std::nullopt);  // dialable now: nothing to wait for
    book.on_dial_failed(peer(1), T0);
    book.on_dial_failed(peer(1), T0);                                   // T0 + 2 s
    book.on_dial_failed(peer(2), T0 + std::chrono::milliseconds(500));  // T0 + 1.5 s
    EXPECT_EQ(book.next_retry(T0), T0 + std::chrono::milliseconds(1500));
    EXPECT_EQ(book.next_retry(T0 + std::chrono::milliseconds(1500)), T0 + std::chrono::seconds(2));
    EXPECT_EQ(book.next_retry(T0 + std::chrono::seconds(2)), std::nullopt);
    // A peer being dialed or connected waits for nothing.
    book.on_dial_started(peer(2), T0);
    EXPECT_EQ(book.next_retry(T0), T0 + std::chrono::seconds(2));
}

TEST(PeerBookNextRetry, CountsBanExpiry) {
    PeerBook book = make_book({.jitter = 0.0});
    add(book, peer(1), {addr(1)});
    book.on_dial_failed(peer(1), T0);  // T0 + 1 s
    book.ban(peer(1), T0 + std::chrono::seconds(10));
    EXPECT_EQ(book.next_retry(T0), T0 + std::chrono::seconds(10));
}

// ---- bans (rule 6) ----

TEST(PeerBookBans, BannedPeerIsNotDialedSharedOrAdded) {
    PeerBook book = make_book();
    add(book, peer(1), {addr(1)});
    book.ban(peer(1), LATER);
    EXPECT_TRUE(book.is_banned(peer(1), T0));
    EXPECT_FALSE(book.is_banned(peer(1), LATER));
    EXPECT_TRUE(book.dial_candidates(10, T0, {}).empty());
    Rng rng(SEED);
    EXPECT_TRUE(book.sample(10, rng, T0).empty());
    add(book, peer(1), {addr(2)}, PeerSource::identify, T0);
    EXPECT_EQ(book.addresses(peer(1)), std::vector<Multiaddr>{addr(1)});
    // Bans hold for peers the book does not list.
    book.ban(peer(2), LATER);
    add(book, peer(2), {addr(2)}, PeerSource::identify, T0);
    EXPECT_FALSE(book.contains(peer(2)));
    // Expired: all back to normal.
    EXPECT_EQ(book.dial_candidates(10, LATER, {}).size(), 1U);
    EXPECT_EQ(book.sample(10, rng, LATER).size(), 1U);
    add(book, peer(2), {addr(2)}, PeerSource::identify, LATER);
    EXPECT_TRUE(book.contains(peer(2)));
}

TEST(PeerBookBans, ExtendedNeverShortened) {
    PeerBook book = make_book();
    book.ban(peer(1), T0 + std::chrono::seconds(10));
    book.ban(peer(1), T0 + std::chrono::seconds(5));
    EXPECT_TRUE(book.is_banned(peer(1), T0 + std::chrono::seconds(9)));
    book.ban(peer(1), T0 + std::chrono::seconds(20));
    EXPECT_TRUE(book.is_banned(peer(1), T0 + std::chrono::seconds(19)));
}

TEST(PeerBookBans, BoundedDroppingTheBanClosestToExpiry) {
    PeerBook book = make_book({.max_bans = 3});
    for (std::uint16_t i = 1; i <= 3; ++i) {
        book.ban(peer(i), T0 + std::chrono::seconds(10 * i));
    }
    book.ban(peer(4), T0 + std::chrono::seconds(25));
    EXPECT_FALSE(book.is_banned(peer(1), T0));
    EXPECT_TRUE(book.is_banned(peer(4), T0));
    book.ban(peer(5), T0 + std::chrono::seconds(1));  // would be the first to go
    EXPECT_FALSE(book.is_banned(peer(5), T0));
    EXPECT_TRUE(book.is_banned(peer(2), T0) && book.is_banned(peer(3), T0));
    book.check_invariants();
}

// ---- sample ----

TEST(PeerBookSample, BoundedDistinctAndUniformEnough) {
    PeerBook book = make_book();
    for (std::uint16_t i = 1; i <= 20; ++i) {
        add(book, peer(i), {addr(i)});
    }
    book.on_connected(peer(99), T0);  // listed, but has no address to share
    Rng rng(SEED);
    EXPECT_TRUE(book.sample(0, rng, T0).empty());
    EXPECT_EQ(book.sample(100, rng, T0).size(), 20U);
    std::map<PeerId, int> seen;
    for (int round = 0; round < 400; ++round) {
        const auto records = book.sample(5, rng, T0);
        ASSERT_EQ(records.size(), 5U);
        std::set<PeerId> distinct;
        for (const auto& r : records) {
            EXPECT_TRUE(distinct.insert(r.peer).second);
            EXPECT_EQ(r.addrs, book.addresses(r.peer));
            ++seen[r.peer];
        }
    }
    ASSERT_EQ(seen.size(), 20U);
    for (const auto& [p, count] : seen) {
        EXPECT_GT(count, 50) << p.to_string();  // 100 expected for each
        EXPECT_LT(count, 150) << p.to_string();
    }
}

TEST(PeerBookSample, AddressesCappedForThePeerList) {
    PeerBook book = make_book({.max_addrs_per_peer = 12});
    std::vector<Multiaddr> many;
    for (std::uint16_t i = 1; i <= 12; ++i) {
        many.push_back(addr(i));
    }
    add(book, peer(1), many, PeerSource::identify);
    Rng rng(SEED);
    const auto records = book.sample(1, rng, T0);
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].addrs.size(), MAX_PEER_LIST_ADDRS);
    EXPECT_EQ(book.addresses(peer(1)).size(), 12U);
}

TEST(PeerBookSample, SameSeedSameSample) {
    PeerBook book = make_book();
    for (std::uint16_t i = 1; i <= 50; ++i) {
        add(book, peer(i), {addr(i)});
    }
    Rng a(SEED);
    Rng b(SEED);
    EXPECT_EQ(book.sample(10, a, T0), book.sample(10, b, T0));
}

// ---- JSON (rule 7) ----

PeerBook populated() {
    PeerBook book = make_book();
    EXPECT_TRUE(book.add_static(peer(1), ma("/dns4/static.example.org/tcp/4001")));
    add(book, peer(1), {addr(1)}, PeerSource::identify);
    add(book, peer(2), {addr(2), ma("/ip6/::1/tcp/2")}, PeerSource::bootstrap);
    add(book, peer(2), {addr(3)}, PeerSource::peer_list);
    add(book, peer(3), {addr(4)}, PeerSource::exchange);
    add(book, peer(4), {addr(5)}, PeerSource::inbound);
    reach(book, peer(2), T0);
    book.on_dial_failed(peer(3), T0);
    book.on_dial_failed(peer(3), T0);
    book.ban(peer(4), LATER);
    book.on_connected(peer(5), T0);  // no address: not saved
    return book;
}

TEST(PeerBookJson, RoundTrip) {
    const PeerBook book = populated();
    const std::string json = book.to_json();
    PeerBook loaded = make_book();
    EXPECT_EQ(loaded.load_json(json, T0), 0U);
    loaded.check_invariants();
    EXPECT_EQ(loaded.to_json(), json);
    EXPECT_EQ(loaded.size(), 4U);
    for (std::uint16_t i = 1; i <= 4; ++i) {
        EXPECT_EQ(loaded.addresses(peer(i)), book.addresses(peer(i)));
        EXPECT_EQ(loaded.is_static(peer(i)), book.is_static(peer(i)));
    }
    EXPECT_FALSE(loaded.contains(peer(5)));
    // Bans and backoff do not survive; reached and static do.
    EXPECT_FALSE(loaded.is_banned(peer(4), T0));
    EXPECT_EQ(loaded.failures(peer(3)), 0U);
    EXPECT_EQ(ids(loaded.dial_candidates(10, T0, {})),
              (std::vector<PeerId>{peer(1), peer(2), peer(3), peer(4)}));
}

TEST(PeerBookJson, MalformedDocumentsCountOne) {
    for (const std::string& junk :
         {std::string(""), std::string("not json"), std::string("{"), std::string("[]"),
          std::string("null"), std::string("{\"version\":2,\"peers\":[]}"),
          std::string("{\"version\":\"1\",\"peers\":[]}"), std::string("{\"version\":1}"),
          std::string("{\"version\":1,\"peers\":{}}"), std::string(100000, '['),
          std::string("{\"version\":1,\"peers\":[\"\xff\xfe\"]}")}) {
        PeerBook book = make_book();
        EXPECT_EQ(book.load_json(junk, T0), 1U) << junk.substr(0, 40);
        EXPECT_EQ(book.size(), 0U);
    }
}

TEST(PeerBookJson, BadEntriesAreSkippedAndCounted) {
    const std::string good = peer(1).to_base58();
    const std::string other = peer(2).to_base58();
    const std::string text = R"({"version":1,"peers":[
        17,
        {"id":"not a peer id","addrs":[]},
        {"id":")" + other + R"("},
        {"id":")" + other + R"(","addrs":[{"addr":"/ip4/1.2.3.4/udp/1","source":"identify"}]},
        {"id":")" + good + R"(","static":"yes","reached":true,"addrs":[
            {"addr":"/ip4/1.2.3.4/tcp/1","source":"identify"},
            {"addr":"/ip4/1.2.3.4/tcp/1","source":"identify"},
            {"addr":"/ip4/1.2.3.5/tcp/1","source":"martians"},
            {"addr":"garbage","source":"identify"},
            {"addr":5,"source":"identify"},
            "string",
            {"addr":"/ip4/1.2.3.6/tcp/1/p2p/)" +
                             other + R"(","source":"identify"},
            {"addr":"/ip4/1.2.3.7/tcp/1/p2p/)" +
                             good + R"(","source":"static_peer"}
        ]}
    ]})";
    PeerBook book = make_book();
    // Peers: 17, bad id, no addrs, nothing dialable (its address and itself). The good peer's
    // addresses: duplicate, source, garbage, a number, a string, another peer's.
    EXPECT_EQ(book.load_json(text, T0), 5U + 6U);
    book.check_invariants();
    EXPECT_EQ(book.size(), 1U);
    EXPECT_EQ(book.addresses(peer(1)),
              (std::vector<Multiaddr>{ma("/ip4/1.2.3.7/tcp/1"), ma("/ip4/1.2.3.4/tcp/1")}));
    // "static" was not a boolean, so the static_peer address did not pin anything.
    EXPECT_FALSE(book.is_static(peer(1)));
}

TEST(PeerBookJson, LoadIsBounded) {
    PeerBook big = make_book();
    for (std::uint16_t i = 1; i <= 5; ++i) {
        add(big, peer(i), {addr(i), addr(100 + i), addr(200 + i), addr(300 + i)});
    }
    PeerBook small = make_book({.max_peers = 2, .max_addrs_per_peer = 3});
    EXPECT_EQ(small.load_json(big.to_json(), T0), 3U + 2U);  // 3 peers, 1 address of each kept
    small.check_invariants();
    EXPECT_EQ(small.size(), 2U);
}

TEST(PeerBookJson, LoadMergesAndSkipsSelfAndBanned) {
    const std::string json = populated().to_json();
    PeerBook book = make_book();
    book.set_self(peer(1));
    book.ban(peer(2), LATER);
    EXPECT_EQ(book.load_json(json, T0), 2U);
    EXPECT_FALSE(book.contains(peer(1)));
    EXPECT_FALSE(book.contains(peer(2)));
    EXPECT_TRUE(book.contains(peer(3)));
}

// ---- files ----

class PeerBookFile : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        m_dir = std::filesystem::path(::testing::TempDir()) /
                (std::string("peer_book_test_") + info->name());
        std::filesystem::remove_all(m_dir);
        std::filesystem::create_directories(m_dir);
    }
    void TearDown() override { std::filesystem::remove_all(m_dir); }
    std::filesystem::path m_dir;
};

TEST_F(PeerBookFile, SaveThenLoad) {
    const PeerBook book = populated();
    const auto path = m_dir / "peers.json";
    ASSERT_TRUE(book.save_file(path).has_value());
    EXPECT_FALSE(std::filesystem::exists(m_dir / "peers.json.tmp"));
    PeerBook loaded = make_book();
    EXPECT_EQ(loaded.load_file(path, T0), 0U);
    EXPECT_EQ(loaded.to_json(), book.to_json());

    // Saving again replaces the file whole.
    PeerBook smaller = make_book();
    add(smaller, peer(9), {addr(9)});
    ASSERT_TRUE(smaller.save_file(path).has_value());
    PeerBook reloaded = make_book();
    EXPECT_EQ(reloaded.load_file(path, T0), 0U);
    EXPECT_EQ(reloaded.size(), 1U);
    EXPECT_TRUE(reloaded.contains(peer(9)));
}

TEST_F(PeerBookFile, AbsentFileLoadsNothing) {
    PeerBook book = make_book();
    EXPECT_EQ(book.load_file(m_dir / "missing.json", T0), 0U);
    EXPECT_EQ(book.size(), 0U);
}

TEST_F(PeerBookFile, SaveIntoMissingDirectoryFails) {
    const PeerBook book = populated();
    const auto path = m_dir / "no" / "such" / "peers.json";
    const auto saved = book.save_file(path);
    ASSERT_FALSE(saved.has_value());
    EXPECT_EQ(saved.error(), boost::system::errc::no_such_file_or_directory);
    EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(PeerBookFile, UnreadableOrOversizedOrJunkFilesCountOne) {
    PeerBook book = make_book({.max_peers = 1, .max_addrs_per_peer = 1});
    EXPECT_EQ(book.load_file(m_dir, T0), 1U);  // a directory

    const auto junk = m_dir / "junk.json";
    std::ofstream(junk) << "\x01\x02 definitely not json";
    EXPECT_EQ(book.load_file(junk, T0), 1U);

    const auto big = m_dir / "big.json";
    std::ofstream(big) << std::string(book.max_file_bytes() + 1, ' ');
    EXPECT_EQ(book.load_file(big, T0), 1U);
    EXPECT_EQ(book.size(), 0U);
}

// ---- the peer-list codec ----

std::vector<PeerRecord> sample_records() {
    return {
        PeerRecord{peer(1), {addr(1)}},
        PeerRecord{peer(2),
                   {ma("/ip6/2001:db8::1/tcp/4001"), ma("/dns4/a.example.org/tcp/1"),
                    ma("/ip4/1.2.3.4/tcp/1/p2p/" + peer(2).to_base58())}},
    };
}

TEST(PeerListCodec, RoundTrip) {
    EXPECT_EQ(encode_peer_list({}), Bytes{0});
    EXPECT_EQ(decode_peer_list(Bytes{0}).value(), std::vector<PeerRecord>{});

    const auto records = sample_records();
    EXPECT_EQ(decode_peer_list(encode_peer_list(records)).value(), records);

    std::vector<PeerRecord> full;
    for (std::uint16_t i = 0; i < MAX_PEER_LIST_PEERS; ++i) {
        PeerRecord r{peer(i), {}};
        for (std::uint16_t k = 0; k < MAX_PEER_LIST_ADDRS; ++k) {
            r.addrs.push_back(addr(static_cast<std::uint16_t>(i * 10 + k)));
        }
        full.push_back(std::move(r));
    }
    const Bytes encoded = encode_peer_list(full);
    EXPECT_LE(encoded.size(), MAX_PEER_LIST_BYTES);
    EXPECT_EQ(decode_peer_list(encoded).value(), full);
}

TEST(PeerListCodec, ExactLayout) {
    const PeerRecord record{peer(1), {addr(1)}};
    const Bytes id = peer(1).bytes();
    const Bytes a = addr(1).to_bytes();
    Bytes expected{1, static_cast<std::uint8_t>(id.size())};
    append(expected, id);
    expected.push_back(1);
    put_u16be(expected, static_cast<std::uint16_t>(a.size()));
    append(expected, a);
    EXPECT_EQ(encode_peer_list(std::vector<PeerRecord>{record}), expected);
}

TEST(PeerListCodec, EncodeKeepsToTheBounds) {
    std::vector<PeerRecord> records;
    for (std::uint16_t i = 0; i < 40; ++i) {
        PeerRecord r{peer(i), {}};
        for (std::uint16_t k = 0; k < 10; ++k) {
            r.addrs.push_back(addr(k));
        }
        records.push_back(std::move(r));
    }
    records.insert(records.begin(), PeerRecord{peer(500), {}});             // no address
    records.insert(records.begin(), PeerRecord{peer(501), {Multiaddr()}});  // only an empty one
    const auto decoded = decode_peer_list(encode_peer_list(records)).value();
    ASSERT_EQ(decoded.size(), MAX_PEER_LIST_PEERS);
    EXPECT_EQ(decoded[0].peer, peer(0));
    for (const auto& r : decoded) {
        EXPECT_EQ(r.addrs.size(), MAX_PEER_LIST_ADDRS);
    }

    // Long names: what fits in MAX_PEER_LIST_BYTES is sent, the rest left out.
    const std::string label(62, 'a');
    const std::string host = label + "." + label + "." + label + "." + label;
    std::vector<PeerRecord> large;
    for (std::uint16_t i = 0; i < MAX_PEER_LIST_PEERS; ++i) {
        PeerRecord r{peer(i), {}};
        for (std::uint16_t k = 0; k < MAX_PEER_LIST_ADDRS; ++k) {
            r.addrs.push_back(ma("/dns4/" + host + "/tcp/" + std::to_string(k + 1)));
        }
        large.push_back(std::move(r));
    }
    const Bytes encoded = encode_peer_list(large);
    EXPECT_LE(encoded.size(), MAX_PEER_LIST_BYTES);
    const auto partial = decode_peer_list(encoded).value();
    EXPECT_GT(partial.size(), 0U);
    EXPECT_LT(partial.size(), MAX_PEER_LIST_PEERS);
}

ErrorCode decode_error(const Bytes& body) {
    const auto result = decode_peer_list(body);
    EXPECT_FALSE(result.has_value());
    return result ? ErrorCode{} : result.error();
}

TEST(PeerListCodec, TruncatedAtEveryByte) {
    const Bytes encoded = encode_peer_list(sample_records());
    EXPECT_EQ(decode_error({}), PeerListError::truncated);
    for (std::size_t n = 1; n < encoded.size(); ++n) {
        EXPECT_EQ(decode_error(Bytes(encoded.begin(), encoded.begin() + n)),
                  PeerListError::truncated)
            << n;
    }
}

TEST(PeerListCodec, TrailingBytes) {
    Bytes encoded = encode_peer_list(sample_records());
    encoded.push_back(0);
    EXPECT_EQ(decode_error(encoded), PeerListError::trailing_bytes);
    EXPECT_EQ(decode_error(Bytes{0, 0}), PeerListError::trailing_bytes);
}

TEST(PeerListCodec, BadCounts) {
    EXPECT_EQ(decode_error(Bytes{MAX_PEER_LIST_PEERS + 1}), PeerListError::too_many_peers);
    EXPECT_EQ(decode_error(Bytes{0xff}), PeerListError::too_many_peers);

    const Bytes id = peer(1).bytes();
    const auto with_address_count = [&](std::uint8_t m) {
        Bytes body{1, static_cast<std::uint8_t>(id.size())};
        append(body, id);
        body.push_back(m);
        for (std::uint8_t k = 0; k < m; ++k) {
            const Bytes a = addr(k).to_bytes();
            put_u16be(body, static_cast<std::uint16_t>(a.size()));
            append(body, a);
        }
        return body;
    };
    EXPECT_EQ(decode_error(with_address_count(0)), PeerListError::bad_address_count);
    EXPECT_EQ(decode_error(with_address_count(MAX_PEER_LIST_ADDRS + 1)),
              PeerListError::bad_address_count);
    EXPECT_TRUE(decode_peer_list(with_address_count(MAX_PEER_LIST_ADDRS)).has_value());
}

Bytes record_body(const Bytes& id, const Bytes& address) {
    Bytes body{1, static_cast<std::uint8_t>(id.size())};
    append(body, id);
    body.push_back(1);
    put_u16be(body, static_cast<std::uint16_t>(address.size()));
    append(body, address);
    return body;
}

TEST(PeerListCodec, BadPeerId) {
    const Bytes a = addr(1).to_bytes();
    EXPECT_EQ(decode_error(record_body({}, a)), PeerListError::bad_peer_id);
    EXPECT_EQ(decode_error(record_body({0x12, 0x20, 1, 2, 3}, a)), PeerListError::bad_peer_id);
    Bytes unsupported{0x13, 0x20};  // sha2-512 code, not a peer id hash
    unsupported.resize(34, 7);
    EXPECT_EQ(decode_error(record_body(unsupported, a)), PeerListError::bad_peer_id);
    Bytes identity_garbage{0x00, 0x05, 1, 2, 3, 4, 5};  // identity of a key that does not decode
    EXPECT_EQ(decode_error(record_body(identity_garbage, a)), PeerListError::bad_peer_id);
    Bytes too_long(200, 0x12);
    EXPECT_EQ(decode_error(record_body(too_long, a)), PeerListError::bad_peer_id);
}

TEST(PeerListCodec, BadMultiaddr) {
    const Bytes id = peer(1).bytes();
    EXPECT_EQ(decode_error(record_body(id, {})), PeerListError::bad_multiaddr);
    Bytes unknown;
    util::append_uvarint(unknown, 0x7777);  // no such protocol
    EXPECT_EQ(decode_error(record_body(id, unknown)), PeerListError::bad_multiaddr);
    Bytes short_ip{0x04, 1, 2};  // ip4 needs 4 bytes
    EXPECT_EQ(decode_error(record_body(id, short_ip)), PeerListError::bad_multiaddr);
    // Longer than any multiaddr may be, though every byte is present.
    Bytes oversized;
    while (oversized.size() <= wire::MULTIADDR_MAX_BYTES) {
        append(oversized, addr(1).to_bytes());
    }
    EXPECT_EQ(decode_error(record_body(id, oversized)), PeerListError::bad_multiaddr);
}

TEST(PeerListCodec, OversizedLengths) {
    // The body itself.
    Bytes huge(MAX_PEER_LIST_BYTES + 1, 0);
    EXPECT_EQ(decode_error(huge), PeerListError::too_large);
    // Lengths that promise more than the body holds are refused before anything is read.
    Bytes body{1, 0xff};
    EXPECT_EQ(decode_error(body), PeerListError::truncated);
    const Bytes id = peer(1).bytes();
    Bytes address_len{1, static_cast<std::uint8_t>(id.size())};
    append(address_len, id);
    address_len.push_back(1);
    put_u16be(address_len, 0xffff);
    address_len.push_back(0x04);
    EXPECT_EQ(decode_error(address_len), PeerListError::truncated);
}

TEST(PeerListCodec, ErrorsHaveNamesAndMessages) {
    for (int e = static_cast<int>(PeerListError::too_large);
         e <= static_cast<int>(PeerListError::bad_multiaddr); ++e) {
        const auto error = static_cast<PeerListError>(e);
        EXPECT_NE(name(error), "unknown");
        const ErrorCode code = error;
        EXPECT_EQ(code.message(), describe(error));
        EXPECT_STREQ(code.category().name(), "peer-list");
    }
}

TEST(PeerListCodec, SampleEncodesAndFeedsTheBook) {
    PeerBook source = make_book();
    for (std::uint16_t i = 1; i <= 60; ++i) {
        add(source, peer(i), {addr(i), ma("/dns4/n" + std::to_string(i) + ".example/tcp/1")},
            PeerSource::identify);
    }
    Rng rng(SEED);
    const auto records = source.sample(MAX_PEER_LIST_PEERS, rng, T0);
    const auto decoded = decode_peer_list(encode_peer_list(records)).value();
    EXPECT_EQ(decoded, records);
    PeerBook sink = make_book();
    for (const auto& r : decoded) {
        sink.add_addresses(r.peer, r.addrs, PeerSource::peer_list, T0);
    }
    EXPECT_EQ(sink.size(), MAX_PEER_LIST_PEERS);
    sink.check_invariants();
}

// ---- invariants under random operations ----

TEST(PeerBookRandom, InvariantsHoldUnderRandomInputs) {
    Rng rng(SEED);
    PeerBook book = make_book({.max_peers = 10, .max_addrs_per_peer = 3, .max_bans = 4});
    book.set_self(peer(0));
    Instant now = T0;
    std::set<PeerId> connected;
    for (int step = 0; step < 20000; ++step) {
        now += std::chrono::milliseconds(rng.uniform(500));
        const PeerId p = peer(static_cast<std::uint16_t>(rng.uniform(40)));
        switch (rng.uniform(10)) {
            case 0:
            case 1: {
                std::vector<Multiaddr> addrs;
                const std::size_t n = rng.uniform(5);
                for (std::size_t i = 0; i < n; ++i) {
                    addrs.push_back(addr(static_cast<std::uint16_t>(rng.uniform(8))));
                }
                book.add_addresses(p, addrs, static_cast<PeerSource>(rng.uniform(6)), now);
                break;
            }
            case 2:
                if (rng.uniform(10) == 0) {
                    book.add_static(p, addr(static_cast<std::uint16_t>(rng.uniform(8))));
                }
                break;
            case 3:
                book.on_dial_started(p, now);
                break;
            case 4:
                book.on_connected(p, now);
                connected.insert(p);
                break;
            case 5:
                book.on_dial_failed(p, now);
                break;
            case 6:
                book.on_disconnected(p, now);
                connected.erase(p);
                break;
            case 7:
                book.ban(p, now + std::chrono::seconds(rng.uniform(60)));
                break;
            case 8: {
                const auto candidates = book.dial_candidates(4, now, connected);
                ASSERT_LE(candidates.size(), 4U);
                for (const auto& c : candidates) {
                    ASSERT_FALSE(connected.contains(c.peer));
                    ASSERT_FALSE(book.is_banned(c.peer, now));
                    ASSERT_FALSE(c.addrs.empty());
                    ASSERT_NE(c.peer, peer(0));
                }
                if (const auto retry = book.next_retry(now)) {
                    ASSERT_GT(*retry, now);
                }
                break;
            }
            default: {
                Rng sample_rng(step);
                ASSERT_LE(book.sample(3, sample_rng, now).size(), 3U);
                break;
            }
        }
        book.check_invariants();
    }
    PeerBook reloaded = make_book({.max_peers = 10, .max_addrs_per_peer = 3});
    EXPECT_EQ(reloaded.load_json(book.to_json(), now), 0U);
    reloaded.check_invariants();
}

}  // namespace
}  // namespace chainmesh::discovery
