#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/crypto/peer_id.hpp>
#include <chainmesh/util/hex.hpp>

#include <gtest/gtest.h>

namespace chainmesh::crypto {
namespace {

Ed25519Seed counting_seed(std::uint8_t first) {
    Ed25519Seed seed;
    for (std::size_t i = 0; i < seed.size(); ++i) {
        seed[i] = static_cast<std::uint8_t>(first + i);
    }
    return seed;
}

TEST(PeerId, MatchesInteropVectorA) {
    const Identity a(Ed25519PrivateKey::from_seed(counting_seed(0x00)));
    EXPECT_EQ(util::to_hex(a.public_key().encode()),
              "0801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
    EXPECT_EQ(util::to_hex(a.peer_id().bytes()),
              "00240801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
    EXPECT_EQ(a.peer_id().to_base58(), "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB");
    EXPECT_EQ(a.peer_id().to_cid(),
              "bafzaajaiaejcaa5ba677htqqxyoxbxiy45f4bglh4tldbg5fbvpr3xegmqjfkmny");
}

TEST(PeerId, MatchesInteropVectorB) {
    const Identity b(Ed25519PrivateKey::from_seed(counting_seed(0x40)));
    EXPECT_EQ(b.peer_id().to_string(), "12D3KooWCKq9ZvccjmCqhBbPsrgpAKBHWQpgB61ruM19CyAvH1Cp");
}

TEST(PeerId, ParsesBothTextFormsToTheSameId) {
    const auto from_base58 = PeerId::parse("12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB");
    const auto from_cid =
        PeerId::parse("bafzaajaiaejcaa5ba677htqqxyoxbxiy45f4bglh4tldbg5fbvpr3xegmqjfkmny");
    ASSERT_TRUE(from_base58);
    ASSERT_TRUE(from_cid);
    EXPECT_EQ(*from_base58, *from_cid);
    const auto key = from_base58->public_key();
    ASSERT_TRUE(key);
    EXPECT_EQ(key->type, KeyType::ed25519);
    EXPECT_EQ(PeerId::from_public_key(*key), *from_base58);
}

TEST(PeerId, HashesLargeKeysWithSha256) {
    const PublicKey rsa{KeyType::rsa, Bytes(300, 0x42)};
    const PeerId id = PeerId::from_public_key(rsa);
    EXPECT_EQ(id.bytes().size(), 34u);
    EXPECT_EQ(id.bytes()[0], 0x12);
    EXPECT_TRUE(id.to_base58().starts_with("Qm"));
    EXPECT_FALSE(id.public_key());
    EXPECT_EQ(*PeerId::parse(id.to_base58()), id);
}

TEST(PeerId, RefusesMalformedText) {
    EXPECT_FALSE(PeerId::parse(""));
    EXPECT_FALSE(PeerId::parse("12D3KooW"));
    EXPECT_FALSE(PeerId::parse("12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSBx"));
    EXPECT_FALSE(PeerId::parse("hello"));
    // A CID with a codec other than libp2p-key (0x70, dag-pb).
    EXPECT_EQ(PeerId::parse("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi").error(),
              PeerIdError::not_a_peer_id_cid);
    EXPECT_EQ(PeerId::from_bytes(Bytes{0x11, 0x02, 0x00, 0x00}).error(),
              PeerIdError::unsupported_hash);
    EXPECT_EQ(PeerId::from_bytes(Bytes{0x00, 0x03, 0x08, 0x01}).error(), PeerIdError::malformed);
}

TEST(PublicKey, RefusesMalformedEncodings) {
    EXPECT_EQ(PublicKey::decode(*util::from_hex("0801")).error(), KeyError::missing_field);
    EXPECT_EQ(PublicKey::decode(*util::from_hex("08011203aabbcc")).error(), KeyError::bad_key_length);
    EXPECT_EQ(PublicKey::decode(*util::from_hex("08091200")).error(), KeyError::unknown_type);
    EXPECT_EQ(PublicKey::decode(*util::from_hex("08011220")).error(), KeyError::malformed);
}

}  // namespace
}  // namespace chainmesh::crypto
