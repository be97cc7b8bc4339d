#pragma once
// A chainmesh node: the parts wired into one process (issue 4; DESIGN.md sections 1, 2, 4).
//
// What it owns: the block store (RocksDB), the fork choice (restored from the store at
// startup), the mempool, the pow engine and an optional miner, the libp2p host, the gossip
// service with the network's topics, the sync engine and its stream driver, the peer book and
// the dialer that keeps enough connections.
//
// How a block travels (docs/architecture.md "A block's way through the chain parts"):
// gossip, sync or the miner hands it to the fork choice; a NewBestTip plan is carried out on
// the store (revert with undo data, import the new branch, one batch per block); a block that
// fails is marked invalid and its sender penalised; the mempool follows the tip; the miner
// gets a new template; the sync engine hears of every applied block. A gossiped block is
// relayed only after this, and only if it was valid (or a valid side branch).
//
// Topics, for network N: /chainmesh/N/block, /tx, /bestblock, /mining_on, /rejected_tx.
//
// Peers: a peer is asked for its sync Status on connect; one with another genesis is
// disconnected (and not redialed for an hour) with the reason logged. Misbehaviour (invalid
// blocks, transactions or headers; sync faults) adds to a ban score; at 100 the peer is
// disconnected and banned for a day. The same fault costs the same on the gossip and sync
// paths. Peers learned from identify and the peer-list protocol go to the peer book, which is
// kept in <data_dir>/peers.json and reused on restart.
//
// Threads: everything runs on the io_context's thread, except signature checks and gossip
// validation (a worker pool) and mining (the miner's threads). The io_context must be run by
// one thread. The store's commits also run on the I/O thread (a known cost: one fsync per
// block; blocks arrive at most a few per second on a pow network).

#include <chainmesh/chain/genesis.hpp>
#include <chainmesh/net/host.hpp>
#include <chainmesh/node/config.hpp>
#include <chainmesh/node/node_api.hpp>

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>

namespace chainmesh::node {

// What a node reports for logs and tests.
struct TipChanged {
    std::uint64_t height = 0;
    crypto::Hash256 hash{};
    bool mined_here = false;
    std::size_t transactions = 0;
    std::size_t reverted = 0;  // blocks undone by this change (a reorg when > 0)
};

class Node final : public NodeApi {
public:
    // Opens (or creates) the data dir: the key (created on first run), the genesis (the
    // config's file, kept as <data_dir>/genesis.toml), the store. Throws std::runtime_error
    // (StoreOpenError, ConfigError, key file errors) with a one-line message.
    Node(boost::asio::io_context& io, NodeConfig config);
    ~Node() override;
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    // Listens, starts gossip, the dialer, sync and (if configured) the miner.
    void start();
    // Stops everything started, saves the peer book and flushes the store. Idempotent.
    void stop();

    net::Host& host();
    const chain::Genesis& genesis() const;
    // Called on the I/O thread after every change of the best tip.
    void on_tip_changed(std::function<void(const TipChanged&)> listener);

    // NodeApi.
    NodeStatus status() const override;
    std::vector<PeerStatus> peers() const override;
    boost::asio::awaitable<SubmitResult> submit_transaction(Bytes encoded) override;
    bool healthy() const override;
    std::optional<BlockInfo> block(std::string_view height_or_hash) const override;
    std::optional<TransactionInfo> transaction(std::string_view id) const override;
    std::optional<AccountStatus> account(std::string_view address) const override;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// The genesis a node in `config` runs: the config's file, or the copy in the data dir. Throws
// std::runtime_error naming the file and the problem, or both files when they disagree.
chain::Genesis load_node_genesis(const NodeConfig& config);

}  // namespace chainmesh::node
