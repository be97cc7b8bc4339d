#pragma once
// A simulated blockchain network (issue 5): every node runs the real fork choice
// (chain/fork_choice.hpp) with the proof-of-work engine, the real sync engine
// (sync/sync_engine.hpp) with the node's header validator (sync/fork_header_validator.hpp),
// and an in-memory account state, on top of a GossipNetwork: blocks and best-block
// announcements travel gossipsub topics, sync requests and responses travel the same links as
// direct messages. Virtual time; the same seed gives the same run.
//
// How a node behaves (the policy of node/node.cpp, which the real node follows):
// - Gossiped blocks are checked during validation: decoded, signatures checked, handed to the
//   fork choice. Accepted ones are relayed; known ones ignored; a sender's fault
//   (chain::is_sender_fault) rejected and penalised. A block whose parent is unknown waits
//   in the orphan pool and its sender is asked for its Status, which starts headers-first
//   sync.
// - Each new tip is announced on the bestblock topic; a node that hears of more work than its
//   own asks that peer for its Status. Status requests to one peer are STATUS_SPACING apart.
// - On connect, each end asks the other for its Status. SendRequest actions go as direct
//   messages, answered from the peer's fork choice (headers) and disk (blocks); DeliverBlock
//   goes through the signature check to the fork choice; Penalize is counted.
// - Mining: each miner is a Poisson process with an equal share of one block per
//   block_interval. It mines on its tip, not while sync downloads a heavier branch (as the
//   node's miner). Blocks carry real proof of work at an easy target. One block_interval
//   after mining_stop, the first honest miner that is up mines one last block: two branches
//   of equal work last until a next block, which settles the tie.
// - Crash: memory lost, disk kept (every block the node accepted, and its applied chain). A
//   restart rebuilds the fork choice from the disk with restore_applied, as the node does at
//   startup, and the state by applying the chain again.
//
// Transactions: with `wallets` funded in genesis, schedule_transaction has a node take a
// signed transfer from the next wallet in turn (a user submitting through it), admit it to
// its mempool (mempool/mempool.hpp, the node's) and gossip it on the tx topic. Receivers
// verify it (signature and stateless checks off the fork choice, as the node's worker pool
// does), penalise the relay of a transaction bad in itself (mempool::is_sender_fault), and
// admit it against their applied state; accepted ones are relayed. Miners fill blocks from
// their mempool (Mempool::select_transactions); every tip change goes to the mempool
// (on_tip_changed with the undone and applied transactions), so reorgs bring transactions
// back. A restarted node's mempool starts empty.
//
// Byzantine: schedule_invalid_block has a node publish a block on its tip that carries valid
// proof of work but is invalid, alternately by state root and by a transaction with a bad
// signature; schedule_invalid_transaction has it gossip a transfer with a bad signature.
// Control: set_trusting(node) makes a node skip signature checks (blocks and transactions)
// and keep a block it failed to apply (a broken validator); left honest, it must trip
// no_invalid_block or no_invalid_transaction.
//
// Invariants, checked as the run goes (violations() names the seed):
//   no_invalid_block   no honest node ever has an invalid block on its applied chain;
//   no_invalid_transaction no honest node ever admits an invalid transaction to its mempool;
//   no_honest_penalty  no honest node penalises another honest node for bad data (slowness
//                      under partitions and loss is allowed);
// and, with check_engine_invariants, every fork choice's and sync engine's own
// check_invariants after each input. Tip convergence is judged by the caller at a time of its
// choosing: tips_agree() and agreed_since().
//
// Bounds: the GossipNetwork's; per node the fork choice's and the sync engine's; each node's
// disk holds every block it accepted (a real node's store does too). Agreement transitions
// are kept up to MAX_AGREEMENTS.

#include <chainmesh/chain/genesis.hpp>
#include <chainmesh/sim/gossip_network.hpp>
#include <chainmesh/sync/sync_engine.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace chainmesh::sim {

