// Gossip dissemination (issue 4 item 9): 8 gossipsub nodes on loopback, 1,000 signed messages of
// 256 bytes, over a line (node 0 publishes; the far end is 7 hops away) and over a random mesh
// (each node linked to 3 others, a connected graph from a fixed seed; publishers round-robin),
// published as fast as possible and paced at one per 10 ms. For each run: delivery latency
// p50/p99 (publish to delivery at each of the other 7 nodes), messages per second reaching all
// nodes, CPU time per delivery and resident memory per node; then the same run with js-libp2p
// gossipsub nodes (bench/gossip_js.mjs, packages from tests/interop/node_modules) on the same
// edges, and the ratio chainmesh/js.
//
// What makes the two sides comparable, each rule applied to both:
// - All 8 nodes live in one process on one event-loop thread (an io_context here, the node.js
//   loop there), over real TCP + noise + yamux, with StrictSign: every message is signed by its
//   publisher and every received copy is verified.
// - Gossipsub parameters are both libraries' defaults (D = 6, D_lo = 4: every link of these
//   sparse graphs joins the mesh) except a 100 ms heartbeat, so meshes form in a fraction of a
//   second, and no IP-colocation penalty (every node is 127.0.0.1). No validator: accept all.
// - "As fast as possible" is one publish per event-loop turn (a post here, setImmediate there):
//   the loop serves sockets between publishes instead of signing all 1,000 messages first.
// - Latencies are taken with each side's monotonic clock, publish call to subscriber callback;
//   the publisher's own local delivery is not counted. Percentiles are nearest-rank.
// - CPU is user + system time of the whole process (all threads) from the first publish until
//   the last delivery (or the timeout), divided by deliveries: setup (handshakes, mesh
//   forming) is not in it. Memory per node is (RSS after the run − RSS before the nodes were
//   created) / 8, from /proc/self/statm here and process.memoryUsage() there. Every run has a
//   fresh process (a fork here, a new node.js there), so no run reuses another's heap.
//
// Bounds: a run that has not delivered everything 60 s after its first publish reports what it
// delivered; meshes must form within 30 s. A missing node.js or node_modules skips the js side.

#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/net/host.hpp>
#include <chainmesh/net/signal.hpp>
#include <chainmesh/node/gossip_service.hpp>
#include <chainmesh/util/rng.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace asio = boost::asio;
using namespace chainmesh;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t NODES = 8;
constexpr std::size_t MESSAGES = 1000;
constexpr std::size_t MESSAGE_BYTES = 256;
constexpr std::size_t MESH_DEGREE = 3;
constexpr std::uint64_t TOPOLOGY_SEED = 4;
constexpr std::uint64_t PAYLOAD_SEED = 9;
constexpr std::chrono::milliseconds PACED_INTERVAL{10};
constexpr std::chrono::milliseconds HEARTBEAT{100};
constexpr std::chrono::seconds DELIVERY_TIMEOUT{60};
constexpr std::chrono::seconds MESH_TIMEOUT{30};
// Bound on what we read from the js side: its result is one short JSON line.
constexpr std::size_t JS_OUTPUT_MAX_BYTES = 1 << 20;
constexpr std::string_view TOPIC = "/chainmesh/bench/gossip";

using Edge = std::pair<std::size_t, std::size_t>;  // first dials second

struct Scenario {
    std::string topology;  // "line" or "mesh"
    std::vector<Edge> edges;
    std::size_t publishers = 1;             // message i comes from node i % publishers
    std::chrono::milliseconds interval{0};  // 0: as fast as possible
};

// Crosses a pipe from the forked run, so it is plain bytes.
struct RunResult {
    bool ok = false;
    char error[200] = {};
    std::size_t expected = 0;  // messages × (nodes − 1)
    std::size_t delivered = 0;
    std::size_t duplicates = 0;
    std::size_t complete = 0;  // messages that reached every other node
    bool timed_out = false;
    double mesh_ms = 0;
    double p50_ms = 0;
    double p99_ms = 0;
    double msgs_per_s = 0;
    double cpu_us_per_delivery = 0;
    double rss_mb_per_node = 0;
};
static_assert(std::is_trivially_copyable_v<RunResult>);

RunResult failed(std::string_view why) {
    RunResult result;
    const std::size_t n = std::min(why.size(), sizeof(result.error) - 1);
    std::memcpy(result.error, why.data(), n);
    return result;
}

double rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages_total = 0;
    std::size_t pages_resident = 0;
    statm >> pages_total >> pages_resident;
    return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Nearest rank on a sorted sample; the js side computes it the same way.
double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) {
        return 0;
    }
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

std::vector<Edge> line_edges() {
    std::vector<Edge> edges;
    for (std::size_t i = 0; i + 1 < NODES; ++i) {
        edges.emplace_back(i, i + 1);
    }
    return edges;
}

bool connected(const std::vector<Edge>& edges) {
    std::vector<std::size_t> group(NODES);
    for (std::size_t i = 0; i < NODES; ++i) {
        group[i] = i;
    }
    auto root = [&](std::size_t i) {
        while (group[i] != i) {
            i = group[i];
        }
        return i;
    };
    for (const auto& [a, b] : edges) {
        group[root(a)] = root(b);
    }
    for (std::size_t i = 1; i < NODES; ++i) {
        if (root(i) != root(0)) {
            return false;
        }
    }
    return true;
}

// A random connected graph where every node has exactly MESH_DEGREE neighbours: pair up
// MESH_DEGREE stubs per node at random, and draw again until there are no self-links, no
// double links and the graph is connected (a handful of draws for 8 nodes).
std::vector<Edge> random_mesh_edges(std::uint64_t seed) {
    Rng rng(seed);
    for (;;) {
        std::vector<std::size_t> stubs;
        for (std::size_t i = 0; i < NODES; ++i) {
            stubs.insert(stubs.end(), MESH_DEGREE, i);
        }
        for (std::size_t i = stubs.size() - 1; i > 0; --i) {
            std::swap(stubs[i], stubs[rng.uniform(i + 1)]);
        }
        std::vector<Edge> edges;
        bool simple = true;
        for (std::size_t i = 0; i < stubs.size() && simple; i += 2) {
            const Edge edge{std::min(stubs[i], stubs[i + 1]), std::max(stubs[i], stubs[i + 1])};
            simple = edge.first != edge.second &&
                     std::find(edges.begin(), edges.end(), edge) == edges.end();
            edges.push_back(edge);
        }
        if (simple && connected(edges)) {
            std::sort(edges.begin(), edges.end());
            return edges;
        }
    }
}

std::vector<std::size_t> degrees(const std::vector<Edge>& edges) {
    std::vector<std::size_t> degree(NODES, 0);
    for (const auto& [a, b] : edges) {
        ++degree[a];
        ++degree[b];
    }
    return degree;
}

std::string edges_text(const std::vector<Edge>& edges) {
    std::string text;
    for (const auto& [a, b] : edges) {
        text += fmt::format("{}{}-{}", text.empty() ? "" : ",", a, b);
    }
    return text;
}

// Who received what, when. Message i carries i in its first 4 bytes (little-endian).
class Tracker {
public:
    void published(std::size_t index, std::size_t publisher, Clock::time_point at) {
        if (m_published == 0) {
            m_first_publish = at;
        }
        ++m_published;
        m_publish_at[index] = at;
        m_publisher[index] = publisher;
    }

    void delivered(std::size_t node, ByteView data, Clock::time_point at) {
        if (data.size() < 4) {
            return;
        }
        const std::size_t index =
            data[0] | (data[1] << 8) | (data[2] << 16) | (std::size_t{data[3]} << 24);
        if (index >= MESSAGES || m_publisher[index] == node || m_publisher[index] == NONE) {
            return;  // the publisher's own copy, or not one of ours
        }
        if (m_seen[index * NODES + node]) {
            ++m_duplicates;
            return;
        }
        m_seen[index * NODES + node] = true;
        ++m_delivered;
        m_latencies_ms.push_back(
            std::chrono::duration<double, std::milli>(at - m_publish_at[index]).count());
        if (++m_reached[index] == NODES - 1) {
            ++m_complete;
            m_last_complete = at;
        }
    }

    bool done() const { return m_delivered == MESSAGES * (NODES - 1); }

