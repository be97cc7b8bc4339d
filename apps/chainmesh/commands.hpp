#pragma once
// The chainmesh subcommands. Each registers its options on the CLI11 app and returns the
// function that runs it (after parsing), which returns the process exit code.

#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>

namespace chainmesh::app {

using Command = std::function<int()>;

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
Command add_run_command(CLI::App& app);
Command add_status_command(CLI::App& app);
Command add_peers_command(CLI::App& app);
Command add_testnet_command(CLI::App& app);
Command add_sim_command(CLI::App& app);

}  // namespace chainmesh::app
