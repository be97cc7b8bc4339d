// pubsub_rpc: decode the input as a gossipsub RPC body; when it decodes, its encoding must
// decode to the same RPC and re-encode to the same bytes. Then feed the input, as an RPC from
// connected peers, to two routers (StrictSign and StrictNoSign) that are subscribed to
// "blocks" and have a few peers: validations are answered by a byte of the id, heartbeats
// run (so promises, backoffs and caches expire), every RPC the router emits must decode and
// fit the RPC bound, and check_invariants runs after every step.
//
// Peer A is identity A of libp2p-interop.md §14, so seeds holding A's signed messages get
// through signature checks and into validation, forwarding and the caches.

#include "fuzz_target.hpp"

#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/pubsub/gossip_router.hpp>
#include <chainmesh/pubsub/rpc.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <variant>

namespace chainmesh::fuzz {
namespace {

using namespace std::chrono_literals;

void check(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "pubsub_rpc fuzz invariant broken: %s\n", what);
        std::abort();
    }
}

crypto::Identity identity_from(std::uint8_t first) {
    crypto::Ed25519Seed seed{};
    for (std::size_t i = 0; i < seed.size(); ++i) {
        seed[i] = static_cast<std::uint8_t>(first + i);
    }
    return crypto::Identity(crypto::Ed25519PrivateKey::from_seed(seed));
}

struct Peers {
    crypto::Identity self = identity_from(0x80);
    crypto::Identity a = identity_from(0x00);  // §14 identity A
    crypto::Identity b = identity_from(0x40);  // §14 identity B
    crypto::Identity c = identity_from(0xc0);
};

const Peers& peers() {
    static const Peers p;
    return p;
}

pubsub::GossipConfig small_config(pubsub::SigningPolicy policy) {
    pubsub::GossipConfig config;
    config.d = 2;
    config.d_lo = 1;
    config.d_hi = 3;
    config.d_score = 1;
    config.d_out = 0;
    config.d_lazy = 2;
    config.max_message_bytes = 16 * 1024;
    config.max_rpc_bytes = 64 * 1024;
    config.max_pending_validation = 16;
    config.max_seen_messages = 256;
    config.max_ihave_length = 64;
    config.signing = policy;
    config.seqno_start = 1;
    config.score.topics["blocks"] = pubsub::TopicScoreParams{};
    return config;
}

// Answers validations, checks what the router sends.
void drain(pubsub::GossipRouter& router, const pubsub::GossipConfig& config, Instant now) {
    for (int round = 0; round < 4; ++round) {
        auto actions = router.take_actions();
        if (actions.empty()) {
            break;
        }
        for (auto& action : actions) {
            if (auto* send = std::get_if<pubsub::SendRpc>(&action)) {
                check(send->rpc.size() <= config.max_rpc_bytes, "emitted RPC within the bound");
                check(bool(pubsub::Rpc::decode(send->rpc, config.max_rpc_bytes)),
                      "emitted RPC decodes");
            } else if (auto* validate = std::get_if<pubsub::ValidateMessage>(&action)) {
                const std::uint8_t pick = validate->id.empty() ? 0 : validate->id.back();
                const auto result = static_cast<pubsub::ValidationResult>(pick % 3);
                router.report_validation(validate->id, result, now);
            }
        }
        router.check_invariants();
    }
}

void run_router(pubsub::SigningPolicy policy, ByteView data) {
    const Peers& p = peers();
    const auto config = small_config(policy);
    pubsub::GossipRouter router(config, p.self, Rng(42));
    Instant now = Instant{} + 1000s;
    router.subscribe("blocks", now);
    router.on_peer_connected(p.a.peer_id(), true, "10.0.0.1", now);
    router.on_peer_connected(p.b.peer_id(), false, "10.0.0.2", now);
    router.on_peer_connected(p.c.peer_id(), true, "10.0.0.3", now);
    pubsub::Rpc hello;
    hello.subscriptions.push_back({true, "blocks"});
    const Bytes hello_bytes = hello.encode();
    router.on_rpc(p.b.peer_id(), hello_bytes, now);
    router.on_rpc(p.c.peer_id(), hello_bytes, now);
    drain(router, config, now);

    router.on_rpc(p.a.peer_id(), data, now);
    drain(router, config, now);
    router.on_heartbeat(now);
    drain(router, config, now);
    now += 10ms;
    router.on_rpc(p.b.peer_id(), data, now);  // the same bytes from another peer: duplicates
    drain(router, config, now);
    (void)router.publish("blocks", to_bytes("ours"), now);
    drain(router, config, now);
    for (int beat = 0; beat < 6; ++beat) {
        now += 1s;
        router.on_heartbeat(now);
        drain(router, config, now);
    }
    router.on_rpc(p.c.peer_id(), data, now);
    router.on_peer_disconnected(p.a.peer_id(), now);
    drain(router, config, now);
    router.unsubscribe("blocks", now);
    drain(router, config, now);
    router.check_invariants();
}

}  // namespace

CHAINMESH_FUZZ_TARGET(pubsub_rpc, data) {
    constexpr std::size_t MAX_BYTES = 64 * 1024;
    auto rpc = pubsub::Rpc::decode(data, MAX_BYTES);
    if (rpc) {
        const Bytes encoded = rpc->encode();
        auto again = pubsub::Rpc::decode(encoded, MAX_BYTES + 1024);
        check(bool(again), "the encoding decodes");
        check(*again == *rpc, "decode(encode(x)) == x");
        check(again->encode() == encoded, "re-encoding is stable");
        for (const pubsub::Message& m : rpc->messages) {
            const Bytes signing = m.signing_bytes();
            check(signing.size() <= pubsub::SIGNING_PREFIX.size() + m.encode().size(),
                  "signed bytes are a prefix plus a subset of the fields");
        }
    }
    run_router(pubsub::SigningPolicy::strict_sign, data);
    run_router(pubsub::SigningPolicy::strict_no_sign, data);
}

}  // namespace chainmesh::fuzz
