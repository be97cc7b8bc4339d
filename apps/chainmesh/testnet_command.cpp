// testnet: a local network of node processes, with a flow of transactions and a live table.
//
// Layout of the testnet dir (made on the first run, reused while --nodes and --base-port stay
// the same, replaced otherwise):
//   testnet.json    what was made: node count, ports, network
//   genesis.toml    a pow genesis that funds the faucet accounts
//   faucet-<k>.key  keys of the accounts the transaction flow spends from
//   node-<i>/       each node's data dir: node.key, chain/, peers.json, node.log
//
// Node i listens on 127.0.0.1:<base-port + i> and serves its API on
// 127.0.0.1:<base-port + 100 + i>; every node after the first is bootstrapped from node 0
// only, so the rest of the mesh comes from peer exchange.

#include "commands.hpp"

#include <chainmesh/api/http_client.hpp>
#include <chainmesh/chain/address.hpp>
#include <chainmesh/chain/genesis.hpp>
#include <chainmesh/chain/transaction.hpp>
#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/node/text_file.hpp>
#include <chainmesh/util/hex.hpp>
#include <chainmesh/util/rng.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <thread>

namespace chainmesh::app {

namespace {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

constexpr int LAYOUT_VERSION = 1;
constexpr std::size_t FAUCETS = 4;
constexpr std::uint64_t FAUCET_FUNDS = 1'000'000'000'000'000;
constexpr std::string_view NETWORK = "testnet";

std::atomic<int> g_signal{0};
extern "C" void on_signal(int signal) { g_signal.store(signal); }

struct Layout {
    std::size_t nodes = 0;
    int base_port = 0;

    bool operator==(const Layout&) const = default;
};

struct NodeProcess {
    std::size_t index = 0;
    std::filesystem::path dir;
    std::string peer_id;
    chain::Address address;
    std::string api;
    pid_t pid = -1;
    bool exited = false;
    // The last status read, for rates.
    std::uint64_t previous_height = 0;
    std::uint64_t previous_txs = 0;
    Clock::time_point previous_at{};
    double blocks_per_second = 0;
    double txs_per_second = 0;
};

struct Faucet {
    crypto::Ed25519PrivateKey key;
    chain::Address address;
    std::uint64_t next_nonce = 0;
};

void write_text(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) {
        throw std::runtime_error("cannot write " + path.string());
    }
}

std::optional<Layout> read_layout(const std::filesystem::path& dir) {
    const auto file = dir / "testnet.json";
    if (!std::filesystem::exists(file)) {
        return std::nullopt;
    }
    constexpr std::size_t LAYOUT_MAX_BYTES = 64 * 1024;
    const auto json =
        nlohmann::json::parse(node::read_text_file(file, LAYOUT_MAX_BYTES, "testnet layout"),
                              nullptr, false);
    if (!json.is_object() || json.value("version", 0) != LAYOUT_VERSION) {
        return std::nullopt;
    }
    return Layout{json.value("nodes", std::size_t{0}), json.value("base_port", 0)};
}

// Makes the dir afresh: keys, faucets, genesis, the layout file last (a dir without it is
// not a finished testnet and is replaced next time).
void create_testnet(const std::filesystem::path& dir, const Layout& layout, std::uint64_t difficulty,
                    double block_time_s) {
    std::filesystem::create_directories(dir);
    chain::PowGenesisSpec spec{
        .network_id = std::string(NETWORK),
        .difficulty = difficulty,
        .block_time_ms = static_cast<std::uint64_t>(block_time_s * 1000),
        .block_reward = 50,
        .timestamp_ms = now_ms(),
        .allocations = {},
    };
    for (std::size_t k = 0; k < FAUCETS; ++k) {
        const auto key = crypto::Ed25519PrivateKey::generate();
        crypto::save_key_file(dir / fmt::format("faucet-{}.key", k), key, false);
        spec.allocations.push_back({chain::Address::from_public_key(key.public_key()), FAUCET_FUNDS});
    }
    write_text(dir / "genesis.toml", chain::write_genesis(chain::make_pow_genesis(spec).value()));
    for (std::size_t i = 0; i < layout.nodes; ++i) {
        const auto node_dir = dir / fmt::format("node-{}", i);
        std::filesystem::create_directories(node_dir);
        crypto::save_key_file(node_dir / "node.key", crypto::Ed25519PrivateKey::generate(), false);
    }
    nlohmann::json json{{"version", LAYOUT_VERSION},
                        {"nodes", layout.nodes},
                        {"base_port", layout.base_port},
                        {"network", NETWORK}};
    write_text(dir / "testnet.json", json.dump(2) + "\n");
}

// A dir we may delete: absent, empty, or one of ours (it has testnet.json or node-0/).
bool is_ours_or_empty(const std::filesystem::path& dir) {
    if (!std::filesystem::exists(dir)) {
        return true;
    }
    if (!std::filesystem::is_directory(dir)) {
        return false;
    }
    return std::filesystem::is_empty(dir) || std::filesystem::exists(dir / "testnet.json") ||
           std::filesystem::exists(dir / "node-0");
}

pid_t spawn_node(const std::filesystem::path& self, const std::vector<std::string>& args,
                 const std::filesystem::path& log) {
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        throw std::runtime_error("cannot open " + log.string());
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(log_fd);
        throw std::runtime_error("cannot start a node process");
    }
    if (pid == 0) {
        // The child: dies with the testnet, logs to its file.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) {
            ::_exit(1);
        }
        ::dup2(log_fd, STDOUT_FILENO);
        ::dup2(log_fd, STDERR_FILENO);
        const int devnull = ::open("/dev/null", O_RDONLY);
        if (devnull >= 0) {
            ::dup2(devnull, STDIN_FILENO);
        }
        std::vector<char*> argv;
        std::string program = self.string();
        argv.push_back(program.data());
        std::vector<std::string> copy = args;
        for (auto& arg : copy) {
            argv.push_back(arg.data());
        }
        argv.push_back(nullptr);
        ::execv(program.c_str(), argv.data());
        ::_exit(127);
    }
    ::close(log_fd);
    return pid;
}

