// sim: run a simulation scenario (issue 5) over one seed or a range, offline and in virtual time.

#include <chainmesh/node/text_file.hpp>
#include <chainmesh/sim/scenario.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "commands.hpp"

namespace chainmesh::app {

namespace {

constexpr std::uint64_t SEEDS_MAX = 1'000'000;  // per invocation

// "A..B", inclusive, A <= B, at most SEEDS_MAX seeds.
std::pair<std::uint64_t, std::uint64_t> parse_seed_range(const std::string& text) {
    unsigned long long low = 0;
    unsigned long long high = 0;
    int used = 0;
    const bool parsed = text.find_first_not_of("0123456789.") == std::string::npos &&
                        std::sscanf(text.c_str(), "%llu..%llu%n", &low, &high, &used) == 2 &&
                        static_cast<std::size_t>(used) == text.size();
    if (!parsed || low > high || high - low >= SEEDS_MAX) {
        throw std::runtime_error("bad --seeds '" + text +
                                 "': expected A..B with A <= B and at most " +
                                 std::to_string(SEEDS_MAX) + " seeds");
    }
    return {low, high};
}

}  // namespace

Command add_sim_command(CLI::App& app) {
    struct Options {
        std::filesystem::path file;
        std::optional<std::uint64_t> seed;
        std::string seeds;
        bool quiet = false;
    };
    auto options = std::make_shared<Options>();
    app.add_option("file", options->file, "the scenario, a TOML file")->required();
    auto* seed = app.add_option("--seed", options->seed, "the seed to run (default: the file's)");
    app.add_option("--seeds", options->seeds, "run seeds A..B (inclusive), one line each")
        ->excludes(seed);
    app.add_flag("--quiet", options->quiet, "one line per run, no report");
    return [options]() -> int {
        const std::string text =
            node::read_text_file(options->file, sim::SCENARIO_TEXT_MAX_BYTES, "scenario");
        sim::Scenario scenario;
        try {
            scenario = sim::parse_scenario(text);
        } catch (const sim::ScenarioError& e) {
            throw std::runtime_error(options->file.string() + ": " + e.what());
        }
        if (options->seeds.empty()) {
            const auto result = sim::run_scenario(scenario, options->seed.value_or(scenario.seed));
            std::cout << (options->quiet ? sim::summary_line(result) + "\n" : result.report);
            return result.met_expectation ? 0 : 1;
        }
        const auto [low, high] = parse_seed_range(options->seeds);
        std::vector<std::uint64_t> missed;
        for (std::uint64_t s = low;; ++s) {
            const auto result = sim::run_scenario(scenario, s);
            std::cout << sim::summary_line(result) << "\n" << std::flush;
            if (!result.met_expectation) {
                missed.push_back(s);
            }
            if (s == high) {
                break;
            }
        }
        const std::uint64_t runs = high - low + 1;
        std::cout << runs - missed.size() << " of " << runs
                  << " seeds met expect = " << (scenario.expect_pass ? "pass" : "fail") << "\n";
        for (const auto s : missed) {
            std::cout << "replay with: chainmesh sim " << options->file.string() << " --seed " << s
                      << "\n";
        }
        return missed.empty() ? 0 : 1;
    };
}

}  // namespace chainmesh::app
