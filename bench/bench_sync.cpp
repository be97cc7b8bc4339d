// Chain sync throughput (issue 4 item 9) against local block application measured in the same
// run: transactions per second while a fresh node syncs BLOCKS blocks of TXS signed transfers
// from 3 serving nodes over loopback, and the ratio to the rate at which this process imports
// the same blocks straight into a store.
//
// The chain: a genesis funding TXS accounts (keys from a fixed seed) with the easiest target
// there is, so every nonce meets it; in each block every account sends one transfer (its
// nonce is the block's index) to a random other account. Blocks are built the way a miner
// builds them (PowEngine::make_template over the store's state, then a nonce from pow::mine),
// one target block time apart from a genesis years in the past: the retarget keeps the target
// and no timestamp is ahead of the clock. Signing runs on two threads.
//
// Baseline (local import): the blocks, already decoded in memory, imported into a fresh
// store::BlockStore with sync writes off, each block's signatures checked first on two threads
// (half the transactions each), then BlockStore::import_block. That is the node's own work
// per block without the network, the fork choice and the sync engine; the node checks a whole
// block per worker on a pool of two and imports on its I/O thread, so it may overlap the two
// steps where the baseline runs them one after the other.
//
// Sync run: 3 serving nodes (copies of the built data dir) and 1 fresh node, each on its own
// io_context thread, mining off, no HTTP API, sync writes off, listening on 127.0.0.1 port 0,
// min_peers 3 (all the others; the default 4 could never be met here); the fresh node has the
// three as static peers. The clock runs from the fresh node's start() to its tip-change
// listener seeing the last height (connects, handshakes and headers included). All four nodes
// share this process and its 2 cores, so the serving side's reads, encoding and encryption
// count against the figure; the process' CPU time over the run is printed beside it.
//
// Options: --blocks N --txs M (or CHAINMESH_BENCH_SYNC_BLOCKS / CHAINMESH_BENCH_SYNC_TXS; flags
// win), defaults 2,000 and 1,000. Bounds: N from 1 to 100,000, M from 2 to 10,000 (the
// genesis' transactions per block); the sync must finish within 10 minutes, and is given up
// when the fresh node has no peer left and made no progress for 15 s. The default run takes
// about 7 minutes on a busy 2-core machine, most of it in signing, building and the
// baseline, each about as long as the sync itself.
// Memory: the built blocks stay in memory until the baseline has run (the peak is about 450
// bytes per transfer) and are freed before the sync; RSS is printed at the sync's start and at its peak
// (VmHWM, reset through /proc/self/clear_refs), beside the peak before it. Disk: four copies
// of the chain under the temporary directory, removed at exit.

#include <chainmesh/chain/genesis.hpp>
#include <chainmesh/chain/validation.hpp>
#include <chainmesh/consensus/pow/pow.hpp>
#include <chainmesh/consensus/pow/pow_engine.hpp>
#include <chainmesh/crypto/ed25519.hpp>
#include <chainmesh/node/config.hpp>
#include <chainmesh/node/node.hpp>
#include <chainmesh/store/block_store.hpp>
#include <chainmesh/util/rng.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace chainmesh;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t DEFAULT_BLOCKS = 2000;
constexpr std::size_t DEFAULT_TRANSACTIONS = 1000;
constexpr std::size_t MAX_BLOCKS = 100'000;
constexpr std::size_t MIN_TRANSACTIONS = 2;  // a transfer needs another account to go to
constexpr std::size_t SERVING_NODES = 3;
constexpr std::uint64_t FUNDS = 1'000'000'000'000;
// September 2020: 100,000 blocks of 10 s later is still in the past.
constexpr std::uint64_t GENESIS_TIME_MS = 1'600'000'000'000;
constexpr std::uint64_t ACCOUNT_SEED = 1;
constexpr std::chrono::minutes SYNC_TIMEOUT{10};
constexpr std::chrono::seconds PROGRESS_INTERVAL{15};
constexpr std::chrono::seconds NODE_STOP_TIMEOUT{30};

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// A memory figure of /proc/self/status ("VmRSS:", "VmHWM:"), in MiB; none when unreadable.
std::optional<double> status_mib(std::string_view field) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with(field)) {
            return std::stod(line.substr(field.size())) / 1024.0;  // the kernel writes kB
        }
    }
    return std::nullopt;
}

