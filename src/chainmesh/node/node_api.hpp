#pragma once
// What a running node tells its operators, and takes from them: the interface the HTTP API
// (api/) serves, implemented by node::Node. Plain values, so the API renders them without
// reaching into the node's parts.
//
// Threads: every call happens on the node's I/O thread (the API server runs there too).

#include <chainmesh/crypto/sha256.hpp>
#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chainmesh::node {

struct SyncStatus {
    bool syncing = false;
    std::uint64_t target_height = 0;     // of the best verified header
    double blocks_per_second = 0;        // applied, over the last progress interval
    std::optional<double> seconds_left;  // at that rate
};

struct NodeStatus {
    std::string peer_id;
    std::string network;       // the genesis' network id
    std::string genesis_hash;  // hex
    std::string consensus;     // "pow"
    std::uint64_t height = 0;
    std::string best_hash;  // hex
    std::string cumulative_work;  // hex, 32 bytes big-endian
    std::uint64_t best_timestamp_ms = 0;
    std::size_t peer_count = 0;
    std::size_t mempool_size = 0;
    std::size_t mempool_bytes = 0;
    bool mining = false;
    SyncStatus sync;
    std::vector<std::string> listen_addrs;  // with /p2p/<id>
    std::string agent_version;
    double uptime_seconds = 0;
    // Counters since start.
    std::uint64_t blocks_applied = 0;
    std::uint64_t blocks_mined = 0;
    std::uint64_t transactions_received = 0;  // admitted to the mempool from peers or the API
    std::uint64_t transactions_applied = 0;   // in blocks this node applied
    std::uint64_t inbound_refused = 0;  // by the peer slots (discovery/peer_slots.hpp)
    std::uint64_t inbound_evicted = 0;  // peers that made room for a newcomer
};

struct PeerStatus {
    std::string peer_id;
    std::string direction;    // "inbound" or "outbound"
    std::string remote_addr;  // multiaddr
    std::string agent_version;  // from identify; empty until identified
    std::optional<std::uint64_t> height;  // its last sync status
    double gossip_score = 0;
    std::int64_t misbehaviour = 0;  // our ban score for it (ban at 100)
};

// A submitted transaction's outcome: its id when the mempool took it, else the reason.
struct SubmitResult {
    bool accepted = false;
    std::string id;      // hex; set when the transaction decoded
    std::string reason;  // the rejection's error name ("nonce_too_low"), empty when accepted
    std::string detail;  // a sentence for people
};

struct BlockInfo {
    std::uint64_t height = 0;
    std::string hash;  // hex
    std::string previous_hash;
    std::string state_root;
    std::uint64_t timestamp_ms = 0;
    std::string beneficiary;
    std::size_t size_bytes = 0;
    bool on_best_chain = false;
    std::vector<std::string> transactions;  // ids, hex, in block order
};

struct TransactionInfo {
    std::string id;
    std::string status;  // "confirmed" (in a best-chain block) or "pending" (in the mempool)
    std::optional<std::string> block_hash;
    std::optional<std::uint64_t> height;
    std::string sender;  // address
    std::string recipient;
    std::uint64_t amount = 0;
    std::uint64_t fee = 0;
    std::uint64_t nonce = 0;
};

struct AccountStatus {
    std::string address;
    std::uint64_t balance = 0;
    std::uint64_t nonce = 0;       // at the best tip
    std::uint64_t next_nonce = 0;  // counting the sender's pending transactions
};

class NodeApi {
public:
    virtual ~NodeApi() = default;
    virtual NodeStatus status() const = 0;
    virtual std::vector<PeerStatus> peers() const = 0;
    // `encoded` is a signed transaction as `chainmesh tx sign` prints it (decoded from hex).
    // Runs the signature check off the I/O thread; relays the transaction when accepted.
    virtual boost::asio::awaitable<SubmitResult> submit_transaction(Bytes encoded) = 0;
    // A best-chain block by height (decimal) or any stored block by hash (hex); none when
    // unknown or not a height or hash.
    virtual std::optional<BlockInfo> block(std::string_view height_or_hash) const = 0;
    // A transaction by id (hex), confirmed or pending.
    virtual std::optional<TransactionInfo> transaction(std::string_view id) const = 0;
    // An account by address (cm...); none when the text is not an address.
    virtual std::optional<AccountStatus> account(std::string_view address) const = 0;
    // False while the node cannot serve: its store failed, or it is shutting down.
    virtual bool healthy() const = 0;
};

}  // namespace chainmesh::node
