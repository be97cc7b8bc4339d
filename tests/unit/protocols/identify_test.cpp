#include <chainmesh/protocols/identify.hpp>
#include <chainmesh/util/hex.hpp>

#include "../test_hex.hpp"

#include <gtest/gtest.h>

namespace chainmesh::protocols {
namespace {

constexpr std::string_view PUBLIC_KEY_A =
    "0801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
constexpr std::string_view PEER_A = "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB";

// The message below, field by field, in ascending field order.
constexpr std::string_view FULL_MESSAGE_HEX =
    "0a24"
    "0801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"  // 1 publicKey
    "1208047f00000106125c"                                                       // 2 listenAddrs
    "1a0e2f697066732f69642f312e302e30"                                           // 3 protocols
    "1a102f697066732f70696e672f312e302e30"                                       // 3 protocols
    "2231"
    "0401020304060005a50326"
    "00240801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"  // 4 observed
    "2a0a697066732f302e312e30"                                                      // 5 version
    "320f636861696e6d6573682f302e312e30";                                           // 6 agent

using chainmesh::testing::hex;

wire::Multiaddr addr(std::string_view text) { return wire::Multiaddr::parse(text).value(); }

IdentifyMessage full_message() {
    IdentifyMessage m;
    m.protocol_version = std::string(IDENTIFY_PROTOCOL_VERSION);
    m.agent_version = "chainmesh/0.1.0";
    m.public_key = crypto::PublicKey::decode(hex(PUBLIC_KEY_A)).value();
    m.listen_addrs = {addr("/ip4/127.0.0.1/tcp/4700")};
    m.observed_addr = addr("/ip4/1.2.3.4/tcp/5/p2p/" + std::string(PEER_A));
    m.protocols = {"/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"};
    return m;
}

void expect_same(const IdentifyMessage& a, const IdentifyMessage& b) {
    EXPECT_EQ(a.protocol_version, b.protocol_version);
    EXPECT_EQ(a.agent_version, b.agent_version);
    EXPECT_EQ(a.public_key, b.public_key);
    EXPECT_EQ(a.listen_addrs, b.listen_addrs);
    EXPECT_EQ(a.observed_addr, b.observed_addr);
    EXPECT_EQ(a.protocols, b.protocols);
}

TEST(Identify, EncodesFieldsInAscendingOrder) {
    EXPECT_EQ(util::to_hex(full_message().encode()), FULL_MESSAGE_HEX);
}

TEST(Identify, EncodesAnEmptyMessageAsNothing) {
    EXPECT_TRUE(IdentifyMessage{}.encode().empty());
    auto decoded = IdentifyMessage::decode({});
    ASSERT_TRUE(decoded);
    expect_same(*decoded, IdentifyMessage{});
}

TEST(Identify, DecodesWhatItEncodes) {
    auto decoded = IdentifyMessage::decode(hex(FULL_MESSAGE_HEX));
    ASSERT_TRUE(decoded) << decoded.error().message();
    expect_same(*decoded, full_message());
}

TEST(Identify, DecodesFieldsInAnyOrderAndSkipsUnknownOnes) {
    // As go and js send it: version strings first, and a signedPeerRecord (8) at the end.
    const Bytes body = hex(
        "2a0a697066732f302e312e30"
        "0a240801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
        "1208047f00000106125c"
        "4203aabbcc"   // field 8, length-delimited
        "5001"         // field 10, varint
        "5d01020304"   // field 11, fixed32
        "1a0e2f697066732f69642f312e302e30");
    auto decoded = IdentifyMessage::decode(body);
    ASSERT_TRUE(decoded) << decoded.error().message();
    EXPECT_EQ(decoded->protocol_version, "ipfs/0.1.0");
    EXPECT_FALSE(decoded->agent_version);
    ASSERT_TRUE(decoded->public_key);
    EXPECT_EQ(decoded->public_key->type, crypto::KeyType::ed25519);
    ASSERT_EQ(decoded->listen_addrs.size(), 1u);
    EXPECT_EQ(decoded->listen_addrs[0].to_string(), "/ip4/127.0.0.1/tcp/4700");
    EXPECT_EQ(decoded->protocols, std::vector<std::string>{"/ipfs/id/1.0.0"});
    EXPECT_FALSE(decoded->observed_addr);
}

TEST(Identify, SkipsListenAddrsThatDoNotDecode) {
    // certhash (466) is unknown here; the second address is truncated; the third is fine.
    const Bytes body = hex(
        "1204d2030100"
        "1203047f00"
        "1208047f00000106125c"
        "2202d203");
    auto decoded = IdentifyMessage::decode(body);
    ASSERT_TRUE(decoded) << decoded.error().message();
    ASSERT_EQ(decoded->listen_addrs.size(), 1u);
    EXPECT_EQ(decoded->listen_addrs[0].to_string(), "/ip4/127.0.0.1/tcp/4700");
    EXPECT_FALSE(decoded->observed_addr);
}

TEST(Identify, RefusesABadPublicKey) {
    EXPECT_EQ(IdentifyMessage::decode(hex("0a0408011200")).error(), IdentifyError::bad_public_key);
    EXPECT_EQ(IdentifyMessage::decode(hex("0a00")).error(), IdentifyError::bad_public_key);
}

TEST(Identify, RefusesMalformedProtobuf) {
    EXPECT_EQ(IdentifyMessage::decode(hex("0a")).error(), IdentifyError::malformed);
    EXPECT_EQ(IdentifyMessage::decode(hex("0a05aabb")).error(), IdentifyError::malformed);
    EXPECT_EQ(IdentifyMessage::decode(hex("00")).error(), IdentifyError::malformed);
    EXPECT_EQ(IdentifyMessage::decode(hex("0b")).error(), IdentifyError::malformed);  // group
    // A known field with the wrong wire type.
    EXPECT_EQ(IdentifyMessage::decode(hex("2801")).error(), IdentifyError::malformed);
}

TEST(Identify, BoundsSizeAndLists) {
    Bytes big;
    append(big, hex("428040"));  // field 8, 8192 bytes
    big.resize(big.size() + 8192, 0);
    EXPECT_EQ(IdentifyMessage::decode(big).error(), IdentifyError::too_large);

    Bytes protocols;
    for (std::size_t i = 0; i < IDENTIFY_MAX_LIST_ENTRIES; ++i) {
        append(protocols, hex("1a012f"));
    }
    auto at_bound = IdentifyMessage::decode(protocols);
    ASSERT_TRUE(at_bound);
    EXPECT_EQ(at_bound->protocols.size(), IDENTIFY_MAX_LIST_ENTRIES);
    append(protocols, hex("1a012f"));
    EXPECT_EQ(IdentifyMessage::decode(protocols).error(), IdentifyError::too_many_entries);

    // Listen addrs count as they arrive, whether they decode or not.
    Bytes addrs;
    for (std::size_t i = 0; i <= IDENTIFY_MAX_LIST_ENTRIES; ++i) {
        append(addrs, hex("120105"));
    }
    EXPECT_EQ(IdentifyMessage::decode(addrs).error(), IdentifyError::too_many_entries);
}

TEST(Identify, MergeReplacesOnlyPresentFields) {
    IdentifyMessage base = full_message();
    IdentifyMessage push;
    push.listen_addrs = {addr("/ip4/10.0.0.1/tcp/4001")};
    push.agent_version = "chainmesh/0.2.0";
    base.merge(push);
    EXPECT_EQ(base.agent_version, "chainmesh/0.2.0");
    EXPECT_EQ(base.listen_addrs, push.listen_addrs);
    EXPECT_EQ(base.protocol_version, full_message().protocol_version);
    EXPECT_EQ(base.protocols, full_message().protocols);
    EXPECT_EQ(base.observed_addr, full_message().observed_addr);
    EXPECT_EQ(base.public_key, full_message().public_key);

    IdentifyMessage replace_protocols;
    replace_protocols.protocols = {"/meshsub/1.1.0"};
    replace_protocols.observed_addr = addr("/ip4/5.6.7.8/tcp/9");
    base.merge(replace_protocols);
    EXPECT_EQ(base.protocols, replace_protocols.protocols);
    EXPECT_EQ(base.observed_addr, replace_protocols.observed_addr);
    EXPECT_EQ(base.listen_addrs, push.listen_addrs);
}

}  // namespace
}  // namespace chainmesh::protocols
