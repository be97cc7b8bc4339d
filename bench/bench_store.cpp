// Storage commit throughput against raw RocksDB measured in the same run.
//
// For blocks of 1,000 and 4,000 transfers (pre-built and pre-signed; signatures are not
// checked again), BlockStore::import_block on a fresh store: apply the block to the on-disk
// state (account reads, the state tree's node reads and rehashing) and commit it as one batch
// (block, header, height and transaction indexes, accounts, tree nodes, undo data, tip).
// Baseline: a raw RocksDB (one column family, the store's tuning) writing, per block, one
// WriteBatch with as many puts and as many bytes as the store's batch for that block, random
// keys, no reads, batches built before the clock starts. Both run with sync on (the store's
// default: every batch fsynced) and with sync off. Runs are long enough (over 64 MiB) to
// include memtable flushes and compactions.
// For context, the same blocks applied to chain::MemoryState (no storage at all).
//
// The state holds ACCOUNTS funded accounts; each block's senders are distinct and its
// recipients random among them, so a block of N transfers touches about 2N accounts.

#include <chainmesh/chain/apply.hpp>
#include <chainmesh/chain/genesis.hpp>
#include <chainmesh/chain/memory_state.hpp>
#include <chainmesh/chain/validation.hpp>
#include <chainmesh/crypto/ed25519.hpp>
#include <chainmesh/store/block_store.hpp>
#include <chainmesh/store/detail/options.hpp>
#include <chainmesh/util/rng.hpp>

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace chainmesh;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t ACCOUNTS = 20'000;
constexpr std::uint64_t FUNDS = 1'000'000'000'000;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Network {
    std::vector<crypto::Ed25519PrivateKey> keys;
    std::vector<chain::Address> addresses;
    chain::Genesis genesis;

    Network() {
        Rng rng(1);
        for (std::size_t i = 0; i < ACCOUNTS; ++i) {
            crypto::Ed25519Seed seed;
            rng.fill(seed);
            keys.push_back(crypto::Ed25519PrivateKey::from_seed(seed));
            addresses.push_back(chain::Address::from_public_key(keys.back().public_key()));
        }
        genesis.params.network_id = "benchnet";
        genesis.params.block_reward = 10;
        genesis.params.max_block_bytes = 4 * 1024 * 1024;
        genesis.params.pow.initial_target = chain::target_from_difficulty(1);
        genesis.timestamp_ms = 1'700'000'000'000;
        for (const auto& address : addresses) {
            genesis.allocations.push_back({address, FUNDS});
        }
        std::sort(genesis.allocations.begin(), genesis.allocations.end(),
                  [](const auto& a, const auto& b) { return a.address < b.address; });
    }

    // `count` blocks of `size` transfers each, built on the genesis state.
    std::vector<chain::Block> blocks(std::size_t count, std::size_t size) const {
        Rng rng(size);
        chain::MemoryState state = genesis.initial_state();
        chain::BlockHeader parent = genesis.block().header;
        std::vector<chain::Block> out;
        std::vector<std::size_t> order(ACCOUNTS);
        for (std::size_t i = 0; i < ACCOUNTS; ++i) {
            order[i] = i;
        }
        for (std::size_t b = 0; b < count; ++b) {
            std::shuffle(order.begin(), order.end(), rng);
            std::vector<chain::Transaction> txs;
            for (std::size_t i = 0; i < size; ++i) {
                const std::size_t from = order[i];
                const std::size_t to = (from + 1 + rng.uniform(ACCOUNTS - 1)) % ACCOUNTS;
                chain::Transaction tx;
                tx.network_id = genesis.params.network_id;
                tx.recipient = addresses[to];
                tx.amount = 1 + rng.uniform(1000);
                tx.fee = 1;
                tx.nonce = state.account(addresses[from]).nonce;
                tx.sign(keys[from]);
                txs.push_back(std::move(tx));
            }
            auto proposal = chain::propose_block(state, parent, txs, addresses[b],
                                                 parent.timestamp_ms + 1000, genesis.params);
            if (!proposal || !proposal->rejected.empty()) {
                fmt::print(stderr, "bench: block {} could not be built\n", b);
                std::exit(1);
            }
            chain::apply_block(state, proposal->block, genesis.params,
                               chain::SignatureCheck::already_verified)
                .value();
            parent = proposal->block.header;
            out.push_back(std::move(proposal->block));
        }
        return out;
    }
};

