#include <chainmesh/crypto/ed25519.hpp>
#include <chainmesh/util/hex.hpp>

#include <gtest/gtest.h>

namespace chainmesh::crypto {
namespace {

Ed25519Seed seed_from(std::uint8_t first) {
    Ed25519Seed seed;
    for (std::size_t i = 0; i < seed.size(); ++i) {
        seed[i] = static_cast<std::uint8_t>(first + i);
    }
    return seed;
}

TEST(Ed25519, DerivesTheInteropVectorPublicKey) {
    const auto key = Ed25519PrivateKey::from_seed(seed_from(0x00));
    EXPECT_EQ(util::to_hex(key.public_key()),
              "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
    EXPECT_EQ(key.seed(), seed_from(0x00));
}

TEST(Ed25519, MatchesRfc8032TestOne) {
    const Bytes seed = *util::from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    Ed25519Seed s;
    std::copy(seed.begin(), seed.end(), s.begin());
    const auto key = Ed25519PrivateKey::from_seed(s);
    EXPECT_EQ(util::to_hex(key.public_key()),
              "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    EXPECT_EQ(util::to_hex(key.sign(Bytes{})),
              "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
              "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
}

TEST(Ed25519, VerifyAcceptsOnlyTheRightSignature) {
    const auto key = Ed25519PrivateKey::generate();
    const Bytes message = to_bytes(std::string_view("chainmesh"));
    auto signature = key.sign(message);
    EXPECT_TRUE(ed25519_verify(key.public_key(), message, signature));
    signature[10] ^= 1;
    EXPECT_FALSE(ed25519_verify(key.public_key(), message, signature));
    EXPECT_FALSE(ed25519_verify(key.public_key(), message, ByteView(signature).first(63)));
    const auto other = Ed25519PrivateKey::generate();
    EXPECT_FALSE(ed25519_verify(other.public_key(), message, key.sign(message)));
}

}  // namespace
}  // namespace chainmesh::crypto
