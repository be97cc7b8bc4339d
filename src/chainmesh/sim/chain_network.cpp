#include <chainmesh/sim/chain_network.hpp>

#include <chainmesh/chain/apply.hpp>
#include <chainmesh/chain/memory_state.hpp>
#include <chainmesh/chain/merkle.hpp>
#include <chainmesh/chain/validation.hpp>
#include <chainmesh/consensus/pow/pow.hpp>
#include <chainmesh/consensus/pow/pow_engine.hpp>
#include <chainmesh/mempool/mempool.hpp>
#include <chainmesh/mempool/verified_transaction.hpp>
#include <chainmesh/sync/fork_header_validator.hpp>
#include <chainmesh/util/bytes.hpp>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <variant>

namespace chainmesh::sim {

namespace {

constexpr std::uint64_t GENESIS_MS = 1'700'000'000'000;
constexpr std::size_t BEST_BLOCK_BYTES = 8 + 32 + 32;  // height, hash, cumulative work
constexpr std::uint64_t FUNDER_BALANCE = 1'000'000'000;
constexpr std::uint64_t WALLET_BALANCE = 1'000'000;

// Direct messages: u8 kind ‖ u64be request id ‖ sync message (sync_codec.hpp).
enum class Envelope : std::uint8_t { request = 1, response = 2 };

Bytes envelope(Envelope kind, std::uint64_t id, const Bytes& body) {
    Bytes out;
    out.reserve(9 + body.size());
    out.push_back(static_cast<std::uint8_t>(kind));
    put_u64be(out, id);
    append(out, body);
    return out;
}

std::string short_hex(const Hash256& hash) {
    char text[16];
    std::snprintf(text, sizeof text, "%02x%02x%02x%02x", hash[0], hash[1], hash[2], hash[3]);
    return text;
}

crypto::Ed25519PrivateKey wallet_key(std::uint64_t seed, std::size_t index) {
    crypto::Ed25519Seed key_seed{};
    Rng(seed ^ (0x77616c6c6574ULL + index)).fill(key_seed);
    return crypto::Ed25519PrivateKey::from_seed(key_seed);
}

chain::Genesis make_genesis(const ChainConfig& config, const chain::Address& funder) {
    chain::PowGenesisSpec spec;
    spec.network_id = "sim";
    spec.difficulty = 1;
    spec.block_time_ms = static_cast<std::uint64_t>(
        std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(
                                      config.block_interval)
                                      .count()));
    spec.block_reward = 50;
    spec.timestamp_ms = GENESIS_MS;
    spec.allocations = {{funder, FUNDER_BALANCE}};
    for (std::size_t i = 0; i < config.wallets; ++i) {
        spec.allocations.push_back(
            {chain::Address::from_public_key(wallet_key(config.network.seed, i).public_key()),
             WALLET_BALANCE});
    }
    auto genesis = chain::make_pow_genesis(std::move(spec));
    assert(genesis);
    genesis->params.pow.max_reorg_depth = config.max_reorg_depth;
    return *genesis;
}

crypto::Ed25519PrivateKey funder_key(std::uint64_t seed) {
    crypto::Ed25519Seed key_seed{};
    Rng(seed ^ 0xf00dfeedULL).fill(key_seed);
    return crypto::Ed25519PrivateKey::from_seed(key_seed);
}

}  // namespace

// What survives a crash.
struct ChainNetwork::Disk {
    std::map<Hash256, chain::Block> blocks;  // every block accepted
    std::vector<Hash256> chain;              // the applied chain above genesis
};

// What a crash loses.
struct ChainNetwork::ChainNode {
    ChainNode(ChainNetwork& owner, const chain::Genesis& genesis,
              const chain::BlockHeader& genesis_header, const Hash256& genesis_hash)
        : engine(genesis.params),
          fork(genesis.params,
               chain::ForkChoiceConfig{.max_reorg_depth = genesis.params.pow.max_reorg_depth},
               engine, genesis_header),
          state(genesis.initial_state()),
          validator(fork, genesis.params, engine, [&owner] { return owner.now_ms(); }),
          sync(owner.m_config.sync, validator, genesis_hash, engine.weight(genesis_header)),
          pool(mempool::MempoolConfig{}, genesis.params) {
        undo.emplace_back();  // genesis
    }

    consensus::pow::PowEngine engine;
    chain::ForkChoice fork;
    chain::MemoryState state;
    std::vector<std::optional<chain::BlockUndo>> undo;  // by height; none: kept untried
    sync::ForkChoiceHeaderValidator validator;
    sync::SyncEngine sync;
    mempool::Mempool pool;
    std::map<NodeIndex, Instant> last_status_request;
    std::optional<Instant> armed_wakeup;
    // The block handle_block is looking at, and who sent it.
    std::optional<Hash256> current_block;
    std::optional<NodeIndex> current_source;
    std::optional<ErrorCode> current_rejection;
};

