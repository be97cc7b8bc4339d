#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/pubsub/gossip_router.hpp>
#include <chainmesh/pubsub/message_id.hpp>
#include <chainmesh/pubsub/rpc.hpp>
#include <chainmesh/util/hex.hpp>
#include <chainmesh/util/protobuf.hpp>
#include <chainmesh/util/uvarint.hpp>

#include "../test_hex.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace chainmesh::pubsub {
namespace {

// libp2p-interop.md §14: StrictSign message by identity A, data "hello", seqno 1, topic "blocks".
constexpr std::string_view PUBLIC_KEY_A =
    "0801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
constexpr std::string_view PEER_ID_A =
    "00240801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
constexpr std::string_view UNSIGNED_HEX =
    "0a2600240801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
    "120568656c6c6f"
    "1a080000000000000001"
    "2206626c6f636b73";
constexpr std::string_view SIGNATURE_HEX =
    "be98d5f86bd4227d8aa7bec64dd3c88c56910ba5b89fb185410cd067ded345d2"
    "b9ba05b92e6b3c9a74c2dbc63f73f1eeab2216faeeeef361d7d25149cabec504";
constexpr std::string_view SUBSCRIBE_BLOCKS_HEX = "0a0a08011206626c6f636b73";

using chainmesh::testing::hex;
std::string str(const std::string& a, std::string_view b) { return a + std::string(b); }

crypto::Identity identity_from(std::uint8_t first) {
    crypto::Ed25519Seed seed{};
    for (std::size_t i = 0; i < seed.size(); ++i) {
        seed[i] = static_cast<std::uint8_t>(first + i);
    }
    return crypto::Identity(crypto::Ed25519PrivateKey::from_seed(seed));
}

std::string full_message_hex() {
    return str(str(std::string(UNSIGNED_HEX) + "2a40", SIGNATURE_HEX) + "3224", PUBLIC_KEY_A);
}

Message vector_message_unsigned() {
    const auto a = identity_from(0x00);
    Message m;
    m.from = a.peer_id().bytes();
    m.data = to_bytes("hello");
    m.seqno = hex("0000000000000001");
    m.topic = "blocks";
    return m;
}

TEST(StrictSignVector, SigningBytesAreThePrefixAndFieldsOneToFour) {
    const Message m = vector_message_unsigned();
    EXPECT_EQ(util::to_hex(m.from.value()), PEER_ID_A);
    Bytes expected = to_bytes("libp2p-pubsub:");
    append(expected, hex(UNSIGNED_HEX));
    EXPECT_EQ(util::to_hex(m.signing_bytes()), util::to_hex(expected));
    EXPECT_EQ(util::to_hex(m.encode()), UNSIGNED_HEX);
}

TEST(StrictSignVector, SignatureAndFullEncodingMatch) {
    const auto a = identity_from(0x00);
    Message m = vector_message_unsigned();
    const auto signature = a.sign(m.signing_bytes());
    EXPECT_EQ(util::to_hex(signature), SIGNATURE_HEX);
    m.signature = Bytes(signature.begin(), signature.end());
    m.key = a.public_key().encode();
    EXPECT_EQ(util::to_hex(m.encode()), full_message_hex());

    Rpc rpc;
    rpc.messages.push_back(m);
    const Bytes body = rpc.encode();
    EXPECT_EQ(util::to_hex(body), "12a901" + full_message_hex());
    Bytes framed;
    util::append_uvarint(framed, body.size());
    EXPECT_EQ(util::to_hex(framed), "ac01");
}

TEST(StrictSignVector, DecodesAndVerifies) {
    auto rpc = Rpc::decode(hex("12a901" + full_message_hex()), 1 << 20);
    ASSERT_TRUE(rpc);
    ASSERT_EQ(rpc->messages.size(), 1u);
    const Message& m = rpc->messages[0];
    EXPECT_EQ(m.topic, "blocks");
    EXPECT_EQ(m.data, to_bytes("hello"));
    auto key = crypto::PublicKey::decode(m.key.value());
    ASSERT_TRUE(key);
    EXPECT_TRUE(key->verify(m.signing_bytes(), m.signature.value()));
    Message tampered = m;
    tampered.data = to_bytes("hellO");
    EXPECT_FALSE(key->verify(tampered.signing_bytes(), m.signature.value()));
}

TEST(StrictSignVector, SubscribeRpc) {
    Rpc rpc;
    rpc.subscriptions.push_back({true, "blocks"});
    EXPECT_EQ(util::to_hex(rpc.encode()), SUBSCRIBE_BLOCKS_HEX);
}

TEST(StrictSignVector, RouterPublishesTheVectorBytes) {
    const auto a = identity_from(0x00);
    const auto b = identity_from(0x40);
    GossipConfig config;
    config.seqno_start = 1;
    GossipRouter router(config, a, Rng(1));
    const Instant now = instant_from_nanos(1'000'000'000);
    router.on_peer_connected(b.peer_id(), true, "10.0.0.2", now);
    router.on_rpc(b.peer_id(), hex(SUBSCRIBE_BLOCKS_HEX), now);
    (void)router.take_actions();
    auto id = router.publish("blocks", to_bytes("hello"), now);
    ASSERT_TRUE(id);
    // js default id: PublicKey protobuf ‖ seqno.
    EXPECT_EQ(util::to_hex(*id), str(std::string(PUBLIC_KEY_A), "0000000000000001"));
    auto actions = router.take_actions();
    ASSERT_EQ(actions.size(), 1u);  // not subscribed: no local delivery
    const auto* send = std::get_if<SendRpc>(&actions[0]);
    ASSERT_NE(send, nullptr);
    EXPECT_EQ(send->peer, b.peer_id());
    EXPECT_EQ(util::to_hex(send->rpc), "12a901" + full_message_hex());
    router.check_invariants();
}

TEST(MessageIds, GoJsAndContentIds) {
    auto rpc = Rpc::decode(hex("12a901" + full_message_hex()), 1 << 20);
    ASSERT_TRUE(rpc);
    const Message& m = rpc->messages[0];
    EXPECT_EQ(util::to_hex(go_message_id(m)), str(std::string(PEER_ID_A), "0000000000000001"));
    EXPECT_EQ(util::to_hex(js_message_id(m)), str(std::string(PUBLIC_KEY_A), "0000000000000001"));
    EXPECT_EQ(util::to_hex(content_message_id(m)), "7a8f6c60297b33787a2c76df6b8eb1e80aa26bd5");
    // A hashed (RSA-style) peer id does not inline its key: js takes the `key` field.
    Message hashed = m;
    hashed.from = hex("1220" + std::string(64, 'a'));
    hashed.key = to_bytes("KEY");
    EXPECT_EQ(util::to_hex(js_message_id(hashed)), "4b4559" "0000000000000001");
}

TEST(MessageIds, SipHashReferenceVectors) {
    // SipHash-2-4, key 00..0f (Aumasson and Bernstein's reference vectors).
    const std::uint64_t k0 = 0x0706050403020100ULL;
    const std::uint64_t k1 = 0x0f0e0d0c0b0a0908ULL;
    EXPECT_EQ(siphash24(k0, k1, {}), 0x726fdb47dd0e0e31ULL);
    Bytes fifteen;
    for (std::uint8_t i = 0; i < 15; ++i) {
        fifteen.push_back(i);
    }
    EXPECT_EQ(siphash24(k0, k1, fifteen), 0xa129ca6149be45e5ULL);
    MessageIdHasher other{1, 2};
    EXPECT_NE(other(fifteen), MessageIdHasher{}(fifteen));
}

Rpc full_rpc() {
    Rpc rpc;
    rpc.subscriptions = {{true, "a"}, {false, "b"}};
    Message m1;
    m1.from = to_bytes("from");
    m1.data = Bytes{};  // present but empty: must survive a round trip
    m1.seqno = hex("0102030405060708");
    m1.topic = "a";
    m1.signature = to_bytes("sig");
    m1.key = to_bytes("key");
    Message m2;
    m2.topic = "b";
    m2.data = to_bytes("payload");
    rpc.messages = {m1, m2};
    ControlMessage c;
    c.ihave = {{"a", {to_bytes("id1"), to_bytes("id2")}}, {"b", {}}};
    c.iwant = {{{to_bytes("id3")}}};
    c.graft = {{"a"}, {"c"}};
    c.prune = {{"a",
                {{to_bytes("peer1"), to_bytes("record")}, {to_bytes("peer2"), std::nullopt}},
                60},
               {"b", {}, std::nullopt}};
    c.idontwant = {{{to_bytes("id4"), to_bytes("id5")}}};
    rpc.control = c;
    return rpc;
}

TEST(RpcCodec, RoundTripsEveryField) {
    const Rpc rpc = full_rpc();
    const Bytes body = rpc.encode();
    auto decoded = Rpc::decode(body, body.size());
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, rpc);
    EXPECT_EQ(decoded->encode(), body);
}

TEST(RpcCodec, KeepsFieldPresence) {
    Message absent;
    absent.topic = "t";
    Message empty = absent;
    empty.data = Bytes{};
    EXPECT_EQ(util::to_hex(absent.encode()), "220174");
    EXPECT_EQ(util::to_hex(empty.encode()), "1200220174");
    auto a = Message::decode(absent.encode());
    auto e = Message::decode(empty.encode());
    ASSERT_TRUE(a && e);
    EXPECT_FALSE(a->data.has_value());
    EXPECT_TRUE(e->data.has_value());
    EXPECT_FALSE(a->from || a->seqno || a->signature || a->key);
}

TEST(RpcCodec, SkipsUnknownFieldsAtEveryLevel) {
    // RPC { 1: SubOpts{1:1, 2:"x", 9:7}, 7: "zz", 3: Control{3: Graft{1:"x", 5:"q"}, 9: 1} }
    const Bytes body = hex(
        "0a07" "0801" "120178" "4807"
        "3a027a7a"
        "1a09" "1a05" "0a0178" "2a00" "4801");
    auto rpc = Rpc::decode(body, 1024);
    ASSERT_TRUE(rpc);
    ASSERT_EQ(rpc->subscriptions.size(), 1u);
    EXPECT_EQ(rpc->subscriptions[0], (SubOpts{true, "x"}));
    ASSERT_TRUE(rpc->control);
    ASSERT_EQ(rpc->control->graft.size(), 1u);
    EXPECT_EQ(rpc->control->graft[0].topic, "x");
}

TEST(RpcCodec, MergesRepeatedControlFields) {
    ControlMessage one;
    one.graft = {{"a"}};
    ControlMessage two;
    two.prune = {{"b", {}, 5}};
    Bytes body;
    util::ProtoWriter w(body);
    w.bytes(3, one.encode());
    w.bytes(3, two.encode());
    auto rpc = Rpc::decode(body, 1024);
    ASSERT_TRUE(rpc && rpc->control);
    EXPECT_EQ(rpc->control->graft.size(), 1u);
    EXPECT_EQ(rpc->control->prune.size(), 1u);
}

TEST(RpcCodec, RefusesBodiesOverTheByteBound) {
    const Bytes body = full_rpc().encode();
    auto r = Rpc::decode(body, body.size() - 1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), PubsubError::rpc_too_large);
    EXPECT_TRUE(Rpc::decode(body, body.size()));
}