using crypto::Hash256;

inline constexpr Duration STATUS_SPACING = std::chrono::seconds{2};
inline constexpr std::size_t MAX_AGREEMENTS = 100'000;

struct ChainConfig {
    NetworkConfig network;  // ChainNetwork adds its topics to network.topics
    Duration block_interval = std::chrono::seconds{2};
    std::vector<NodeIndex> miners;  // empty: every node
    Instant mining_start{std::chrono::seconds{1}};
    Instant mining_stop = Instant::max();
    std::uint32_t max_reorg_depth = 100;
    sync::SyncConfig sync;
    bool check_engine_invariants = true;
    std::size_t wallets = 0;  // funded accounts that schedule_transaction spends from
    std::size_t block_max_transactions = 500;
};

struct ChainMetrics {
    std::uint64_t blocks_mined = 0;         // valid ones, by honest and byzantine miners
    std::uint64_t invalid_blocks_made = 0;  // by schedule_invalid_block
    std::uint64_t blocks_applied = 0;       // summed over nodes
    std::uint64_t reorgs = 0;               // summed over nodes
    std::uint64_t deepest_reorg = 0;        // blocks undone at once
    std::uint64_t sync_requests = 0;
    std::uint64_t blocks_synced = 0;  // delivered by sync engines
    std::uint64_t status_requests = 0;
    std::uint64_t penalties_bad_data = 0;
    std::uint64_t penalties_slow = 0;
    std::uint64_t invalid_applied = 0;  // (honest node, invalid block) pairs: must stay 0
    std::uint64_t honest_penalised = 0;  // bad-data penalties between honest nodes: must stay 0
    std::uint64_t transactions_made = 0;     // valid, admitted where they were submitted
    std::uint64_t transactions_refused = 0;  // refused where submitted (a nonce it had not seen)
    std::uint64_t invalid_transactions_made = 0;  // by schedule_invalid_transaction
    std::uint64_t transactions_admitted = 0;      // mempool admissions, summed over nodes
    std::uint64_t invalid_tx_admitted = 0;  // (honest node, invalid transaction): must stay 0
    std::uint64_t transactions_confirmed = 0;  // made ones on the first honest up node's chain
    std::uint64_t min_height = 0;       // over honest up nodes, now
    std::uint64_t max_height = 0;
    std::size_t distinct_tips = 0;  // among honest up nodes, now
};

// One `name value` per line, fixed formatting.
std::string format_chain_metrics(const ChainMetrics& metrics);

class ChainNetwork final : private Application {
public:
    explicit ChainNetwork(ChainConfig config, Hooks hooks = {});
    ~ChainNetwork() override;
    ChainNetwork(const ChainNetwork&) = delete;
    ChainNetwork& operator=(const ChainNetwork&) = delete;

    // Topology, faults, honesty and other workloads go through the gossip network.
    GossipNetwork& network() { return *m_network; }
    const GossipNetwork& network() const { return *m_network; }

    void schedule_invalid_block(Instant at, NodeIndex node);
    // Needs ChainConfig::wallets. A down node sends nothing.
    void schedule_transaction(Instant at, NodeIndex node);
    void schedule_invalid_transaction(Instant at, NodeIndex node);
    void set_trusting(NodeIndex node, bool trusting);

    // As GossipNetwork::run_until; run through here, not network().run_until.
    std::uint64_t run_until(Instant end);

    // The tip of the chain the node applied; null while the node is down.
    struct Tip {
        std::uint64_t height = 0;
        Hash256 hash{};
    };
    std::optional<Tip> tip(NodeIndex node) const;
    // Every honest up node has the same tip (vacuously false with none up).
    bool tips_agree() const;
    // Since when they agree without a break; none while they do not.
    std::optional<Instant> agreed_since() const { return m_agreed_since; }
    // The first instant at or after `t` when they agreed; none if they never did.
    std::optional<Instant> first_agreement_after(Instant t) const;