    void summarize(RunResult& result) {
        std::sort(m_latencies_ms.begin(), m_latencies_ms.end());
        result.expected = MESSAGES * (NODES - 1);
        result.delivered = m_delivered;
        result.duplicates = m_duplicates;
        result.complete = m_complete;
        result.p50_ms = percentile(m_latencies_ms, 0.50);
        result.p99_ms = percentile(m_latencies_ms, 0.99);
        const double seconds =
            std::chrono::duration<double>(m_last_complete - m_first_publish).count();
        result.msgs_per_s = m_complete > 0 && seconds > 0 ? m_complete / seconds : 0;
    }

private:
    static constexpr std::size_t NONE = ~std::size_t{0};
    std::size_t m_published = 0;
    std::size_t m_delivered = 0;
    std::size_t m_duplicates = 0;
    std::size_t m_complete = 0;
    Clock::time_point m_first_publish;
    Clock::time_point m_last_complete;
    std::vector<Clock::time_point> m_publish_at = std::vector<Clock::time_point>(MESSAGES);
    std::vector<std::size_t> m_publisher = std::vector<std::size_t>(MESSAGES, NONE);
    std::vector<std::size_t> m_reached = std::vector<std::size_t>(MESSAGES, 0);
    std::vector<bool> m_seen = std::vector<bool>(MESSAGES * NODES, false);
    std::vector<double> m_latencies_ms;
};

pubsub::GossipConfig gossip_config() {
    pubsub::GossipConfig config;  // D, D_lo, D_hi, ... as js-libp2p's defaults
    config.heartbeat_interval = HEARTBEAT;
    config.score.ip_colocation_factor_weight = 0;  // every node is 127.0.0.1
    if (const auto problem = pubsub::config_error(config); !problem.empty()) {
        throw std::runtime_error("gossip config: " + problem);
    }
    return config;
}

net::HostConfig loopback() {
    net::HostConfig config;
    config.listen_addrs.push_back(*wire::Multiaddr::parse("/ip4/127.0.0.1/tcp/0"));
    return config;
}

struct BenchNode {
    BenchNode(asio::io_context& io, asio::thread_pool& workers, std::uint64_t seed)
        : host(io, crypto::Identity::generate(), loopback()),
          gossip(io, host, gossip_config(), Rng(seed), workers) {
        host.start();
        gossip.start();
    }
    net::Host host;
    node::GossipService gossip;
};

// One chainmesh run: the nodes, the workload and the clocks, all on one io_context thread.
class ChainmeshRun {
public:
    explicit ChainmeshRun(const Scenario& scenario)
        : m_scenario(scenario), m_degree(degrees(scenario.edges)) {
        Rng rng(PAYLOAD_SEED);
        for (std::size_t i = 0; i < MESSAGES; ++i) {
            Bytes payload(MESSAGE_BYTES);
            rng.fill(payload);
            for (std::size_t b = 0; b < 4; ++b) {
                payload[b] = static_cast<std::uint8_t>(i >> (8 * b));
            }
            m_payloads.push_back(std::move(payload));
        }
    }

    RunResult run() {
        const double rss_before = rss_bytes();
        for (std::size_t i = 0; i < NODES; ++i) {
            m_nodes.push_back(std::make_unique<BenchNode>(m_io, m_workers, 1000 + i));
            m_nodes[i]->gossip.subscribe(std::string(TOPIC),
                                         [this, i](const pubsub::DeliverMessage& m) {
                                             m_tracker.delivered(i, m.data, Clock::now());
                                             if (m_tracker.done()) {
                                                 m_wake.notify();
                                             }
                                         });
            m_nodes[i]->gossip.add_heartbeat_listener([this] { m_wake.notify(); });
        }
        RunResult result;
        std::exception_ptr failure;
        asio::co_spawn(m_io, body(result), [&](std::exception_ptr error) {
            failure = error;
            m_io.stop();
        });
        m_io.run();
        if (failure) {
            try {
                std::rethrow_exception(failure);
            } catch (const std::exception& e) {
                return failed(e.what());
            }
        }
        result.rss_mb_per_node = (rss_bytes() - rss_before) / NODES / 1e6;
        result.ok = true;
        return result;
    }

private:
    bool meshes_formed() const {
        for (std::size_t i = 0; i < NODES; ++i) {
            if (m_nodes[i]->gossip.router().mesh_peers(std::string(TOPIC)).size() < m_degree[i]) {
                return false;
            }
        }
        return true;
    }

