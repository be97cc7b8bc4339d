#pragma once
// The gossipsub router (pubsub::GossipRouter, a pure engine) driven over a real Host.
//
// Wiring (libp2p-interop.md §9): once a peer is known to speak meshsub (its identify lists it,
// or it opened a meshsub stream to us), the router hears of it and we open ONE outbound
// stream to it, on which we only write, one length-prefixed RPC per SendRpc; RPCs are read
// only from the stream the peer opened. The heartbeat timer follows next_heartbeat().
//
// Validation runs off the I/O thread: each ValidateMessage goes to the worker pool, where the
// topic's validator runs, and the result comes back to the I/O thread as report_validation.
//
// Bounds: a peer's queue of RPCs not yet written is capped (max_peer_queue_bytes of the
// router's config; past it the peer is too slow and is disconnected); inbound RPCs are read
// with the router's max_rpc_bytes as the length bound.

#include <chainmesh/net/host.hpp>
#include <chainmesh/pubsub/gossip_router.hpp>
#include <chainmesh/util/rng.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace chainmesh::node {

inline constexpr std::string_view MESHSUB_V11 = "/meshsub/1.1.0";
inline constexpr std::string_view MESHSUB_V10 = "/meshsub/1.0.0";

struct GossipStats {
    std::size_t peers = 0;              // peers the router knows
    std::size_t slow_peer_disconnects = 0;
    std::size_t penalized = 0;
};

class GossipService {
public:
    // Runs on a worker thread: must not touch the host or the router.
    using Validator = std::function<pubsub::ValidationResult(const pubsub::ValidateMessage&)>;
    // Runs on the I/O thread for every accepted message (and our own publishes).
    using Subscriber = std::function<void(const pubsub::DeliverMessage&)>;

    GossipService(boost::asio::io_context& io, net::Host& host, pubsub::GossipConfig config,
                  Rng rng, boost::asio::thread_pool& workers);
    ~GossipService();
    GossipService(const GossipService&) = delete;
    GossipService& operator=(const GossipService&) = delete;

    // Registers the meshsub handlers and host listeners, and starts the heartbeat.
    void start();
    void stop();

    void subscribe(const pubsub::Topic& topic, Subscriber subscriber);
    void set_validator(const pubsub::Topic& topic, Validator validator);
    Result<pubsub::MessageId> publish(const pubsub::Topic& topic, Bytes data);

    // Called on the I/O thread after every heartbeat (metrics, tests waiting for a mesh).
    void add_heartbeat_listener(std::function<void()> listener);
    // Called on the I/O thread when peer exchange (a PRUNE's PX) suggests a peer to connect
    // to. PX carries ids only: whoever dials needs the addresses from elsewhere (a peer book).
    void on_peer_suggested(std::function<void(const crypto::PeerId&)> listener);

    const pubsub::GossipRouter& router() const;
    GossipStats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace chainmesh::node
