#include <chainmesh/util/rng.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace chainmesh {
namespace {

TEST(Rng, SameSeedSameSequence) {
    Rng a(42);
    Rng b(42);
    Rng c(43);
    bool differs = false;
    for (int i = 0; i < 100; ++i) {
        const auto x = a.next_u64();
        EXPECT_EQ(x, b.next_u64());
        differs |= x != c.next_u64();
    }
    EXPECT_TRUE(differs);
}

TEST(Rng, UniformStaysInRangeAndCoversIt) {
    Rng rng(7);
    std::vector<int> seen(10, 0);
    for (int i = 0; i < 10000; ++i) {
        const auto v = rng.uniform(10);
        ASSERT_LT(v, 10u);
        ++seen[v];
    }
    for (const int count : seen) {
        EXPECT_GT(count, 800);  // expected 1000 each; a biased generator misses this
    }
    for (int i = 0; i < 1000; ++i) {
        const double r = rng.uniform_real();
        ASSERT_GE(r, 0.0);
        ASSERT_LT(r, 1.0);
    }
}

TEST(Rng, WorksWithStandardAlgorithms) {
    Rng rng(1);
    const std::vector<int> sorted{1, 2, 3, 4, 5, 6, 7, 8};
    std::vector<int> v = sorted;
    std::shuffle(v.begin(), v.end(), rng);
    EXPECT_NE(v, sorted);  // seed 1 moves something: a shuffle that does nothing fails here
    std::sort(v.begin(), v.end());
    EXPECT_EQ(v, sorted);
    Bytes buf(13, 0);
    rng.fill(buf);
    EXPECT_NE(std::count(buf.begin(), buf.end(), 0), 13);
}

}  // namespace
}  // namespace chainmesh
