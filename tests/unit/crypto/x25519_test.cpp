#include <chainmesh/crypto/x25519.hpp>
#include <chainmesh/util/hex.hpp>

#include <gtest/gtest.h>

namespace chainmesh::crypto {
namespace {

X25519Key counting_key(std::uint8_t first) {
    X25519Key key;
    for (std::size_t i = 0; i < key.size(); ++i) {
        key[i] = static_cast<std::uint8_t>(first + i);
    }
    return key;
}

TEST(X25519, DerivesTheInteropVectorKeys) {
    EXPECT_EQ(util::to_hex(X25519KeyPair::from_private(counting_key(0x80)).public_key),
              "493e82fc74464a59268817623d2053c5eb8e2cc4a988b4fee179ec6b010d531d");
    EXPECT_EQ(util::to_hex(X25519KeyPair::from_private(counting_key(0xe0)).public_key),
              "736845d54e87de09d6bb114aa7042c50a4a015bd9901d1a0026f5956533a1519");
}

TEST(X25519, BothSidesAgreeAndLowOrderPointsAreRefused) {
    const auto a = X25519KeyPair::generate();
    const auto b = X25519KeyPair::generate();
    EXPECT_EQ(*x25519(a.private_key, b.public_key), *x25519(b.private_key, a.public_key));
    EXPECT_FALSE(x25519(a.private_key, X25519Key{}).has_value());
}

}  // namespace
}  // namespace chainmesh::crypto
