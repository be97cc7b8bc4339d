#include <chainmesh/util/hex.hpp>

#include <gtest/gtest.h>

namespace chainmesh::util {
namespace {

TEST(Hex, RoundTrips) {
    const Bytes bytes{0x00, 0x01, 0xab, 0xff};
    EXPECT_EQ(to_hex(bytes), "0001abff");
    auto decoded = from_hex("0001ABff");
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, bytes);
}

TEST(Hex, RefusesOddLengthAndBadDigits) {
    EXPECT_EQ(from_hex("abc").error(), HexError::odd_length);
    EXPECT_EQ(from_hex("zz").error(), HexError::bad_digit);
    EXPECT_TRUE(from_hex("")->empty());
}

}  // namespace
}  // namespace chainmesh::util