    // Until the deadline, m_timed_out turns true and the waiter is woken.
    void arm_deadline(std::chrono::seconds limit) {
        m_timed_out = false;
        m_deadline.expires_after(limit);
        m_deadline.async_wait([this](boost::system::error_code ec) {
            if (!ec) {
                m_timed_out = true;
                m_wake.notify();
            }
        });
    }

    asio::awaitable<void> body(RunResult& result) {
        for (const auto& [from, to] : m_scenario.edges) {
            const auto& target = m_nodes[to]->host;
            const auto addr = target.listen_addrs().front().with_peer_id(target.peer_id());
            if (!co_await m_nodes[from]->host.dial(addr)) {
                throw std::runtime_error(fmt::format("node {} cannot dial node {}", from, to));
            }
        }
        const auto mesh_start = Clock::now();
        arm_deadline(MESH_TIMEOUT);
        while (!meshes_formed()) {
            if (m_timed_out) {
                throw std::runtime_error("the meshes did not form within 30 s");
            }
            co_await m_wake.wait();
        }
        result.mesh_ms =
            std::chrono::duration<double, std::milli>(Clock::now() - mesh_start).count();
        m_deadline.cancel();

        const double cpu_before = cpu_seconds();
        const auto start = Clock::now();
        arm_deadline(DELIVERY_TIMEOUT);
        asio::steady_timer pace(m_io);
        for (std::size_t i = 0; i < MESSAGES && !m_timed_out; ++i) {
            if (m_scenario.interval.count() > 0) {
                pace.expires_at(start + i * m_scenario.interval);
                co_await pace.async_wait(asio::use_awaitable);
            }
            const std::size_t publisher = i % m_scenario.publishers;
            m_tracker.published(i, publisher, Clock::now());
            auto id =
                m_nodes[publisher]->gossip.publish(std::string(TOPIC), std::move(m_payloads[i]));
            if (!id) {
                throw std::runtime_error(
                    fmt::format("publish {} failed: {}", i, id.error().message()));
            }
            if (m_scenario.interval.count() == 0) {
                co_await asio::post(m_io, asio::use_awaitable);
            }
        }
        while (!m_tracker.done() && !m_timed_out) {
            co_await m_wake.wait();
        }
        const double cpu = cpu_seconds() - cpu_before;
        result.timed_out = !m_tracker.done();
        m_deadline.cancel();
        m_tracker.summarize(result);
        result.cpu_us_per_delivery = result.delivered > 0 ? cpu / result.delivered * 1e6 : 0;
    }

    const Scenario& m_scenario;
    std::vector<std::size_t> m_degree;
    std::vector<Bytes> m_payloads;
    asio::io_context m_io;
    asio::thread_pool m_workers{1};  // validation runs here; with no validator it stays idle
    std::vector<std::unique_ptr<BenchNode>> m_nodes;
    Tracker m_tracker;
    net::Signal m_wake{m_io.get_executor()};
    asio::steady_timer m_deadline{m_io};
    bool m_timed_out = false;
};

