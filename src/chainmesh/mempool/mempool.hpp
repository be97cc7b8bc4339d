#pragma once
// The mempool: signed transfers waiting for a block, checked against the tip state, ordered
// by fee rate, bounded in bytes, count and per sender (issue 3 item 3; DESIGN.md section 4;
// the rules it applies are docs/protocol.md §8 via chain/validation.hpp).
//
// What it tracks: for each sender S with pending transactions, a chain of them with nonces
// tip_nonce(S), tip_nonce(S) + 1, ... without gaps, whose amounts and fees together fit S's
// balance at the tip. Every pooled transaction is therefore valid in a block on the tip as
// long as its sender's earlier ones come before it, and any per-sender prefix of the pool is
// a valid block body.
//
// Rules, each with its error:
// 1. Signatures are checked before admission, off the engine thread: admit() takes a
//    VerifiedTransaction (verified_transaction.hpp), which also carries the stateless checks.
//    Rationale: the Ed25519 verify is ~95% of admission's CPU, and a worker pool can spread
//    it over both cores while the pool itself needs no locks.
// 2. De-duplication by id: already_known.
// 3. Nonce: below the sender's next nonce at the tip, nonce_too_low; inside the pending chain,
//    a replacement (rule 5); above the chain's end, nonce_gap. Gapped transactions are
//    REJECTED, not queued. Rationale: a "future" queue holds transactions nobody has shown
//    to be fundable or ever includable, so it needs its own bound, eviction order and
//    promotion logic, for little gain: wallets send in nonce order, and admit_batch sorts a
//    batch by (sender, nonce), so nonces verified out of order on the worker pool still get in.
//    A driver that sees nonce_gap should neither penalize nor relay; the sender resends.
// 4. Balance: the sender's pending chain plus this transaction (amount + fee, each, without
//    overflow) must fit the sender's balance at the tip: insufficient_balance. Per-sender
//    count: at most max_per_sender pending: sender_limit.
// 5. Replace-by-fee: a transaction with the same sender and nonce as a pooled one replaces
//    it when its fee is strictly higher and at least replacement_fee_bump_percent above
//    (replacement_underpriced), and the chain with it still fits the balance
//    (insufficient_balance). Rationale: the bump makes each replacement cost the sender real
//    fee, so replacing cannot be used to flood the network for free.
// 6. Bounds: after an admission or a tip change, while the pool holds more than max_bytes
//    (sum of encoded sizes) or max_transactions, the worst transaction leaves, and with it
//    its sender's later nonces (they would be gapped). Worst = lowest fee per byte; ties go
//    to the higher nonce, then the higher id. An admitted transaction that leaves this way is
//    refused with pool_full (and others may have left before it). Rationale: fee per byte is
//    what a block's space earns; the tie-break evicts a chain from its end.
// 7. Selection for a block (select): greedily the best fee rate among each sender's next
//    unselected transaction (ties: lower nonce, then lower id), within a byte and count
//    budget. A transaction that does not fit the bytes left blocks its sender's later ones;
//    selection stops after SELECTION_MAX_SKIPS such misses or when fewer bytes remain than
//    the smallest transaction. Rationale: it maximises fees for the space, in nonce order.
// 8. Tip changes (on_tip_changed): after blocks are applied and/or undone, every affected
//    sender's chain is rebuilt against the new tip: transactions with a nonce below the
//    tip's leave (a block included them or a rival with the same nonce), transactions of
//    undone blocks come back (re-checked; kept only where they fit rules 3 and 4), and the
//    chain is cut at the first gap, at max_per_sender, or where the balance runs out.
// 9. Local transactions (mark_local): those submitted to this node by its own users, not
//    by peers. The driver announces local_transactions() again every REBROADCAST_INTERVAL;
//    a mark lasts while its transaction is pooled (local_transactions forgets the others).
//    At most MAX_LOCAL_TRANSACTIONS are marked; later marks are ignored. Rationale: a gossip
//    message can be lost for good (a partition outlasting the message caches), and a
//    transaction only its own node holds then waits for that node to mine; peers that have
//    it ignore the repeat. The mark lives here, beside the entry it follows, as Bitcoin
//    Core's unbroadcast set lives in its mempool.
//
// Time and randomness: none. The engine has no clock, thread or I/O; every order above is a
// total order on pool contents, so the same inputs give the same pool.
//
// Bounds: at most max_transactions entries, max_bytes encoded bytes and max_per_sender per
// sender (so at most max_transactions senders), MAX_LOCAL_TRANSACTIONS local marks. Memory is about max_bytes plus ~450 bytes of
// bookkeeping per entry (four tree nodes, the Transaction object).
//
// CPU, for n pooled transactions and p = max_per_sender:
//   admit                O(log n) + one tip read, plus O(log n) per transaction it evicts
//                        (each transaction is evicted at most once: amortised O(log n))
//   admit_batch          O(b log b) for the sort, then b × admit
//   select               O((k + SELECTION_MAX_SKIPS) × log n) for k transactions selected
//   on_tip_changed       O((r + c + a × p) × log n) and one batched read of a accounts, for
//                        r undone and c applied transactions and a affected senders with
//                        pending or returning transactions, plus evictions; r + c SHA-256
//                        (senders' addresses, undone ids)
//   contains, find       O(log n)
//   mark_local           O(log n); local_transactions O(l log n) for l marks (<= 1,000)
//   pending_nonce        O(log n)
//   check_invariants     O(n log n)
//
// Not thread-safe: one engine thread owns it (STYLE.md "I/O").