std::string format_chain_metrics(const ChainMetrics& m) {
    char text[1024];
    std::snprintf(text, sizeof text,
                  "blocks_mined %llu\ninvalid_blocks_made %llu\nblocks_applied %llu\n"
                  "reorgs %llu\ndeepest_reorg %llu\nsync_requests %llu\nblocks_synced %llu\n"
                  "status_requests %llu\npenalties_bad_data %llu\npenalties_slow %llu\n"
                  "invalid_applied %llu\nhonest_penalised %llu\nmin_height %llu\n"
                  "max_height %llu\ndistinct_tips %zu\n",
                  static_cast<unsigned long long>(m.blocks_mined),
                  static_cast<unsigned long long>(m.invalid_blocks_made),
                  static_cast<unsigned long long>(m.blocks_applied),
                  static_cast<unsigned long long>(m.reorgs),
                  static_cast<unsigned long long>(m.deepest_reorg),
                  static_cast<unsigned long long>(m.sync_requests),
                  static_cast<unsigned long long>(m.blocks_synced),
                  static_cast<unsigned long long>(m.status_requests),
                  static_cast<unsigned long long>(m.penalties_bad_data),
                  static_cast<unsigned long long>(m.penalties_slow),
                  static_cast<unsigned long long>(m.invalid_applied),
                  static_cast<unsigned long long>(m.honest_penalised),
                  static_cast<unsigned long long>(m.min_height),
                  static_cast<unsigned long long>(m.max_height), m.distinct_tips);
    std::string out = text;
    std::snprintf(text, sizeof text,
                  "transactions_made %llu\ninvalid_transactions_made %llu\n"
                  "transactions_admitted %llu\ninvalid_tx_admitted %llu\n"
                  "transactions_confirmed %llu\ntransactions_refused %llu\n",
                  static_cast<unsigned long long>(m.transactions_made),
                  static_cast<unsigned long long>(m.invalid_transactions_made),
                  static_cast<unsigned long long>(m.transactions_admitted),
                  static_cast<unsigned long long>(m.invalid_tx_admitted),
                  static_cast<unsigned long long>(m.transactions_confirmed),
                  static_cast<unsigned long long>(m.transactions_refused));
    return out + text;
}

ChainNetwork::ChainNetwork(ChainConfig config, Hooks hooks)
    : m_config(std::move(config)),
      m_genesis(make_genesis(m_config, chain::Address::from_public_key(
                                           funder_key(m_config.network.seed).public_key()))),
      m_genesis_header(m_genesis.block().header),
      m_genesis_hash(m_genesis_header.hash()),
      m_funder(funder_key(m_config.network.seed)),
      m_block_topic("/chainmesh/sim/block"),
      m_bestblock_topic("/chainmesh/sim/bestblock"),
      m_tx_topic("/chainmesh/sim/tx"),
      m_rng(m_config.network.seed ^ 0x6d696e696e67ULL) {
    NetworkConfig network = m_config.network;
    network.topics.push_back(m_block_topic);
    network.topics.push_back(m_bestblock_topic);
    network.unchecked_topics.push_back(m_block_topic);
    network.unchecked_topics.push_back(m_bestblock_topic);
    if (m_config.wallets > 0) {
        // A transaction already in a block is rightly ignored: the mempool judges delivery.
        network.topics.push_back(m_tx_topic);
        network.unchecked_topics.push_back(m_tx_topic);
    }
    for (std::size_t i = 0; i < m_config.wallets; ++i) {
        m_wallets.push_back(wallet_key(m_config.network.seed, i));
    }
    m_wallet_nonces.assign(m_config.wallets, 0);
    m_network = std::make_unique<GossipNetwork>(std::move(network), std::move(hooks));
    const std::size_t n = m_network->node_count();
    m_trusting.assign(n, false);
    m_counted.assign(n, std::nullopt);
    for (NodeIndex node = 0; node < n; ++node) {
        m_index.emplace(m_network->peer_id(node), node);
        m_disks.push_back(std::make_unique<Disk>());
        m_nodes.push_back(nullptr);
        start_node(node);
    }
    m_network->set_application(this);
    if (m_config.wallets > 0) {
        // Every node on the same beat; a real node's timer starts with the node.
        const Instant until = m_config.mining_stop == Instant::max()
                                  ? Instant{} + std::chrono::hours{24}
                                  : m_config.mining_stop + m_config.block_interval;
        m_network->schedule(Instant{} + mempool::REBROADCAST_INTERVAL,
                            [this, until] { rebroadcast(until); });
    }
    std::vector<NodeIndex> miners = m_config.miners;
    if (miners.empty()) {
        for (NodeIndex node = 0; node < n; ++node) {
            miners.push_back(node);
        }
    }
    m_config.miners = miners;
    for (const NodeIndex miner : miners) {
        schedule_mining(miner, m_config.mining_start);
    }
    if (m_config.mining_stop != Instant::max()) {
        // Two branches of equal work can both last until the next block: first-seen keeps
        // each node on its own. One last block settles such a tie, as the next one would on a
        // live network.
        m_network->schedule(m_config.mining_stop + m_config.block_interval, [this] {
            for (const NodeIndex miner : m_config.miners) {
                if (m_nodes[miner] && m_network->is_honest(miner) && !m_trusting[miner] &&
                    !m_nodes[miner]->sync.syncing()) {
                    mine(miner, false);
                    return;
                }
            }
        });
    }
}