// Runs one chainmesh run in a forked child, so its heap starts where the parent's is and its
// RSS growth is its own. The parent has started no thread, so forking it is safe.
RunResult run_chainmesh(const Scenario& scenario) {
    std::fflush(stdout);
    std::fflush(stderr);
    int fds[2];
    if (pipe(fds) != 0) {
        return failed("pipe failed");
    }
    const pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return failed("fork failed");
    }
    if (pid == 0) {
        close(fds[0]);
        RunResult result;
        try {
            // Left alive on purpose: the process ends right after reporting, and tearing eight
            // nodes down would only add shutdown paths to what is measured.
            result = (new ChainmeshRun(scenario))->run();
        } catch (const std::exception& e) {
            result = failed(e.what());
        }
        const auto* bytes = reinterpret_cast<const char*>(&result);
        for (std::size_t sent = 0; sent < sizeof(result);) {
            const ssize_t n = write(fds[1], bytes + sent, sizeof(result) - sent);
            if (n <= 0) {
                break;
            }
            sent += static_cast<std::size_t>(n);
        }
        std::fflush(stdout);
        _exit(0);
    }
    close(fds[1]);
    RunResult result;
    auto* bytes = reinterpret_cast<char*>(&result);
    std::size_t got = 0;
    while (got < sizeof(result)) {
        const ssize_t n = read(fds[0], bytes + got, sizeof(result) - got);
        if (n <= 0) {
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (got != sizeof(result)) {
        return failed(fmt::format("the run's process died (wait status {})", status));
    }
    return result;
}

// Empty when the js side can run, else why not.
std::string js_unavailable() {
    namespace fs = std::filesystem;
    bool node_found = false;
    const char* path = std::getenv("PATH");
    std::string_view dirs = path != nullptr ? path : "";
    while (!dirs.empty() && !node_found) {
        const auto colon = dirs.find(':');
        const auto dir = dirs.substr(0, colon);
        node_found = !dir.empty() && access((std::string(dir) + "/node").c_str(), X_OK) == 0;
        dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    }
    if (!node_found) {
        return "no node on PATH";
    }
    const fs::path source(CHAINMESH_SOURCE_DIR);
    const auto modules = source / "tests" / "interop" / "node_modules";
    for (const char* package : {"libp2p", "@libp2p/gossipsub", "@libp2p/noise", "@libp2p/yamux",
                                "@libp2p/tcp", "@libp2p/identify", "@libp2p/ping"}) {
        if (!fs::exists(modules / package / "package.json")) {
            return fmt::format("{} is missing; run npm ci in tests/interop",
                               (modules / package).string());
        }
    }
    if (!fs::exists(source / "bench" / "gossip_js.mjs")) {
        return "bench/gossip_js.mjs is missing";
    }
    return {};
}

RunResult run_js(const Scenario& scenario) {
    const std::string command = fmt::format(
        "node '{}/bench/gossip_js.mjs' --edges {} --nodes {} --messages {} --size {} "
        "--publishers {} --interval-ms {} --heartbeat-ms {} --timeout-s {} --mesh-timeout-s {}",
        CHAINMESH_SOURCE_DIR, edges_text(scenario.edges), NODES, MESSAGES, MESSAGE_BYTES,
        scenario.publishers, scenario.interval.count(), HEARTBEAT.count(), DELIVERY_TIMEOUT.count(),
        MESH_TIMEOUT.count());
    std::fflush(stdout);
    FILE* child = popen(command.c_str(), "r");
    if (child == nullptr) {
        return failed("cannot start node");
    }
    std::string output;
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof(buffer), child)) > 0;) {
        if (output.size() < JS_OUTPUT_MAX_BYTES) {
            output.append(buffer, std::min(n, JS_OUTPUT_MAX_BYTES - output.size()));
        }
    }
    const int status = pclose(child);
    // The result is the last line that parses as a JSON object.
    std::size_t end = output.size();
    while (end > 0) {
        const std::size_t begin = output.rfind('\n', end - 1);
        const std::size_t from = begin == std::string::npos ? 0 : begin + 1;
        const auto json = nlohmann::json::parse(output.substr(from, end - from), nullptr, false);
        if (!json.is_discarded() && json.is_object()) {
            if (json.contains("error")) {
                return failed(json.value("error", std::string("unknown error")));
            }
            RunResult result;
            result.ok = true;
            result.expected = json.value("expected", std::size_t{0});
            result.delivered = json.value("delivered", std::size_t{0});
            result.duplicates = json.value("duplicates", std::size_t{0});
            result.complete = json.value("complete", std::size_t{0});
            result.timed_out = json.value("timed_out", false);
            result.mesh_ms = json.value("mesh_ms", 0.0);
            result.p50_ms = json.value("p50_ms", 0.0);
            result.p99_ms = json.value("p99_ms", 0.0);
            result.msgs_per_s = json.value("msgs_per_s", 0.0);
            result.cpu_us_per_delivery = json.value("cpu_us_per_delivery", 0.0);
            result.rss_mb_per_node = json.value("rss_mb_per_node", 0.0);
            return result;
        }
        if (begin == std::string::npos) {
            break;
        }
        end = begin;
    }
    return failed(fmt::format("gossip_js.mjs printed no result (wait status {})", status));
}

std::string delivery_text(const RunResult& r) {
    return fmt::format("{}/{} ({:.3f})", r.delivered, r.expected,
                       r.expected > 0 ? static_cast<double>(r.delivered) / r.expected : 0.0);
}

