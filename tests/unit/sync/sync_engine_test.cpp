#include <gtest/gtest.h>

#include <algorithm>
#include <chainmesh/sync/sync_engine.hpp>
#include <functional>
#include <map>
#include <random>
#include <set>

namespace chainmesh::sync {
namespace {

using crypto::PeerId;

constexpr std::uint64_t INVALID_NONCE = 666;

// A chain built with chain's types: linkage only, since pow is the node's check (the
// validator below stands in for it: weight 1 per header, refuses INVALID_NONCE).
std::vector<chain::Block> make_chain(std::uint64_t tip, std::uint64_t fork_tag = 0,
                                     const std::vector<chain::Block>* base = nullptr,
                                     std::uint64_t fork_above = 0) {
    std::vector<chain::Block> out;
    for (std::uint64_t height = 0; height <= tip; ++height) {
        if (base != nullptr && height <= fork_above) {
            out.push_back((*base)[height]);
            continue;
        }
        chain::Block block;
        block.header.network_id = "testnet";
        block.header.height = height;
        block.header.previous_hash = height == 0 ? Hash256{} : out.back().hash();
        block.header.timestamp_ms = 1'700'000'000'000 + height * 1000;
        block.header.nonce = height == 0 ? 0 : height * 1000 + fork_tag;
        out.push_back(std::move(block));
    }
    return out;
}

chain::Work work_at(std::uint64_t height) {
    return chain::Work::from_u64(height + 1);
}

class TestValidator final : public HeaderValidator {
public:
    Result<chain::Work> check_header(const chain::BlockHeader& header) override {
        ++checked;
        if (header.nonce == INVALID_NONCE || invalid.contains(header.hash())) {
            return SyncError::invalid_header;
        }
        return chain::Work::from_u64(1);
    }
    std::size_t checked = 0;
    std::set<Hash256> invalid;  // what the node's fork choice learned to be invalid
};

PeerId peer_id(std::uint8_t n) {
    Bytes multihash{0x12, 0x20};
    multihash.resize(34, n);
    return PeerId::from_bytes(multihash).value();
}

struct SimPeer {
    explicit SimPeer(std::vector<chain::Block> blocks) : chain(std::move(blocks)) {}
    std::vector<chain::Block> chain;
    std::optional<Status> claim;  // what it says instead of the truth
    bool answers_headers = true;
    bool answers_blocks = true;
    bool breaks_linkage = false;
    bool sends_wrong_block = false;
    std::size_t header_requests = 0;
    std::size_t block_requests = 0;
    std::size_t blocks_served = 0;
};

class Harness {
public:
    explicit Harness(SyncConfig config, std::vector<chain::Block> genesis_chain)
        : m_local(std::move(genesis_chain)),
          engine(config, validator, m_local[0].hash(), work_at(0)) {}

    PeerId add_peer(std::uint8_t n, SimPeer peer) {
        const PeerId id = peer_id(n);
        peers.emplace(id, std::move(peer));
        const SimPeer& sim = peers.at(id);
        Status status;
        status.genesis_hash = m_local[0].hash();
        status.best_height = sim.chain.size() - 1;
        status.best_hash = sim.chain.back().hash();
        status.cumulative_work = work_at(status.best_height);
        engine.on_peer_status(id, sim.claim.value_or(status), now);
        pump();
        return id;
    }

    void pump() {
        for (int round = 0; round < 100'000; ++round) {
            auto actions = engine.take_actions();
            if (actions.empty()) {
                break;
            }
            for (Action& action : actions) {
                std::visit([this](auto& a) { handle(a); }, action);
            }
            engine.check_invariants();
        }
    }

    void step(Duration dt) {
        now += dt;
        // Responses due by now, in the order they were sent.
        while (!m_in_transit.empty() && m_in_transit.begin()->first.first <= now) {
            auto respond = std::move(m_in_transit.begin()->second);
            m_in_transit.erase(m_in_transit.begin());
            respond();
            pump();
        }
        engine.on_tick(now);
        pump();
    }

    bool run_until_applied(std::uint64_t height, Duration limit) {
        const Instant end = now + limit;
        while (engine.applied_height() < height && now < end) {
            step(std::chrono::milliseconds(100));
        }
        return engine.applied_height() >= height;
    }

    std::size_t penalties_of(const PeerId& id, SyncError reason) const {
        return static_cast<std::size_t>(std::count_if(
            penalties.begin(), penalties.end(),
            [&](const Penalize& p) { return p.peer == id && p.reason == ErrorCode(reason); }));
    }