ChainNetwork::~ChainNetwork() = default;

std::uint64_t ChainNetwork::now_ms() const {
    const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(
        m_network->now().time_since_epoch());
    return GENESIS_MS + static_cast<std::uint64_t>(since.count());
}

std::optional<NodeIndex> ChainNetwork::index_of(const crypto::PeerId& peer) const {
    const auto it = m_index.find(peer);
    if (it == m_index.end()) {
        return std::nullopt;
    }
    return it->second;
}

void ChainNetwork::record_violation(std::string text) {
    ++m_violation_count;
    if (m_violations.size() < MAX_VIOLATION_TEXTS) {
        m_violations.push_back("seed " + std::to_string(m_config.network.seed) + ": " +
                               std::move(text));
    }
}

void ChainNetwork::check_engines(NodeIndex node) const {
    if (m_config.check_engine_invariants && m_nodes[node]) {
        m_nodes[node]->fork.check_invariants();
        m_nodes[node]->sync.check_invariants();
        m_nodes[node]->pool.check_invariants(&m_nodes[node]->state);
    }
}

// --- lifecycle ------------------------------------------------------------------------------

void ChainNetwork::start_node(NodeIndex node) {
    auto chain_node = std::make_unique<ChainNode>(*this, m_genesis, m_genesis_header,
                                                  m_genesis_hash);
    ChainNode& c = *chain_node;
    // From disk, as the node restores its store: no re-validation of the fork choice. The
    // state is rebuilt by applying the chain (the real node keeps it on disk instead).
    const Disk& disk = *m_disks[node];
    for (const Hash256& hash : disk.chain) {
        const chain::Block& block = disk.blocks.at(hash);
        const auto restored = c.fork.restore_applied(block.header);
        assert(restored);
        (void)restored;
        auto effects = chain::apply_block(c.state, block, m_genesis.params,
                                          chain::SignatureCheck::already_verified);
        if (effects) {
            c.undo.emplace_back(std::move(effects->undo));
        } else {
            c.undo.emplace_back();  // a trusting node's untried block
        }
        c.sync.on_block_applied(block.header.height, hash, *c.fork.chain_work(hash),
                                m_network->now());
    }
    m_nodes[node] = std::move(chain_node);
    check_engines(node);
}

void ChainNetwork::on_crash(NodeIndex node) {
    m_nodes[node].reset();
    count_tip(node);
}

void ChainNetwork::on_restart(NodeIndex node) {
    start_node(node);
    count_tip(node);
}

void ChainNetwork::on_connected(NodeIndex node, NodeIndex peer) {
    if (m_nodes[node]) {
        request_status(node, peer);
    }
}

void ChainNetwork::on_disconnected(NodeIndex node, NodeIndex peer) {
    if (ChainNode* c = m_nodes[node].get()) {
        c->sync.on_peer_disconnected(m_network->peer_id(peer), m_network->now());
        c->last_status_request.erase(peer);
        drive_sync(node);
    }
}

void ChainNetwork::set_trusting(NodeIndex node, bool trusting) {
    m_trusting.at(node) = trusting;
}

// --- tips -----------------------------------------------------------------------------------

std::optional<ChainNetwork::Tip> ChainNetwork::tip(NodeIndex node) const {
    const ChainNode* c = m_nodes.at(node).get();
    if (c == nullptr) {
        return std::nullopt;
    }
    const Disk& disk = *m_disks[node];
    return Tip{disk.chain.size(), disk.chain.empty() ? m_genesis_hash : disk.chain.back()};
}

std::uint64_t ChainNetwork::run_until(Instant end) {
    // Honesty may have changed since the last run (the scenario sets it after building).
    m_tip_counts.clear();
    m_counted.assign(m_nodes.size(), std::nullopt);
    for (NodeIndex node = 0; node < m_nodes.size(); ++node) {
        count_tip(node);
    }
    note_agreement();
    return m_network->run_until(end);
}

bool ChainNetwork::tips_agree() const {
    return m_tip_counts.size() == 1;
}

void ChainNetwork::note_agreement() {
    if (!tips_agree()) {
        m_agreed_since.reset();
        return;
    }
    if (!m_agreed_since) {
        m_agreed_since = m_network->now();
        if (m_agreements.size() < MAX_AGREEMENTS) {
            m_agreements.push_back(*m_agreed_since);
        }
    }
}