TEST(RpcCodec, RefusesListsOverTheirBounds) {
    const Bytes body = full_rpc().encode();
    RpcLimits limits;
    limits.max_subscriptions = 1;
    EXPECT_EQ(Rpc::decode(body, body.size(), limits).error(), PubsubError::too_many_entries);
    limits = {};
    limits.max_messages = 1;
    EXPECT_EQ(Rpc::decode(body, body.size(), limits).error(), PubsubError::too_many_entries);
    limits = {};
    limits.max_message_ids = 4;  // the RPC holds 5 ids over IHAVE, IWANT and IDONTWANT
    EXPECT_EQ(Rpc::decode(body, body.size(), limits).error(), PubsubError::too_many_entries);
    limits.max_message_ids = 5;
    EXPECT_TRUE(Rpc::decode(body, body.size(), limits));
    limits = {};
    limits.max_control_entries = 1;  // two IHAVEs, two GRAFTs, two PRUNEs
    EXPECT_EQ(Rpc::decode(body, body.size(), limits).error(), PubsubError::too_many_entries);
    limits = {};
    limits.max_prune_peers = 1;
    EXPECT_EQ(Rpc::decode(body, body.size(), limits).error(), PubsubError::too_many_entries);
}

TEST(RpcCodec, RefusesMalformedBodies) {
    const Bytes body = full_rpc().encode();
    for (std::size_t cut = 1; cut < body.size(); cut += 7) {
        const Bytes prefix(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(cut));
        // A cut may land on a field boundary of the top level; then what remains decodes.
        auto r = Rpc::decode(prefix, body.size());
        if (!r) {
            EXPECT_EQ(r.error(), PubsubError::malformed_rpc);
        }
    }
    // Known field, wrong wire type: RPC.publish (2) as a varint.
    EXPECT_EQ(Rpc::decode(hex("1001"), 64).error(), PubsubError::malformed_rpc);
    // SubOpts.subscribe as bytes.
    EXPECT_EQ(Rpc::decode(hex("0a030a0101"), 64).error(), PubsubError::malformed_rpc);
    // Prune.backoff as bytes.
    EXPECT_EQ(Rpc::decode(hex("1a05" "2203" "1a0101"), 64).error(), PubsubError::malformed_rpc);
    // Group wire types are refused.
    EXPECT_EQ(Rpc::decode(hex("0b"), 64).error(), PubsubError::malformed_rpc);
    EXPECT_TRUE(Rpc::decode({}, 64));
}

TEST(RpcCodec, EncodeRpcWithPreEncodedMessages) {
    Message m;
    m.topic = "t";
    m.data = to_bytes("d");
    const Bytes encoded = m.encode();
    const ByteView views[] = {encoded};
    ControlMessage control;
    control.iwant = {{{to_bytes("x")}}};
    const SubOpts subs[] = {{true, "t"}};
    Rpc expected;
    expected.subscriptions = {subs[0]};
    expected.messages = {m};
    expected.control = control;
    EXPECT_EQ(encode_rpc(subs, views, &control), expected.encode());
    EXPECT_EQ(field_bytes(0), 2u);
    EXPECT_EQ(field_bytes(200), 203u);
}

}  // namespace
}  // namespace chainmesh::pubsub
