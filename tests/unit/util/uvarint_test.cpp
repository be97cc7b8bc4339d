#include <chainmesh/util/hex.hpp>
#include <chainmesh/util/uvarint.hpp>

#include <gtest/gtest.h>

namespace chainmesh::util {
namespace {

Bytes encode(std::uint64_t v) {
    Bytes out;
    append_uvarint(out, v);
    return out;
}

TEST(Uvarint, EncodesTheSpecExamples) {
    EXPECT_EQ(to_hex(encode(0)), "00");
    EXPECT_EQ(to_hex(encode(127)), "7f");
    EXPECT_EQ(to_hex(encode(128)), "8001");
    EXPECT_EQ(to_hex(encode(300)), "ac02");
    EXPECT_EQ(uvarint_size(300), 2u);
}

TEST(Uvarint, RoundTripsEveryLength) {
    for (int bits = 0; bits < 63; ++bits) {
        const std::uint64_t v = (std::uint64_t{1} << bits) + 1;
        const Bytes b = encode(v);
        auto decoded = decode_uvarint(b);
        ASSERT_TRUE(decoded) << bits;
        EXPECT_EQ(decoded->value, v);
        EXPECT_EQ(decoded->size, b.size());
    }
}

TEST(Uvarint, StopsAtTheFirstVarint) {
    const Bytes b{0xac, 0x02, 0xff};
    auto decoded = decode_uvarint(b);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->value, 300u);
    EXPECT_EQ(decoded->size, 2u);
}

TEST(Uvarint, TellsTruncatedFromMalformed) {
    EXPECT_EQ(decode_uvarint(Bytes{}).error(), VarintError::truncated);
    EXPECT_EQ(decode_uvarint(Bytes{0x80}).error(), VarintError::truncated);
    EXPECT_EQ(decode_uvarint(Bytes{0x80, 0x00}).error(), VarintError::non_minimal);
    EXPECT_EQ(decode_uvarint(Bytes{0xff, 0x80, 0x00}).error(), VarintError::non_minimal);
    EXPECT_EQ(decode_uvarint(Bytes(9, 0xff)).error(), VarintError::overflow);
    EXPECT_EQ(decode_uvarint(Bytes(12, 0x80)).error(), VarintError::overflow);
}

TEST(Uvarint, AcceptsTheLargestNineByteValue) {
    Bytes b(8, 0xff);
    b.push_back(0x7f);
    auto decoded = decode_uvarint(b);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->value, (std::uint64_t{1} << 63) - 1);
}

}  // namespace
}  // namespace chainmesh::util