    std::vector<chain::Block> m_local;
    TestValidator validator;
    SyncEngine engine;
    Instant now = instant_from_nanos(1'000'000'000);
    std::map<PeerId, SimPeer> peers;
    std::vector<chain::Block> applied;
    std::vector<Penalize> penalties;
    std::vector<Progress> progress;
    Duration latency{0};       // zero: peers answer within the same input
    std::set<Hash256> reject;  // blocks the node fails to apply
    std::vector<PeerId> rejected_from;
    // When set, each response's fate: a delay, or none for a lost response.
    std::function<std::optional<Duration>()> network;

private:
    void respond(std::function<void()> answer) {
        Duration delay = latency;
        if (network) {
            const std::optional<Duration> fate = network();
            if (!fate) {
                return;  // lost
            }
            delay = *fate;
        }
        if (delay == Duration{0}) {
            answer();
        } else {
            m_in_transit.emplace(std::make_pair(now + delay, m_next_seq++), std::move(answer));
        }
    }

    std::map<std::pair<Instant, std::uint64_t>, std::function<void()>> m_in_transit;
    std::uint64_t m_next_seq = 0;

    void handle(SendRequest& send) {
        SimPeer& sim = peers.at(send.peer);
        if (auto* get = std::get_if<GetHeaders>(&send.request)) {
            ++sim.header_requests;
            if (!sim.answers_headers) {
                return;
            }
            std::uint64_t start = 0;
            for (const Hash256& hash : get->locator) {
                const auto it = std::find_if(sim.chain.begin(), sim.chain.end(),
                                             [&](const auto& b) { return b.hash() == hash; });
                if (it != sim.chain.end()) {
                    start = static_cast<std::uint64_t>(it - sim.chain.begin()) + 1;
                    break;
                }
            }
            std::vector<chain::BlockHeader> headers;
            for (std::uint64_t h = start; h < sim.chain.size() && headers.size() < get->max_count;
                 ++h) {
                headers.push_back(sim.chain[h].header);
            }
            if (sim.breaks_linkage && headers.size() > 2) {
                headers[2].previous_hash[0] ^= 1;
            }
            respond([this, peer = send.peer, id = send.id, headers = std::move(headers)] {
                engine.on_headers(peer, id, headers, now);
            });
        } else if (auto* blocks = std::get_if<GetBlocks>(&send.request)) {
            ++sim.block_requests;
            if (!sim.answers_blocks) {
                return;
            }
            std::vector<chain::Block> out;
            for (const Hash256& hash : blocks->hashes) {
                for (const chain::Block& block : sim.chain) {
                    if (block.hash() == hash) {
                        out.push_back(block);
                    }
                }
            }
            if (sim.sends_wrong_block && !out.empty()) {
                out[0].header.nonce += 1;
            }
            sim.blocks_served += out.size();
            respond([this, peer = send.peer, id = send.id, out = std::move(out)]() mutable {
                engine.on_blocks(peer, id, std::move(out), now);
            });
        } else {
            FAIL() << "unexpected status request";
        }
    }
    void handle(DeliverBlock& deliver) {
        if (reject.contains(deliver.block.hash())) {
            validator.invalid.insert(deliver.block.hash());
            rejected_from.push_back(deliver.from);
            engine.on_block_invalid(deliver.height, deliver.block.hash(), now);
            return;
        }
        if (!rejected_from.empty() &&
            (deliver.height != applied.size() + 1 ||
             deliver.block.header.previous_hash != applied.back().hash())) {
            return;  // delivered above a block that failed: the node's fork choice orphans it
        }
        EXPECT_EQ(deliver.height, applied.size() + 1);
        const std::uint64_t height = deliver.height;
        const Hash256 hash = deliver.block.hash();
        applied.push_back(std::move(deliver.block));
        engine.on_block_applied(height, hash, work_at(height), now);
    }
    void handle(Penalize& penalize) { penalties.push_back(penalize); }
    void handle(Progress& p) { progress.push_back(p); }
};

SyncConfig small_config() {
    SyncConfig config;
    config.headers_per_request = 100;
    config.blocks_per_request = 8;
    config.max_requests_per_peer = 2;
    config.max_requests_total = 6;
    config.window_blocks = 64;
    return config;
}

void expect_applied_chain(const Harness& harness, const std::vector<chain::Block>& chain) {
    ASSERT_EQ(harness.applied.size() + 1, chain.size());
    for (std::size_t i = 0; i < harness.applied.size(); ++i) {
        ASSERT_EQ(harness.applied[i].hash(), chain[i + 1].hash()) << i;
    }
}

TEST(SyncEngine, LocatorIsExponentiallySpaced) {
    const auto chain = make_chain(300);
    Harness harness(small_config(), chain);
    harness.add_peer(1, SimPeer{chain});
    const auto locator = harness.engine.locator();
    ASSERT_GE(harness.engine.header_height(), 100U);
    const std::uint64_t tip = harness.engine.header_height();
    ASSERT_GT(locator.size(), 11U);
    EXPECT_LE(locator.size(), MAX_LOCATOR_HASHES);
    for (std::size_t i = 0; i < 10; ++i) {
        EXPECT_EQ(locator[i], chain[tip - i].hash()) << i;
    }
    EXPECT_EQ(locator[10], chain[tip - 11].hash());
    EXPECT_EQ(locator[11], chain[tip - 15].hash());
    EXPECT_EQ(locator.back(), chain[0].hash());
}

TEST(SyncEngine, SyncsFromThreePeersInParallel) {
    const auto chain = make_chain(300);
    Harness harness(small_config(), chain);
    harness.latency = std::chrono::milliseconds(50);
    const PeerId a = harness.add_peer(1, SimPeer{chain});
    const PeerId b = harness.add_peer(2, SimPeer{chain});
    const PeerId c = harness.add_peer(3, SimPeer{chain});
    ASSERT_TRUE(harness.run_until_applied(300, std::chrono::seconds(60)));
    expect_applied_chain(harness, chain);
    EXPECT_TRUE(harness.penalties.empty());
    EXPECT_GT(harness.peers.at(a).blocks_served, 0U);
    EXPECT_GT(harness.peers.at(b).blocks_served, 0U);
    EXPECT_GT(harness.peers.at(c).blocks_served, 0U);
    EXPECT_EQ(harness.engine.header_height(), 300U);
    EXPECT_FALSE(harness.engine.syncing());
    EXPECT_EQ(harness.engine.requests_in_flight(), 0U);
    EXPECT_EQ(harness.validator.checked, 300U);  // each header checked once
    harness.step(std::chrono::seconds(6));
    ASSERT_FALSE(harness.progress.empty());
    EXPECT_EQ(harness.progress.back().height, 300U);
    EXPECT_EQ(harness.progress.back().target_height, 300U);
}

TEST(SyncEngine, TimedOutPeerLosesItsRequests) {
    const auto chain = make_chain(200);
    Harness harness(small_config(), chain);
    SimPeer silent{chain};
    silent.answers_blocks = false;
    const PeerId a = harness.add_peer(1, silent);
    const PeerId b = harness.add_peer(2, SimPeer{chain});
    const PeerId c = harness.add_peer(3, SimPeer{chain});
    ASSERT_GT(harness.peers.at(a).block_requests, 0U);
    ASSERT_TRUE(harness.run_until_applied(200, std::chrono::seconds(120)));
    expect_applied_chain(harness, chain);
    EXPECT_GT(
        harness.penalties_of(a, SyncError::timeout) + harness.penalties_of(a, SyncError::stall),
        0U);
    EXPECT_EQ(harness.penalties_of(b, SyncError::timeout), 0U);
    EXPECT_EQ(harness.penalties_of(c, SyncError::timeout), 0U);
    EXPECT_EQ(harness.penalties_of(b, SyncError::stall), 0U);
}

TEST(SyncEngine, StallingPeerIsPenalisedBeforeTimeout) {
    const auto chain = make_chain(100);
    SyncConfig config = small_config();
    config.request_timeout = std::chrono::seconds(60);
    Harness harness(config, chain);
    SimPeer slow{chain};
    slow.answers_blocks = false;
    const PeerId a = harness.add_peer(1, slow);  // takes the lowest batch first
    harness.add_peer(2, SimPeer{chain});
    ASSERT_TRUE(harness.run_until_applied(100, std::chrono::seconds(30)));
    EXPECT_GT(harness.penalties_of(a, SyncError::stall), 0U);
    EXPECT_EQ(harness.penalties_of(a, SyncError::timeout), 0U);
}

TEST(SyncEngine, LyingPeerIsNotTrusted) {
    const auto chain = make_chain(200);
    Harness harness(small_config(), chain);
    SimPeer liar{make_chain(50)};
    Status claim;
    claim.genesis_hash = chain[0].hash();
    claim.best_height = 1'000'000;
    claim.best_hash[0] = 0x42;
    claim.cumulative_work = chain::Work::from_u64(1'000'000);
    liar.claim = claim;
    const PeerId liar_id = harness.add_peer(1, liar);
    // Asked first (it claims the most) but shows only 50 headers: penalised, not believed.
    EXPECT_EQ(harness.penalties_of(liar_id, SyncError::claim_not_backed), 1U);
    EXPECT_EQ(harness.engine.header_height(), 50U);
    const PeerId honest = harness.add_peer(2, SimPeer{chain});
    ASSERT_TRUE(harness.run_until_applied(200, std::chrono::seconds(60)));
    expect_applied_chain(harness, chain);
    EXPECT_EQ(harness.engine.header_height(), 200U);
    for (const Progress& p : harness.progress) {
        EXPECT_LE(p.target_height, 200U);
    }
    EXPECT_EQ(harness.peers.at(liar_id).header_requests, 1U);
    EXPECT_TRUE(harness.penalties_of(honest, SyncError::claim_not_backed) == 0U);
}

TEST(SyncEngine, BadLinkageAndInvalidHeadersArePenalised) {
    const auto chain = make_chain(50);
    Harness harness(small_config(), chain);
    SimPeer broken{chain};
    broken.breaks_linkage = true;
    const PeerId a = harness.add_peer(1, broken);
    EXPECT_EQ(harness.penalties_of(a, SyncError::bad_linkage), 1U);
    EXPECT_EQ(harness.engine.header_height(), 0U);

    auto bad_chain = make_chain(50);
    bad_chain[10].header.nonce = INVALID_NONCE;
    for (std::size_t h = 11; h < bad_chain.size(); ++h) {
        bad_chain[h].header.previous_hash = bad_chain[h - 1].hash();
    }
    const PeerId b = harness.add_peer(2, SimPeer{bad_chain});
    EXPECT_EQ(harness.penalties_of(b, SyncError::invalid_header), 1U);
    EXPECT_EQ(harness.engine.header_height(), 0U);

    const PeerId c = harness.add_peer(3, SimPeer{chain});
    ASSERT_TRUE(harness.run_until_applied(50, std::chrono::seconds(60)));
    expect_applied_chain(harness, chain);
    EXPECT_TRUE(harness.penalties_of(c, SyncError::bad_linkage) == 0U);
}

TEST(SyncEngine, WrongBlockIsPenalisedAndRefetched) {
    const auto chain = make_chain(40);
    Harness harness(small_config(), chain);
    SimPeer bad{chain};
    bad.sends_wrong_block = true;
    const PeerId a = harness.add_peer(1, bad);
    EXPECT_GT(harness.penalties_of(a, SyncError::wrong_block), 0U);
    EXPECT_EQ(harness.applied.size(), 0U);
    harness.add_peer(2, SimPeer{chain});
    ASSERT_TRUE(harness.run_until_applied(40, std::chrono::seconds(60)));
    expect_applied_chain(harness, chain);
}

TEST(SyncEngine, UnsolicitedAndWrongNetwork) {
    const auto chain = make_chain(10);
    Harness harness(small_config(), chain);
    const PeerId a = peer_id(1);
    harness.engine.on_headers(a, 77, {}, harness.now);
    harness.engine.on_blocks(a, 78, {}, harness.now);
    Status other;
    other.genesis_hash[0] = 1;
    other.best_height = 500;
    other.cumulative_work = chain::Work::from_u64(500);
    harness.engine.on_peer_status(a, other, harness.now);
    harness.pump();
    EXPECT_EQ(harness.penalties_of(a, SyncError::unsolicited), 2U);
    EXPECT_EQ(harness.penalties_of(a, SyncError::wrong_network), 1U);
    EXPECT_EQ(harness.engine.requests_in_flight(), 0U);
}

TEST(SyncEngine, DisconnectMovesRequestsToOthers) {
    const auto chain = make_chain(120);
    Harness harness(small_config(), chain);
    SimPeer silent{chain};
    silent.answers_blocks = false;
    const PeerId a = harness.add_peer(1, silent);
    harness.add_peer(2, SimPeer{chain});
    harness.engine.on_peer_disconnected(a, harness.now);
    harness.peers.erase(a);
    harness.pump();
    ASSERT_TRUE(harness.run_until_applied(120, std::chrono::seconds(30)));
    expect_applied_chain(harness, chain);
    EXPECT_TRUE(harness.penalties.empty());
}

TEST(SyncEngine, SwitchesToHeavierBranch) {
    const auto first = make_chain(60);
    Harness harness(small_config(), first);
    harness.add_peer(1, SimPeer{first});
    ASSERT_TRUE(harness.run_until_applied(60, std::chrono::seconds(30)));
    // A heavier branch forking at 40: the engine delivers its blocks from 41 on, for the
    // node's fork choice to reorg.
    const auto second = make_chain(90, 7, &first, 40);
    harness.applied.resize(40);  // the node will revert to the fork point
    harness.add_peer(2, SimPeer{second});
    EXPECT_EQ(harness.engine.header_height(), 90U);
    ASSERT_TRUE(harness.run_until_applied(90, std::chrono::seconds(30)));
    expect_applied_chain(harness, second);
}

// Found by the simulator (chain_partition_heal, seed 2): after a partition, a node learnt a
// heavier branch's headers and began its download, then applied a gossip block of its own
// lighter branch. The engine took that block as on the header chain, believed the node held
// the heavier branch's blocks below it, and sync stalled for good.
TEST(SyncEngine, OwnLighterBlockDoesNotDerailADownload) {
    const auto own = make_chain(12);
    const auto heavy = make_chain(18, 7, &own, 4);
    TestValidator validator;
    SyncEngine engine(small_config(), validator, own[0].hash(), work_at(0));
    const Instant now{};
    for (std::uint64_t h = 1; h <= 11; ++h) {
        engine.on_block_applied(h, own[h].hash(), work_at(h), now);
    }
    const PeerId peer = peer_id(1);
    engine.on_peer_status(peer,
                          Status{own[0].hash(), 18, heavy[18].hash(), work_at(18)}, now);
    std::optional<RequestId> headers_request;
    for (auto& action : engine.take_actions()) {
        if (auto* send = std::get_if<SendRequest>(&action);
            send && std::holds_alternative<GetHeaders>(send->request)) {
            headers_request = send->id;
        }
    }
    ASSERT_TRUE(headers_request);
    std::vector<chain::BlockHeader> headers;
    for (std::uint64_t h = 5; h <= 18; ++h) {
        headers.push_back(heavy[h].header);
    }
    engine.on_headers(peer, *headers_request, headers, now);
    ASSERT_EQ(engine.header_height(), 18U);
    EXPECT_EQ(engine.applied_height(), 4U) << "the node's 5..11 are not the heavier branch's";

    engine.on_block_applied(12, own[12].hash(), work_at(12), now);
    EXPECT_EQ(engine.header_height(), 18U);
    EXPECT_EQ(engine.applied_height(), 4U);
    EXPECT_TRUE(engine.syncing());
    EXPECT_EQ(engine.local_status().best_height, 12U) << "peers hear of the node's own tip";
    engine.check_invariants();

    // The node later reorganises onto the heavier branch, block by block.
    for (std::uint64_t h = 5; h <= 18; ++h) {
        engine.on_block_applied(h, heavy[h].hash(), work_at(h), now);
    }
    EXPECT_EQ(engine.applied_height(), 18U);
    EXPECT_FALSE(engine.syncing());
    engine.check_invariants();
}

TEST(SyncEngine, InvalidBlockCutsTheHeaderChain) {
    const auto bad = make_chain(50);
    const auto good = make_chain(60, 3, &bad, 19);
    Harness harness(small_config(), bad);
    harness.reject.insert(bad[20].hash());
    const PeerId a = harness.add_peer(1, SimPeer{bad});
    ASSERT_EQ(harness.rejected_from.size(), 1U);
    EXPECT_EQ(harness.rejected_from[0], a);
    EXPECT_EQ(harness.applied.size(), 19U);
    // Asked again, the same branch fails the node's validator now.
    EXPECT_EQ(harness.penalties_of(a, SyncError::invalid_header), 1U);
    EXPECT_EQ(harness.engine.header_height(), 19U);
    harness.add_peer(2, SimPeer{good});
    ASSERT_TRUE(harness.run_until_applied(60, std::chrono::seconds(30)));
    expect_applied_chain(harness, good);
}

TEST(SyncEngine, FullButLighterBranchIsNotAskedForever) {
    const auto chain = make_chain(60);
    SyncConfig config = small_config();
    config.headers_per_request = 20;
    Harness harness(config, chain);
    harness.add_peer(1, SimPeer{chain});
    ASSERT_TRUE(harness.run_until_applied(60, std::chrono::seconds(30)));
    // A branch from 10 as long as ours, whose peer claims one unit more work than it has.
    SimPeer side{make_chain(60, 5, &chain, 10)};
    Status claim;
    claim.genesis_hash = chain[0].hash();
    claim.best_height = 60;
    claim.best_hash = side.chain.back().hash();
    claim.cumulative_work = work_at(61);
    side.claim = claim;
    const PeerId b = harness.add_peer(2, side);
    harness.step(std::chrono::seconds(1));
    EXPECT_EQ(harness.peers.at(b).header_requests, 1U);
    EXPECT_EQ(harness.engine.header_height(), 60U);
    EXPECT_EQ(harness.engine.applied_height(), 60U);
    EXPECT_FALSE(harness.engine.syncing());
}

// Seeded runs with random delays, lost responses and a peer that leaves and comes back: sync
// always completes without a restart. A failure names its seed.
TEST(SyncEngine, RandomFaultsNeverNeedARestart) {
    const auto chain = make_chain(300);
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        std::mt19937_64 rng(seed);
        Harness harness(small_config(), chain);
        harness.network = [&rng]() -> std::optional<Duration> {
            if (rng() % 10 == 0) {
                return std::nullopt;
            }
            return std::chrono::milliseconds(10 + rng() % 2000);
        };
        for (std::uint8_t n = 1; n <= 4; ++n) {
            harness.add_peer(n, SimPeer{chain});
        }
        for (int i = 0; i < 50; ++i) {
            harness.step(std::chrono::milliseconds(100));
        }
        harness.engine.on_peer_disconnected(peer_id(2), harness.now);
        harness.pump();
        harness.peers.erase(peer_id(2));
        harness.add_peer(2, SimPeer{chain});
        ASSERT_TRUE(harness.run_until_applied(300, std::chrono::minutes(10)));
        expect_applied_chain(harness, chain);
    }
}

TEST(SyncEngine, HeadersStartFindsTheFirstKnownLocatorHash) {
    const auto chain = make_chain(30);
    std::map<Hash256, std::uint64_t> best;
    for (std::uint64_t h = 0; h <= 20; ++h) {
        best.emplace(chain[h].hash(), h);
    }
    const auto lookup = [&best](const Hash256& hash) -> std::optional<std::uint64_t> {
        const auto it = best.find(hash);
        return it == best.end() ? std::nullopt : std::optional<std::uint64_t>(it->second);
    };
    GetHeaders request;
    request.locator = {chain[25].hash(), chain[18].hash(), chain[0].hash()};
    request.max_count = 10;
    EXPECT_EQ(headers_start(request, lookup), 18U);
    request.locator = {Hash256{}};
    EXPECT_EQ(headers_start(request, lookup), 0U);
}

TEST(SyncEngine, ProgressReportsRateAndTimeLeft) {
    const auto chain = make_chain(400);
    SyncConfig config = small_config();
    config.progress_interval = std::chrono::seconds(1);
    Harness harness(config, chain);
    harness.latency = std::chrono::milliseconds(500);
    harness.add_peer(1, SimPeer{chain});
    ASSERT_TRUE(harness.run_until_applied(400, std::chrono::seconds(120)));
    ASSERT_GE(harness.progress.size(), 2U);
    // The target is the verified header height: it grows as headers arrive, never from claims.
    for (std::size_t i = 1; i < harness.progress.size(); ++i) {
        EXPECT_GE(harness.progress[i].target_height, harness.progress[i - 1].target_height);
    }
    EXPECT_LT(harness.progress.front().target_height, 400U);
    EXPECT_EQ(harness.progress.back().target_height, 400U);
    bool saw_rate = false;
    for (const Progress& p : harness.progress) {
        if (p.blocks_per_second > 0 && p.height < p.target_height) {
            saw_rate = true;
            ASSERT_TRUE(p.seconds_left);
            EXPECT_NEAR(*p.seconds_left,
                        static_cast<double>(p.target_height - p.height) / p.blocks_per_second,
                        1e-9);
        }
    }
    EXPECT_TRUE(saw_rate);
}

}  // namespace
}  // namespace chainmesh::sync