std::optional<Instant> ChainNetwork::first_agreement_after(Instant t) const {
    if (m_agreed_since && *m_agreed_since <= t) {
        return t;  // already agreeing then
    }
    const auto it = std::lower_bound(m_agreements.begin(), m_agreements.end(), t);
    if (it == m_agreements.end()) {
        return std::nullopt;
    }
    return *it;
}

void ChainNetwork::count_tip(NodeIndex node) {
    std::optional<Hash256> now_counted;
    if (m_nodes[node] && m_network->is_honest(node)) {
        now_counted = tip(node)->hash;
    }
    std::optional<Hash256>& counted = m_counted[node];
    if (counted == now_counted) {
        return;
    }
    if (counted) {
        const auto it = m_tip_counts.find(*counted);
        if (--it->second == 0) {
            m_tip_counts.erase(it);
        }
    }
    if (now_counted) {
        ++m_tip_counts[*now_counted];
    }
    counted = now_counted;
    note_agreement();
}

void ChainNetwork::tip_changed(NodeIndex node, const Hash256& old_tip) {
    const ChainNode& c = *m_nodes[node];
    const Tip now = *tip(node);
    if (now.hash == old_tip) {
        return;
    }
    count_tip(node);
    Bytes message;
    put_u64be(message, now.height);
    append(message, now.hash);
    append(message, c.fork.chain_work(now.hash).value_or(chain::Work{}).to_bytes());
    m_network->publish(node, m_bestblock_topic, std::move(message));
}

// --- blocks ---------------------------------------------------------------------------------

pubsub::ValidationResult ChainNetwork::validate(NodeIndex node, const pubsub::ValidateMessage& m) {
    ChainNode* c = m_nodes[node].get();
    const auto source = index_of(m.propagation_source);
    if (c == nullptr || !source) {
        return pubsub::ValidationResult::ignore;
    }
    if (m.topic == m_bestblock_topic) {
        if (m.data.size() != BEST_BLOCK_BYTES) {
            return pubsub::ValidationResult::reject;
        }
        Hash256 work_bytes{};
        std::copy_n(m.data.begin() + 40, work_bytes.size(), work_bytes.begin());
        const auto author = m.author ? index_of(*m.author) : std::nullopt;
        // Only a connected author can be asked; others hear of the work from their peers.
        if (author && *author != node && m_network->reachable(node, *author) &&
            chain::Work::from_bytes(work_bytes) > c->fork.tip_work()) {
            request_status(node, *author);
        }
        return pubsub::ValidationResult::accept;
    }
    if (m.topic == m_tx_topic) {
        return validate_transaction(node, *source, m.data);
    }
    if (m.topic != m_block_topic) {
        return pubsub::ValidationResult::accept;  // the scenario's own messages
    }
    auto block = chain::Block::decode(m.data);
    if (!block) {
        penalise(node, *source, true, "gossiped an undecodable block");
        return pubsub::ValidationResult::reject;
    }
    if (!m_trusting[node] && !chain::check_signatures(block->transactions)) {
        penalise(node, *source, true, "gossiped a block with a bad signature");
        return pubsub::ValidationResult::reject;
    }
    const Verdict verdict = handle_block(node, std::move(*block), *source);
    drive_sync(node);
    switch (verdict) {
        case Verdict::accepted:
            return pubsub::ValidationResult::accept;
        case Verdict::invalid:
            return pubsub::ValidationResult::reject;
        default:
            return pubsub::ValidationResult::ignore;
    }
}

ChainNetwork::Verdict ChainNetwork::handle_block(NodeIndex node, chain::Block block,
                                                 std::optional<NodeIndex> from) {
    ChainNode& c = *m_nodes[node];
    const Hash256 hash = block.hash();
    c.current_block = hash;
    c.current_source = from;
    c.current_rejection.reset();
    c.fork.add_block(std::move(block), now_ms());
    process_fork_events(node);
    c.current_source.reset();
    c.current_block.reset();
    const auto rejection = c.current_rejection;
    c.current_rejection.reset();
    check_engines(node);
    if (rejection) {
        if (*rejection == chain::ForkChoiceError::already_known) {
            return Verdict::known;
        }
        return chain::is_sender_fault(*rejection) ? Verdict::invalid : Verdict::ignored;
    }
    if (c.fork.is_orphan(hash)) {
        return Verdict::orphan;
    }
    if (c.fork.contains(hash) && !c.fork.is_invalid(hash)) {
        return Verdict::accepted;
    }
    return Verdict::invalid;
}