std::optional<nlohmann::json> fetch_json(const std::string& api, const std::string& target) {
    auto reply = api::http_request(api, http::verb::get, target, "", std::chrono::seconds(2));
    if (!reply || reply->status != 200) {
        return std::nullopt;
    }
    auto json = nlohmann::json::parse(reply->body, nullptr, false);
    if (json.is_discarded()) {
        return std::nullopt;
    }
    return json;
}

}  // namespace

Command add_testnet_command(CLI::App& app) {
    struct Options {
        std::size_t nodes = 4;
        std::filesystem::path dir = "testnet";
        std::string consensus = "pow";
        double tx_rate = 10;
        int base_port = 4100;
        std::optional<std::size_t> miners;
        std::uint64_t difficulty = 4'000'000;
        double block_time_s = 1;
        double duration_s = 0;
        std::uint64_t until_height = 0;
        bool fresh = false;
    };
    auto o = std::make_shared<Options>();
    app.add_option("--nodes", o->nodes, "how many nodes")
        ->check(CLI::Range(1, 50))
        ->capture_default_str();
    app.add_option("--dir", o->dir, "where the nodes' data dirs go (reused when the layout is "
                                     "the same)")
        ->capture_default_str();
    app.add_option("--consensus", o->consensus, "consensus kind (pow)")->capture_default_str();
    app.add_option("--tx-rate", o->tx_rate, "signed test transactions submitted per second")
        ->check(CLI::Range(0.0, 5000.0))
        ->capture_default_str();
    app.add_option("--base-port", o->base_port,
                   "node i listens on base+i, its API on base+100+i")
        ->check(CLI::Range(1024, 65000))
        ->capture_default_str();
    app.add_option("--miners", o->miners, "how many of the nodes mine (default: all)");
    app.add_option("--difficulty", o->difficulty, "initial pow difficulty of a new testnet")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 62))
        ->capture_default_str();
    app.add_option("--block-time", o->block_time_s, "target seconds between blocks")
        ->check(CLI::Range(0.05, 3600.0))
        ->capture_default_str();
    app.add_option("--until-height", o->until_height,
                   "stop once every node is at this height or above (0: never)");
    app.add_option("--duration", o->duration_s, "stop after this many seconds (0: at Ctrl-C)")
        ->check(CLI::Range(0.0, 1e7));
    app.add_flag("--fresh", o->fresh, "replace the dir even when its layout fits");
    return [o]() -> int {
        if (o->consensus != "pow") {
            throw std::runtime_error("--consensus '" + o->consensus +
                                     "' is not available yet: use pow");
        }
        const Layout layout{o->nodes, o->base_port};
        const std::size_t miners = o->miners.value_or(o->nodes);
        if (miners > layout.nodes) {
            throw std::runtime_error(fmt::format("--miners {} is more than --nodes {}", miners,
                                                 layout.nodes));
        }
        const auto existing = read_layout(o->dir);
        if (existing && *existing == layout && !o->fresh) {
            std::cout << "reusing " << o->dir.string() << " (delete it or pass --fresh for a new "
                      << "chain)\n";
        } else {
            if (!is_ours_or_empty(o->dir)) {
                throw std::runtime_error(o->dir.string() +
                                         " exists and is not a testnet dir; choose another "
                                         "--dir");
            }
            if (std::filesystem::exists(o->dir)) {
                std::cout << "replacing " << o->dir.string() << "\n";
                std::filesystem::remove_all(o->dir);
            }
            create_testnet(o->dir, layout, o->difficulty, o->block_time_s);
        }

        const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");
        std::vector<NodeProcess> nodes(layout.nodes);
        for (std::size_t i = 0; i < layout.nodes; ++i) {
            NodeProcess& node = nodes[i];
            node.index = i;
            node.dir = std::filesystem::absolute(o->dir / fmt::format("node-{}", i));
            const auto key = crypto::load_key_file(node.dir / "node.key");
            node.peer_id = crypto::PeerId::from_public_key(crypto::PublicKey::ed25519(key.public_key()))
                               .to_string();
            node.address = chain::Address::from_public_key(key.public_key());
            node.api = fmt::format("127.0.0.1:{}", layout.base_port + 100 + static_cast<int>(i));
        }

        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        const std::string bootstrap =
            fmt::format("/ip4/127.0.0.1/tcp/{}/p2p/{}", layout.base_port, nodes[0].peer_id);
        for (auto& node : nodes) {
            std::vector<std::string> args{
                "run",
                "--data-dir", node.dir.string(),
                "--genesis-file", std::filesystem::absolute(o->dir / "genesis.toml").string(),
                "--listen",
                fmt::format("/ip4/127.0.0.1/tcp/{}", layout.base_port + static_cast<int>(node.index)),
                "--http-addr", node.api,
                "--mining", node.index < miners ? "true" : "false",
                "--min-peers", "3"};
            if (node.index > 0) {
                args.push_back("--bootstrap");
                args.push_back(bootstrap);
            }
            node.pid = spawn_node(self, args, node.dir / "node.log");
        }
        std::cout << fmt::format("started {} nodes in {} (logs: {}/node-*/node.log); Ctrl-C "
                                 "stops them\n",
                                 layout.nodes, o->dir.string(), o->dir.string())
                  << std::flush;

        std::vector<Faucet> faucets;
        for (std::size_t k = 0; k < FAUCETS; ++k) {
            auto key = crypto::load_key_file(o->dir / fmt::format("faucet-{}.key", k));
            const auto address = chain::Address::from_public_key(key.public_key());
            faucets.push_back(Faucet{std::move(key), address, 0});
        }
        bool nonces_known = false;

        Rng rng(std::random_device{}());
        const bool tty = ::isatty(STDOUT_FILENO) != 0;
        const auto start = Clock::now();
        const auto tx_interval = o->tx_rate > 0
                                     ? std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(1.0 / o->tx_rate))
                                     : Clock::duration::max();
        // Submissions to a node whose API is not up yet fail quietly and are not counted.
        auto next_tx = start;
        auto next_table = start + std::chrono::seconds(1);
        const auto table_interval = tty ? std::chrono::seconds(1) : std::chrono::seconds(5);
        std::size_t faucet_turn = 0;
        std::uint64_t accepted = 0;
        std::uint64_t refused = 0;
        std::string last_refusal;
        int exit_code = 0;

        // Faucet k submits to node k (mod n), so that node knows its pending nonces.
        const auto submitter = [&](std::size_t faucet) -> NodeProcess& {
            return nodes[faucet % nodes.size()];
        };
        const auto sync_nonces = [&]() {
            for (std::size_t k = 0; k < faucets.size(); ++k) {
                if (const NodeProcess& node = submitter(k); !node.exited) {
                    if (auto account = fetch_json(
                            node.api, "/accounts/" + faucets[k].address.to_string())) {
                        faucets[k].next_nonce = account->value("next_nonce", std::uint64_t{0});
                    }
                }
            }
        };

        while (g_signal.load() == 0) {
            const auto now = Clock::now();
            if (o->duration_s > 0 && now - start >= std::chrono::duration<double>(o->duration_s)) {
                break;
            }
            // Children that ended on their own.
            for (auto& node : nodes) {
                int status = 0;
                if (!node.exited && ::waitpid(node.pid, &status, WNOHANG) == node.pid) {
                    node.exited = true;
                    std::cout << fmt::format("node-{} exited ({}); the end of its log:\n{}\n",
                                             node.index,
                                             WIFEXITED(status)
                                                 ? fmt::format("status {}", WEXITSTATUS(status))
                                                 : fmt::format("signal {}", WTERMSIG(status)),
                                             node::read_last_lines(node.dir / "node.log", 8))
                              << std::flush;
                    exit_code = 1;
                }
            }
            if (std::all_of(nodes.begin(), nodes.end(), [](const auto& n) { return n.exited; })) {
                break;
            }
            if (now >= next_tx) {
                if (!nonces_known) {
                    sync_nonces();
                    nonces_known = true;
                }
                // Each faucet always submits to the same node: its nonces then arrive in
                // order there, whatever the gossip delay to the others.
                const std::size_t turn = faucet_turn++ % faucets.size();
                Faucet& faucet = faucets[turn];
                NodeProcess& target = submitter(turn);
                const NodeProcess& recipient = nodes[rng.uniform(nodes.size())];
                if (!target.exited) {
                    chain::Transaction tx;
                    tx.network_id = std::string(NETWORK);
                    tx.recipient = recipient.address;
                    tx.amount = 1 + rng.uniform(1000);
                    tx.fee = 1 + rng.uniform(10);
                    tx.nonce = faucet.next_nonce;
                    tx.sign(faucet.key);
                    auto reply = api::http_request(target.api, http::verb::post, "/tx",
                                                   util::to_hex(tx.encode()),
                                                   std::chrono::seconds(2));
                    if (reply && reply->status == 200) {
                        ++accepted;
                        ++faucet.next_nonce;
                    } else if (reply) {
                        ++refused;
                        const auto body = nlohmann::json::parse(reply->body, nullptr, false);
                        last_refusal = body.is_object() ? body.value("reason", reply->body)
                                                        : reply->body;
                        nonces_known = false;  // ask the chain where the nonces are
                    }
                }
                next_tx += tx_interval;
                if (next_tx < now) {
                    next_tx = now + tx_interval;  // we fell behind: do not burst
                }
            }
            if (now >= next_table) {
                next_table = now + table_interval;
                std::string table;
                if (tty) {
                    table += "\x1b[H\x1b[2J";
                }
                table += fmt::format(
                    "chainmesh testnet: {} nodes, network {}, up {:.0f} s; transactions "
                    "submitted {} (refused {}{})\n",
                    nodes.size(), NETWORK,
                    std::chrono::duration<double>(now - start).count(), accepted, refused,
                    last_refusal.empty() ? "" : ", last: " + last_refusal);
                table += fmt::format("{:<7} {:>7} {:<17} {:>5} {:>7} {:>8} {:>7} {:<7} {}\n",
                                     "NODE", "HEIGHT", "BEST", "PEERS", "MEMPOOL", "BLOCKS/S",
                                     "TXS/S", "STATE", "API");
                for (auto& node : nodes) {
                    std::optional<nlohmann::json> status;
                    if (!node.exited) {
                        status = fetch_json(node.api, "/status");
                    }
                    if (status) {
                        const auto height = status->value("height", std::uint64_t{0});
                        const auto txs = status->value("transactions_applied", std::uint64_t{0});
                        if (node.previous_at != Clock::time_point{}) {
                            const double dt =
                                std::chrono::duration<double>(now - node.previous_at).count();
                            if (dt > 0) {
                                node.blocks_per_second =
                                    static_cast<double>(height - std::min(height, node.previous_height)) / dt;
                                node.txs_per_second =
                                    static_cast<double>(txs - std::min(txs, node.previous_txs)) / dt;
                            }
                        }
                        node.previous_height = height;
                        node.previous_txs = txs;
                        node.previous_at = now;
                        const bool syncing = (*status)["sync"].value("syncing", false);
                        table += fmt::format(
                            "node-{:<2} {:>7} {:<17} {:>5} {:>7} {:>8.2f} {:>7.1f} {:<7} {}\n",
                            node.index, height, status->value("best_hash", "").substr(0, 16),
                            status->value("peer_count", 0), status->value("mempool_size", 0),
                            node.blocks_per_second, node.txs_per_second,
                            syncing ? "syncing" : (status->value("mining", false) ? "mining"
                                                                                   : "synced"),
                            node.api);
                    } else {
                        table += fmt::format("node-{:<2} {:>7} {:<17} {:>5} {:>7} {:>8} {:>7} {:<7} {}\n",
                                             node.index, "-", "-", "-", "-", "-", "-",
                                             node.exited ? "exited" : "starting", node.api);
                    }
                }
                std::cout << table << std::flush;
                const bool all_there = std::all_of(nodes.begin(), nodes.end(), [&](const auto& n) {
                    return !n.exited && n.previous_height >= o->until_height;
                });
                if (o->until_height > 0 && all_there) {
                    std::cout << "every node reached height " << o->until_height << "\n";
                    break;
                }
            }
            const auto wake = std::min(next_table, o->tx_rate > 0 ? next_tx : next_table);
            std::this_thread::sleep_until(std::min(wake, Clock::now() + std::chrono::milliseconds(200)));
        }

        std::cout << "stopping the nodes\n" << std::flush;
        for (auto& node : nodes) {
            if (!node.exited) {
                ::kill(node.pid, SIGTERM);
            }
        }
        const auto deadline = Clock::now() + std::chrono::seconds(15);
        for (auto& node : nodes) {
            while (!node.exited) {
                int status = 0;
                const pid_t done = ::waitpid(node.pid, &status, WNOHANG);
                if (done == node.pid) {
                    node.exited = true;
                    break;
                }
                if (Clock::now() > deadline) {
                    std::cout << fmt::format("node-{} did not stop in time; killing it\n",
                                             node.index);
                    ::kill(node.pid, SIGKILL);
                    ::waitpid(node.pid, &status, 0);
                    node.exited = true;
                    exit_code = 1;
                    break;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
        std::cout << "all nodes stopped; their data stays in " << o->dir.string() << "\n";
        return exit_code;
    };
}

}  // namespace chainmesh::app