struct StoreRun {
    double seconds = 0;
    std::vector<store::BatchStats> batches;
};

StoreRun run_store(const Network& network, const std::vector<chain::Block>& blocks,
                   const fs::path& dir, bool sync) {
    fs::remove_all(dir);
    store::Options options;
    options.sync = sync;
    auto db = store::BlockStore::open(dir, network.genesis, options);
    StoreRun run;
    const auto start = Clock::now();
    for (const chain::Block& block : blocks) {
        auto imported = db->import_block(block, chain::SignatureCheck::already_verified);
        if (!imported) {
            fmt::print(stderr, "bench: import failed: {} {}\n", imported.error().message(),
                       db->last_error_detail());
            std::exit(1);
        }
        run.batches.push_back(db->last_batch());
    }
    run.seconds = seconds_since(start);
    db.reset();
    fs::remove_all(dir);
    return run;
}

// Raw puts shaped like the store's batches: one value the size of the block, the rest of
// the bytes spread over the other entries, 32-byte random keys.
double run_raw(const std::vector<chain::Block>& blocks, const std::vector<store::BatchStats>& shape,
               const fs::path& dir, bool sync) {
    fs::remove_all(dir);
    const rocksdb::Options options(store::detail::db_options(true),
                                   store::detail::cf_options(rocksdb::NewLRUCache(64 << 20)));
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::Open(options, dir.string(), &raw).ok()) {
        fmt::print(stderr, "bench: cannot open the baseline db\n");
        std::exit(1);
    }
    std::unique_ptr<rocksdb::DB> db(raw);
    Rng rng(99);
    // Prepare every batch first: the baseline times the writes alone.
    std::vector<rocksdb::WriteBatch> batches(blocks.size());
    for (std::size_t b = 0; b < blocks.size(); ++b) {
        const std::size_t block_bytes = blocks[b].encoded_size();
        const std::size_t entries = std::max<std::size_t>(shape[b].entries, 2);
        const std::size_t rest =
            shape[b].bytes > block_bytes + 64 ? shape[b].bytes - block_bytes : 0;
        const std::size_t per_entry = rest / (entries - 1);
        const std::size_t small_value = per_entry > 32 + 4 ? per_entry - 32 - 4 : 1;
        std::string key(32, '\0');
        std::string value(block_bytes, '\0');
        rng.fill({reinterpret_cast<std::uint8_t*>(value.data()), value.size()});
        rng.fill({reinterpret_cast<std::uint8_t*>(key.data()), key.size()});
        batches[b].Put(key, value);
        value.resize(small_value);
        for (std::size_t i = 1; i < entries; ++i) {
            rng.fill({reinterpret_cast<std::uint8_t*>(key.data()), key.size()});
            rng.fill({reinterpret_cast<std::uint8_t*>(value.data()), value.size()});
            batches[b].Put(key, value);
        }
    }
    rocksdb::WriteOptions write_options;
    write_options.sync = sync;
    const auto start = Clock::now();
    for (auto& batch : batches) {
        if (!db->Write(write_options, &batch).ok()) {
            fmt::print(stderr, "bench: baseline write failed\n");
            std::exit(1);
        }
    }
    const double seconds = seconds_since(start);
    db.reset();
    fs::remove_all(dir);
    return seconds;
}

double run_memory(const Network& network, const std::vector<chain::Block>& blocks) {
    chain::MemoryState state = network.genesis.initial_state();
    const auto start = Clock::now();
    for (const chain::Block& block : blocks) {
        chain::apply_block(state, block, network.genesis.params,
                           chain::SignatureCheck::already_verified)
            .value();
    }
    return seconds_since(start);
}