void print_shortfall(std::string_view side, const RunResult& r) {
    if (r.delivered < r.expected || r.duplicates > 0) {
        fmt::print(
            "  {}: {} deliveries missing, {} of {} messages did not reach every node, {} "
            "duplicates{}\n",
            side, r.expected - r.delivered, MESSAGES - r.complete, MESSAGES, r.duplicates,
            r.timed_out
                ? fmt::format(" (stopped {} s after the first publish)", DELIVERY_TIMEOUT.count())
                : "");
    }
}

void print_table(const Scenario& scenario, const RunResult& ours,
                 const std::optional<RunResult>& js) {
    fmt::print(
        "\n{}, {}, {}\n", scenario.topology == "line" ? "line 0-1-...-7" : "random mesh, degree 3",
        scenario.publishers == 1
            ? "all from node 0"
            : fmt::format("publishers round-robin over {} nodes", scenario.publishers),
        scenario.interval.count() == 0 ? std::string("as fast as possible")
                                       : fmt::format("one per {} ms", scenario.interval.count()));
    if (!ours.ok) {
        fmt::print("  chainmesh: failed: {}\n", ours.error);
    }
    const bool with_js = js && js->ok;
    if (js && !js->ok) {
        fmt::print("  js baseline: failed: {}\n", js->error);
    }
    if (!ours.ok && !with_js) {
        return;
    }
    fmt::print("  {:<26}{:>14}{}\n", "", "chainmesh",
               with_js ? fmt::format("{:>14}{:>14}", "js-libp2p", "chainmesh/js") : "");
    auto row = [&](std::string_view name, double RunResult::*field, int decimals) {
        const double mine = ours.*field;
        std::string line = fmt::format("  {:<26}{:>14}", name,
                                       ours.ok ? fmt::format("{:.{}f}", mine, decimals) : "-");
        if (with_js) {
            const double theirs = (*js).*field;
            line += fmt::format("{:>14}", fmt::format("{:.{}f}", theirs, decimals));
            line += ours.ok && theirs > 0 ? fmt::format("{:>14.3f}", mine / theirs)
                                          : fmt::format("{:>14}", "-");
        }
        fmt::print("{}\n", line);
    };
    row("latency p50 (ms)", &RunResult::p50_ms, 2);
    row("latency p99 (ms)", &RunResult::p99_ms, 2);
    row("msgs/s reaching all nodes", &RunResult::msgs_per_s, 0);
    row("CPU per delivery (us)", &RunResult::cpu_us_per_delivery, 1);
    row("RSS per node (MB)", &RunResult::rss_mb_per_node, 2);
    row("mesh formed after (ms)", &RunResult::mesh_ms, 0);
    fmt::print("  {:<26}{:>14}{}\n", "delivered", ours.ok ? delivery_text(ours) : "-",
               with_js ? fmt::format("   js {}", delivery_text(*js)) : "");
    if (ours.ok) {
        print_shortfall("chainmesh", ours);
    }
    if (with_js) {
        print_shortfall("js-libp2p", *js);
    }
}

}  // namespace

int main() {
    spdlog::set_level(spdlog::level::warn);
    fmt::print(
        "chainmesh gossip dissemination: {} nodes in one process on one thread, loopback "
        "TCP + noise + yamux, StrictSign, {} messages of {} B, heartbeat {} ms\n",
        NODES, MESSAGES, MESSAGE_BYTES, HEARTBEAT.count());
    const auto mesh = random_mesh_edges(TOPOLOGY_SEED);
    fmt::print("random mesh edges (seed {}): {}\n", TOPOLOGY_SEED, edges_text(mesh));
    const std::string js_skip = js_unavailable();
    if (!js_skip.empty()) {
        fmt::print("js baseline: skipped ({})\n", js_skip);
    }
    const std::vector<Scenario> scenarios{
        {"line", line_edges(), 1, std::chrono::milliseconds{0}},
        {"line", line_edges(), 1, PACED_INTERVAL},
        {"mesh", mesh, NODES, std::chrono::milliseconds{0}},
        {"mesh", mesh, NODES, PACED_INTERVAL},
    };
    for (const auto& scenario : scenarios) {
        const RunResult ours = run_chainmesh(scenario);
        std::optional<RunResult> js;
        if (js_skip.empty()) {
            js = run_js(scenario);
        }
        print_table(scenario, ours, js);
    }
    fmt::print("\nratios below 1 favour chainmesh for latency, CPU and RSS; above 1 for msgs/s\n");
    return 0;
}
