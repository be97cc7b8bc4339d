#include <chainmesh/net/clock.hpp>
#include <chainmesh/net/signal.hpp>
#include <chainmesh/node/gossip_service.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>

namespace chainmesh::node {

namespace asio = boost::asio;
using crypto::PeerId;

namespace {
bool speaks_meshsub(const std::vector<std::string>& protocols) {
    return std::any_of(protocols.begin(), protocols.end(), [](const std::string& p) {
        return p == MESHSUB_V11 || p == MESHSUB_V10;
    });
}
}  // namespace

struct GossipService::Impl {
    // What we keep per meshsub peer. Shared with its writer coroutine, which may outlive the
    // entry in `peers` by one wake-up.
    struct Peer {
        explicit Peer(const asio::any_io_executor& executor) : wake(executor) {}
        std::deque<Bytes> queue;
        std::size_t queued_bytes = 0;
        net::Signal wake;
        bool gone = false;
    };
    struct Link {
        net::Direction direction = net::Direction::inbound;
        std::string ip;
    };

    Impl(asio::io_context& io_context, net::Host& h, pubsub::GossipConfig config, Rng rng,
         asio::thread_pool& pool)
        : io(io_context),
          host(h),
          queue_limit(config.max_peer_queue_bytes),
          rpc_limit(config.max_rpc_bytes),
          router(std::move(config), h.identity(), std::move(rng)),
          workers(pool),
          heartbeat(io_context) {}

    asio::io_context& io;
    net::Host& host;
    std::size_t queue_limit;
    std::size_t rpc_limit;
    pubsub::GossipRouter router;
    asio::thread_pool& workers;
    asio::steady_timer heartbeat;
    bool running = false;
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
    std::map<PeerId, std::shared_ptr<Peer>> peers;
    std::map<PeerId, Link> links;  // from PeerConnected: direction and IP for the router
    std::map<pubsub::Topic, std::vector<Subscriber>> subscribers;
    std::map<pubsub::Topic, std::shared_ptr<const Validator>> validators;
    std::vector<std::function<void()>> heartbeat_listeners;
    std::function<void(const crypto::PeerId&)> peer_suggested;
    GossipStats stats;

    void on_host_event(const net::HostEvent& event) {
        if (const auto* c = std::get_if<net::PeerConnected>(&event)) {
            const auto target = c->remote_addr.tcp_target();
            links[c->peer] = Link{c->direction, target ? target->host : std::string()};
        } else if (const auto* i = std::get_if<net::PeerIdentified>(&event)) {
            if (speaks_meshsub(i->info.protocols)) {
                ensure_peer(i->peer);
            }
        } else if (const auto* d = std::get_if<net::PeerDisconnected>(&event)) {
            if (!host.is_connected(d->peer)) {
                links.erase(d->peer);
                drop_peer(d->peer);
            }
        }
    }

    void ensure_peer(const PeerId& peer) {
        if (!running || peers.contains(peer) || !host.is_connected(peer)) {
            return;
        }
        auto state = std::make_shared<Peer>(io.get_executor());
        peers.emplace(peer, state);
        const auto link = links.find(peer);
        const bool outbound =
            link != links.end() && link->second.direction == net::Direction::outbound;
        router.on_peer_connected(peer, outbound, link != links.end() ? link->second.ip : "",
                                 net::now_instant());
        ++stats.peers;
        asio::co_spawn(io, write_loop(peer, state), asio::detached);
        process_actions();
    }

    void drop_peer(const PeerId& peer) {
        const auto it = peers.find(peer);
        if (it == peers.end()) {
            return;
        }
        it->second->gone = true;
        it->second->wake.notify();
        peers.erase(it);
        --stats.peers;
        router.on_peer_disconnected(peer, net::now_instant());
        process_actions();
    }

    asio::awaitable<void> write_loop(PeerId peer, std::shared_ptr<Peer> state) {
        std::vector<std::string> protocols{std::string(MESHSUB_V11), std::string(MESHSUB_V10)};
        auto stream = co_await host.new_stream(peer, protocols);
        if (!stream) {
            spdlog::debug("gossip: no meshsub stream to {}: {}", peer.to_string(),
                          stream.error().message());
            drop_peer(peer);
            co_return;
        }
        while (!state->gone) {
            if (state->queue.empty()) {
                co_await state->wake.wait();
                continue;
            }
            const Bytes rpc = std::move(state->queue.front());
            state->queue.pop_front();
            state->queued_bytes -= rpc.size();
            if (!co_await stream->write_length_prefixed(rpc)) {
                drop_peer(peer);
                co_return;
            }
        }
        stream->close_write();
    }

    asio::awaitable<void> read_loop(net::Stream stream) {
        const PeerId peer = stream.remote_peer();
        ensure_peer(peer);
        for (;;) {
            auto rpc = co_await stream.read_length_prefixed(rpc_limit);
            if (!rpc) {
                co_return;
            }
            if (!peers.contains(peer)) {
                continue;  // dropped meanwhile; keep draining so the peer is not blocked
            }
            router.on_rpc(peer, *rpc, net::now_instant());
            process_actions();
        }
    }

