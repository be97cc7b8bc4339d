#pragma once
// The chain sync engine (/chainmesh/sync/1.0.0, issue 4 item 5): brings this node's chain up
// to the heaviest chain its peers can prove, headers first, then blocks from several peers in
// parallel. A pure engine: inputs in, actions out, time as an argument; no I/O, no clock.
//
// What it tracks: the best verified header chain (hash and cumulative work by height, from
// genesis; the node's applied chain is its prefix up to the applied height), each peer's
// Status and what it has proved, the requests in flight with their deadlines, and the blocks
// received but not yet handed to the node (only inside the window).
//
// Rules, each with its rationale:
// 1. Claims only select. A peer's Status (height, work) decides whom to ask for headers and
//    which peers may hold a block; work counts only once its headers linked and passed the
//    node's HeaderValidator. A peer whose headers end below the work it claimed is penalised
//    (claim_not_backed) and not asked for headers again until it announces more work.
//    Rationale: a claimed height costs nothing to fake; verified work costs what it says.
// 2. Headers first, one headers request at a time, to the peer claiming the most work, with a
//    Bitcoin-style locator (last 10 hashes, then doubling gaps, then genesis). Each header must
//    link to the previous one (hash and height) and the first to a header we hold; else the
//    peer is penalised (bad_linkage) and the whole response dropped; a header the node's
//    HeaderValidator refuses (pow, timestamps) costs invalid_header. A branch replaces ours
//    only when its verified cumulative work is greater. A full response that did so is
//    followed at once by the next request to the same peer; a full one that did not (a long
//    lighter branch, an echo) ends asking that peer without penalty, since the same locator
//    would get the same answer. Rationale: headers are small and cheap to check, so the chain
//    to download is known and verified before any block is fetched.
// 3. Blocks in parallel inside a moving window: heights (applied, applied + window_blocks]
//    of the header chain, batches of up to blocks_per_request consecutive heights, each batch
//    to the eligible peer with the fewest requests in flight, at most max_requests_per_peer
//    per peer and max_requests_total in all. Rationale: several peers share the load; the
//    window, anchored at what the node has applied, bounds memory and lets the node apply at
//    its own pace (the engine never waits for it: it reports applied blocks as it goes).
// 4. A block is accepted only if its hash is one the request asked for (else wrong_block).
//    Blocks are delivered (DeliverBlock) strictly in height order. Requested blocks missing
//    from a response are re-requested from another peer; the peer is not asked again for
//    heights at or above the first one it lacked.
// 5. Each request has a deadline (request_timeout): a late request is dropped, its peer
//    penalised (timeout) and rested for request_timeout, and its blocks go to other peers.
// 6. Stall: when the lowest block not yet delivered has been in flight for stall_timeout while
//    later blocks already wait, its request is taken away, the peer penalised (stall) and
//    rested. Rationale: one slow peer must not hold the whole window.
// 7. Penalize reasons (errors.hpp) are the same faults as on the gossip path; the node applies
//    identical penalties for them. wrong_network means: disconnect.
//
// Bounds: peers <= max_peers; requests <= max_requests_total + one headers request; buffered
// blocks <= window_blocks; the header chain holds 64 bytes plus a map entry per block of the
// chain, and the node's applied chain 64 bytes per block (a header index grows with the
// chain, as the fork choice's does). Each input costs
// O(window_blocks + requests + log chain) plus header validation.
//
// Driver contract: after every input, drain take_actions() and re-arm one timer at
// next_wakeup(). SendRequest carries an id; answer it with on_headers / on_blocks (the
// response on that request's stream) or on_request_failed (stream reset, refused protocol).
// Report every block the node applies, in order, with on_block_applied (also at startup, for
// the chain on disk, and for gossip-received blocks).

#include <chainmesh/chain/block.hpp>
#include <chainmesh/chain/fork_choice.hpp>
#include <chainmesh/crypto/peer_id.hpp>
#include <chainmesh/sync/errors.hpp>
#include <chainmesh/sync/sync_codec.hpp>
#include <chainmesh/util/instant.hpp>
#include <chainmesh/util/result.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <variant>
#include <vector>

namespace chainmesh::sync {

using namespace std::chrono_literals;

struct SyncConfig {
    std::size_t headers_per_request = MAX_HEADERS_PER_MESSAGE;  // 1..MAX_HEADERS_PER_MESSAGE
    std::size_t blocks_per_request = 16;                        // 1..MAX_BLOCKS_PER_MESSAGE
    std::size_t max_requests_per_peer = 4;
    std::size_t max_requests_total = 32;
    std::uint64_t window_blocks = 1024;
    std::size_t max_peers = 256;
    Duration request_timeout = 10s;
    Duration stall_timeout = 3s;
    Duration progress_interval = 5s;
};

// What the engine asks of the node about a header: the contextual and consensus checks
// (chain::check_header, pow). Called in chain order: the header's parent has passed before or
// is on the applied chain. Returns the header's fork-choice weight (pow: its work, >= 1).
class HeaderValidator {
public:
    virtual ~HeaderValidator() = default;
    virtual Result<chain::Work> check_header(const chain::BlockHeader& header) = 0;
};

using RequestId = std::uint64_t;

struct SendRequest {
    crypto::PeerId peer;
    RequestId id = 0;
    Request request;
};
struct DeliverBlock {
    chain::Block block;
    std::uint64_t height = 0;
    crypto::PeerId from;  // for the node's penalty if the block fails to apply
};
struct Penalize {
    crypto::PeerId peer;
    ErrorCode reason;
};
struct Progress {
    std::uint64_t height = 0;            // applied
    std::uint64_t target_height = 0;     // of the best verified header
    double blocks_per_second = 0;        // applied over the last progress interval
    std::optional<double> seconds_left;  // at that rate; none when the rate is zero
};
using Action = std::variant<SendRequest, DeliverBlock, Penalize, Progress>;

// The responder's side of GetHeaders: the height after which to send headers, i.e. that of the
// first locator hash on our best chain (`height_on_best_chain` answers none for a hash that is
// unknown or on a side branch); 0 when none is (the genesis is always in an honest locator).
// Send then up to max_count headers from the returned height + 1, stopping after stop_hash.
template <class HeightOnBestChain>
std::uint64_t headers_start(const GetHeaders& request, HeightOnBestChain&& height_on_best_chain) {
    for (const Hash256& hash : request.locator) {
        if (const std::optional<std::uint64_t> height = height_on_best_chain(hash)) {
            return *height;
        }
    }
    return 0;
}

class SyncEngine {
public:
    // `validator` must outlive the engine. The chain starts as the genesis alone, applied.
    SyncEngine(SyncConfig config, HeaderValidator& validator, const Hash256& genesis_hash,
               const chain::Work& genesis_work);

