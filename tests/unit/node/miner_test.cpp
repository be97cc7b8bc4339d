// The miner's threads against real templates at easy targets. The test thread runs the
// io_context that receives the found blocks; waits are bounded by run_for, never by sleeps.

#include <chainmesh/chain/genesis.hpp>
#include <chainmesh/chain/merkle.hpp>
#include <chainmesh/node/miner.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <optional>

namespace chainmesh::node {
namespace {

constexpr auto WAIT_LIMIT = std::chrono::seconds(60);

chain::Block block_template(std::uint64_t difficulty, std::uint8_t tag = 1) {
    chain::Block block;
    chain::BlockHeader& header = block.header;
    header.network_id = "testnet";
    header.height = 7;
    header.previous_hash.fill(tag);
    header.transactions_root = chain::merkle_root({});
    header.timestamp_ms = 1'700'000'000'000;
    header.target = difficulty == 0 ? crypto::Hash256{} : chain::target_from_difficulty(difficulty);
    return block;
}

struct MinerTest : ::testing::Test {
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard =
        boost::asio::make_work_guard(io);
    std::vector<MinedBlock> found;

    Miner::FoundHandler record() {
        return [this](MinedBlock mined) {
            found.push_back(std::move(mined));
            io.stop();
        };
    }
    void wait_for_a_block() {
        io.restart();
        io.run_for(WAIT_LIMIT);
        ASSERT_FALSE(found.empty()) << "no block within the time limit";
    }
};

TEST_F(MinerTest, FindsABlockAtAnEasyTargetOnTwoThreads) {
    Miner miner({.threads = 2, .chunk_nonces = 128}, io.get_executor(), record());
    EXPECT_EQ(miner.threads(), 2U);
    const chain::Block job = block_template(5000);
    const std::uint64_t generation = miner.mine(job);
    wait_for_a_block();
    const MinedBlock& mined = found.front();
    EXPECT_EQ(mined.generation, generation);
    EXPECT_TRUE(chain::hash_meets_target(mined.block.hash(), job.header.target));
    chain::Block expected = job;
    expected.header.nonce = mined.block.header.nonce;
    EXPECT_EQ(mined.block, expected);  // only the nonce changed
    EXPECT_GE(miner.attempts(), 1U);
}

TEST_F(MinerTest, ANewJobReplacesTheOldOne) {
    Miner miner({.threads = 2, .chunk_nonces = 64}, io.get_executor(), record());
    miner.mine(block_template(0));  // a zero target: never solved
    const chain::Block easy = block_template(50, 2);
    const std::uint64_t generation = miner.mine(easy);
    wait_for_a_block();
    EXPECT_EQ(found.front().generation, generation);
    EXPECT_EQ(found.front().block.header.previous_hash, easy.header.previous_hash);

    // And again, on a new tip.
    found.clear();
    const chain::Block next = block_template(50, 3);
    const std::uint64_t next_generation = miner.mine(next);
    EXPECT_GT(next_generation, generation);
    wait_for_a_block();
    EXPECT_EQ(found.front().generation, next_generation);
    EXPECT_EQ(found.front().block.header.previous_hash, next.header.previous_hash);
}

TEST_F(MinerTest, ReportsOneBlockPerJob) {
    std::size_t calls = 0;
    {
        // Every nonce meets the all-ones target: each thread finds one on its first attempt,
        // but only the first claim is reported.
        Miner miner({.threads = 2, .chunk_nonces = 1}, io.get_executor(),
                    [&](MinedBlock) { ++calls; });
        miner.mine(block_template(1));
        while (miner.attempts() == 0 || calls == 0) {
            io.restart();
            io.run_one_for(WAIT_LIMIT);
        }
        miner.pause();
    }  // joined: nothing more can be posted
    io.restart();
    io.poll();
    EXPECT_EQ(calls, 1U);
}

TEST_F(MinerTest, StopsWhenDestroyedOrPaused) {
    Miner miner({.threads = 2, .chunk_nonces = 256}, io.get_executor(), record());
    miner.mine(block_template(0));
    miner.pause();
    miner.mine(block_template(0));
    // The destructor joins the threads searching an unsolvable job: the test ending is the
    // check.
}

TEST(NonceRange, ThreadsSplitTheNonceSpaceWithoutGapsOrOverlaps) {
    for (std::size_t threads = 1; threads <= 7; ++threads) {
        std::uint64_t next = 0;
        for (std::size_t i = 0; i < threads; ++i) {
            const NonceRange range = Miner::nonce_range(i, threads);
            EXPECT_EQ(range.first, next);
            EXPECT_LE(range.first, range.last);
            next = range.last + 1;  // wraps to 0 after the last range
        }
        EXPECT_EQ(Miner::nonce_range(threads - 1, threads).last,
                  std::numeric_limits<std::uint64_t>::max());
        EXPECT_EQ(next, 0U);
    }
    EXPECT_EQ(Miner::nonce_range(1, 2).first, std::uint64_t{1} << 63);
}

}  // namespace
}  // namespace chainmesh::node