// Resets VmHWM to the current RSS (Linux 4.0+), so that it covers only what follows. False where
// the kernel refuses.
bool reset_high_water_rss() {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
    clear.flush();
    return static_cast<bool>(clear);
}

struct Options {
    std::size_t blocks = DEFAULT_BLOCKS;
    std::size_t transactions = DEFAULT_TRANSACTIONS;
};

std::size_t parse_count(std::string_view source, std::string_view text, std::size_t min,
                        std::size_t max) {
    std::size_t value = 0;
    const bool digits =
        !text.empty() && text.size() <= 9 &&
        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) {
        value = std::stoul(std::string(text));
    }
    if (!digits || value < min || value > max) {
        throw std::invalid_argument(fmt::format("{} = \"{}\": expected a count from {} to {}",
                                                source, text.substr(0, 20), min, max));
    }
    return value;
}

Options parse_options(int argc, char** argv) {
    Options options;
    const std::size_t max_transactions = chain::DEFAULT_MAX_BLOCK_TRANSACTIONS;
    if (const char* blocks = std::getenv("CHAINMESH_BENCH_SYNC_BLOCKS")) {
        options.blocks = parse_count("CHAINMESH_BENCH_SYNC_BLOCKS", blocks, 1, MAX_BLOCKS);
    }
    if (const char* txs = std::getenv("CHAINMESH_BENCH_SYNC_TXS")) {
        options.transactions =
            parse_count("CHAINMESH_BENCH_SYNC_TXS", txs, MIN_TRANSACTIONS, max_transactions);
    }
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (i + 1 >= argc || (flag != "--blocks" && flag != "--txs")) {
            throw std::invalid_argument(fmt::format("unknown argument \"{}\"", flag.substr(0, 40)));
        }
        const std::string_view value = argv[++i];
        if (flag == "--blocks") {
            options.blocks = parse_count(flag, value, 1, MAX_BLOCKS);
        } else {
            options.transactions = parse_count(flag, value, MIN_TRANSACTIONS, max_transactions);
        }
    }
    return options;
}

