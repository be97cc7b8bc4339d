#pragma once
// The chainmesh subcommands. Each registers its options on the CLI11 app and returns the
// function that runs it (after parsing), which returns the process exit code.

#include <CLI/CLI.hpp>

#include <filesystem>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace chainmesh::app {

using Command = std::function<int()>;

// Milliseconds since the Unix epoch, for genesis timestamps.
inline std::uint64_t now_ms() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

// ~/.chainmesh/node.key, or ./node.key when HOME is unset.
std::filesystem::path default_key_path();

Command add_keygen_command(CLI::App& app);
Command add_id_command(CLI::App& app);
Command add_ping_command(CLI::App& app);
Command add_listen_command(CLI::App& app);
Command add_genesis_command(CLI::App& app);
Command add_address_command(CLI::App& app);
Command add_tx_command(CLI::App& app);
Command add_tx_submit_command(CLI::App& app);
// The global --log-level and --log-json, which `run` takes as its defaults.
struct LogOptions {
    std::string level = "info";
    bool json = false;
};
Command add_run_command(CLI::App& app, const LogOptions& global_log);
Command add_status_command(CLI::App& app);
Command add_peers_command(CLI::App& app);
Command add_testnet_command(CLI::App& app);
Command add_sim_command(CLI::App& app);

}  // namespace chainmesh::app
