#include <gtest/gtest.h>

#include "peer_fixtures.hpp"

#include <chainmesh/discovery/peer_slots.hpp>
#include <string>

namespace chainmesh::discovery {
namespace {

using crypto::PeerId;
using wire::Multiaddr;
using namespace std::chrono_literals;

const Instant T0 = instant_from_nanos(1'000'000'000'000);

using fixtures::ma;
using fixtures::peer;

// Host `n` of the public /16 `a.b`.
Multiaddr in_group(int a, int b, std::uint16_t n) {
    return ma("/ip4/" + std::to_string(a) + "." + std::to_string(b) + "." +
              std::to_string(n / 250) + "." + std::to_string(1 + n % 250) + "/tcp/4001");
}

TEST(NetGroup, PublicIpv4IsItsSlash16) {
    EXPECT_EQ(net_group(ma("/ip4/45.67.8.9/tcp/1")), "45.67.0.0/16");
    EXPECT_EQ(net_group(ma("/ip4/45.67.200.1/tcp/2")), net_group(ma("/ip4/45.67.0.7/tcp/3")));
    EXPECT_NE(net_group(ma("/ip4/45.67.8.9/tcp/1")), net_group(ma("/ip4/45.68.8.9/tcp/1")));
}

TEST(NetGroup, PublicIpv6IsItsSlash32AndMappedIpv4CountsAsIpv4) {
    EXPECT_EQ(net_group(ma("/ip6/2001:db8:1:2::5/tcp/1")), "2001:db8::/32");
    EXPECT_EQ(net_group(ma("/ip6/2001:db8:ffff::5/tcp/1")), "2001:db8::/32");
    EXPECT_EQ(net_group(ma("/ip6/::ffff:45.67.1.2/tcp/1")), "45.67.0.0/16");
}

TEST(NetGroup, LocalAndNamedAddressesHaveNone) {
    for (const char* text :
         {"/ip4/127.0.0.1/tcp/1", "/ip4/10.1.2.3/tcp/1", "/ip4/172.16.0.1/tcp/1",
          "/ip4/172.31.255.1/tcp/1", "/ip4/192.168.1.1/tcp/1", "/ip4/169.254.0.1/tcp/1",
          "/ip4/100.64.0.1/tcp/1", "/ip6/::1/tcp/1", "/ip6/fd00::1/tcp/1", "/ip6/fe80::1/tcp/1",
          "/dns4/example.com/tcp/1"}) {
        EXPECT_EQ(net_group(ma(text)), std::nullopt) << text;
    }
    EXPECT_EQ(net_group(ma("/ip4/172.32.0.1/tcp/1")), "172.32.0.0/16");
    EXPECT_EQ(net_group(ma("/ip4/100.128.0.1/tcp/1")), "100.128.0.0/16");
}

TEST(PeerSlots, InboundFromOneGroupIsCapped) {
    PeerSlots slots({.max_inbound = 20, .max_inbound_per_group = 3});
    for (std::uint16_t i = 0; i < 3; ++i) {
        EXPECT_TRUE(slots.admit_inbound(peer(i), in_group(45, 67, i), false, T0).accept);
    }
    const auto refused = slots.admit_inbound(peer(3), in_group(45, 67, 3), false, T0);
    EXPECT_FALSE(refused.accept);
    EXPECT_EQ(refused.evict, std::nullopt);
    EXPECT_TRUE(slots.admit_inbound(peer(4), in_group(45, 68, 0), false, T0).accept);
    EXPECT_EQ(slots.inbound_count(), 4u);
    EXPECT_EQ(slots.refusals(), 1u);
    slots.check_invariants();
}

TEST(PeerSlots, LocalAddressesAreNotCappedPerGroup) {
    PeerSlots slots({.max_inbound = 20, .max_inbound_per_group = 2});
    for (std::uint16_t i = 0; i < 10; ++i) {
        EXPECT_TRUE(slots.admit_inbound(peer(i), ma("/ip4/127.0.0.1/tcp/" + std::to_string(5000 + i)),
                                        false, T0)
                        .accept);
    }
    slots.check_invariants();
}

TEST(PeerSlots, FullInboundEvictsTheYoungestOfTheLargestGroup) {
    PeerSlots slots({.max_inbound = 6,
                     .max_inbound_per_group = 6,
                     .protected_longest = 1,
                     .protected_useful = 0});
    // One early honest peer, two more honest groups, then three from the attacker's group.
    slots.admit_inbound(peer(1), in_group(11, 1, 0), false, T0);
    slots.admit_inbound(peer(2), in_group(12, 1, 0), false, T0 + 1s);
    slots.admit_inbound(peer(3), in_group(13, 1, 0), false, T0 + 2s);
    slots.admit_inbound(peer(10), in_group(45, 67, 0), false, T0 + 3s);
    slots.admit_inbound(peer(11), in_group(45, 67, 1), false, T0 + 4s);
    slots.admit_inbound(peer(12), in_group(45, 67, 2), false, T0 + 5s);
    const auto decision = slots.admit_inbound(peer(20), in_group(14, 1, 0), false, T0 + 6s);
    ASSERT_TRUE(decision.accept);
    EXPECT_EQ(decision.evict, peer(12));
    EXPECT_FALSE(slots.holds(peer(12)));
    EXPECT_TRUE(slots.holds(peer(20)));
    EXPECT_EQ(slots.inbound_count(), 6u);
    EXPECT_EQ(slots.evictions(), 1u);
    slots.check_invariants();
}

TEST(PeerSlots, LongestConnectedAndUsefulPeersAreNotEvicted) {
    PeerSlots slots({.max_inbound = 3,
                     .max_inbound_per_group = 3,
                     .protected_longest = 1,
                     .protected_useful = 1});
    slots.admit_inbound(peer(1), in_group(45, 67, 1), false, T0);       // longest connected
    slots.admit_inbound(peer(2), in_group(45, 67, 2), false, T0 + 1s);  // useful
    slots.admit_inbound(peer(3), in_group(45, 67, 3), false, T0 + 2s);
    slots.on_useful(peer(2), T0 + 3s);
    auto decision = slots.admit_inbound(peer(4), in_group(11, 1, 0), false, T0 + 4s);
    ASSERT_TRUE(decision.accept);
    EXPECT_EQ(decision.evict, peer(3));
    // Now peer 1 is protected by age, peer 2 by use; peer 4 is alone in its group but the
    // only one left to go.
    decision = slots.admit_inbound(peer(5), in_group(12, 1, 0), false, T0 + 5s);
    ASSERT_TRUE(decision.accept);
    EXPECT_EQ(decision.evict, peer(4));
    slots.check_invariants();
}

TEST(PeerSlots, NothingEvictableRefusesTheNewcomer) {
    PeerSlots slots({.max_inbound = 2, .protected_longest = 2});
    slots.admit_inbound(peer(1), in_group(11, 1, 0), false, T0);
    slots.admit_inbound(peer(2), in_group(12, 1, 0), false, T0);
    const auto decision = slots.admit_inbound(peer(3), in_group(13, 1, 0), false, T0);
    EXPECT_FALSE(decision.accept);
    EXPECT_EQ(slots.inbound_count(), 2u);
}

TEST(PeerSlots, NoInboundSlotsRefusesAllButStaticPeers) {
    PeerSlots slots({.max_inbound = 0});
    EXPECT_FALSE(slots.admit_inbound(peer(1), in_group(11, 1, 0), false, T0).accept);
    EXPECT_TRUE(slots.admit_inbound(peer(2), in_group(11, 1, 1), true, T0).accept);
    EXPECT_EQ(slots.inbound_count(), 0u);
    slots.check_invariants();
}

TEST(PeerSlots, OutboundDialsGoToDistinctGroups) {
    PeerSlots slots({.max_outbound = 3});
    EXPECT_EQ(slots.outbound_wanted(), 3u);
    ASSERT_TRUE(slots.may_dial(in_group(45, 67, 1)));
    slots.reserve_outbound(peer(1), in_group(45, 67, 1), false, T0);
    EXPECT_FALSE(slots.may_dial(in_group(45, 67, 2)));  // a dial in progress holds the group
    EXPECT_TRUE(slots.may_dial(in_group(45, 68, 2)));
    EXPECT_TRUE(slots.may_dial(ma("/ip4/127.0.0.1/tcp/9")));
    slots.on_outbound_connected(peer(1), in_group(45, 67, 1), false, T0);
    EXPECT_FALSE(slots.may_dial(in_group(45, 67, 2)));
    EXPECT_EQ(slots.outbound_wanted(), 2u);
    slots.release(peer(1));
    EXPECT_TRUE(slots.may_dial(in_group(45, 67, 2)));
    EXPECT_EQ(slots.outbound_wanted(), 3u);
    slots.check_invariants();
}

TEST(PeerSlots, AnInboundFloodNeverTakesOutboundSlots) {
    PeerSlots slots({.max_outbound = 2, .max_inbound = 4, .max_inbound_per_group = 4});
    for (std::uint16_t i = 0; i < 100; ++i) {
        slots.admit_inbound(peer(100 + i), in_group(45, 67, i), false, T0 + i * 1s);
    }
    EXPECT_EQ(slots.inbound_count(), 4u);
    EXPECT_EQ(slots.outbound_wanted(), 2u);
    slots.reserve_outbound(peer(1), in_group(11, 1, 0), false, T0);
    slots.reserve_outbound(peer(2), in_group(12, 1, 0), false, T0);
    EXPECT_EQ(slots.outbound_wanted(), 0u);
    slots.check_invariants();
}

TEST(PeerSlots, StaticOutboundPeersDoNotUseSlots) {
    PeerSlots slots({.max_outbound = 1});
    slots.reserve_outbound(peer(1), in_group(45, 67, 1), true, T0);
    slots.on_outbound_connected(peer(1), in_group(45, 67, 1), true, T0);
    EXPECT_EQ(slots.outbound_wanted(), 1u);
    slots.check_invariants();
}

TEST(PeerSlots, APeerHoldsOneSlotWhateverItsConnections) {
    PeerSlots slots({.max_outbound = 2, .max_inbound = 2});
    slots.admit_inbound(peer(1), in_group(11, 1, 0), false, T0);
    EXPECT_TRUE(slots.admit_inbound(peer(1), in_group(11, 1, 0), false, T0).accept);
    slots.on_outbound_connected(peer(1), in_group(11, 1, 0), false, T0);
    EXPECT_EQ(slots.direction(peer(1)), SlotDirection::inbound);
    EXPECT_EQ(slots.inbound_count(), 1u);
    EXPECT_EQ(slots.outbound_count(), 0u);
    slots.release(peer(1));
    EXPECT_FALSE(slots.holds(peer(1)));
    EXPECT_EQ(slots.inbound_count(), 0u);
    slots.check_invariants();
}

}  // namespace
}  // namespace chainmesh::discovery
