#include <chainmesh/chain/genesis.hpp>
#include <chainmesh/util/hex.hpp>
#include "chain_fixture.hpp"

#include <gtest/gtest.h>

namespace chainmesh::chain {
namespace {

using test::address_of;
using test::key;

std::string alice() {
    return address_of(key(1)).to_string();
}
std::string bob() {
    return address_of(key(2)).to_string();
}

std::string good_toml() {
    return R"(
network = "devnet-1"
timestamp_ms = 1700000000000
block_reward = 25

[limits]
max_block_bytes = 1048576
max_block_transactions = 4000
max_timestamp_drift_ms = 20000

[consensus]
kind = "pow"

[consensus.pow]
initial_difficulty = 256
target_block_time_ms = 5000
retarget_window = 16
max_reorg_depth = 50

[allocations]
")" + alice() +
           R"(" = 1000000
")" + bob() +
           R"(" = "18446744073700000000"
)";
}

TEST(Genesis, ParsesEveryKey) {
    const auto parsed = parse_genesis(good_toml());
    ASSERT_TRUE(parsed) << parsed.error().message;
    const Genesis& g = *parsed;
    EXPECT_EQ(g.params.network_id, "devnet-1");
    EXPECT_EQ(g.timestamp_ms, 1'700'000'000'000U);
    EXPECT_EQ(g.params.block_reward, 25U);
    EXPECT_EQ(g.params.max_block_bytes, 1'048'576U);
    EXPECT_EQ(g.params.max_block_transactions, 4000U);
    EXPECT_EQ(g.params.max_timestamp_drift_ms, 20'000U);
    EXPECT_EQ(g.params.consensus, ConsensusKind::pow);
    EXPECT_EQ(g.params.pow.initial_target, target_from_difficulty(256));
    EXPECT_EQ(g.params.pow.target_block_time_ms, 5000U);
    EXPECT_EQ(g.params.pow.retarget_window, 16U);
    EXPECT_EQ(g.params.pow.max_reorg_depth, 50U);
    ASSERT_EQ(g.allocations.size(), 2U);
    EXPECT_LT(g.allocations[0].address, g.allocations[1].address);
    const MemoryState state = g.initial_state();
    EXPECT_EQ(state.account(address_of(key(1))), (Account{1'000'000, 0}));
    EXPECT_EQ(state.account(address_of(key(2))), (Account{18'446'744'073'700'000'000U, 0}));
}

TEST(Genesis, DefaultsTheOptionalKeys) {
    const auto parsed = parse_genesis(R"(
network = "n"
timestamp_ms = 0
[consensus]
kind = "pow"
[consensus.pow]
initial_target = "00000fffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
)");
    ASSERT_TRUE(parsed) << parsed.error().message;
    const ChainParams defaults;
    EXPECT_EQ(parsed->params.block_reward, 0U);
    EXPECT_EQ(parsed->params.max_block_bytes, defaults.max_block_bytes);
    EXPECT_EQ(parsed->params.max_block_transactions, defaults.max_block_transactions);
    EXPECT_EQ(parsed->params.max_timestamp_drift_ms, defaults.max_timestamp_drift_ms);
    EXPECT_EQ(parsed->params.pow.target_block_time_ms, defaults.pow.target_block_time_ms);
    EXPECT_EQ(util::to_hex(parsed->params.pow.initial_target),
              "00000fffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    EXPECT_TRUE(parsed->allocations.empty());
    EXPECT_EQ(parsed->block().header.state_root, EMPTY_STATE_ROOT);
}

TEST(Genesis, WriteThenParseGivesTheSameGenesis) {
    const Genesis original = *parse_genesis(good_toml());
    const std::string text = write_genesis(original);
    const auto again = parse_genesis(text);
    ASSERT_TRUE(again) << again.error().message << "\n" << text;
    EXPECT_EQ(*again, original);
    EXPECT_EQ(again->block(), original.block());
}

TEST(Genesis, BlockCommitsToStateAndParameters) {
    const Genesis g = *parse_genesis(good_toml());
    const Block block = g.block();
    EXPECT_EQ(block.header.network_id, "devnet-1");
    EXPECT_EQ(block.header.height, 0U);
    EXPECT_EQ(block.header.previous_hash, Hash256{});
    EXPECT_EQ(block.header.transactions_root, Hash256{});
    EXPECT_EQ(block.header.state_root, g.initial_state().root());
    EXPECT_EQ(block.header.timestamp_ms, g.timestamp_ms);
    EXPECT_TRUE(block.header.beneficiary.is_zero());
    EXPECT_EQ(block.header.target, g.params.pow.initial_target);
    EXPECT_EQ(block.header.nonce, 0U);
    EXPECT_TRUE(block.transactions.empty());
    EXPECT_EQ(*ChainParams::decode(block.header.consensus_data), g.params);
    EXPECT_EQ(*Block::decode(block.encode()), block);

    // Any parameter changes the genesis hash.
    Genesis other = g;
    other.params.pow.retarget_window += 1;
    EXPECT_NE(other.block().hash(), block.hash());
}

// The vector of docs/protocol.md §10: any change to the genesis block's content shows here.
TEST(Genesis, MatchesThePinnedVector) {
    const auto parsed = parse_genesis(R"(
network = "testnet"
timestamp_ms = 1700000000000
[consensus]
kind = "pow"
[consensus.pow]
initial_difficulty = 1
[allocations]
"cm0482c7dc528e7982a64230d4ca87231c40149d9b648ad5ae" = 1000000
)");
    ASSERT_TRUE(parsed) << parsed.error().message;
    const Block block = parsed->block();
    EXPECT_EQ(util::to_hex(block.header.state_root),
              "acb68f06c718e2e8aa766632c8879363acd397318130728383e5c526a7ba251d");
    EXPECT_EQ(util::to_hex(block.hash()),
              "02e3518e112ec8701014d725e26d099d377d6b02a859444944b14018ff9b76ee");
}

TEST(Genesis, ValueThrowsWithTheMessage) {
    const auto parsed = parse_genesis("network = 5");
    ASSERT_FALSE(parsed);
    EXPECT_THROW(
        {
            try {
                (void)parsed.value();
            } catch (const std::runtime_error& e) {
                EXPECT_EQ(std::string(e.what()), parsed.error().message);
                throw;
            }
        },
        std::runtime_error);
}

struct BadCase {
    std::string from;  // replaced in good_toml()
    std::string to;
    std::string message_part;
};

TEST(Genesis, BadInputNamesTheKeyAndValue) {
    const std::vector<BadCase> cases{
        {"kind = \"pow\"", "kind = \"raft\"",
         "consensus.kind = \"raft\" is not a consensus kind (expected \"pow\" or \"bft\")"},
        {"kind = \"pow\"", "kind = \"bft\"", "consensus.kind = \"bft\" is not supported yet"},
        {"kind = \"pow\"", "kind = 3", "consensus.kind = 3 must be a string"},
        {"network = \"devnet-1\"", "network = \"Dev Net\"", "network = \"Dev Net\" is not a"},
        {"network = \"devnet-1\"", "", "missing key network"},
        {"timestamp_ms = 1700000000000", "timestamp_ms = -1", "timestamp_ms = -1 must be an"},
        {"timestamp_ms = 1700000000000", "timestamp_ms = \"soon\"",
         "timestamp_ms = \"soon\" must be an integer"},
        {"retarget_window = 16", "retarget_windw = 16",
         "unknown key consensus.pow.retarget_windw = 16"},
        {"retarget_window = 16", "retarget_window = 0",
         "consensus.pow.retarget_window = 0 must be at least 1"},
        {"retarget_window = 16", "retarget_window = 4294967296",
         "consensus.pow.retarget_window = 4294967296 must be an integer from 0 to 2^32-1"},
        {"initial_difficulty = 256", "initial_difficulty = 0",
         "consensus.pow.initial_difficulty = 0 must be at least 1"},
        {"initial_difficulty = 256", "", "exactly one of initial_target and initial_difficulty"},
        {"initial_difficulty = 256",
         "initial_difficulty = 256\ninitial_target = \"" + std::string(64, 'f') + "\"",
         "exactly one of initial_target and initial_difficulty"},
        {"initial_difficulty = 256", "initial_target = \"abc\"",
         "consensus.pow.initial_target = \"abc\" must be 64 hex digits"},
        {"max_block_bytes = 1048576", "max_block_bytes = 100",
         "limits.max_block_bytes = 100 is outside 4096..16777216"},
        {"max_block_transactions = 4000", "max_block_transactions = 0",
         "limits.max_block_transactions = 0 is outside 1..65536"},
        {"[limits]\nmax_block_bytes = 1048576\nmax_block_transactions = 4000\n"
         "max_timestamp_drift_ms = 20000",
         "limits = 5", "limits = 5 must be a table"},
        {"= 1000000", "= 0", "= 0 must be at least 1"},
        {"= 1000000", "= -5", "= -5 must be an integer from 0 to 2^64-1"},
        {alice(), "cm00", "allocations key \"cm00\" is not an address"},
        {"= 1000000", "= 1000000\n\"" + std::string("CM") + "\" = 1",
         "allocations key \"CM\" is not an address"},
        {"= \"18446744073700000000\"", "= \"18446744073709551615\"",
         "allocations total more than 2^64-1"},
        {"block_reward = 25", "block_reward = 25\nblock_rewards = 1",
         "unknown key block_rewards = 1"},
        {"[consensus]", "[consensus", "genesis: line 11, column 11: "},
    };
    for (const BadCase& c : cases) {
        std::string text = good_toml();
        const auto at = text.find(c.from);
        ASSERT_NE(at, std::string::npos) << c.from;
        text.replace(at, c.from.size(), c.to);
        const auto parsed = parse_genesis(text);
        ASSERT_FALSE(parsed) << c.to;
        EXPECT_NE(parsed.error().message.find(c.message_part), std::string::npos)
            << "got: " << parsed.error().message << "\nexpected to contain: " << c.message_part;
        EXPECT_EQ(parsed.error().message.rfind("genesis: ", 0), 0U) << parsed.error().message;
    }
}

TEST(Genesis, TheSameAddressInAnotherCaseIsADuplicate) {
    std::string text = good_toml();
    std::string upper = alice();
    std::transform(upper.begin() + 2, upper.end(), upper.begin() + 2, ::toupper);
    text += "\"" + upper + "\" = 5\n";
    const auto parsed = parse_genesis(text);
    ASSERT_FALSE(parsed);
    EXPECT_NE(parsed.error().message.find("allocations list " + alice() + " twice"),
              std::string::npos)
        << parsed.error().message;
}

TEST(Genesis, RefusesOversizedText) {
    const std::string text(GENESIS_MAX_BYTES + 1, '#');
    const auto parsed = parse_genesis(text);
    ASSERT_FALSE(parsed);
    EXPECT_NE(parsed.error().message.find("more than"), std::string::npos);
}

TEST(ChainParams, RoundTripsAndRejectsBadBytes) {
    const ChainParams params = parse_genesis(good_toml())->params;
    const Bytes encoded = params.encode();
    EXPECT_EQ(encoded[0], 0x03);
    EXPECT_EQ(*ChainParams::decode(encoded), params);
    for (std::size_t size = 0; size < encoded.size(); ++size) {
        EXPECT_EQ(ChainParams::decode(ByteView(encoded).first(size)).error(),
                  ChainError::malformed);
    }
    Bytes longer = encoded;
    longer.push_back(0);
    EXPECT_EQ(ChainParams::decode(longer).error(), ChainError::malformed);
}

}  // namespace
}  // namespace chainmesh::chain
