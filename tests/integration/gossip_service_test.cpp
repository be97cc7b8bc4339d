// Gossipsub over real hosts on loopback, in one process: a message published by any node
// reaches every node of a connected mesh, exactly once each, and validators run.

#include "io_test_support.hpp"

#include <chainmesh/net/signal.hpp>
#include <chainmesh/node/gossip_service.hpp>

#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>
#include <set>

namespace chainmesh::node {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr std::string_view TOPIC = "/chainmesh/test/block";

pubsub::GossipConfig small_mesh() {
    pubsub::GossipConfig config;
    config.d = 3;
    config.d_lo = 2;
    config.d_hi = 5;
    config.d_lazy = 3;
    config.d_score = 2;
    config.d_out = 1;
    config.heartbeat_interval = 100ms;
    config.score.ip_colocation_factor_weight = 0;  // every node is 127.0.0.1
    config.score.topics[std::string(TOPIC)] = pubsub::TopicScoreParams{};  // P₄ among others
    return config;
}

struct TestNode {
    TestNode(asio::io_context& io, asio::thread_pool& workers, std::uint64_t seed)
        : host(io, crypto::Identity::generate(), testing::loopback_config()),
          gossip(io, host, small_mesh(), Rng(seed), workers) {
        host.start();
        gossip.start();
    }
    net::Host host;
    GossipService gossip;
    std::vector<Bytes> received;
};

class GossipServiceTest : public ::testing::Test {
protected:
    asio::io_context io;
    asio::thread_pool workers{2};
    std::vector<std::unique_ptr<TestNode>> nodes;
    std::unique_ptr<net::Signal> delivered;
    std::unique_ptr<net::Signal> heartbeat;

    void make_nodes(std::size_t n) {
        delivered = std::make_unique<net::Signal>(io.get_executor());
        heartbeat = std::make_unique<net::Signal>(io.get_executor());
        for (std::size_t i = 0; i < n; ++i) {
            nodes.push_back(std::make_unique<TestNode>(io, workers, 1000 + i));
            TestNode* node = nodes.back().get();
            node->gossip.subscribe(std::string(TOPIC), [this, node](const pubsub::DeliverMessage& m) {
                node->received.push_back(m.data);
                delivered->notify();
            });
            node->gossip.add_heartbeat_listener([this] { heartbeat->notify(); });
        }
    }

    asio::awaitable<void> connect(std::size_t from, std::size_t to) {
        auto addr = nodes[to]->host.listen_addrs().front().with_peer_id(nodes[to]->host.peer_id());
        EXPECT_TRUE(co_await nodes[from]->host.dial(addr));
    }

    // Waits until every node has `count` messages, or the hang limit.
    asio::awaitable<void> wait_all_received(std::size_t count) {
        auto all = [&] {
            return std::all_of(nodes.begin(), nodes.end(),
                               [&](const auto& n) { return n->received.size() >= count; });
        };
        while (!all()) {
            co_await delivered->wait();
        }
    }

    // Waits until each node's mesh for the topic is non-empty: heartbeats are what graft,
    // so the condition is checked after each one.
    asio::awaitable<void> wait_meshes() {
        while (!std::all_of(nodes.begin(), nodes.end(), [](const auto& n) {
            return !n->gossip.router().mesh_peers(std::string(TOPIC)).empty();
        })) {
            co_await heartbeat->wait();
        }
    }
};

TEST_F(GossipServiceTest, MessagesFromAnyNodeReachEveryNodeOfALine) {
    make_nodes(5);
    testing::run_coroutine(io, [&]() -> asio::awaitable<void> {
        for (std::size_t i = 0; i + 1 < nodes.size(); ++i) {
            co_await connect(i, i + 1);
        }
        co_await wait_meshes();
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            auto id = nodes[i]->gossip.publish(std::string(TOPIC),
                                                to_bytes("block " + std::to_string(i)));
            EXPECT_TRUE(id);
        }
        co_await wait_all_received(nodes.size());
    }());
    for (const auto& node : nodes) {
        std::set<Bytes> unique(node->received.begin(), node->received.end());
        EXPECT_EQ(unique.size(), nodes.size()) << "every message exactly once";
        EXPECT_EQ(node->received.size(), nodes.size());
    }
}

TEST_F(GossipServiceTest, RejectedMessagesAreNotRelayed) {
    make_nodes(3);
    // The middle node rejects anything starting with "bad": the far end must never see it.
    nodes[1]->gossip.set_validator(std::string(TOPIC), [](const pubsub::ValidateMessage& m) {
        const bool bad = m.data.size() >= 3 && as_string(m.data).starts_with("bad");
        return bad ? pubsub::ValidationResult::reject : pubsub::ValidationResult::accept;
    });
    testing::run_coroutine(io, [&]() -> asio::awaitable<void> {
        co_await connect(0, 1);
        co_await connect(1, 2);
        co_await wait_meshes();
        EXPECT_TRUE(nodes[0]->gossip.publish(std::string(TOPIC), to_bytes("bad block")));
        EXPECT_TRUE(nodes[0]->gossip.publish(std::string(TOPIC), to_bytes("good block")));
        // The good one was published after the bad one on the same path: once it arrives,
        // the bad one would have too.
        while (nodes[2]->received.empty()) {
            co_await delivered->wait();
        }
    }());
    ASSERT_EQ(nodes[2]->received.size(), 1u);
    EXPECT_EQ(as_string(nodes[2]->received[0]), "good block");
    EXPECT_LT(nodes[1]->gossip.router().score(nodes[0]->host.peer_id()), 0.0);
}

}  // namespace
}  // namespace chainmesh::node