void ChainNetwork::process_fork_events(NodeIndex node) {
    ChainNode& c = *m_nodes[node];
    Disk& disk = *m_disks[node];
    for (auto events = c.fork.take_events(); !events.empty(); events = c.fork.take_events()) {
        for (auto& event : events) {
            if (auto* accepted = std::get_if<chain::BlockAccepted>(&event)) {
                const Hash256 hash = accepted->block.hash();
                disk.blocks.emplace(hash, std::move(accepted->block));
            } else if (auto* orphaned = std::get_if<chain::BlockOrphaned>(&event)) {
                // We are behind the sender: its Status starts headers-first sync.
                if (c.current_source && orphaned->hash == c.current_block) {
                    request_status(node, *c.current_source);
                }
            } else if (auto* rejected = std::get_if<chain::Rejected>(&event)) {
                if (rejected->hash == c.current_block) {
                    c.current_rejection = rejected->reason;
                    if (c.current_source && chain::is_sender_fault(rejected->reason)) {
                        penalise(node, *c.current_source, true,
                                 "sent block " + short_hex(rejected->hash) + ": " +
                                     rejected->reason.message());
                    }
                }
            } else if (auto* plan = std::get_if<chain::NewBestTip>(&event)) {
                carry_out(node, *plan);
            }
        }
    }
}

void ChainNetwork::carry_out(NodeIndex node, const chain::NewBestTip& plan) {
    ChainNode& c = *m_nodes[node];
    Disk& disk = *m_disks[node];
    const Hash256 old_tip = disk.chain.empty() ? m_genesis_hash : disk.chain.back();
    // For the mempool, as the node's on_fork_event gathers them.
    std::vector<chain::Transaction> reverted;
    std::vector<chain::Transaction> connected;
    std::vector<chain::Address> lowered;
    for (std::size_t i = 0; i < plan.revert.size(); ++i) {
        const Hash256 hash = disk.chain.back();
        const chain::Block& block = disk.blocks.at(hash);
        reverted.insert(reverted.end(), block.transactions.begin(), block.transactions.end());
        lowered.push_back(block.header.beneficiary);
        if (c.undo.back()) {
            const auto undone = chain::revert_block(c.state, block.header, *c.undo.back());
            assert(undone);
            (void)undone;
        }
        c.undo.pop_back();
        disk.chain.pop_back();
    }
    if (!plan.revert.empty()) {
        ++m_counters.reorgs;
        m_counters.deepest_reorg = std::max<std::uint64_t>(m_counters.deepest_reorg,
                                                           plan.revert.size());
    }
    for (const Hash256& hash : plan.apply) {
        const chain::Block& block = disk.blocks.at(hash);
        auto effects = chain::apply_block(c.state, block, m_genesis.params,
                                          chain::SignatureCheck::verify);
        if (!effects && !m_trusting[node]) {
            if (hash == c.current_block) {
                c.current_rejection = effects.error();
                if (c.current_source) {
                    penalise(node, *c.current_source, true,
                             "sent invalid block " + short_hex(hash) + ": " +
                                 effects.error().message());
                }
            }
            const Hash256 state_tip = disk.chain.empty() ? m_genesis_hash : disk.chain.back();
            c.sync.on_block_invalid(block.header.height, hash, m_network->now());
            c.fork.mark_invalid(hash, effects.error(), state_tip);  // a plan back follows
            break;
        }
        // A trusting node keeps a block it could not apply, its state unchanged (the bug
        // the control scenario plants).
        c.undo.emplace_back(effects ? std::optional<chain::BlockUndo>(std::move(effects->undo))
                                    : std::nullopt);
        disk.chain.push_back(hash);
        connected.insert(connected.end(), block.transactions.begin(), block.transactions.end());
        ++m_counters.blocks_applied;
        c.sync.on_block_applied(block.header.height, hash, *c.fork.chain_work(hash),
                                m_network->now());
        if (m_invalid_made.contains(hash) && m_network->is_honest(node)) {
            ++m_counters.invalid_applied;
            record_violation("node " + std::to_string(node) + " applied invalid block " +
                             short_hex(hash) + " at height " +
                             std::to_string(block.header.height));
        }
    }
    if (!reverted.empty() || !connected.empty() || !lowered.empty()) {
        c.pool.on_tip_changed({.reverted = reverted, .connected = connected, .lowered = lowered},
                              c.state);
        // As the node: readmitted transactions go out again.
        for (const auto& tx : reverted) {
            if (c.pool.contains(tx.id())) {
                m_network->publish(node, m_tx_topic, tx.encode());
            }
        }
    }
    c.validator.prune(disk.chain.size());
    tip_changed(node, old_tip);
}

// --- transactions ---------------------------------------------------------------------------

