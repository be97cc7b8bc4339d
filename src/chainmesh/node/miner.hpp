#pragma once
// Proof-of-work mining on worker threads (issue 3 item 5; docs/protocol.md §11).
//
// The node hands the miner a block template (consensus::Engine::make_template: transactions,
// roots and target set, nonce to find) with mine(); the miner's threads search it until one
// finds a nonce, and the block comes back through `on_found`, posted to the caller's executor
// (the node's I/O thread, where the fork choice runs). A new tip means a new template: mine()
// again replaces the job, and every thread drops the old one within one chunk.
//
// Rules:
// 1. Threads search disjoint nonce ranges: thread i of n takes nonces from i × 2^64 / n up to
//    (i + 1) × 2^64 / n, excluded, so no hash is computed twice for one job. Rationale: no
//    coordination on the hot path.
// 2. Each thread calls consensus::pow::mine over chunk_nonces nonces at a time, and between
//    chunks compares the job's generation with an atomic counter that mine() and pause()
//    increase. Rationale: the inner loop stays lock-free; a stale job costs at most one chunk
//    per thread (about chunk_nonces × 0.3 µs).
// 3. At most one block per job is reported: the first thread to find one claims the job's
//    generation with a compare-and-swap, the others stop at their next chunk. A block found
//    for a job replaced meanwhile is still reported, with its generation: it is a valid block
//    on its own parent, and the node's fork choice decides what it is worth.
// 4. A thread whose range runs out (2^64 / n nonces; not in practice) waits for the next job.
//
// Threads: `threads` workers, started in the constructor, joined in the destructor (which
// returns within about one chunk). They wait on a condition variable when there is no job; no
// sleeps. The callback never runs on a worker thread.

#include <chainmesh/chain/block.hpp>
#include <chainmesh/crypto/sha256.hpp>
#include <chainmesh/util/bytes.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace chainmesh::node {

inline constexpr std::uint64_t DEFAULT_MINER_CHUNK_NONCES = 1 << 16;

struct MinerConfig {
    std::size_t threads = 1;                                  // >= 1
    std::uint64_t chunk_nonces = DEFAULT_MINER_CHUNK_NONCES;  // >= 1: attempts between checks
};

struct MinedBlock {
    chain::Block block;            // the template with the nonce found
    std::uint64_t generation = 0;  // of the job it solves (mine()'s return value)
};

// Inclusive bounds.
struct NonceRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
};

class Miner {
public:
    // Runs on the executor, never on a worker thread.
    using FoundHandler = std::function<void(MinedBlock)>;

    Miner(MinerConfig config, boost::asio::any_io_executor executor, FoundHandler on_found);
    ~Miner();
    Miner(const Miner&) = delete;
    Miner& operator=(const Miner&) = delete;

    // Starts searching `block_template` (its header's target set), replacing any job; returns
    // the job's generation. Thread-safe.
    std::uint64_t mine(chain::Block block_template);
    // Stops searching until the next mine() (e.g. while the node syncs). Thread-safe.
    void pause();

    std::uint64_t generation() const { return m_generation.load(); }
    std::uint64_t attempts() const { return m_attempts.load(); }  // hashes so far, all threads
    std::size_t threads() const { return m_threads.size(); }

    // Thread `index` of `threads`' share of the nonce space (rule 1).
    static NonceRange nonce_range(std::size_t index, std::size_t threads);

private:
    struct Job {
        std::uint64_t generation = 0;
        chain::Block block;
        Bytes prefix;  // the header without its nonce
        crypto::Hash256 target{};
    };

    void run(std::size_t index);
    bool claim(std::uint64_t generation);

    MinerConfig m_config;
    boost::asio::any_io_executor m_executor;
    FoundHandler m_on_found;

    std::mutex m_mutex;
    std::condition_variable m_wake;
    // Shared by the workers searching it; replaced, never changed.
    std::shared_ptr<const Job> m_job;
    bool m_stopping = false;
    std::atomic<std::uint64_t> m_generation{0};
    std::atomic<std::uint64_t> m_solved{0};  // the latest generation a worker found a block for
    std::atomic<std::uint64_t> m_attempts{0};
    std::vector<std::thread> m_threads;
};

}  // namespace chainmesh::node