// A directory removed with everything in it when the run ends, however it ends.
struct TempDir {
    fs::path path;
    explicit TempDir(fs::path p) : path(std::move(p)) {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

// work(part, begin, end) over [0, count) in two parts, part 1 (the upper half) on a helper
// thread: the two cores the node's worker pool has. `work` must not throw.
template <class Work>
void on_two_threads(std::size_t count, const Work& work) {
    std::thread helper([&] { work(1, count / 2, count); });
    work(0, 0, count / 2);
    helper.join();
}

struct Accounts {
    std::vector<crypto::Ed25519PrivateKey> keys;
    std::vector<chain::Address> addresses;

    explicit Accounts(std::size_t count) {
        Rng rng(ACCOUNT_SEED);
        for (std::size_t i = 0; i < count; ++i) {
            crypto::Ed25519Seed seed;
            rng.fill(seed);
            keys.push_back(crypto::Ed25519PrivateKey::from_seed(seed));
            addresses.push_back(chain::Address::from_public_key(keys.back().public_key()));
        }
    }
};

chain::Genesis make_genesis(const Accounts& accounts) {
    chain::Genesis genesis;
    genesis.params.network_id = "syncbench";
    genesis.params.pow.initial_target = chain::target_from_difficulty(1);
    genesis.timestamp_ms = GENESIS_TIME_MS;
    for (const auto& address : accounts.addresses) {
        genesis.allocations.push_back({address, FUNDS});
    }
    std::sort(genesis.allocations.begin(), genesis.allocations.end(),
              [](const auto& a, const auto& b) { return a.address < b.address; });
    return genesis;
}

// The signed transfers of block `index` (at height index + 1): each account sends one, with
// nonce `index`, to a random other account. Drawn from the index alone, so the signing threads
// share no generator and the chain is the same however the work is split.
std::vector<chain::Transaction> transfers(const Accounts& accounts, const std::string& network,
                                          std::size_t index) {
    const std::size_t count = accounts.keys.size();
    Rng rng(index + 1000);
    std::vector<chain::Transaction> txs(count);
    for (std::size_t from = 0; from < count; ++from) {
        chain::Transaction& tx = txs[from];
        tx.network_id = network;
        tx.recipient = accounts.addresses[(from + 1 + rng.uniform(count - 1)) % count];
        tx.amount = 1 + rng.uniform(1000);
        tx.fee = 1;
        tx.nonce = index;
        tx.sign(accounts.keys[from]);
    }
    return txs;
}

// The chain built so far, genesis first: the branch make_template reads the retarget from.
class BuiltHeaders final : public chain::HeaderBranch {
public:
    explicit BuiltHeaders(const std::vector<chain::BlockHeader>& headers) : m_headers(headers) {}
    const chain::BlockHeader* at_height(std::uint64_t height) const override {
        return height < m_headers.size() ? &m_headers[height] : nullptr;
    }

private:
    const std::vector<chain::BlockHeader>& m_headers;
};

// Builds the chain on a new store in `store_dir`, as a miner would, and returns its blocks.
// `signed_transfers` is emptied block by block as it goes into the chain.
std::vector<chain::Block> build_chain(
    const chain::Genesis& genesis, const Accounts& accounts,
    std::vector<std::vector<chain::Transaction>>& signed_transfers, const fs::path& store_dir) {
    auto db = store::BlockStore::open(store_dir, genesis, store::Options{.sync = false});
    const consensus::pow::PowEngine engine(genesis.params);
    std::vector<chain::BlockHeader> headers{genesis.block().header};
    const BuiltHeaders branch(headers);
    std::vector<chain::Block> blocks;
    blocks.reserve(signed_transfers.size());
    for (std::size_t index = 0; index < signed_transfers.size(); ++index) {
        const chain::BlockHeader& parent = headers.back();
        auto proposal =
            engine.make_template(db->state(), parent, branch, signed_transfers[index],
                                 accounts.addresses[index % accounts.addresses.size()],
                                 parent.timestamp_ms + genesis.params.pow.target_block_time_ms);
        db->state().discard();
        if (!proposal || !proposal->rejected.empty()) {
            throw std::runtime_error(
                fmt::format("block {} could not be built{}", index + 1,
                            proposal ? "" : ": " + proposal.error().message()));
        }
        chain::Block block = std::move(proposal->block);
        const auto mined = consensus::pow::mine(consensus::pow::header_prefix(block.header),
                                                block.header.target, 0, UINT64_MAX);
        if (!mined.nonce) {
            throw std::runtime_error(fmt::format("no nonce for block {}", index + 1));
        }
        block.header.nonce = *mined.nonce;
        if (auto imported = db->import_block(block, chain::SignatureCheck::already_verified);
            !imported) {
            throw std::runtime_error(fmt::format("block {} did not import: {} {}", index + 1,
                                                 imported.error().message(),
                                                 db->last_error_detail()));
        }
        headers.push_back(block.header);
        signed_transfers[index] = {};
        blocks.push_back(std::move(block));
    }
    // To table files: the copies then open without replaying the log.
    if (auto flushed = db->flush(); !flushed) {
        throw std::runtime_error("cannot flush the seed store: " + flushed.error().message());
    }
    return blocks;
}

// The baseline: the node's per-block work without the network. Returns seconds.
double import_locally(const chain::Genesis& genesis, const std::vector<chain::Block>& blocks,
                      const fs::path& store_dir) {
    auto db = store::BlockStore::open(store_dir, genesis, store::Options{.sync = false});
    const auto start = Clock::now();
    for (const chain::Block& block : blocks) {
        const std::span<const chain::Transaction> txs(block.transactions);
        std::array<bool, 2> valid{};
        on_two_threads(txs.size(), [&](std::size_t part, std::size_t begin, std::size_t end) {
            valid[part] = chain::check_signatures(txs.subspan(begin, end - begin)).has_value();
        });
        if (!valid[0] || !valid[1]) {
            throw std::runtime_error(
                fmt::format("block {}: a signature failed", block.header.height));
        }
        if (auto imported = db->import_block(block, chain::SignatureCheck::already_verified);
            !imported) {
            throw std::runtime_error(fmt::format("local import of block {} failed: {} {}",
                                                 block.header.height, imported.error().message(),
                                                 db->last_error_detail()));
        }
    }
    const double seconds = seconds_since(start);
    db.reset();
    fs::remove_all(store_dir);
    return seconds;
}

// One node on its own io_context thread. A Node is not thread-safe: whatever touches it runs on
// that thread, through call().
class NodeThread {
public:
    NodeThread() = default;
    ~NodeThread() { finish(); }
    NodeThread(const NodeThread&) = delete;
    NodeThread& operator=(const NodeThread&) = delete;

    // Runs `fn` on the node's thread and returns its result (or rethrows its exception).
    template <class Fn>
    auto call(Fn fn) -> decltype(fn()) {
        std::packaged_task<decltype(fn())()> task(std::move(fn));
        auto result = task.get_future();
        asio::post(m_io, [&task] { task(); });
        return result.get();
    }

    void open(node::NodeConfig config) {
        call([&] { m_node = std::make_unique<node::Node>(m_io, std::move(config)); });
    }
    node::Node& node() { return *m_node; }

    // Stops the node on its thread (stop() is idempotent).
    void stop() {
        if (m_node && m_thread.joinable()) {
            call([&] { m_node->stop(); });
        }
    }

    // Stops the node, lets the io_context run dry (its coroutines end once the host has
    // stopped; a closed connection's keepalive timer can hold it for up to the host's
    // keepalive interval), then destroys the node on this thread. Stop every node first and
    // then finish them, so those waits overlap.
    void finish() {
        if (!m_thread.joinable()) {
            return;
        }
        stop();
        m_work.reset();
        if (m_finished.wait_for(NODE_STOP_TIMEOUT) != std::future_status::ready) {
            fmt::print(stderr, "bench: a node's io_context still had work {} s after stop()\n",
                       NODE_STOP_TIMEOUT.count());
            m_io.stop();
            m_thread.join();
            // Handlers left in the io_context may still point into the node: keep it.
            static_cast<void>(m_node.release());
            return;
        }
        m_thread.join();
        m_node.reset();
    }

private:
    asio::io_context m_io;
    asio::executor_work_guard<asio::io_context::executor_type> m_work{m_io.get_executor()};
    std::promise<void> m_done;
    std::future<void> m_finished = m_done.get_future();
    std::thread m_thread{[this] {
        m_io.run();
        m_done.set_value();
    }};
    std::unique_ptr<node::Node> m_node;
};

node::NodeConfig node_config(const fs::path& data_dir, const fs::path& genesis_file) {
    node::NodeConfig config;
    config.data_dir = data_dir;
    config.genesis_file = genesis_file;
    config.listen_addrs = {*wire::Multiaddr::parse("/ip4/127.0.0.1/tcp/0")};
    config.http_addr.clear();
    config.mining = false;
    config.sync_writes = false;
    // Each node can reach the 3 others and no more: with the default of 4 it would stay short
    // of peers all run and keep asking them for peer lists.
    config.min_peers = SERVING_NODES;
    node::finish_config(config);
    return config;
}

struct SyncRun {
    bool finished = false;
    std::uint64_t height = 0;  // reached
    std::size_t peers = 0;     // the fresh node's, at the last progress report
    double seconds = 0;
    double cpu_seconds = 0;
    std::optional<double> earlier_peak_mib;  // preparation and baseline (the blocks in memory)
    std::optional<double> start_rss_mib;     // the 4 nodes open, before the fresh one starts
    std::optional<double> peak_rss_mib;
};

// The fresh node's view of the run, written by its tip listener on its I/O thread.
struct Progress {
    std::mutex mutex;
    std::condition_variable reached;
    bool done = false;
    Clock::time_point done_at{};
    std::atomic<std::uint64_t> height{0};
};

SyncRun run_sync(const fs::path& seed_dir, const fs::path& work_dir, std::uint64_t target_height) {
    std::vector<std::unique_ptr<NodeThread>> servers;
    std::vector<wire::Multiaddr> peers;
    for (std::size_t i = 0; i < SERVING_NODES; ++i) {
        const fs::path dir = work_dir / fmt::format("serving-{}", i);
        fs::copy(seed_dir, dir, fs::copy_options::recursive);
        auto& server = *servers.emplace_back(std::make_unique<NodeThread>());
        server.open(node_config(dir, dir / "genesis.toml"));
        const auto [height, addrs] = server.call([&] {
            node::Node& n = server.node();
            n.start();
            std::vector<wire::Multiaddr> out;
            for (const auto& addr : n.host().listen_addrs()) {
                out.push_back(addr.with_peer_id(n.host().peer_id()));
            }
            return std::pair{n.status().height, out};
        });
        if (height != target_height || addrs.empty()) {
            throw std::runtime_error(fmt::format("serving node {} holds height {} and {} addresses",
                                                 i, height, addrs.size()));
        }
        peers.insert(peers.end(), addrs.begin(), addrs.end());
    }

    Progress progress;  // before the node: its listener points here
    NodeThread fresh;
    node::NodeConfig config = node_config(work_dir / "fresh", seed_dir / "genesis.toml");
    config.static_peers = peers;
    fresh.open(std::move(config));
    fresh.call([&] {
        fresh.node().on_tip_changed([&progress, target_height](const node::TipChanged& change) {
            progress.height.store(change.height);
            if (change.height >= target_height) {
                const std::lock_guard lock(progress.mutex);
                if (!progress.done) {
                    progress.done = true;
                    progress.done_at = Clock::now();
                    progress.reached.notify_all();
                }
            }
        });
    });

    SyncRun run;
    run.earlier_peak_mib = status_mib("VmHWM:");
    run.start_rss_mib = status_mib("VmRSS:");
    const bool rss_reset = reset_high_water_rss();
    const double cpu_start = cpu_seconds();
    const auto start = Clock::now();
    fresh.call([&] { fresh.node().start(); });
    const auto deadline = start + SYNC_TIMEOUT;
    std::uint64_t last_height = 0;
    for (;;) {
        {
            std::unique_lock lock(progress.mutex);
            const auto wake = std::min(deadline, Clock::now() + PROGRESS_INTERVAL);
            if (progress.reached.wait_until(lock, wake, [&] { return progress.done; })) {
                break;
            }
        }
        // Not under the lock: the listener takes it on the node's thread.
        const std::uint64_t height = progress.height.load();
        run.peers = fresh.call([&] { return fresh.node().status().peer_count; });
        fmt::print(stderr, "  ... height {} of {} after {:.0f} s, {} peers\n", height,
                   target_height, seconds_since(start), run.peers);
        if (Clock::now() >= deadline || (run.peers == 0 && height == last_height)) {
            break;  // out of time, or nobody left to sync from
        }
        last_height = height;
    }
    {
        const std::lock_guard lock(progress.mutex);
        run.finished = progress.done;
        run.seconds =
            std::chrono::duration<double>((progress.done ? progress.done_at : Clock::now()) - start)
                .count();
    }
    run.cpu_seconds = cpu_seconds() - cpu_start;
    run.height = progress.height.load();
    if (rss_reset) {
        run.peak_rss_mib = status_mib("VmHWM:");
    }
    fresh.stop();
    for (auto& server : servers) {
        server->stop();
    }
    fresh.finish();
    for (auto& server : servers) {
        server->finish();
    }
    return run;
}

int run(const Options& options) {
    spdlog::set_level(spdlog::level::warn);
    const double total_txs = static_cast<double>(options.blocks * options.transactions);
    fmt::print(
        "chainmesh chain sync: a fresh node syncs {} blocks of {} transfers from {} peers "
        "(loopback, one io thread per node, all in one process)\n",
        options.blocks, options.transactions, SERVING_NODES);
    const TempDir dir(fs::temp_directory_path() /
                      ("chainmesh-bench-sync-" + std::to_string(::getpid())));
    const fs::path seed_dir = dir.path / "seed";

    // Preparation: keys, signatures, the chain on the seed store.
    const auto prepare_start = Clock::now();
    const Accounts accounts(options.transactions);
    const chain::Genesis genesis = make_genesis(accounts);
    std::vector<std::vector<chain::Transaction>> signed_transfers(options.blocks);
    on_two_threads(options.blocks, [&](std::size_t, std::size_t begin, std::size_t end) {
        for (std::size_t index = begin; index < end; ++index) {
            signed_transfers[index] = transfers(accounts, genesis.params.network_id, index);
        }
    });
    const double signing = seconds_since(prepare_start);
    const auto build_start = Clock::now();
    fs::create_directories(seed_dir);
    std::vector<chain::Block> blocks =
        build_chain(genesis, accounts, signed_transfers, seed_dir / "chain");
    {
        std::ofstream out(seed_dir / "genesis.toml", std::ios::binary | std::ios::trunc);
        out << chain::write_genesis(genesis);
        if (!out) {
            throw std::runtime_error("cannot write the genesis file");
        }
    }
    const double building = seconds_since(build_start);
    std::size_t chain_bytes = 0;
    for (const auto& block : blocks) {
        chain_bytes += block.encoded_size();
    }
    fmt::print(
        "prepared in {:.1f} s: {} accounts, {:.0f} transfers signed on 2 threads in {:.1f} s, "
        "chain of {:.1f} MiB built and stored in {:.1f} s\n",
        seconds_since(prepare_start), accounts.keys.size(), total_txs, signing,
        static_cast<double>(chain_bytes) / (1024.0 * 1024.0), building);

    const double local = import_locally(genesis, blocks, dir.path / "local");
    const double local_tx_rate = total_txs / local;
    fmt::print(
        "local import (store, sync off, signatures checked on 2 threads)  {:8.1f} blocks/s "
        "{:9.0f} tx/s   ({:.1f} s)\n",
        static_cast<double>(options.blocks) / local, local_tx_rate, local);

    // The sync run needs the blocks only on disk.
    blocks.clear();
    blocks.shrink_to_fit();
    malloc_trim(0);

    const SyncRun sync = run_sync(seed_dir, dir.path, options.blocks);
    if (!sync.finished) {
        fmt::print(
            "sync from {} peers: NOT FINISHED, height {} of {} after {:.0f} s, {} peers left\n",
            SERVING_NODES, sync.height, options.blocks, sync.seconds, sync.peers);
        return 1;
    }
    const double sync_tx_rate = total_txs / sync.seconds;
    fmt::print(
        "sync from {} peers (wall {:.1f} s, CPU {:.1f} s)                   {:8.1f} blocks/s "
        "{:9.0f} tx/s\n",
        SERVING_NODES, sync.seconds, sync.cpu_seconds,
        static_cast<double>(options.blocks) / sync.seconds, sync_tx_rate);
    fmt::print("sync tx/s:  sync {:9.0f} tx/s   local import {:9.0f} tx/s   ratio {:.2f}\n",
               sync_tx_rate, local_tx_rate, sync_tx_rate / local_tx_rate);
    const auto mib = [](const std::optional<double>& value) {
        return value ? fmt::format("{:.0f} MiB", *value) : std::string("unavailable");
    };
    fmt::print(
        "RSS:        peak before the sync {}   at its start (4 nodes open) {}   peak during "
        "it {}\n",
        mib(sync.earlier_peak_mib), mib(sync.start_rss_mib), mib(sync.peak_rss_mib));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    try {
        options = parse_options(argc, argv);
    } catch (const std::exception& e) {
        fmt::print(stderr, "bench_sync: {}\nusage: bench_sync [--blocks N] [--txs M]\n", e.what());
        return 2;
    }
    try {
        return run(options);
    } catch (const std::exception& e) {
        fmt::print(stderr, "bench_sync: {}\n", e.what());
        return 1;
    }
}
