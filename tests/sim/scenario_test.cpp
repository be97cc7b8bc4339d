// The scenario files under tests/sim/scenarios, each over many seeds, plus the parser's refusals.

#include <gtest/gtest.h>

#include <chainmesh/sim/scenario.hpp>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

namespace chainmesh::sim {
namespace {

std::string read_scenario_text(const std::string& name) {
    const std::string path = std::string(CHAINMESH_SCENARIO_DIR) + "/" + name + ".toml";
    std::ifstream in(path);
    EXPECT_TRUE(in) << "cannot open " << path;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

Scenario load(const std::string& name) {
    return parse_scenario(read_scenario_text(name));
}

// The routers' own invariants (check_invariants after every input) double a run's cost in a
// Debug+ASan build; the first seeds of each sweep check them, the rest check the network's.
constexpr std::uint64_t SEEDS_WITH_ROUTER_CHECKS = 20;

struct SeedRun {
    const char* name;
    std::uint64_t seeds;
    std::uint64_t checked_seeds = SEEDS_WITH_ROUTER_CHECKS;
};

// Names the case in gtest's and CTest's listings instead of a byte dump.
void PrintTo(const SeedRun& run, std::ostream* out) {
    *out << run.name << " x " << run.seeds << " seeds";
}

class ScenarioSeeds : public testing::TestWithParam<SeedRun> {};

std::string test_name(const testing::TestParamInfo<SeedRun>& param_info) {
    return param_info.param.name;
}

// Every seed must meet the file's [expect]; a miss names the seed that replays it.
TEST_P(ScenarioSeeds, EverySeedMeetsItsExpectation) {
    const SeedRun run = GetParam();
    Scenario scenario = load(run.name);
    const bool router_checks = scenario.check_router_invariants;
    std::vector<std::uint64_t> missed;
    std::string first_report;
    for (std::uint64_t seed = scenario.seed; seed < scenario.seed + run.seeds; ++seed) {
        scenario.check_router_invariants =
            router_checks && seed < scenario.seed + run.checked_seeds;
        const ScenarioResult result = run_scenario(scenario, seed);
        if (!result.met_expectation) {
            if (missed.empty()) {
                first_report = result.report;
            }
            missed.push_back(seed);
        }
    }
    std::string seeds;
    for (const auto seed : missed) {
        seeds += " " + std::to_string(seed);
    }
    EXPECT_TRUE(missed.empty()) << run.name << ": " << missed.size() << " of " << run.seeds
                                << " seeds missed the expected result:" << seeds
                                << "\nreplay with: chainmesh sim tests/sim/scenarios/" << run.name
                                << ".toml --seed " << (missed.empty() ? 0 : missed.front()) << "\n"
                                << first_report;
}

INSTANTIATE_TEST_SUITE_P(Small, ScenarioSeeds,
                         testing::Values(SeedRun{"partition_heal", 200}, SeedRun{"churn", 200},
                                         SeedRun{"crash_restart", 200},
                                         SeedRun{"lossy_links_1", 200},
                                         SeedRun{"lossy_links_30", 200}, SeedRun{"spam", 200},
                                         SeedRun{"control_broken_relay", 200}),
                         test_name);

// Chains cost more per seed (blocks, signatures, sync): fewer seeds each.
INSTANTIATE_TEST_SUITE_P(Chain, ScenarioSeeds,
                         testing::Values(SeedRun{"chain_partition_heal", 10, 2},
                                         SeedRun{"chain_crash_restart", 10, 2},
                                         SeedRun{"chain_invalid_blocks", 10, 2},
                                         SeedRun{"control_trusting_node", 10, 2},
                                         SeedRun{"chain_transactions", 10, 2},
                                         SeedRun{"control_trusting_mempool", 10, 2}),
                         test_name);

INSTANTIATE_TEST_SUITE_P(Eclipse, ScenarioSeeds,
                         testing::Values(SeedRun{"eclipse", 50},
                                         SeedRun{"control_eclipse_no_slots", 20}),
                         test_name);
// The full wire stack costs a Noise handshake per link and AEAD per frame: a few seeds.
INSTANTIATE_TEST_SUITE_P(Wire, ScenarioSeeds, testing::Values(SeedRun{"wire_small", 10}),
                         test_name);
INSTANTIATE_TEST_SUITE_P(Scale, ScenarioSeeds, testing::Values(SeedRun{"scale_1000", 3}),
                         test_name);

TEST(Scenario, SameSeedSameReport) {
    const Scenario scenario = load("crash_restart");
    const ScenarioResult first = run_scenario(scenario, 7);
    const ScenarioResult second = run_scenario(scenario, 7);
    EXPECT_EQ(first.report, second.report);
    EXPECT_NE(first.report, run_scenario(scenario, 8).report);
    EXPECT_TRUE(first.report.ends_with("seed 7\n")) << first.report;
    EXPECT_NE(first.report.find("invariant delivery pass"), std::string::npos) << first.report;
    EXPECT_NE(first.report.find("latency_p99_us"), std::string::npos);
}

TEST(Scenario, ControlReportNamesTheViolationAndItsSeed) {
    const ScenarioResult result = run_scenario(load("control_broken_relay"), 3);
    EXPECT_FALSE(result.passed);
    EXPECT_TRUE(result.met_expectation);
    ASSERT_FALSE(result.violations.empty());
    EXPECT_NE(result.violations.front().find("seed 3"), std::string::npos);
    EXPECT_NE(result.report.find("invariant delivery FAIL"), std::string::npos) << result.report;
}

TEST(Scenario, SpamScoresAndHonestDeliveryAreChecked) {
    const ScenarioResult result = run_scenario(load("spam"), 1);
    ASSERT_EQ(result.invariants.size(), 3u);
    EXPECT_EQ(result.invariants[1].name, "byzantine_score");
    EXPECT_TRUE(result.invariants[1].passed) << result.invariants[1].detail;
    EXPECT_EQ(result.invariants[2].name, "honest_delivery");
    EXPECT_GE(result.honest_delivery_ratio, HONEST_DELIVERY_MIN);
    EXPECT_GT(result.metrics.penalties + result.metrics.rpcs_sent, 0u);
}

// Scoring off: spam costs spammers nothing, so the score invariant must fail.
TEST(Scenario, SpamWithoutTopicScoringFailsTheScoreInvariant) {
    Scenario scenario = load("spam");
    scenario.topic_scoring = false;
    const ScenarioResult result = run_scenario(scenario, 1);
    ASSERT_EQ(result.invariants.size(), 3u);
    EXPECT_FALSE(result.invariants[1].passed) << result.invariants[1].detail;
    EXPECT_FALSE(result.passed);
}

const char* MINIMAL = "[network]\nnodes = 10\nduration_s = 20\n";

// The error text for `extra` appended to a minimal scenario.
std::string error_for(const std::string& text) {
    try {
        parse_scenario(text);
    } catch (const ScenarioError& e) {
        return e.what();
    }
    return "(accepted)";
}

TEST(ScenarioParse, MinimalScenarioHasDefaults) {
    const Scenario s = parse_scenario(MINIMAL);
    EXPECT_EQ(s.nodes, 10u);
    EXPECT_EQ(s.duration, Duration{std::chrono::seconds{20}});
    EXPECT_EQ(s.topology, TopologyKind::random_regular);
    EXPECT_TRUE(s.expect_pass);
    EXPECT_TRUE(s.faults.empty());
}

TEST(ScenarioParse, EveryShippedScenarioParses) {
    for (const char* name :
         {"partition_heal", "churn", "crash_restart", "lossy_links_1", "lossy_links_30", "spam",
          "control_broken_relay", "scale_1000", "scale_10000", "eclipse",
          "control_eclipse_no_slots", "wire_small", "chain_transactions",
          "control_trusting_mempool"}) {
        EXPECT_NO_THROW(load(name)) << name;
    }
    EXPECT_FALSE(load("control_broken_relay").expect_pass);
    EXPECT_EQ(load("scale_10000").nodes, 10'000u);
}

TEST(ScenarioParse, ErrorsNameTheKeyAndTheValue) {
    const std::string base = MINIMAL;
    EXPECT_EQ(error_for(base + "colour = 3\n"), "network.colour = 3: unknown key");
    EXPECT_EQ(error_for(base + "[netwrk]\nnodes = 3\n"), "[netwrk]: unknown table");
    EXPECT_EQ(error_for("[network]\nnodes = -4\nduration_s = 20\n"),
              "network.nodes = -4: expected an integer from 2 to 100000");
    EXPECT_EQ(error_for(base + "[topology]\nkind = \"star\"\n"),
              "topology.kind = \"star\": expected one of \"random_regular\", \"line\", \"full\"");
    EXPECT_EQ(error_for(base + "[latency]\nloss = 1.5\n"),
              "latency.loss = 1.5: expected a number from 0 to 0.9");
    EXPECT_EQ(error_for(base + "[latency]\nmodel = \"fixed\"\nsigma = 0.3\n"),
              "latency.sigma = 0.3: not a parameter of the fixed model");
    EXPECT_EQ(error_for(base + "[[faults]]\nat_s = 1\nkind = \"crash\"\nnodes = [3, 12]\n"),
              "faults[0].nodes[1] = 12: expected a node index from 0 to 9");
    EXPECT_EQ(error_for(base + "[[faults]]\nkind = \"crash\"\nnodes = \"4..2\"\n"),
              "faults[0].nodes = \"4..2\": expected \"A..B\" with A <= B < 10, or a list");
    EXPECT_EQ(error_for(base + "[[faults]]\nkind = \"crash\"\nnodes = [1]\nwhen = 2\n"),
              "faults[0].when = 2: unknown key");
    EXPECT_EQ(error_for(base + "[expect]\nresult = \"maybe\"\n"),
              "expect.result = \"maybe\": expected one of \"pass\", \"fail\"");
    EXPECT_EQ(error_for(base + "[workload]\nmessages = \"ten\"\n"),
              "workload.messages = \"ten\": expected an integer from 0 to 1000000");
    EXPECT_NE(error_for("[network]\nnodes = 10\nduration_s = 5\n[workload]\nmessages = 10\n")
                  .find("network.duration_s = 5: too short"),
              std::string::npos);
    EXPECT_NE(error_for("[network\n").find("TOML syntax, line 1"), std::string::npos);
    // Memory bounds: the network keeps one delivery time per node per message.
    EXPECT_NE(error_for("[network]\nnodes = 100000\nduration_s = 86000\n[workload]\nmessages = "
                        "1000\n")
                  .find("too many delivery records"),
              std::string::npos);
    EXPECT_NE(error_for(base + "[byzantine]\nbehaviour = \"spam_invalid\"\nnodes = \"0..8\"\n"
                               "spam_messages = 200000\nspam_interval_ms = 0\n")
                  .find("the limit is 1000000"),
              std::string::npos);
    EXPECT_NE(error_for("[workload]\nmessages = 1\n").find("[network] is missing"),
              std::string::npos);
    EXPECT_NE(error_for(std::string(SCENARIO_TEXT_MAX_BYTES + 1, '#')).find("limit"),
              std::string::npos);
}

TEST(ScenarioParse, EclipseRefusesWhatItDoesNotModel) {
    const std::string base = "[network]\nnodes = 10\nduration_s = 60\n[eclipse]\n";
    EXPECT_EQ(error_for(base + "attacker_range = \"10.1.0.0/16\"\n"),
              "eclipse.attacker_range = \"10.1.0.0/16\": expected a public IPv4 /16 such as "
              "\"45.67.0.0/16\"");
    EXPECT_EQ(error_for(base + "attacker_range = \"45.67.0.0/24\"\n"),
              "eclipse.attacker_range = \"45.67.0.0/24\": expected a public IPv4 /16 such as "
              "\"45.67.0.0/16\"");
    EXPECT_NE(error_for(base + "attacker_range = \"20.3.0.0/16\"\n").find("overlaps"),
              std::string::npos);
    EXPECT_EQ(error_for(base + "policy = \"maybe\"\n"),
              "eclipse.policy = \"maybe\": expected one of \"peer_slots\", \"none\"");
    EXPECT_EQ(error_for(base + "max_inbound_per_group = 0\n"),
              "eclipse.max_inbound_per_group = 0: expected an integer from 1 to 10000");
    EXPECT_EQ(error_for(base + "[chain]\nmining_stop_s = 10\n"),
              "[eclipse] models connections only: it takes no [chain]");
    EXPECT_NE(error_for("[network]\nnodes = 10\nduration_s = 60\n[workload]\nmessages = 5\n"
                        "[eclipse]\n")
                  .find("it takes no workload.messages"),
              std::string::npos);
    EXPECT_NE(error_for("[network]\nnodes = 10\nduration_s = 15\n[eclipse]\n").find("too short"),
              std::string::npos);
}

TEST(ScenarioRun, WireStackRunsTheWorkloadOverNoiseAndYamux) {
    const Scenario scenario = load("wire_small");
    const ScenarioResult first = run_scenario(scenario, 2);
    EXPECT_EQ(first.report, run_scenario(scenario, 2).report);
    EXPECT_TRUE(first.passed) << first.report;
    EXPECT_NE(first.report.find("stack wire"), std::string::npos);
    EXPECT_NE(first.report.find("invariant wire_integrity pass"), std::string::npos)
        << first.report;
    EXPECT_GT(first.metrics.delivery_ratio, 0.9) << first.report;
    // Framing, Noise tags and yamux headers: more bytes on the pipes than in the RPCs.
    EXPECT_NE(first.report.find("wire_overhead 1."), std::string::npos) << first.report;
}

TEST(ScenarioParse, WireRefusesWhatThePipesDoNotModel) {
    const std::string base = "[network]\nnodes = 10\nduration_s = 20\n[topology]\ndegree = 3\n";
    EXPECT_EQ(error_for(base + "[latency]\nloss = 0.1\n[wire]\n"),
              "latency.loss = 0.1: [wire] pipes are reliable byte streams (TCP turns loss into "
              "delay); model loss without [wire]");
    EXPECT_NE(error_for("[network]\nnodes = 65\nduration_s = 20\n[wire]\n").find("at most 64"),
              std::string::npos);
    EXPECT_NE(error_for(base + "[wire]\ncorruptions = 1\n").find("needs workload.messages"),
              std::string::npos);
    EXPECT_EQ(error_for(base + "[wire]\ncorrupt = 1\n"), "wire.corrupt = 1: unknown key");
    EXPECT_NE(error_for(base + "[wire]\n[[faults]]\nkind = \"crash\"\nnodes = [1]\n")
                  .find("it takes no [[faults]]"),
              std::string::npos);
}

TEST(ScenarioRun, EclipseReportNamesTheInvariantAndReplays) {
    Scenario scenario = load("eclipse");
    scenario.duration = std::chrono::seconds{90};
    scenario.eclipse.config.restart_at.reset();
    scenario.eclipse.config.honest_lifetime = std::chrono::seconds{15};
    const ScenarioResult first = run_scenario(scenario, 4);
    EXPECT_EQ(first.report, run_scenario(scenario, 4).report);
    EXPECT_TRUE(first.passed) << first.report;
    EXPECT_NE(first.report.find("invariant eclipse_resistance pass"), std::string::npos)
        << first.report;
    EXPECT_NE(first.report.find("policy peer_slots"), std::string::npos);
    EXPECT_TRUE(first.report.ends_with("seed 4\n"));
    EXPECT_NE(summary_line(first).find("fewest honest"), std::string::npos);

    scenario.eclipse.config.slot_policy = false;
    const ScenarioResult control = run_scenario(scenario, 4);
    EXPECT_FALSE(control.passed) << control.report;
    EXPECT_NE(control.report.find("invariant eclipse_resistance FAIL"), std::string::npos);
}

}  // namespace
}  // namespace chainmesh::sim
