// Crash safety of the store: a child process imports a deterministic chain block by block and
// is killed with SIGKILL at random moments, then restarted, KILLS times. After every kill the
// store must open, its tip must be a block boundary that agrees with the height index, and its
// state root must equal that of an in-memory replay of the same chain at the tip's height. The
// test also proves the kills hit commits in flight: a kill counts as mid-import when the
// child's last line is "begin H" with no "end H", and at least MID_IMPORT_MIN must be.
//
// Kill moments: half the runs are killed as soon as the parent reads a random (1st to 5th)
// "begin" line; the others after a random delay from the spawn (which also lands kills in
// the child's start-up: opening, log recovery, and on the first run the store's creation).
// The parent only ever waits by reading the child's output with a deadline.

#include "store_crash_chain.hpp"

#include <chainmesh/chain/memory_state.hpp>
#include <chainmesh/store/block_store.hpp>
#include <chainmesh/util/hex.hpp>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace chainmesh::store {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::uint64_t SEED = 20240607;
constexpr int KILLS = 60;
constexpr int MID_IMPORT_MIN = 15;
constexpr std::uint64_t MAX_HEIGHT = 1'000'000;  // never reached: every run ends in a kill
constexpr auto LINE_TIMEOUT = 30s;               // a hang detector, not a timing assertion
constexpr std::uint64_t DELAY_MAX_US = 200'000;

// The chain replayed in memory, extended on demand.
class Reference {
public:
    explicit Reference(std::uint64_t seed)
        : m_chain(seed), m_state(m_chain.genesis().initial_state()) {
        const chain::Block genesis = m_chain.genesis().block();
        m_tip = genesis.header;
        m_hashes.push_back(genesis.hash());
        m_roots.push_back(m_state.root());
    }
    const chain::Genesis& genesis() const { return m_chain.genesis(); }
    const chain::Hash256& hash_at(std::uint64_t height) {
        extend(height);
        return m_hashes[height];
    }
    const chain::Hash256& root_at(std::uint64_t height) {
        extend(height);
        return m_roots[height];
    }

private:
    void extend(std::uint64_t height) {
        while (m_hashes.size() <= height) {
            const chain::Block block = m_chain.next_block(m_state, m_tip);
            auto applied = chain::apply_block(m_state, block, m_chain.genesis().params,
                                              chain::SignatureCheck::already_verified);
            ASSERT_TRUE(applied.has_value()) << applied.error().message();
            m_tip = block.header;
            m_hashes.push_back(block.hash());
            m_roots.push_back(m_state.root());
        }
    }

    crash_test::CrashChain m_chain;
    chain::MemoryState m_state;
    chain::BlockHeader m_tip;
    std::vector<chain::Hash256> m_hashes;
    std::vector<chain::Hash256> m_roots;
};

// The child process, its stdout on a pipe read with deadlines.
class Child {
public:
    Child(const std::filesystem::path& dir, std::uint64_t seed) {
        int fds[2];
        EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
        m_fd = fds[0];
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        const std::string dir_arg = dir.string();
        const std::string seed_arg = std::to_string(seed);
        const std::string max_arg = std::to_string(MAX_HEIGHT);
        const char* path = CHAINMESH_STORE_CRASH_CHILD;
        char* const argv[] = {const_cast<char*>(path), const_cast<char*>(dir_arg.c_str()),
                              const_cast<char*>(seed_arg.c_str()),
                              const_cast<char*>(max_arg.c_str()), nullptr};
        EXPECT_EQ(::posix_spawn(&m_pid, path, &actions, nullptr, argv, environ), 0);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
    }
    ~Child() {
        kill();
        ::close(m_fd);
    }

