#include <chainmesh/consensus/pow/pow.hpp>
#include <chainmesh/node/miner.hpp>

#include <boost/asio/post.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

namespace chainmesh::node {

namespace {
__extension__ using Wide = unsigned __int128;
}  // namespace

NonceRange Miner::nonce_range(std::size_t index, std::size_t threads) {
    // Bounds i × 2^64 / n, computed in 128 bits.
    const Wide space = Wide{1} << 64;
    const auto bound = [&](std::size_t i) { return space * i / threads; };
    return {static_cast<std::uint64_t>(bound(index)),
            static_cast<std::uint64_t>(bound(index + 1) - 1)};
}

Miner::Miner(MinerConfig config, boost::asio::any_io_executor executor, FoundHandler on_found)
    : m_config(config), m_executor(std::move(executor)), m_on_found(std::move(on_found)) {
    if (m_config.threads == 0 || m_config.chunk_nonces == 0 || !m_on_found) {
        std::fprintf(stderr, "Miner: needs at least one thread, a chunk size and a handler\n");
        std::abort();
    }
    m_threads.reserve(m_config.threads);
    for (std::size_t i = 0; i < m_config.threads; ++i) {
        m_threads.emplace_back([this, i] { run(i); });
    }
}

Miner::~Miner() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        m_job.reset();
        m_generation.fetch_add(1);
    }
    m_wake.notify_all();
    for (std::thread& thread : m_threads) {
        thread.join();
    }
}

std::uint64_t Miner::mine(chain::Block block_template) {
    auto job = std::make_shared<Job>();
    job->prefix = consensus::pow::header_prefix(block_template.header);
    job->target = block_template.header.target;
    job->block = std::move(block_template);
    std::uint64_t generation = 0;
    {
        std::lock_guard lock(m_mutex);
        generation = m_generation.load() + 1;
        job->generation = generation;
        m_job = std::move(job);
        m_generation.store(generation);
    }
    m_wake.notify_all();
    return generation;
}

void Miner::pause() {
    {
        std::lock_guard lock(m_mutex);
        m_job.reset();
        m_generation.fetch_add(1);
    }
    m_wake.notify_all();
}

bool Miner::claim(std::uint64_t generation) {
    std::uint64_t solved = m_solved.load();
    while (solved < generation && !m_solved.compare_exchange_weak(solved, generation)) {
    }
    return solved < generation;
}

void Miner::run(std::size_t index) {
    // Below the node's own threads: hashing takes whatever CPU is left, so that relaying and
    // validating blocks (what makes a found block count) never wait behind it.
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
    const NonceRange range = nonce_range(index, m_config.threads);
    std::uint64_t finished = 0;  // the last generation this thread searched
    for (;;) {
        std::shared_ptr<const Job> job;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [&] {
                return m_stopping || (m_job != nullptr && m_job->generation != finished);
            });
            if (m_stopping) {
                return;
            }
            job = m_job;
        }
        finished = job->generation;
        std::uint64_t nonce = range.first;
        for (;;) {
            if (m_generation.load(std::memory_order_relaxed) != job->generation ||
                m_solved.load(std::memory_order_relaxed) >= job->generation) {
                break;
            }
            const std::uint64_t left = range.last - nonce;  // nonces after this one
            const std::uint64_t count =
                left < m_config.chunk_nonces ? left + 1 : m_config.chunk_nonces;
            const auto result = consensus::pow::mine(job->prefix, job->target, nonce, count);
            m_attempts.fetch_add(result.attempts, std::memory_order_relaxed);
            if (result.nonce) {
                if (claim(job->generation)) {
                    MinedBlock mined{job->block, job->generation};
                    mined.block.header.nonce = *result.nonce;
                    boost::asio::post(m_executor,
                                      [handler = m_on_found, mined = std::move(mined)]() mutable {
                                          handler(std::move(mined));
                                      });
                }
                break;
            }
            if (left < result.attempts) {
                break;  // the range is spent (rule 4)
            }
            nonce += result.attempts;
        }
    }
}

}  // namespace chainmesh::node