pubsub::ValidationResult ChainNetwork::validate_transaction(NodeIndex node, NodeIndex source,
                                                            const Bytes& data) {
    ChainNode& c = *m_nodes[node];
    auto tx = chain::Transaction::decode(data);
    if (!tx) {
        penalise(node, source, true, "gossiped an undecodable transaction");
        return pubsub::ValidationResult::reject;
    }
    // The trusting control skips the signature, as a node that trusts its peers would.
    auto verified = m_trusting[node]
                        ? mempool::VerifiedTransaction::assume_signed(std::move(*tx), m_genesis.params)
                        : mempool::VerifiedTransaction::verify(std::move(*tx), m_genesis.params);
    if (!verified) {
        if (mempool::is_sender_fault(verified.error())) {
            penalise(node, source, true,
                     "gossiped a bad transaction: " + verified.error().message());
            return pubsub::ValidationResult::reject;
        }
        return pubsub::ValidationResult::ignore;
    }
    const Hash256 id = verified->id();
    if (!c.pool.admit(std::move(*verified), c.state)) {
        return pubsub::ValidationResult::ignore;  // known, stale, or no room: not a fault
    }
    ++m_counters.transactions_admitted;
    if (m_invalid_transactions.contains(id) && m_network->is_honest(node)) {
        ++m_counters.invalid_tx_admitted;
        record_violation("node " + std::to_string(node) + " admitted invalid transaction " +
                         short_hex(id));
    }
    return pubsub::ValidationResult::accept;
}

void ChainNetwork::schedule_transaction(Instant at, NodeIndex node) {
    m_network->schedule(at, [this, node] { make_transaction(node, false); });
}

void ChainNetwork::rebroadcast(Instant until) {
    for (NodeIndex node = 0; node < m_nodes.size(); ++node) {
        if (!m_nodes[node]) {
            continue;
        }
        for (const chain::Transaction* tx : m_nodes[node]->pool.local_transactions()) {
            m_network->publish(node, m_tx_topic, tx->encode());  // mempool rule 9
        }
    }
    const Instant next = m_network->now() + mempool::REBROADCAST_INTERVAL;
    if (next <= until) {
        m_network->schedule(next, [this, until] { rebroadcast(until); });
    }
}

void ChainNetwork::schedule_invalid_transaction(Instant at, NodeIndex node) {
    m_network->schedule(at, [this, node] { make_transaction(node, true); });
}

void ChainNetwork::make_transaction(NodeIndex node, bool invalid) {
    if (!m_nodes[node] || m_wallets.empty()) {
        return;
    }
    ChainNode& c = *m_nodes[node];
    const std::size_t from = m_next_wallet++ % m_wallets.size();
    chain::Transaction tx;
    tx.network_id = m_genesis.params.network_id;
    tx.recipient = chain::Address::from_public_key(
        m_wallets.size() > 1 ? m_wallets[(from + 1) % m_wallets.size()].public_key()
                             : m_funder.public_key());
    tx.amount = 1;
    tx.fee = 1 + m_rng.uniform(9);
    tx.nonce = m_wallet_nonces[from];
    tx.sign(m_wallets[from]);
    if (invalid) {
        tx.signature[0] ^= 0x01;
        ++m_counters.invalid_transactions_made;
        m_invalid_transactions.insert(tx.id());
        m_network->publish(node, m_tx_topic, tx.encode());
        return;
    }
    const Hash256 id = tx.id();
    const Bytes encoded = tx.encode();
    auto verified = mempool::VerifiedTransaction::verify(std::move(tx), m_genesis.params);
    assert(verified);
    if (!c.pool.admit(std::move(*verified), c.state)) {
        // The node has not seen the wallet's previous transfer (a partition kept it on the
        // other side): the user is told no, and the wallet's next transfer reuses the nonce.
        ++m_counters.transactions_refused;
        return;
    }
    ++m_wallet_nonces[from];
    ++m_counters.transactions_made;
    m_transactions_made.insert(id);
    c.pool.mark_local(id);
    ++m_counters.transactions_admitted;
    m_network->publish(node, m_tx_topic, encoded);
}

// --- sync -----------------------------------------------------------------------------------

void ChainNetwork::request_status(NodeIndex node, NodeIndex peer) {
    ChainNode& c = *m_nodes[node];
    const Instant now = m_network->now();
    const auto last = c.last_status_request.find(peer);
    if (last != c.last_status_request.end() && now - last->second < STATUS_SPACING) {
        return;
    }
    c.last_status_request[peer] = now;
    ++m_counters.status_requests;
    m_network->send_direct(node, peer,
                           envelope(Envelope::request, 0,
                                    sync::encode(sync::Request{c.sync.local_status()})));
}

void ChainNetwork::on_peer_status(NodeIndex node, NodeIndex peer, const sync::Status& status) {
    ChainNode& c = *m_nodes[node];
    c.sync.on_peer_status(m_network->peer_id(peer), status, m_network->now());
    drive_sync(node);
}

