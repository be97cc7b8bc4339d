#include <chainmesh/util/hex.hpp>
#include <chainmesh/util/multibase.hpp>

#include <gtest/gtest.h>

namespace chainmesh::util {
namespace {

TEST(Multibase, Base32MatchesRfc4648LowercaseUnpadded) {
    EXPECT_EQ(base32_encode(to_bytes(std::string_view("foobar"))), "mzxw6ytboi");
    EXPECT_EQ(base32_encode(to_bytes(std::string_view("f"))), "my");
    EXPECT_EQ(multibase_encode_base32(to_bytes(std::string_view("fo"))), "bmzxq");
}

TEST(Multibase, DecodesEachSupportedBase) {
    const Bytes foobar = to_bytes(std::string_view("foobar"));
    EXPECT_EQ(*multibase_decode("bmzxw6ytboi"), foobar);
    EXPECT_EQ(*multibase_decode("BMZXW6YTBOI"), foobar);
    EXPECT_EQ(*multibase_decode("f666f6f626172"), foobar);
    EXPECT_EQ(*multibase_decode("zt1Zv2yaZ"), foobar);
}

TEST(Multibase, RefusesWhatItCannotRead) {
    EXPECT_EQ(multibase_decode("").error(), MultibaseError::empty);
    EXPECT_EQ(multibase_decode("mAAAA").error(), MultibaseError::unsupported_base);
    EXPECT_EQ(multibase_decode("b0189").error(), MultibaseError::bad_character);
    EXPECT_EQ(multibase_decode("b" + std::string(2000, 'a')).error(), MultibaseError::too_long);
}

}  // namespace
}  // namespace chainmesh::util