#include <chainmesh/chain/address.hpp>
#include <chainmesh/chain/params.hpp>
#include <chainmesh/chain/state.hpp>
#include <chainmesh/chain/transaction.hpp>
#include <chainmesh/mempool/errors.hpp>
#include <chainmesh/mempool/verified_transaction.hpp>
#include <chainmesh/util/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <vector>

namespace chainmesh::mempool {

inline constexpr std::size_t DEFAULT_MAX_BYTES = 32 * 1024 * 1024;
inline constexpr std::size_t DEFAULT_MAX_TRANSACTIONS = 100'000;
inline constexpr std::size_t DEFAULT_MAX_PER_SENDER = 64;
inline constexpr std::uint32_t DEFAULT_REPLACEMENT_FEE_BUMP_PERCENT = 10;
inline constexpr std::size_t SELECTION_MAX_SKIPS = 1'000;
// Rule 9.
inline constexpr std::chrono::seconds REBROADCAST_INTERVAL{10};
inline constexpr std::size_t MAX_LOCAL_TRANSACTIONS = 1'000;

struct MempoolConfig {
    std::size_t max_bytes = DEFAULT_MAX_BYTES;  // sum of encoded sizes
    std::size_t max_transactions = DEFAULT_MAX_TRANSACTIONS;
    std::size_t max_per_sender = DEFAULT_MAX_PER_SENDER;  // >= 1
    // A replacement's fee must be >= old fee × (100 + this) / 100, and > old fee.
    std::uint32_t replacement_fee_bump_percent = DEFAULT_REPLACEMENT_FEE_BUMP_PERCENT;
};

struct Admitted {
    std::optional<Hash256> replaced;  // the id of the transaction it replaced
    std::size_t evicted = 0;          // transactions that left to make room
};

struct SelectionBudget {
    std::size_t max_bytes = 0;  // sum of the selected encoded sizes
    std::size_t max_transactions = 0;
};

// What changed at the tip since the last call. Transactions may come in any order.
struct TipChange {
    std::span<const chain::Transaction> reverted{};   // of the blocks undone (a reorg)
    std::span<const chain::Transaction> connected{};  // of the blocks applied
    // Other accounts whose balance may have dropped: the beneficiaries of the undone blocks
    // (they lose fees and reward). The undone blocks' recipients are taken from `reverted`.
    std::span<const chain::Address> lowered{};
};

struct TipReport {
    std::size_t removed = 0;     // pooled transactions that left: included, stale, unfundable
    std::size_t readmitted = 0;  // transactions of undone blocks now in the pool
    std::size_t dropped = 0;     // transactions of undone blocks that did not come back
    std::size_t evicted = 0;     // left under the bounds (rule 6) after the readmissions
};

class Mempool {
public:
    Mempool(MempoolConfig config, chain::ChainParams params);

    Mempool(const Mempool&) = delete;
    Mempool& operator=(const Mempool&) = delete;

    // Rules 2-6 against `tip`, the state at the current tip (the same state the last
    // on_tip_changed saw). Errors: MempoolError or chain::ChainError (nonce_too_low,
    // nonce_gap, insufficient_balance). On error the pool is unchanged, except for pool_full
    // (rule 6).
    Result<Admitted> admit(VerifiedTransaction tx, const chain::AccountState& tip);