    // The next line, or nullopt at the deadline or at end of output (then eof() is true).
    std::optional<std::string> read_line(Clock::time_point deadline) {
        while (true) {
            if (const auto end = m_buffer.find('\n'); end != std::string::npos) {
                std::string line = m_buffer.substr(0, end);
                m_buffer.erase(0, end + 1);
                return line;
            }
            if (m_eof) {
                return std::nullopt;
            }
            const auto left = deadline - Clock::now();
            if (left <= Clock::duration::zero()) {
                return std::nullopt;
            }
            const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
            const timespec timeout{static_cast<time_t>(ns / 1'000'000'000),
                                   static_cast<long>(ns % 1'000'000'000)};
            pollfd pfd{m_fd, POLLIN, 0};
            const int ready = ::ppoll(&pfd, 1, &timeout, nullptr);
            if (ready < 0 && errno != EINTR) {
                ADD_FAILURE() << "ppoll failed";
                return std::nullopt;
            }
            if (ready <= 0) {
                continue;
            }
            char chunk[4096];
            const ssize_t n = ::read(m_fd, chunk, sizeof chunk);
            if (n <= 0) {
                m_eof = true;
            } else {
                m_buffer.append(chunk, static_cast<std::size_t>(n));
            }
        }
    }
    bool eof() const { return m_eof; }

    void kill() {
        if (m_pid > 0) {
            ::kill(m_pid, SIGKILL);
            int status = 0;
            ::waitpid(m_pid, &status, 0);
            m_pid = -1;
        }
    }

    // After kill(): the lines the child wrote before it died.
    std::vector<std::string> drain() {
        std::vector<std::string> lines;
        while (auto line = read_line(Clock::now() + LINE_TIMEOUT)) {
            lines.push_back(*line);
        }
        return lines;
    }

private:
    pid_t m_pid = -1;
    int m_fd = -1;
    std::string m_buffer;
    bool m_eof = false;
};

bool starts_with(const std::string& line, std::string_view prefix) {
    return line.compare(0, prefix.size(), prefix) == 0;
}

std::uint64_t number_after(const std::string& line, std::string_view prefix) {
    return std::stoull(line.substr(prefix.size()));
}

TEST(StoreCrashTest, SigkillAtRandomMomentsNeverBreaksTheStore) {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                      ("chainmesh-store-crash-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    Reference reference(SEED);
    Rng rng(SEED + 1);

    int mid_import = 0;
    int mid_import_committed = 0;
    std::uint64_t height = 0;
    for (int run = 0; run < KILLS; ++run) {
        SCOPED_TRACE("run " + std::to_string(run));
        std::vector<std::string> lines;
        {
            Child child(dir, SEED);
            const auto start = Clock::now();
            const bool at_begin = rng.uniform(2) == 0;
            const std::uint64_t begins_wanted = 1 + rng.uniform(5);
            const auto deadline =
                at_begin ? start + LINE_TIMEOUT
                         : start + std::chrono::microseconds(rng.uniform(DELAY_MAX_US));
            std::uint64_t begins = 0;
            while (auto line = child.read_line(deadline)) {
                lines.push_back(*line);
                ASSERT_FALSE(starts_with(*line, "error")) << *line;
                ASSERT_NE(*line, "done");
                if (at_begin && starts_with(*line, "begin ") && ++begins == begins_wanted) {
                    break;
                }
            }
            ASSERT_FALSE(child.eof()) << "the child exited before it was killed";
            ASSERT_TRUE(!at_begin || begins == begins_wanted) << "no begin line in time";
            child.kill();
            for (auto& line : child.drain()) {
                lines.push_back(std::move(line));
            }
        }

        std::optional<std::uint64_t> last_begin;
        std::optional<std::uint64_t> last_end;
        for (const std::string& line : lines) {
            if (starts_with(line, "open ")) {
                std::istringstream in(line.substr(5));
                std::uint64_t open_height = 0;
                std::string root;
                in >> open_height >> root;
                EXPECT_EQ(open_height, height) << "the child opened another tip than we saw";
                EXPECT_EQ(root, util::to_hex(reference.root_at(open_height)));
            } else if (starts_with(line, "begin ")) {
                last_begin = number_after(line, "begin ");
            } else if (starts_with(line, "end ")) {
                last_end = number_after(line, "end ");
                EXPECT_EQ(last_end, last_begin);
            }
        }
        const bool killed_mid_import = !lines.empty() && starts_with(lines.back(), "begin ");

        std::unique_ptr<BlockStore> store;
        try {
            store = BlockStore::open(dir, reference.genesis());
        } catch (const std::exception& e) {
            FAIL() << "the store does not open after a kill: " << e.what();
        }
        const Tip tip = store->tip();
        if (killed_mid_import) {
            ++mid_import;
            EXPECT_TRUE(tip.height == *last_begin || tip.height + 1 == *last_begin)
                << "killed in block " << *last_begin << ", tip " << tip.height;
            mid_import_committed += tip.height == *last_begin ? 1 : 0;
        } else if (last_end) {
            EXPECT_EQ(tip.height, *last_end);
        } else {
            EXPECT_EQ(tip.height, height);
        }
        EXPECT_GE(tip.height, height) << "a committed block was lost";
        height = tip.height;

        ASSERT_EQ(tip.hash, reference.hash_at(height));
        ASSERT_EQ(store->state().root(), reference.root_at(height));
        EXPECT_EQ(store->tip_header().state_root, reference.root_at(height));
        for (std::uint64_t h = 0; h <= height; ++h) {
            ASSERT_EQ(store->hash_at(h).value(), reference.hash_at(h)) << "height " << h;
        }
        const chain::Block top = store->block(tip.hash).value();
        for (std::uint32_t i = 0; i < top.transactions.size(); ++i) {
            EXPECT_EQ(store->transaction_location(top.transactions[i].id()).value(),
                      (TransactionLocation{tip.hash, i}));
        }
    }
    std::printf(
        "store crash test: %d kills, %d mid-import (%d of those had committed), "
        "final height %llu\n",
        KILLS, mid_import, mid_import_committed, static_cast<unsigned long long>(height));
    EXPECT_GE(mid_import, MID_IMPORT_MIN);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace chainmesh::store