// Block application as a node does it: the block's signatures checked on two threads (each
// half of the transactions), then the state transition.
double run_memory_verified(const Network& network, const std::vector<chain::Block>& blocks) {
    chain::MemoryState state = network.genesis.initial_state();
    const auto start = Clock::now();
    for (const chain::Block& block : blocks) {
        const std::span<const chain::Transaction> txs(block.transactions);
        const std::size_t half = txs.size() / 2;
        bool second_ok = false;
        std::thread helper([&] { second_ok = chain::check_signatures(txs.subspan(half)).has_value(); });
        const bool first_ok = chain::check_signatures(txs.first(half)).has_value();
        helper.join();
        if (!first_ok || !second_ok) {
            throw std::runtime_error("a benchmark signature failed");
        }
        chain::apply_block(state, block, network.genesis.params,
                           chain::SignatureCheck::already_verified)
            .value();
    }
    return seconds_since(start);
}

// The baseline for it: raw libsodium verifies of the same signatures on two threads.
double raw_verify_two_threads(const std::vector<chain::Block>& blocks) {
    std::vector<const chain::Transaction*> all;
    for (const auto& block : blocks) {
        for (const auto& tx : block.transactions) {
            all.push_back(&tx);
        }
    }
    const auto verify = [&](std::size_t from, std::size_t to) {
        for (std::size_t i = from; i < to; ++i) {
            const Bytes message = all[i]->signing_bytes();
            if (!crypto::ed25519_verify(all[i]->sender, message, all[i]->signature)) {
                throw std::runtime_error("a benchmark signature failed");
            }
        }
    };
    const auto start = Clock::now();
    std::thread helper([&] { verify(all.size() / 2, all.size()); });
    verify(0, all.size() / 2);
    helper.join();
    return static_cast<double>(all.size()) / seconds_since(start);
}

}  // namespace

int main() {
    const fs::path dir =
        fs::temp_directory_path() / ("chainmesh-bench-store-" + std::to_string(::getpid()));
    fmt::print(
        "storage commit throughput ({} funded accounts; blocks pre-built, signatures "
        "not re-checked)\n",
        ACCOUNTS);
    const Network network;
    struct Case {
        std::size_t transactions;
        std::size_t blocks;
    };
    for (const Case c : {Case{1000, 100}, Case{4000, 25}}) {
        const auto blocks = network.blocks(c.blocks, c.transactions);
        const double total_txs = static_cast<double>(c.blocks * c.transactions);
        const double memory = run_memory(network, blocks);
        fmt::print("\nblocks of {} transactions, {} blocks\n", c.transactions, c.blocks);
        fmt::print("  apply in memory (MemoryState, context)  {:9.1f} blocks/s {:10.0f} tx/s\n",
                   c.blocks / memory, total_txs / memory);
        const double verified = run_memory_verified(network, blocks);
        const double raw_verify = raw_verify_two_threads(blocks);
        fmt::print(
            "  apply with signatures checked (2 thr)  {:9.1f} blocks/s {:10.0f} tx/s   raw verify "
            "(2 thr) {:8.0f}/s   ratio {:.2f}\n",
            c.blocks / verified, total_txs / verified, raw_verify, total_txs / verified / raw_verify);
        for (const bool sync : {true, false}) {
            const StoreRun store = run_store(network, blocks, dir / "store", sync);
            const double raw = run_raw(blocks, store.batches, dir / "raw", sync);
            std::size_t bytes = 0;
            std::size_t entries = 0;
            for (const auto& batch : store.batches) {
                bytes += batch.bytes;
                entries += batch.entries;
            }
            const double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
            fmt::print("  sync {}: batch {:.2f} MiB, {} entries per block\n", sync ? "on " : "off",
                       mib / c.blocks, entries / c.blocks);
            fmt::print(
                "    store import (apply + commit)        {:9.1f} blocks/s {:10.0f} tx/s "
                "{:7.1f} MiB/s\n",
                c.blocks / store.seconds, total_txs / store.seconds, mib / store.seconds);
            fmt::print(
                "    baseline: raw RocksDB batches        {:9.1f} blocks/s {:10.0f} tx/s "
                "{:7.1f} MiB/s\n",
                c.blocks / raw, total_txs / raw, mib / raw);
            fmt::print("    ratio store / raw                    {:9.2f}\n", raw / store.seconds);
        }
    }
    fs::remove_all(dir);
    return 0;
}