    // admit() for each, in (sender, nonce) order; the results come back in the input order.
    // For a batch verified on the worker pool, whose order is arbitrary.
    std::vector<Result<Admitted>> admit_batch(std::vector<VerifiedTransaction> txs,
                                              const chain::AccountState& tip);

    // Rule 7. The pointers stay valid until the next call that changes the pool.
    std::vector<const chain::Transaction*> select(SelectionBudget budget) const;
    // The same, copied: chain::propose_block takes a span of them.
    std::vector<chain::Transaction> select_transactions(SelectionBudget budget) const;

    // Rule 8. Call after every change of the tip (a block applied; a reorg: the undone
    // blocks' transactions, the applied ones', the undone blocks' beneficiaries), with
    // `tip` the state at the new tip, before the next admit().
    TipReport on_tip_changed(const TipChange& change, const chain::AccountState& tip);
    TipReport on_block_connected(std::span<const chain::Transaction> txs,
                                 const chain::AccountState& tip) {
        return on_tip_changed({.reverted = {}, .connected = txs, .lowered = {}}, tip);
    }

    // Rule 9. Ignored when `id` is not pooled or MAX_LOCAL_TRANSACTIONS are marked.
    void mark_local(const Hash256& id);
    // The pooled transactions marked local, in id order, after forgetting the marks of those
    // that left. The pointers stay valid until the next call that changes the pool.
    std::vector<const chain::Transaction*> local_transactions();

    bool contains(const Hash256& id) const { return m_entries.contains(id); }
    const chain::Transaction* find(const Hash256& id) const;
    // The nonce the sender's next transaction must carry, when it has pending ones; without,
    // the tip's nonce is the answer.
    std::optional<std::uint64_t> pending_nonce(const chain::Address& sender) const;
    std::size_t size() const { return m_entries.size(); }
    std::size_t bytes() const { return m_bytes; }
    std::size_t sender_count() const { return m_senders.size(); }
    const MempoolConfig& config() const { return m_config; }

    // Aborts when a structural rule breaks: the byte total is the sum of the entries', every
    // index holds exactly the entries, chains are contiguous, within max_per_sender, and
    // their cost totals are right; with `tip`, also that each chain starts at the sender's
    // nonce and fits its balance. Tests and the simulator call it.
    void check_invariants(const chain::AccountState* tip = nullptr) const;

private:
    struct Sender;
    struct Entry {
        VerifiedTransaction tx;
        std::uint64_t cost = 0;  // amount + fee
        Sender* sender = nullptr;
    };
    struct Sender {
        chain::Address address;
        std::deque<Entry*> chain;  // ascending nonces, contiguous
        std::uint64_t cost = 0;    // sum of the chain's costs (<= the balance, so no overflow)
    };
    // Strict orders over entries (rule 6's "worst first") and over senders by their first
    // pending transaction (rule 7's "best first").
    struct WorseFirst {
        bool operator()(const Entry* a, const Entry* b) const;
    };
    struct BetterHeadFirst {
        bool operator()(const Sender* a, const Sender* b) const;
    };

    Entry& insert_entry(VerifiedTransaction tx, std::uint64_t cost, Sender& sender);
    // Takes the chain's last entry out of every index; the sender stays even when empty.
    VerifiedTransaction pop_back(Sender& sender);
    void remove_sender_if_empty(Sender& sender);
    // Removes `entry` and its sender's later entries; returns how many left.
    std::size_t remove_with_successors(const Entry& entry);
    std::size_t enforce_bounds();
    // Rule 8 for one sender, `account` its state at the new tip; `returning` are undone
    // transactions not in the pool.
    void rebuild(const chain::Address& address, const chain::Account& account,
                 std::vector<VerifiedTransaction> returning, TipReport& report);

    MempoolConfig m_config;
    chain::ChainParams m_params;
    std::map<Hash256, Entry> m_entries;
    std::set<Hash256> m_local;  // rule 9; may name entries that left, until local_transactions
    std::map<chain::Address, Sender> m_senders;
    std::set<const Entry*, WorseFirst> m_by_fee_rate;
    std::set<const Sender*, BetterHeadFirst> m_heads;
    std::size_t m_bytes = 0;
};

}  // namespace chainmesh::mempool
