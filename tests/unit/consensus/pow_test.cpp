#include "pow_fixture.hpp"

#include <chainmesh/consensus/errors.hpp>
#include <chainmesh/consensus/pow/uint256.hpp>
#include <chainmesh/util/hex.hpp>
#include <chainmesh/util/rng.hpp>

#include <gtest/gtest.h>

#include <limits>
#include <variant>

namespace chainmesh::consensus::pow {
namespace {

using test::VectorBranch;

Hash256 h256(std::string_view hex) {
    const std::string padded = std::string(64 - hex.size(), '0') + std::string(hex);
    const auto bytes = util::from_hex(padded);
    EXPECT_TRUE(bytes.has_value());
    Hash256 out{};
    std::copy(bytes->begin(), bytes->end(), out.begin());
    return out;
}

std::string hex(const Hash256& value) {
    return util::to_hex(value);
}

std::string hex(const chain::Work& value) {
    return util::to_hex(value.to_bytes());
}

ErrorCode code(ConsensusError e) {
    return e;
}

constexpr std::string_view MAX_HEX =
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

// --- 256-bit arithmetic --------------------------------------------------------------------

TEST(UInt256, RoundTripsBigEndianBytes) {
    const Hash256 bytes = h256("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
    EXPECT_EQ(UInt256::from_bytes(bytes).to_bytes(), bytes);
    EXPECT_EQ(UInt256::from_u64(0x1234).to_bytes(), h256("1234"));
    EXPECT_EQ(UInt256::from_u64(7).low_u64(), 7U);
}

TEST(UInt256, AddAndMultiplyReportOverflow) {
    const auto sum = UInt256::add(UInt256::max(), UInt256::from_u64(1));
    EXPECT_TRUE(sum.overflow);
    EXPECT_TRUE(sum.value.is_zero());
    const auto carry =
        UInt256::add(UInt256::from_bytes(h256("ffffffffffffffff")), UInt256::from_u64(1));
    EXPECT_FALSE(carry.overflow);
    EXPECT_EQ(carry.value.to_bytes(), h256("10000000000000000"));

    const auto square =
        UInt256::mul(UInt256::from_bytes(h256("100000000000000000000000000000000")),
                     UInt256::from_bytes(h256("100000000000000000000000000000000")));
    EXPECT_TRUE(square.overflow);  // 2^128 × 2^128
    const auto below = UInt256::mul(UInt256::from_bytes(h256("ffffffffffffffffffffffffffffffff")),
                                    UInt256::from_bytes(h256("100000000000000000000000000000001")));
    EXPECT_FALSE(below.overflow);  // (2^128 - 1)(2^128 + 1) = 2^256 - 1
    EXPECT_EQ(below.value, UInt256::max());
    const auto product =
        UInt256::mul(UInt256::from_u64(0xffffffffffffffff), UInt256::from_u64(0xffffffffffffffff));
    EXPECT_EQ(hex(product.value.to_bytes()),
              "00000000000000000000000000000000fffffffffffffffe0000000000000001");
    EXPECT_TRUE(UInt256::mul(UInt256::max(), UInt256::from_u64(2)).overflow);
    EXPECT_FALSE(UInt256::mul(UInt256::max(), UInt256::from_u64(1)).overflow);
}

TEST(UInt256, DividesWithRemainder) {
    const auto [q, r] = UInt256::divmod(UInt256::max(), UInt256::from_u64(3));
    EXPECT_EQ(hex(q.to_bytes()), std::string(64, '5'));
    EXPECT_TRUE(r.is_zero());
    // The top bit set in the running remainder: a divisor above 2^255.
    const UInt256 big = UInt256::from_bytes(
        h256("8000000000000000000000000000000000000000000000000000000000000001"));
    const auto [q2, r2] = UInt256::divmod(UInt256::max(), big);
    EXPECT_EQ(q2, UInt256::from_u64(1));
    EXPECT_EQ(r2.to_bytes(),
              h256("7ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe"));
}

TEST(UInt256, DivisionMatchesMultiplicationOnRandomValues) {
    Rng rng(77);
    for (int i = 0; i < 300; ++i) {
        Hash256 a_bytes{};
        Hash256 b_bytes{};
        rng.fill(a_bytes);
        rng.fill(b_bytes);
        // Divisors of every size: clear a random number of leading bytes.
        const std::size_t cleared = rng.uniform(32);
        std::fill(b_bytes.begin(), b_bytes.begin() + static_cast<std::ptrdiff_t>(cleared), 0);
        const UInt256 a = UInt256::from_bytes(a_bytes);
        UInt256 b = UInt256::from_bytes(b_bytes);
        if (b.is_zero()) {
            b = UInt256::from_u64(1);
        }
        const auto [q, r] = UInt256::divmod(a, b);
        EXPECT_LT(r, b);
        const auto qb = UInt256::mul(q, b);
        ASSERT_FALSE(qb.overflow);
        const auto back = UInt256::add(qb.value, r);
        ASSERT_FALSE(back.overflow);
        EXPECT_EQ(back.value, a);
        EXPECT_EQ(UInt256::sub(a, r), qb.value);
    }
}

TEST(UInt256, ShiftsAndCompares) {
    const UInt256 x = UInt256::from_bytes(
        h256("f000000000000000000000000000000000000000000000000000000000000001"));
    EXPECT_EQ(x.shifted_right(2).to_bytes(),
              h256("3c00000000000000000000000000000000000000000000000000000000000000"));
    EXPECT_EQ(x.shifted_right(252), UInt256::from_u64(0xf));
    EXPECT_EQ(x.shifted_right(0), x);
    EXPECT_LT(UInt256::from_u64(5), x);
    EXPECT_GT(UInt256::max(), x);
    EXPECT_EQ((~UInt256{}), UInt256::max());
}

// --- work ----------------------------------------------------------------------------------

TEST(Work, IsTwoTo256OverTargetPlusOne) {
    EXPECT_EQ(block_work(h256(MAX_HEX)), chain::Work::from_u64(1));
    EXPECT_EQ(block_work(chain::target_from_difficulty(2)), chain::Work::from_u64(2));
    EXPECT_EQ(block_work(chain::target_from_difficulty(3)), chain::Work::from_u64(2));
    EXPECT_EQ(block_work(chain::target_from_difficulty(1000)), chain::Work::from_u64(999));
    EXPECT_EQ(block_work(chain::target_from_difficulty(std::numeric_limits<std::uint64_t>::max())),
              chain::Work::from_u64(0xfffffffffffffffe));
    // Bitcoin's difficulty-1 target: 2^256 / (0xffff × 2^208 + 1) = 0x100010001.
    EXPECT_EQ(block_work(h256("00000000ffff0000000000000000000000000000000000000000000000000000")),
              chain::Work::from_u64(0x100010001));
    EXPECT_EQ(
        hex(block_work(h256("123456789abcdef0fedcba9876543210123456789abcdef0fedcba987654321"))),
        std::string(62, '0') + "e1");
    // Target 1: 2^255. Target 0 (never valid): saturates.
    EXPECT_EQ(hex(block_work(h256("1"))), "8" + std::string(63, '0'));
    EXPECT_EQ(block_work(Hash256{}), chain::Work::max());
}

TEST(Work, HarderTargetsWeighMore) {
    Rng rng(5);
    for (int i = 0; i < 100; ++i) {
        Hash256 a{};
        rng.fill(a);
        a[0] = static_cast<std::uint8_t>(a[0] | 1);  // non-zero
        Hash256 b = UInt256::from_bytes(a)
                        .shifted_right(1 + static_cast<unsigned>(rng.uniform(8)))
                        .to_bytes();
        EXPECT_GT(block_work(b), block_work(a));
    }
}

TEST(Work, SumsSaturate) {
    const chain::Work one = chain::Work::from_u64(1);
    EXPECT_EQ(chain::Work::max() + one, chain::Work::max());
    const chain::Work low = chain::Work::from_u64(0xffffffffffffffff);
    EXPECT_EQ(hex(low + one), std::string(47, '0') + "1" + std::string(16, '0'));
    EXPECT_LT(low, low + one);
    EXPECT_EQ(chain::Work::from_bytes(h256("abc")).to_bytes(), h256("abc"));
}

// --- retarget ------------------------------------------------------------------------------

TEST(Retarget, HeightsAreMultiplesOfTheWindowPastTheFirstWindow) {
    EXPECT_FALSE(is_retarget_height(1, 1));
    EXPECT_FALSE(is_retarget_height(2, 1));
    EXPECT_TRUE(is_retarget_height(3, 1));
    EXPECT_TRUE(is_retarget_height(4, 1));
    EXPECT_FALSE(is_retarget_height(4, 4));
    EXPECT_FALSE(is_retarget_height(6, 4));
    EXPECT_TRUE(is_retarget_height(8, 4));
    EXPECT_FALSE(is_retarget_height(9, 4));
    EXPECT_TRUE(is_retarget_height(12, 4));
    EXPECT_FALSE(is_retarget_height(32, 32));
    EXPECT_TRUE(is_retarget_height(64, 32));
    EXPECT_FALSE(is_retarget_height(0, 32));
}

TEST(Retarget, ScalesByTheTimespanWithinAFactorOfFour) {
    const Hash256 t = h256("1" + std::string(50, '0'));  // 2^200
    // Window 4 at 1000 ms: 4000 ms expected.
    EXPECT_EQ(retarget(t, 4000, 1000, 4), t);
    EXPECT_EQ(retarget(t, 2000, 1000, 4), h256("8" + std::string(49, '0')));  // half: harder
    EXPECT_EQ(retarget(t, 8000, 1000, 4), h256("2" + std::string(50, '0')));  // double: easier
    EXPECT_EQ(retarget(t, 1000, 1000, 4), h256("4" + std::string(49, '0')));  // quarter
    EXPECT_EQ(retarget(t, 999, 1000, 4), h256("4" + std::string(49, '0')));   // clamped
    EXPECT_EQ(retarget(t, 0, 1000, 4), h256("4" + std::string(49, '0')));
    EXPECT_EQ(retarget(t, 16000, 1000, 4), h256("4" + std::string(50, '0')));  // ×4
    EXPECT_EQ(retarget(t, std::numeric_limits<std::uint64_t>::max(), 1000, 4),
              h256("4" + std::string(50, '0')));  // clamped
    // Exact floors.
    const Hash256 odd = h256("123456789abcdef0fedcba9876543210123456789abcdef0fedcba9876543210");
    EXPECT_EQ(hex(retarget(odd, 4001, 1000, 4)),
              "123580bb941ed68c9367eb89c7c4377387f81017bd14991bef90e14c57206069");
    EXPECT_EQ(hex(retarget(odd, 3999, 1000, 4)),
              "12332c35a15ae7556a5189a724e42cac9c709cd9786524c60e2893e4958803b6");
    EXPECT_EQ(hex(retarget(odd, 7000, 1000, 4)),
              "1fdb97530eca8625be02468acf13579c1fdb97530eca8625be02468acf13579c");
}

TEST(Retarget, StaysWithinOneAndTheLargestTarget) {
    const Hash256 max = h256(MAX_HEX);
    EXPECT_EQ(retarget(max, 16000, 1000, 4), max);
    EXPECT_EQ(retarget(chain::target_from_difficulty(3), 16000, 1000, 4), max);  // ×4 saturates
    EXPECT_EQ(retarget(h256("1"), 1, 1000, 4), h256("1"));                       // never 0
    EXPECT_EQ(retarget(h256("3"), 1, 1000, 4), h256("1"));
    EXPECT_EQ(retarget(Hash256{}, 4000, 1000, 4), h256("1"));  // a zero target is taken as 1
    // The largest parameters: a 2^96 expected timespan.
    const Hash256 t = h256("1" + std::string(50, '0'));
    EXPECT_EQ(retarget(t, std::numeric_limits<std::uint64_t>::max(),
                       std::numeric_limits<std::uint64_t>::max(),
                       std::numeric_limits<std::uint32_t>::max()),
              h256("4" + std::string(49, '0')));
}

VectorBranch timed_branch(std::size_t blocks, std::uint64_t spacing_ms, const Hash256& target) {
    VectorBranch branch;
    for (std::size_t h = 0; h < blocks; ++h) {
        chain::BlockHeader header;
        header.height = h;
        header.timestamp_ms = test::GENESIS_TIME_MS + (h == 0 ? 0 : 1'000'000 + h * spacing_ms);
        header.target = target;
        branch.headers.push_back(header);
    }
    return branch;
}

TEST(Retarget, NextTargetFollowsTheWindowsTimestamps) {
    chain::PowParams params;
    params.initial_target = h256("1" + std::string(50, '0'));
    params.target_block_time_ms = 1000;
    params.retarget_window = 4;
    const Hash256& t = params.initial_target;

    // Blocks 0..7; the child at height 8 retargets over blocks 3..7.
    const VectorBranch fast = timed_branch(8, 500, t);
    EXPECT_EQ(*next_target(params, fast.headers.back(), fast), h256("8" + std::string(49, '0')));
    const VectorBranch slow = timed_branch(8, 2000, t);
    EXPECT_EQ(*next_target(params, slow.headers.back(), slow), h256("2" + std::string(50, '0')));
    const VectorBranch on_time = timed_branch(8, 1000, t);
    EXPECT_EQ(*next_target(params, on_time.headers.back(), on_time), t);
    const VectorBranch very_fast = timed_branch(8, 1, t);
    EXPECT_EQ(*next_target(params, very_fast.headers.back(), very_fast),
              h256("4" + std::string(49, '0')));

    // Between retarget heights: the parent's target, whatever the timestamps.
    const VectorBranch longer = timed_branch(9, 1, t);
    EXPECT_EQ(*next_target(params, longer.headers.back(), longer), t);
    // The genesis timestamp (block 0) never enters a window: no retarget at height 4 or 6.
    const VectorBranch first_window = timed_branch(4, 1, t);
    EXPECT_EQ(*next_target(params, first_window.headers.back(), first_window), t);

    // A branch that lacks the window's first block.
    VectorBranch gap = fast;
    gap.headers.resize(3);
    EXPECT_EQ(next_target(params, fast.headers.back(), gap).error(),
              code(ConsensusError::unknown_ancestor));
}

// --- mining and proof ----------------------------------------------------------------------

chain::BlockHeader sample_header(const Hash256& target) {
    chain::BlockHeader header;
    header.network_id = "testnet";
    header.height = 5;
    header.previous_hash = h256("abcdef");
    header.timestamp_ms = test::GENESIS_TIME_MS + 5000;
    header.beneficiary = test::address_from_byte(3);
    header.target = target;
    return header;
}

TEST(Mine, FindsTheFirstNonceThatMeetsTheTarget) {
    chain::BlockHeader header = sample_header(chain::target_from_difficulty(64));
    const Bytes prefix = header_prefix(header);
    EXPECT_EQ(prefix.size(), header.encoded_size() - 8);
    const MineResult found = mine(prefix, header.target, 0, 1'000'000);
    ASSERT_TRUE(found.nonce.has_value());
    EXPECT_EQ(found.attempts, *found.nonce + 1);
    header.nonce = *found.nonce;
    EXPECT_EQ(found.hash, header.hash());  // the midstate gives the real block hash
    EXPECT_TRUE(chain::hash_meets_target(header.hash(), header.target));
    for (std::uint64_t nonce = 0; nonce < *found.nonce; ++nonce) {
        header.nonce = nonce;
        EXPECT_FALSE(chain::hash_meets_target(header.hash(), header.target)) << nonce;
    }
}

TEST(Mine, IsRestartableInChunks) {
    const chain::BlockHeader header = sample_header(chain::target_from_difficulty(500));
    const Bytes prefix = header_prefix(header);
    const MineResult whole = mine(prefix, header.target, 1000, 1'000'000);
    ASSERT_TRUE(whole.nonce.has_value());
    std::uint64_t nonce = 1000;
    std::uint64_t total = 0;
    for (;;) {
        const MineResult part = mine(prefix, header.target, nonce, 7);
        total += part.attempts;
        if (part.nonce) {
            EXPECT_EQ(*part.nonce, *whole.nonce);
            EXPECT_EQ(part.hash, whole.hash);
            break;
        }
        EXPECT_EQ(part.attempts, 7U);
        nonce += part.attempts;
    }
    EXPECT_EQ(total, whole.attempts);
}

TEST(Mine, StopsAtTheEndOfTheRangeAndOfTheNonceSpace) {
    const chain::BlockHeader header = sample_header(Hash256{});  // only a zero hash would do
    const Bytes prefix = header_prefix(header);
    EXPECT_EQ(mine(prefix, header.target, 10, 0).attempts, 0U);
    const MineResult none = mine(prefix, header.target, 10, 50);
    EXPECT_FALSE(none.nonce.has_value());
    EXPECT_EQ(none.attempts, 50U);
    const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    EXPECT_EQ(mine(prefix, header.target, max - 2, 10).attempts, 3U);
    EXPECT_EQ(mine(prefix, header.target, max, max).attempts, 1U);
    // The all-ones target takes the first nonce.
    const MineResult any = mine(prefix, h256(MAX_HEX), 42, 10);
    EXPECT_EQ(any.nonce, std::optional<std::uint64_t>(42));
}

TEST(CheckProof, NamesTheTargetOrTheWork) {
    chain::BlockHeader header = sample_header(chain::target_from_difficulty(16));
    test::solve(header);
    EXPECT_TRUE(check_proof(header, header.target));
    EXPECT_EQ(check_proof(header, chain::target_from_difficulty(17)).error(),
              code(ConsensusError::bad_target));
    // A nonce whose hash misses the target.
    for (header.nonce = 0; chain::hash_meets_target(header.hash(), header.target); ++header.nonce) {
    }
    EXPECT_EQ(check_proof(header, header.target).error(), code(ConsensusError::bad_proof_of_work));
}

// --- the engine ----------------------------------------------------------------------------

struct EngineFixture : ::testing::Test {
    test::PowSettings settings{.difficulty = 8, .block_time_ms = 1000, .window = 2};
    chain::Genesis genesis = test::pow_genesis(settings);
    PowEngine engine{genesis.params};
    test::ChainBuilder builder{engine, genesis};
};

TEST_F(EngineFixture, ChecksConsensusDataTargetAndWork) {
    const chain::Block block = builder.extend({});
    VectorBranch parent_branch = builder.branch;
    parent_branch.headers.pop_back();
    const chain::BlockHeader& parent = parent_branch.headers.back();
    EXPECT_TRUE(engine.check_consensus(block.header, parent, parent_branch));

    chain::BlockHeader with_data = block.header;
    with_data.consensus_data = {1};
    EXPECT_EQ(engine.check_consensus(with_data, parent, parent_branch).error(),
              code(ConsensusError::unexpected_consensus_data));

    chain::BlockHeader easier = block.header;
    easier.target = chain::target_from_difficulty(1);
    EXPECT_EQ(engine.check_consensus(easier, parent, parent_branch).error(),
              code(ConsensusError::bad_target));

    chain::BlockHeader unmined = block.header;
    for (unmined.nonce = 0; chain::hash_meets_target(unmined.hash(), unmined.target);
         ++unmined.nonce) {
    }
    EXPECT_EQ(engine.check_consensus(unmined, parent, parent_branch).error(),
              code(ConsensusError::bad_proof_of_work));
}

TEST_F(EngineFixture, TemplatesCarryTheRetargetedTarget) {
    // Window 2: height 4 retargets over blocks 1..3; fast blocks (10 ms apart) quarter it.
    for (int i = 0; i < 3; ++i) {
        builder.extend({}, 9, 10);
    }
    const chain::MemoryState before = builder.state;
    const auto proposal =
        engine.make_template(builder.state, builder.tip(), builder.branch,
                             std::vector<chain::Transaction>{test::transfer(
                                 test::key(1), test::address_from_byte(40), 10, 1, 0)},
                             test::address_from_byte(9), 0);
    ASSERT_TRUE(proposal);
    const chain::BlockHeader& header = proposal->block.header;
    EXPECT_EQ(header.height, 4U);
    EXPECT_EQ(header.timestamp_ms, builder.tip().timestamp_ms + 1);  // now_ms was in the past
    EXPECT_EQ(header.target,
              UInt256::from_bytes(genesis.params.pow.initial_target).shifted_right(2).to_bytes());
    EXPECT_TRUE(header.consensus_data.empty());
    EXPECT_EQ(proposal->block.transactions.size(), 1U);
    EXPECT_EQ(builder.state.root(), before.root());
    EXPECT_EQ(engine.weight(header), block_work(header.target));
    EXPECT_GT(engine.weight(header), engine.weight(builder.tip()));

    const auto actions = engine.on_new_tip(builder.tip(), builder.tip().hash());
    ASSERT_EQ(actions.size(), 1U);
    const auto* build = std::get_if<BuildTemplate>(&actions[0]);
    ASSERT_NE(build, nullptr);
    EXPECT_EQ(build->parent, builder.tip().hash());
    EXPECT_EQ(build->height, 4U);
}

TEST(ConsensusError, HasNamesAndMessages) {
    EXPECT_EQ(name(ConsensusError::bad_target), "bad_target");
    EXPECT_EQ(code(ConsensusError::bad_proof_of_work).message(), "block hash above its target");
    EXPECT_STREQ(code(ConsensusError::unknown_ancestor).category().name(), "consensus");
}

}  // namespace
}  // namespace chainmesh::consensus::pow
