#include <chainmesh/util/hex.hpp>
#include <chainmesh/wire/multiaddr.hpp>

#include "../test_hex.hpp"

#include <gtest/gtest.h>

namespace chainmesh::wire {
namespace {

constexpr std::string_view PEER_A = "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB";
constexpr std::string_view PEER_A_CID =
    "bafzaajaiaejcaa5ba677htqqxyoxbxiy45f4bglh4tldbg5fbvpr3xegmqjfkmny";
constexpr std::string_view PEER_A_HEX =
    "00240801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";

using chainmesh::testing::hex;

// Parses `text`, checks its binary form, and checks both forms round-trip.
void expect_vector(std::string_view text, std::string_view binary_hex) {
    SCOPED_TRACE(std::string(text));
    auto parsed = Multiaddr::parse(text);
    ASSERT_TRUE(parsed) << parsed.error().message();
    EXPECT_EQ(util::to_hex(parsed->to_bytes()), binary_hex);
    EXPECT_EQ(parsed->to_string(), text);
    auto decoded = Multiaddr::from_bytes(hex(binary_hex));
    ASSERT_TRUE(decoded) << decoded.error().message();
    EXPECT_EQ(*decoded, *parsed);
    EXPECT_EQ(decoded->to_string(), text);
}

TEST(Multiaddr, MatchesInteropVectors) {
    expect_vector("/ip4/127.0.0.1/tcp/4700", "047f00000106125c");
    expect_vector("/ip4/127.0.0.1/tcp/4001/p2p/" + std::string(PEER_A),
                  "047f000001060fa1a50326" + std::string(PEER_A_HEX));
    expect_vector("/ip6/::1/udp/4001/quic-v1", "290000000000000000000000000000000191020fa1cd03");
    expect_vector("/dns4/example.com/tcp/443", "360b6578616d706c652e636f6d0601bb");
}

TEST(Multiaddr, EncodesEveryProtocol) {
    expect_vector("/ip6/2001:db8::1/tcp/0", "2920010db8000000000000000000000001060000");
    expect_vector("/ip6/fe80::1/ip6zone/eth0/tcp/1",
                  "29fe8000000000000000000000000000012a0465746830060001");
    expect_vector("/dns/a.b/tcp/65535", "3503612e6206ffff");
    expect_vector("/dns6/x/udp/1", "37017891020001");
    expect_vector("/dnsaddr/bootstrap.libp2p.io", "3813626f6f7473747261702e6c69627032702e696f");
    expect_vector("/ip4/1.2.3.4/tcp/1/tls/ws", "0401020304060001c003dd03");
    expect_vector("/ip4/1.2.3.4/tcp/1/noise/wss", "0401020304060001c603de03");
    expect_vector("/p2p/" + std::string(PEER_A) + "/p2p-circuit",
                  "a50326" + std::string(PEER_A_HEX) + "a202");
    expect_vector("/unix/tmp/chain mesh.sock", "9003142f746d702f636861696e206d6573682e736f636b");
}

TEST(Multiaddr, AcceptsAliasesAndPrintsCanonicalText) {
    const std::string canonical = "/ip4/10.0.0.1/tcp/80/p2p/" + std::string(PEER_A);
    for (const std::string& text :
         {"/ip4/10.0.0.1/tcp/80/ipfs/" + std::string(PEER_A),
          "/ip4/10.0.0.1/tcp/80/p2p/" + std::string(PEER_A_CID),
          "/ip4/10.0.0.1/tcp/0080/p2p/" + std::string(PEER_A) + "/"}) {
        auto parsed = Multiaddr::parse(text);
        ASSERT_TRUE(parsed) << text;
        EXPECT_EQ(parsed->to_string(), canonical);
    }
    auto ip6 = Multiaddr::parse("/ip6/0:0:0:0:0:0:0:1/tcp/1");
    ASSERT_TRUE(ip6);
    EXPECT_EQ(ip6->to_string(), "/ip6/::1/tcp/1");
}

TEST(Multiaddr, UnixPathTakesTheRestOfTheText) {
    auto addr = Multiaddr::parse("/unix/a/b/tcp/1");
    ASSERT_TRUE(addr);
    ASSERT_EQ(addr->components().size(), 1u);
    EXPECT_EQ(as_string(addr->components()[0].value), "/a/b/tcp/1");
    EXPECT_EQ(addr->to_string(), "/unix/a/b/tcp/1");
    EXPECT_EQ(Multiaddr::parse("/unix").error(), MultiaddrError::missing_value);
    EXPECT_EQ(Multiaddr::parse("/unix/").error(), MultiaddrError::missing_value);
    // Binary paths must be absolute, or their text would not parse back to them.
    EXPECT_EQ(Multiaddr::from_bytes(hex("90030161")).error(), MultiaddrError::bad_value);
    EXPECT_EQ(Multiaddr::from_bytes(hex("9003012f")).error(), MultiaddrError::bad_value);
    // Nor can anything follow a path in binary: its text would swallow it.
    EXPECT_EQ(Multiaddr::from_bytes(hex("9003022f61cd03")).error(), MultiaddrError::bad_value);
}

TEST(Multiaddr, RefusesBadText) {
    EXPECT_EQ(Multiaddr::parse("").error(), MultiaddrError::empty);
    EXPECT_EQ(Multiaddr::parse("/").error(), MultiaddrError::empty);
    EXPECT_EQ(Multiaddr::parse("ip4/1.2.3.4").error(), MultiaddrError::bad_value);
    EXPECT_EQ(Multiaddr::parse("/ip5/1.2.3.4").error(), MultiaddrError::unknown_protocol);
    EXPECT_EQ(Multiaddr::parse("/ip4/1.2.3.4//tcp/1").error(), MultiaddrError::unknown_protocol);
    EXPECT_EQ(Multiaddr::parse("/ip4").error(), MultiaddrError::missing_value);
    EXPECT_EQ(Multiaddr::parse("/ip4/1.2.3.4/tcp").error(), MultiaddrError::missing_value);
    EXPECT_EQ(Multiaddr::parse("/ip4/1.2.3.4/tcp/").error(), MultiaddrError::missing_value);
    for (const std::string_view bad :
         {"/ip4/1.2.3", "/ip4/1.2.3.256", "/ip4/::1", "/ip4/", "/ip6/1.2.3.4", "/ip6/:::"}) {
        EXPECT_FALSE(Multiaddr::parse(bad)) << bad;
    }
    EXPECT_EQ(Multiaddr::parse("/ip4//tcp/1").error(), MultiaddrError::bad_value);
    // An embedded NUL must not let inet_pton see only the text before it.
    EXPECT_EQ(Multiaddr::parse(std::string_view("/ip4/1.2.3.4\0x/tcp/1", 20)).error(),
              MultiaddrError::bad_value);
    for (const std::string_view port :
         {"65536", "-1", "+1", "0x10", "1 ", "99999999999999999999"}) {
        EXPECT_EQ(Multiaddr::parse("/ip4/1.2.3.4/tcp/" + std::string(port)).error(),
                  MultiaddrError::bad_value)
            << port;
    }
    EXPECT_EQ(Multiaddr::parse("/p2p/12D3KooWnotapeerid").error(), MultiaddrError::bad_value);
    EXPECT_EQ(Multiaddr::parse("/dns4/" + std::string(256, 'a')).error(),
              MultiaddrError::bad_value);
    EXPECT_TRUE(Multiaddr::parse("/dns4/" + std::string(255, 'a')));
}

TEST(Multiaddr, BoundsTextAndComponents) {
    std::string sixteen;
    for (int i = 0; i < 16; ++i) {
        sixteen += "/tls";
    }
    EXPECT_TRUE(Multiaddr::parse(sixteen));
    EXPECT_EQ(Multiaddr::parse(sixteen + "/tls").error(), MultiaddrError::too_many_components);
    EXPECT_EQ(Multiaddr::parse("/unix/" + std::string(1100, 'a')).error(),
              MultiaddrError::too_long);
    EXPECT_EQ(Multiaddr::parse("/tcp/" + std::string(5000, '0')).error(), MultiaddrError::too_long);
}

TEST(Multiaddr, RefusesBadBinary) {
    EXPECT_EQ(Multiaddr::from_bytes({}).error(), MultiaddrError::empty);
    EXPECT_EQ(Multiaddr::from_bytes(hex("047f0000")).error(), MultiaddrError::truncated);
    EXPECT_EQ(Multiaddr::from_bytes(hex("047f000001060f")).error(), MultiaddrError::truncated);
    EXPECT_EQ(Multiaddr::from_bytes(hex("a5")).error(), MultiaddrError::truncated);
    EXPECT_EQ(Multiaddr::from_bytes(hex("360b6578")).error(), MultiaddrError::truncated);
    EXPECT_EQ(Multiaddr::from_bytes(hex("3680")).error(), MultiaddrError::truncated);
    // A non-minimal protocol code.
    EXPECT_EQ(Multiaddr::from_bytes(hex("8400")).error(), MultiaddrError::bad_value);
    EXPECT_EQ(Multiaddr::from_bytes(hex("05")).error(), MultiaddrError::unknown_protocol);
    EXPECT_EQ(Multiaddr::from_bytes(hex("d203")).error(), MultiaddrError::unknown_protocol);
    EXPECT_EQ(Multiaddr::from_bytes(hex("3600")).error(), MultiaddrError::bad_value);
    EXPECT_EQ(Multiaddr::from_bytes(hex("3603612f62")).error(), MultiaddrError::bad_value);
    EXPECT_EQ(Multiaddr::from_bytes(hex("a503021100")).error(), MultiaddrError::bad_value);
    EXPECT_EQ(Multiaddr::from_bytes(Bytes(17, 0xc0)).error(), MultiaddrError::bad_value);
    Bytes seventeen;
    for (int i = 0; i < 17; ++i) {
        append(seventeen, hex("c003"));
    }
    EXPECT_EQ(Multiaddr::from_bytes(seventeen).error(), MultiaddrError::too_many_components);
    EXPECT_EQ(Multiaddr::from_bytes(Bytes(MULTIADDR_MAX_BYTES + 1, 0x04)).error(),
              MultiaddrError::too_long);
}

TEST(Multiaddr, PeerIdHelpers) {
    const auto id = crypto::PeerId::parse(PEER_A);
    ASSERT_TRUE(id);
    const auto plain = Multiaddr::parse("/ip4/127.0.0.1/tcp/4001");
    ASSERT_TRUE(plain);
    EXPECT_FALSE(plain->peer_id());
    const Multiaddr full = plain->with_peer_id(*id);
    EXPECT_EQ(full.to_string(), "/ip4/127.0.0.1/tcp/4001/p2p/" + std::string(PEER_A));
    ASSERT_TRUE(full.peer_id());
    EXPECT_EQ(*full.peer_id(), *id);
    EXPECT_EQ(full.without_peer_id(), *plain);
    EXPECT_EQ(full.with_peer_id(*id), full);  // replaces, never stacks
    EXPECT_EQ(plain->without_peer_id(), *plain);
}

TEST(Multiaddr, FromIpTcp) {
    const Bytes v4{192, 168, 1, 2};
    EXPECT_EQ(Multiaddr::from_ip_tcp(v4, 4001).to_string(), "/ip4/192.168.1.2/tcp/4001");
    Bytes v6(16, 0);
    v6[15] = 1;
    EXPECT_EQ(Multiaddr::from_ip_tcp(v6, 80).to_bytes(),
              hex("2900000000000000000000000000000001060050"));
}

TEST(Multiaddr, TcpTarget) {
    const auto target = [](std::string_view text) {
        return Multiaddr::parse(text).value().tcp_target();
    };
    auto t = target("/ip4/127.0.0.1/tcp/4001/p2p/" + std::string(PEER_A));
    ASSERT_TRUE(t);
    EXPECT_EQ(t->kind, TcpTarget::Kind::ip4);
    EXPECT_EQ(t->host, "127.0.0.1");
    EXPECT_EQ(t->port, 4001);
    t = target("/ip6/::1/tcp/5");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->kind, TcpTarget::Kind::ip6);
    EXPECT_EQ(t->host, "::1");
    t = target("/dns/example.com/tcp/443");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->kind, TcpTarget::Kind::dns);
    EXPECT_EQ(t->host, "example.com");
    EXPECT_EQ(target("/dns4/a/tcp/1")->kind, TcpTarget::Kind::dns4);
    EXPECT_EQ(target("/dns6/a/tcp/1")->kind, TcpTarget::Kind::dns6);
    EXPECT_FALSE(target("/ip4/1.2.3.4/udp/1"));
    EXPECT_FALSE(target("/ip4/1.2.3.4"));
    EXPECT_FALSE(target("/dnsaddr/a/tcp/1"));
    EXPECT_FALSE(target("/ip4/1.2.3.4/tcp/1/ws"));
    EXPECT_FALSE(target("/ip4/1.2.3.4/tcp/1/tls/p2p/" + std::string(PEER_A)));
}

}  // namespace
}  // namespace chainmesh::wire