void ChainNetwork::on_direct(NodeIndex from, NodeIndex to, const Bytes& data) {
    ChainNode* c = m_nodes[to].get();
    if (c == nullptr || data.size() < 9) {
        return;
    }
    const auto kind = static_cast<Envelope>(data[0]);
    const std::uint64_t id = get_u64be(data.data() + 1);
    auto message = sync::decode(ByteView(data).subspan(9));
    if (!message) {
        penalise(to, from, true, "sync: " + message.error().message());
        return;
    }
    const crypto::PeerId& peer = m_network->peer_id(from);
    const Instant now = m_network->now();
    if (kind == Envelope::request) {
        sync::Message answer;
        if (auto* status = std::get_if<sync::Status>(&*message)) {
            on_peer_status(to, from, *status);
            if (m_nodes[to] == nullptr) {
                return;
            }
            answer = m_nodes[to]->sync.local_status();
        } else if (auto* get_headers = std::get_if<sync::GetHeaders>(&*message)) {
            answer = sync::headers_for(c->fork, *get_headers);
        } else if (auto* get_blocks = std::get_if<sync::GetBlocks>(&*message)) {
            sync::Blocks blocks;
            std::size_t bytes = 16;
            const Disk& disk = *m_disks[to];
            for (const Hash256& hash : get_blocks->hashes) {
                const auto it = disk.blocks.find(hash);
                if (it == disk.blocks.end()) {
                    continue;  // not ours: left out, as the protocol says
                }
                bytes += 4 + it->second.encoded_size();
                if (bytes > sync::MAX_MESSAGE_BYTES) {
                    break;
                }
                blocks.blocks.push_back(it->second);
            }
            answer = std::move(blocks);
        } else {
            penalise(to, from, true, "sync: a response sent as a request");
            return;
        }
        m_network->send_direct(to, from, envelope(Envelope::response, id, sync::encode(answer)));
        return;
    }
    if (kind != Envelope::response) {
        penalise(to, from, true, "sync: an unknown envelope");
        return;
    }
    if (auto* status = std::get_if<sync::Status>(&*message)) {
        on_peer_status(to, from, *status);
        return;
    }
    if (auto* headers = std::get_if<sync::Headers>(&*message)) {
        c->sync.on_headers(peer, id, headers->headers, now);
    } else if (auto* blocks = std::get_if<sync::Blocks>(&*message)) {
        c->sync.on_blocks(peer, id, std::move(blocks->blocks), now);
    } else {
        penalise(to, from, true, "sync: a request sent as a response");
        return;
    }
    drive_sync(to);
}

void ChainNetwork::drive_sync(NodeIndex node) {
    for (;;) {
        ChainNode* c = m_nodes[node].get();
        if (c == nullptr) {
            return;
        }
        auto actions = c->sync.take_actions();
        if (actions.empty()) {
            break;
        }
        for (auto& action : actions) {
            if (auto* send = std::get_if<sync::SendRequest>(&action)) {
                if (const auto to = index_of(send->peer)) {
                    ++m_counters.sync_requests;
                    m_network->send_direct(
                        node, *to, envelope(Envelope::request, send->id, sync::encode(send->request)));
                }
            } else if (auto* deliver = std::get_if<sync::DeliverBlock>(&action)) {
                ++m_counters.blocks_synced;
                const auto from = index_of(deliver->from);
                if (!m_trusting[node] && !chain::check_signatures(deliver->block.transactions)) {
                    if (from) {
                        penalise(node, *from, true, "sync: a block with a bad signature");
                    }
                    c->sync.on_block_invalid(deliver->height, deliver->block.hash(),
                                             m_network->now());
                    continue;
                }
                handle_block(node, std::move(deliver->block), from);
            } else if (auto* penalty = std::get_if<sync::Penalize>(&action)) {
                const auto peer = index_of(penalty->peer);
                if (!peer || penalty->reason == sync::SyncError::unsolicited) {
                    continue;  // late, not malicious (as node.cpp)
                }
                const bool slow = penalty->reason == sync::SyncError::timeout ||
                                  penalty->reason == sync::SyncError::stall ||
                                  penalty->reason == sync::SyncError::claim_not_backed;
                penalise(node, *peer, !slow, "sync: " + penalty->reason.message());
            }
        }
    }
    ChainNode& c = *m_nodes[node];
    check_engines(node);
    const auto wakeup = c.sync.next_wakeup();
    if (!wakeup || c.armed_wakeup == wakeup) {
        return;
    }
    c.armed_wakeup = wakeup;
    const ChainNode* armed_by = &c;
    m_network->schedule(*wakeup, [this, node, armed_by, at = *wakeup] {
        ChainNode* n = m_nodes[node].get();
        if (n != armed_by || n->armed_wakeup != at) {
            return;  // superseded, or the node crashed since
        }
        n->armed_wakeup.reset();
        n->sync.on_tick(m_network->now());
        drive_sync(node);
    });
}

void ChainNetwork::penalise(NodeIndex node, NodeIndex peer, bool bad_data, const std::string& why) {
    if (!bad_data) {
        ++m_counters.penalties_slow;
        return;
    }
    ++m_counters.penalties_bad_data;
    if (m_network->is_honest(node) && m_network->is_honest(peer)) {
        ++m_counters.honest_penalised;
        record_violation("node " + std::to_string(node) + " penalised honest node " +
                         std::to_string(peer) + ": " + why);
    }
}