    void enqueue(const PeerId& peer, Bytes rpc) {
        const auto it = peers.find(peer);
        if (it == peers.end()) {
            return;
        }
        auto& state = *it->second;
        if (state.queued_bytes + rpc.size() > queue_limit) {
            // The router already bounds what it emits per heartbeat; a peer whose socket
            // still cannot keep up is too slow for the mesh.
            ++stats.slow_peer_disconnects;
            host.disconnect(peer, "gossip send queue overflow");
            return;
        }
        state.queued_bytes += rpc.size();
        state.queue.push_back(std::move(rpc));
        state.wake.notify();
    }

    void validate(pubsub::ValidateMessage message) {
        const auto found = validators.find(message.topic);
        if (found == validators.end()) {
            router.report_validation(message.id, pubsub::ValidationResult::accept,
                                     net::now_instant());
            return;
        }
        std::weak_ptr<bool> weak = alive;
        asio::post(workers, [this, weak, validator = found->second,
                             message = std::move(message)]() mutable {
            const auto result = (*validator)(message);
            asio::post(io, [this, weak, id = std::move(message.id), result] {
                if (weak.expired()) {
                    return;
                }
                router.report_validation(id, result, net::now_instant());
                process_actions();
            });
        });
    }

    void process_actions() {
        // Inputs made while handling actions (validation answers) add actions: loop until none.
        for (auto actions = router.take_actions(); !actions.empty();
             actions = router.take_actions()) {
            for (auto& action : actions) {
                std::visit([this](auto& a) { handle(a); }, action);
            }
        }
    }

    void handle(pubsub::SendRpc& a) { enqueue(a.peer, std::move(a.rpc)); }
    void handle(pubsub::ValidateMessage& a) { validate(std::move(a)); }
    void handle(pubsub::DeliverMessage& a) {
        const auto it = subscribers.find(a.topic);
        if (it == subscribers.end()) {
            return;
        }
        const auto copy = it->second;  // a subscriber may subscribe others
        for (const auto& subscriber : copy) {
            subscriber(a);
        }
    }
    void handle(pubsub::ConnectPeer& a) {
        spdlog::debug("gossip: peer exchange suggests {}", a.peer.to_string());
        if (peer_suggested) {
            peer_suggested(a.peer);
        }
    }
    void handle(pubsub::PenalizePeer& a) {
        ++stats.penalized;
        spdlog::info("gossip: disconnecting {}: {}", a.peer.to_string(), a.reason);
        host.disconnect(a.peer, "gossip: " + a.reason);
    }

    asio::awaitable<void> heartbeat_loop() {
        while (running) {
            heartbeat.expires_at(net::to_steady(router.next_heartbeat()));
            co_await heartbeat.async_wait(asio::as_tuple(asio::use_awaitable));
            if (!running) {
                co_return;
            }
            router.on_heartbeat(net::now_instant());
            process_actions();
            for (const auto& listener : heartbeat_listeners) {
                listener();
            }
        }
    }
};

GossipService::GossipService(asio::io_context& io, net::Host& host, pubsub::GossipConfig config,
                             Rng rng, asio::thread_pool& workers)
    : m_impl(std::make_unique<Impl>(io, host, std::move(config), std::move(rng), workers)) {}

GossipService::~GossipService() {
    m_impl->running = false;
    m_impl->alive.reset();
    for (auto& [peer, state] : m_impl->peers) {
        state->gone = true;
        state->wake.notify();
    }
}

void GossipService::start() {
    Impl& impl = *m_impl;
    impl.running = true;
    for (const auto protocol : {MESHSUB_V11, MESHSUB_V10}) {
        impl.host.set_handler(std::string(protocol),
                              [&impl](net::Stream s) { return impl.read_loop(std::move(s)); });
    }
    impl.host.add_listener([&impl](const net::HostEvent& e) { impl.on_host_event(e); });
    asio::co_spawn(impl.io, impl.heartbeat_loop(), asio::detached);
}

void GossipService::stop() {
    m_impl->running = false;
    m_impl->heartbeat.cancel();
}

void GossipService::subscribe(const pubsub::Topic& topic, Subscriber subscriber) {
    m_impl->subscribers[topic].push_back(std::move(subscriber));
    if (!m_impl->router.is_subscribed(topic)) {
        m_impl->router.subscribe(topic, net::now_instant());
        m_impl->process_actions();
    }
}

void GossipService::set_validator(const pubsub::Topic& topic, Validator validator) {
    m_impl->validators[topic] = std::make_shared<const Validator>(std::move(validator));
}

Result<pubsub::MessageId> GossipService::publish(const pubsub::Topic& topic, Bytes data) {
    auto id = m_impl->router.publish(topic, std::move(data), net::now_instant());
    m_impl->process_actions();
    return id;
}

void GossipService::on_peer_suggested(std::function<void(const crypto::PeerId&)> listener) {
    m_impl->peer_suggested = std::move(listener);
}

void GossipService::add_heartbeat_listener(std::function<void()> listener) {
    m_impl->heartbeat_listeners.push_back(std::move(listener));
}

const pubsub::GossipRouter& GossipService::router() const { return m_impl->router; }
GossipStats GossipService::stats() const { return m_impl->stats; }

}  // namespace chainmesh::node
