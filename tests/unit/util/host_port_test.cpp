#include <chainmesh/util/host_port.hpp>

#include <gtest/gtest.h>

namespace chainmesh {
namespace {

TEST(HostPort, ReadsIpv4LocalhostAndBracketedIpv6WithAZone) {
    auto parsed = parse_host_port("10.1.2.3:8645");
    ASSERT_TRUE(parsed.value) << parsed.problem;
    EXPECT_EQ(parsed.value->host, "10.1.2.3");
    EXPECT_EQ(parsed.value->port, 8645);
    EXPECT_FALSE(parsed.value->bracketed);

    parsed = parse_host_port("localhost:0");
    ASSERT_TRUE(parsed.value);
    EXPECT_EQ(parsed.value->host, "localhost");

    parsed = parse_host_port("[fe80::1%eth0]:65535");
    ASSERT_TRUE(parsed.value) << parsed.problem;
    EXPECT_EQ(parsed.value->host, "fe80::1%eth0");
    EXPECT_EQ(parsed.value->port, 65535);
    EXPECT_TRUE(parsed.value->bracketed);
}

TEST(HostPort, SaysWhatIsWrong) {
    EXPECT_EQ(parse_host_port("::1:80").problem, "put an IPv6 address in brackets, as in [::1]:8645");
    EXPECT_EQ(parse_host_port("[127.0.0.1]:80").problem,
              "the address in brackets must be an IPv6 address");
    EXPECT_EQ(parse_host_port("example.com:80").problem,
              "the host must be an IP address or localhost");
    EXPECT_EQ(parse_host_port("1.2.3.4:65536").problem, "the port must be a number from 0 to 65535");
    EXPECT_EQ(parse_host_port("1.2.3.4").problem, "expected host:port or [IPv6 address]:port");
    EXPECT_EQ(parse_host_port("[::1]8645").problem, "expected [IPv6 address]:port");
    EXPECT_FALSE(parse_host_port("1.2.3.4:").value);
}

}  // namespace
}  // namespace chainmesh