    ChainMetrics metrics() const;
    const std::vector<std::string>& violations() const { return m_violations; }
    std::uint64_t violation_count() const { return m_violation_count; }
    const pubsub::Topic& block_topic() const { return m_block_topic; }
    const pubsub::Topic& tx_topic() const { return m_tx_topic; }

private:
    struct Disk;
    struct ChainNode;
    enum class Verdict { accepted, known, orphan, ignored, invalid };

    // Application
    pubsub::ValidationResult validate(NodeIndex node, const pubsub::ValidateMessage& m) override;
    void on_direct(NodeIndex from, NodeIndex to, const Bytes& data) override;
    void on_connected(NodeIndex node, NodeIndex peer) override;
    void on_disconnected(NodeIndex node, NodeIndex peer) override;
    void on_crash(NodeIndex node) override;
    void on_restart(NodeIndex node) override;

    void start_node(NodeIndex node);
    Verdict handle_block(NodeIndex node, chain::Block block, std::optional<NodeIndex> from);
    pubsub::ValidationResult validate_transaction(NodeIndex node, NodeIndex source,
                                                  const Bytes& data);
    void make_transaction(NodeIndex node, bool invalid);
    // Each node announces its own submitted, still pooled transactions again; re-armed
    // every mempool::REBROADCAST_INTERVAL up to `until`.
    void rebroadcast(Instant until);
    void process_fork_events(NodeIndex node);
    void carry_out(NodeIndex node, const chain::NewBestTip& plan);
    void request_status(NodeIndex node, NodeIndex peer);
    void on_peer_status(NodeIndex node, NodeIndex peer, const sync::Status& status);
    void drive_sync(NodeIndex node);
    void penalise(NodeIndex node, NodeIndex peer, bool bad_data, const std::string& why);
    void mine(NodeIndex node, bool invalid);
    void schedule_mining(NodeIndex node, Instant after);
    void tip_changed(NodeIndex node, const Hash256& old_tip);
    void count_tip(NodeIndex node);
    void note_agreement();
    void check_engines(NodeIndex node) const;
    void record_violation(std::string text);
    std::uint64_t now_ms() const;
    std::optional<NodeIndex> index_of(const crypto::PeerId& peer) const;

    ChainConfig m_config;
    chain::Genesis m_genesis;
    chain::BlockHeader m_genesis_header;
    Hash256 m_genesis_hash{};
    crypto::Ed25519PrivateKey m_funder;  // funded in genesis: byzantine blocks spend from it
    std::vector<crypto::Ed25519PrivateKey> m_wallets;  // funded in genesis
    std::vector<std::uint64_t> m_wallet_nonces;        // the next nonce of each
    std::size_t m_next_wallet = 0;
    std::set<Hash256> m_transactions_made;
    std::set<Hash256> m_invalid_transactions;
    pubsub::Topic m_block_topic;
    pubsub::Topic m_bestblock_topic;
    pubsub::Topic m_tx_topic;
    std::unique_ptr<GossipNetwork> m_network;
    Rng m_rng;  // mining times, apart from the network's
    std::vector<std::unique_ptr<Disk>> m_disks;
    std::vector<std::unique_ptr<ChainNode>> m_nodes;  // null while down
    std::vector<bool> m_trusting;
    std::map<crypto::PeerId, NodeIndex> m_index;
    std::set<Hash256> m_invalid_made;
    std::map<Hash256, std::size_t> m_tip_counts;  // honest up nodes per applied tip
    std::vector<std::optional<Hash256>> m_counted;  // per node: its tip as counted there
    std::optional<Instant> m_agreed_since;
    std::vector<Instant> m_agreements;  // each start of agreement
    std::vector<std::string> m_violations;
    std::uint64_t m_violation_count = 0;
    ChainMetrics m_counters;
};

}  // namespace chainmesh::sim
