#include <chainmesh/crypto/sha256.hpp>
#include <chainmesh/util/hex.hpp>

#include <gtest/gtest.h>

namespace chainmesh::crypto {
namespace {
using util::to_hex;

TEST(Sha256, MatchesFips180Vectors) {
    EXPECT_EQ(to_hex(sha256(Bytes{})),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(to_hex(sha256(as_bytes("abc"))),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, IncrementalEqualsOneShotAndIsReusable) {
    Sha256 h;
    h.update(as_bytes("a")).update(as_bytes("bc"));
    EXPECT_EQ(h.finish(), sha256(as_bytes("abc")));
    EXPECT_EQ(h.update(as_bytes("abc")).finish(), sha256(as_bytes("abc")));
}

TEST(HmacSha256, MatchesRfc4231) {
    // Test case 2: key "Jefe".
    EXPECT_EQ(to_hex(hmac_sha256(as_bytes("Jefe"), as_bytes("what do ya want for nothing?"))),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // Test case 6: a 131-byte key is hashed first.
    const Bytes key(131, 0xaa);
    EXPECT_EQ(to_hex(hmac_sha256(key, as_bytes("Test Using Larger Than Block-Size Key - Hash Key First"))),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

}  // namespace
}  // namespace chainmesh::crypto
