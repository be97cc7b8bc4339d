#include <chainmesh/util/base58.hpp>
#include <chainmesh/util/hex.hpp>

#include <gtest/gtest.h>

namespace chainmesh::util {
namespace {

TEST(Base58, EncodesKnownValues) {
    EXPECT_EQ(base58_encode(to_bytes(std::string_view("hello world"))), "StV1DL6CwTryKyV");
    EXPECT_EQ(base58_encode(Bytes{0, 0, 1}), "112");
    EXPECT_EQ(base58_encode(Bytes{}), "");
    const Bytes id = *from_hex(
        "00240801122003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
    EXPECT_EQ(base58_encode(id), "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB");
}

TEST(Base58, RoundTripsLeadingZeros) {
    for (std::size_t zeros = 0; zeros < 4; ++zeros) {
        Bytes b(zeros, 0);
        b.push_back(0xff);
        b.push_back(0x10);
        auto decoded = base58_decode(base58_encode(b));
        ASSERT_TRUE(decoded);
        EXPECT_EQ(*decoded, b);
    }
}

TEST(Base58, RefusesBadCharactersAndLongInput) {
    EXPECT_EQ(base58_decode("0OIl").error(), Base58Error::bad_character);
    EXPECT_EQ(base58_decode(std::string(300, '2')).error(), Base58Error::too_long);
    EXPECT_EQ(base58_decode(std::string(20, '2'), 10).error(), Base58Error::too_long);
}

}  // namespace
}  // namespace chainmesh::util