// --- mining ---------------------------------------------------------------------------------

void ChainNetwork::schedule_mining(NodeIndex node, Instant after) {
    // Exponential gaps: each miner finds a block at rate 1 / (block_interval × miners).
    const double mean_ms =
        std::chrono::duration<double, std::milli>(m_config.block_interval).count() *
        static_cast<double>(m_config.miners.size());
    const double u = std::max(m_rng.uniform_real(), 1e-12);
    const auto gap = std::chrono::duration_cast<Duration>(
        std::chrono::duration<double, std::milli>(-std::log(u) * mean_ms));
    const Instant at = after + gap;
    if (at >= m_config.mining_stop) {
        return;
    }
    m_network->schedule(at, [this, node, at] {
        if (m_nodes[node] && !m_nodes[node]->sync.syncing()) {
            mine(node, false);
        }
        schedule_mining(node, at);
    });
}

void ChainNetwork::schedule_invalid_block(Instant at, NodeIndex node) {
    m_network->schedule(at, [this, node] {
        if (m_nodes[node]) {
            mine(node, true);
        }
    });
}

void ChainNetwork::mine(NodeIndex node, bool invalid) {
    ChainNode& c = *m_nodes[node];
    const chain::BlockHeader parent = c.fork.tip();
    const auto branch = c.fork.branch(c.fork.tip_hash());
    std::vector<chain::Transaction> candidates;
    if (!invalid) {
        candidates = c.pool.select_transactions(
            {.max_bytes = m_genesis.params.max_block_bytes / 2,
             .max_transactions = m_config.block_max_transactions});
    }
    const bool bad_signature = invalid && m_counters.invalid_blocks_made % 2 == 1;
    if (bad_signature) {
        chain::Transaction tx;
        tx.network_id = m_genesis.params.network_id;
        tx.recipient = chain::Address::from_public_key(m_funder.public_key());
        tx.amount = 1;
        tx.nonce = c.state.account(chain::Address::from_public_key(m_funder.public_key())).nonce;
        tx.sign(m_funder);
        candidates.push_back(std::move(tx));
    }
    // Per node, so that two miners' blocks on one parent differ.
    chain::Address beneficiary;
    const Bytes& id = m_network->peer_id(node).bytes();
    std::copy_n(id.end() - static_cast<std::ptrdiff_t>(beneficiary.bytes.size()),
                beneficiary.bytes.size(), beneficiary.bytes.begin());
    auto proposed = c.engine.make_template(c.state, parent, *branch, candidates, beneficiary,
                                           now_ms());
    assert(proposed);
    chain::Block block = std::move(proposed->block);
    if (invalid) {
        if (bad_signature && !block.transactions.empty()) {
            block.transactions.front().signature[0] ^= 0x01;
            block.header.transactions_root = chain::merkle_root(block.transaction_ids());
        } else {
            block.header.state_root[0] ^= 0x01;
        }
    }
    const Bytes prefix = consensus::pow::header_prefix(block.header);
    const auto found = consensus::pow::mine(prefix, block.header.target, 0, UINT64_MAX);
    assert(found.nonce);
    block.header.nonce = *found.nonce;
    if (invalid) {
        ++m_counters.invalid_blocks_made;
        m_invalid_made.insert(block.hash());
        // A byzantine node sends it without applying it itself.
        m_network->publish(node, m_block_topic, block.encode());
        return;
    }
    ++m_counters.blocks_mined;
    const Bytes encoded = block.encode();
    if (handle_block(node, std::move(block), std::nullopt) == Verdict::accepted) {
        m_network->publish(node, m_block_topic, encoded);
    }
    drive_sync(node);
}

// --- results --------------------------------------------------------------------------------

ChainMetrics ChainNetwork::metrics() const {
    ChainMetrics m = m_counters;
    m.min_height = UINT64_MAX;
    m.max_height = 0;
    for (NodeIndex node = 0; node < m_nodes.size(); ++node) {
        if (m_nodes[node] && m_network->is_honest(node)) {
            m.min_height = std::min(m.min_height, tip(node)->height);
            m.max_height = std::max(m.max_height, tip(node)->height);
        }
    }
    if (m.min_height == UINT64_MAX) {
        m.min_height = 0;
    }
    m.distinct_tips = m_tip_counts.size();
    for (NodeIndex node = 0; node < m_nodes.size(); ++node) {
        if (m_nodes[node] && m_network->is_honest(node)) {
            const Disk& disk = *m_disks[node];
            for (const Hash256& hash : disk.chain) {
                for (const auto& tx : disk.blocks.at(hash).transactions) {
                    m.transactions_confirmed += m_transactions_made.contains(tx.id()) ? 1 : 0;
                }
            }
            break;
        }
    }
    return m;
}

}  // namespace chainmesh::sim