    // What to send as our Status on connect.
    Status local_status() const;

    // A peer's Status (on connect, or announced later).
    void on_peer_status(const crypto::PeerId& peer, const Status& status, Instant now);
    void on_peer_disconnected(const crypto::PeerId& peer, Instant now);
    // Responses to SendRequest `id`.
    void on_headers(const crypto::PeerId& peer, RequestId id,
                    const std::vector<chain::BlockHeader>& headers, Instant now);
    void on_blocks(const crypto::PeerId& peer, RequestId id, std::vector<chain::Block> blocks,
                   Instant now);
    // The request's stream failed before a response: retried elsewhere, no penalty.
    void on_request_failed(const crypto::PeerId& peer, RequestId id, Instant now);
    // The node applied `hash` at `height` with cumulative work `work` (any source). When it is
    // not the header chain's next block and its work is at least the header chain's, the
    // header chain follows the node's chain from where they part; when it is lighter (the
    // node's own branch grows while a heavier one downloads), the header chain and the
    // download stay, from where the two part.
    void on_block_applied(std::uint64_t height, const Hash256& hash, const chain::Work& work,
                          Instant now);
    // A delivered block failed to apply (bad body, state root, ...): the header chain is cut
    // below it and headers are asked again; the node penalises DeliverBlock::from itself and
    // its fork choice, knowing the block invalid, makes the validator refuse that branch.
    void on_block_invalid(std::uint64_t height, const Hash256& hash, Instant now);
    void on_tick(Instant now);

    std::vector<Action> take_actions();
    std::optional<Instant> next_wakeup() const;

    // Queries.
    std::uint64_t applied_height() const { return m_applied; }
    std::uint64_t header_height() const { return m_chain.size() - 1; }
    const chain::Work& header_work() const { return m_chain.back().work; }
    bool syncing() const { return header_height() > m_applied; }
    std::size_t requests_in_flight() const { return m_requests.size(); }
    std::size_t buffered_blocks() const { return m_received.size(); }
    std::vector<Hash256> locator() const;

    // Aborts when an index or a bound is broken. Tests and the simulator call it.
    void check_invariants() const;

private:
    struct Entry {
        Hash256 hash{};
        chain::Work work;
    };
    struct Peer {
        Status status;
        bool claim_disproven = false;
        std::optional<std::uint64_t> proven_height;  // the highest header it showed us
        std::uint64_t lacks_from = UINT64_MAX;       // it answered without this height
        std::size_t block_requests = 0;
        std::optional<RequestId> headers_request;
        Instant rest_until{};
    };
    struct InFlight {
        crypto::PeerId peer;
        bool headers = false;
        std::vector<std::pair<std::uint64_t, Hash256>> blocks;  // height, hash
        Instant sent_at{};
        Instant deadline{};
    };

    bool can_serve(const Peer& peer, std::uint64_t height, Instant now) const;
    void request_headers(Instant now);
    void send_headers_request(const crypto::PeerId& id, Peer& peer, Instant now);
    void schedule_blocks(Instant now);
    void deliver();
    // Removes the request and frees its heights; the caller penalises if it must.
    void drop_request(RequestId id);
    void truncate_to(std::uint64_t height);
    void penalize(const crypto::PeerId& peer, SyncError reason);

    SyncConfig m_config;
    HeaderValidator* m_validator;
    std::vector<Entry> m_chain;  // the best verified header chain, by height
    std::vector<Entry> m_node_chain;  // what the node applied, by height (on_block_applied)
    std::map<Hash256, std::uint64_t> m_index;
    std::uint64_t m_applied = 0;
    std::uint64_t m_next_deliver = 1;

    std::map<crypto::PeerId, Peer> m_peers;
    std::map<RequestId, InFlight> m_requests;
    RequestId m_next_request = 1;
    std::optional<RequestId> m_headers_request;
    std::map<std::uint64_t, RequestId> m_in_flight;  // block height -> request
    std::map<std::uint64_t, std::pair<chain::Block, crypto::PeerId>> m_received;

    Instant m_now{};  // of the last input
    std::optional<Instant> m_next_progress;
    std::uint64_t m_progress_height = 0;

    std::vector<Action> m_actions;
};

}  // namespace chainmesh::sync
