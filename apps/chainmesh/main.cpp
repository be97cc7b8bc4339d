// chainmesh: the command-line program.

#include "commands.hpp"

#include <chainmesh/util/log.hpp>

#include <iostream>
#include <map>
#include <stdexcept>

int main(int argc, char** argv) {
    CLI::App app{"chainmesh: a peer-to-peer node for blockchains, speaking libp2p"};
    app.set_version_flag("--version", std::string("chainmesh ") + CHAINMESH_VERSION);
    app.require_subcommand(1);
    chainmesh::app::LogOptions log;
    app.add_option("--log-level", log.level, "trace, debug, info, warn, error, critical or off")
        ->capture_default_str();
    app.add_flag("--log-json", log.json, "log JSON lines instead of text");

    std::map<CLI::App*, chainmesh::app::Command> commands;
    const auto add = [&](auto adder, const char* name, const char* help) {
        CLI::App* sub = app.add_subcommand(name, help);
        commands[sub] = adder(*sub);
    };
    add(chainmesh::app::add_keygen_command, "keygen", "create a node key and print its peer id");
    add(chainmesh::app::add_id_command, "id", "print the peer id of a key file");
    add(chainmesh::app::add_ping_command, "ping", "dial a peer and measure round trips");
    add(chainmesh::app::add_listen_command, "listen",
        "run a host that answers ping and identify, and log peers");
    add(chainmesh::app::add_genesis_command, "genesis", "make a genesis file");
    add(chainmesh::app::add_address_command, "address", "print the account address of a key");
    add(chainmesh::app::add_tx_command, "tx", "transactions: sign offline, submit to a node");
    add([&log](CLI::App& sub) { return chainmesh::app::add_run_command(sub, log); }, "run",
        "run a node: chain, mempool, gossip, sync, API");
    add(chainmesh::app::add_status_command, "status", "print a running node's status");
    add(chainmesh::app::add_peers_command, "peers", "list a running node's peers");
    add(chainmesh::app::add_testnet_command, "testnet",
        "start a local network of nodes with a flow of transactions");
    add(chainmesh::app::add_sim_command, "sim",
        "run a simulation scenario in virtual time, over one seed or a range");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        chainmesh::util::setup_logging(
            log.json ? chainmesh::util::LogFormat::json : chainmesh::util::LogFormat::human,
            log.level);
        for (auto& [sub, run] : commands) {
            if (sub->parsed()) {
                return run();
            }
        }
    } catch (const std::exception& e) {
        // Startup errors (bad flags, key files, addresses, ports) end here with one line.
        std::cerr << "chainmesh: " << e.what() << "\n";
        return 1;
    }
    return 1;
}
