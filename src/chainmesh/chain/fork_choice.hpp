#pragma once
// Fork choice: the tree of known blocks, the best chain by cumulative weight, a bounded pool
// of orphan blocks, and the plans that move a node's state from one tip to another
// (issue 3 item 5; DESIGN.md section 4; docs/protocol.md §11).
//
// What it tracks: every accepted header, keyed by hash, with its height, its cumulative weight
// (the sum of the consensus engine's weight() over it and its ancestors: pow's work), whether
// its body is here, and whether it (or an ancestor) was found invalid; the active chain (the
// one the caller's state follows); and orphans, blocks whose parent is unknown.
//
// Rules, each with its rationale:
// 1. Admission of a header (add_header, add_block): its parent is in the tree and valid
//    (unknown_parent, invalid_parent), it passes chain::check_header against the parent and
//    the consensus engine's check_consensus against the parent's branch, and the branch it
//    extends forks from the active chain at most max_reorg_depth blocks below the active tip
//    (fork_too_deep). Rationale for the last: such a branch can never be switched to (rule 4),
//    so storing it would only spend memory.
// 2. A block's body must match its header before anything is stored (chain::check_block_body:
//    sizes, duplicates, Merkle root), so a valid header sent with a mangled body is refused
//    without marking the header invalid. Rationale: otherwise anyone could poison a good block
//    by relaying it with a wrong body.
// 3. Best tip: among valid blocks whose body and all ancestors' bodies are here ("complete"),
//    the greatest cumulative weight, NOT the greatest height. Ties go to the block that
//    became complete first. Rationale: the weight is the work (or stake) behind a chain; a
//    longer chain of easy blocks must not beat a shorter one of hard blocks; first-seen ties
//    keep a node from flapping between equal tips and reward the block that spread first.
// 4. Reorg depth: switching to a branch that forks more than max_reorg_depth blocks below the
//    active tip is refused: its blocks are marked invalid (fork_too_deep) and the active chain
//    stays. Rationale: undo data and the mempool's re-admission have a bounded horizon, and a
//    node should not silently rewrite deep history; recovering from such a split is an
//    operator's decision. Refused once, a branch stays refused.
// 5. Orphans: a block whose parent is unknown waits in a pool of at most orphan_max_blocks
//    blocks and orphan_max_bytes encoded bytes; when full, the oldest leaves first. A block
//    larger than orphan_max_bytes, or so low that it could only fork too deep (rule 1), is
//    refused. When a block's header is accepted, the orphans waiting for it are attached in
//    turn (and theirs, breadth first); an orphan that fails then is refused, and the orphans
//    waiting for it are dropped with it (invalid_parent). Rationale: blocks arrive out of
//    order from several peers; a bound and oldest-first eviction keep a peer from filling
//    memory with blocks that never connect.
// 6. Invalid blocks: a block the caller fails to apply (apply_block: bad state root, a
//    balance, ...) is reported with mark_invalid; it and all its descendants become invalid,
//    the best tip is chosen again from the remaining blocks and a plan leads there from where
//    the caller's state stopped. Invalid headers stay in the tree, so a resent one is refused
//    at once (known_invalid).
//
// Outputs (take_events, drained after every input, in the order they happened):
//   BlockAccepted  a block is in the tree with its body (also re-attached orphans): persist
//                  it; its plan, if any, comes after it
//   HeaderAccepted a header (add_header) is in the tree: fetch its body
//   BlockOrphaned  a block waits for `missing_parent`, the first unknown ancestor: fetch it
//   Rejected       a block or header was refused, with the reason (ForkChoiceError,
//                  chain::ChainError or the engine's error); already_known, unknown_parent,
//                  fork_too_deep, orphan_too_large and timestamp_too_far_in_future are not
//                  misbehaviour of the sender (a race, another fork, a clock), the others are
//   NewBestTip     the plan from the active tip to the new best tip: revert `revert` in order
//                  (old tip first, down to the fork point excluded), then apply `apply` in
//                  order (from above the fork point up to the new tip). At most one per input.
// The fork choice assumes the caller carries out each plan; when a block of it fails, the
// caller says so with mark_invalid, naming where its state stopped.
//
// Bounds: the tree holds every accepted header (it grows with the chain, as a header index
// must; side branches cost a header's consensus proof each, and rule 1 stops deep ones). Each
// holds a BlockHeader plus ~150 bytes. The orphan pool is bounded by rule 5. A plan's revert
// list holds at most max_reorg_depth hashes.
//
// CPU, for n blocks in the tree: add_header and add_block O(log² n) plus the consensus
// engine's check and chain::check_header (and check_block_body for blocks); finding the fork
// point O(log³ n) at worst (a binary search of ancestor lookups); a plan O(its length);
// mark_invalid O(descendants); attaching k orphans O(k log n) plus their checks. Time comes
// in as now_ms; nothing here reads a clock, starts a thread or does I/O.
//
// Not thread-safe: one engine thread owns it.

#include <chainmesh/chain/block.hpp>
#include <chainmesh/chain/errors.hpp>
#include <chainmesh/chain/params.hpp>
#include <chainmesh/crypto/sha256.hpp>
#include <chainmesh/util/result.hpp>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <variant>
#include <vector>

namespace chainmesh::chain {

enum class ForkChoiceError {
    already_known = 1,  // the block (with its body) or header is here, or in the orphan pool
    known_invalid,      // the block was found invalid before
    unknown_parent,     // a header whose parent is not in the tree (add_header)
    invalid_parent,     // its parent, or an ancestor, is invalid
    fork_too_deep,      // its branch forks more than max_reorg_depth below the active tip
    orphan_too_large,   // an orphan larger than the whole orphan pool
};
std::string_view describe(ForkChoiceError e);
std::string_view name(ForkChoiceError e);

// Whether a Rejected reason is the sender's fault (see Outputs below): false for a race, a
// fork or a clock (already_known, unknown_parent, fork_too_deep, orphan_too_large,
// timestamp_too_far_in_future), true for everything else.
bool is_sender_fault(const ErrorCode& reason);

}  // namespace chainmesh::chain

CHAINMESH_ERROR_ENUM(chainmesh::chain, ForkChoiceError, "fork_choice")

namespace chainmesh::chain {

inline constexpr std::uint32_t DEFAULT_FORK_MAX_REORG_DEPTH = 100;
inline constexpr std::size_t DEFAULT_ORPHAN_MAX_BLOCKS = 100;
inline constexpr std::size_t DEFAULT_ORPHAN_MAX_BYTES = 20 * 1024 * 1024;

// A 256-bit unsigned number: a block's weight and the cumulative weight of a chain (pow: its
// work, docs/protocol.md §11). Compares as a number.
struct Work {
    std::array<std::uint64_t, 4> limbs{};  // most significant first

    static Work from_u64(std::uint64_t value);
    static Work from_bytes(const Hash256& big_endian);
    static Work max();
    Hash256 to_bytes() const;  // 32 bytes, big-endian

    // Saturates at 2^256 - 1 (cumulative work never gets near it: 2^64 blocks of at most
    // 2^255 each would be needed to pass it).
    friend Work operator+(const Work& a, const Work& b);
    friend auto operator<=>(const Work&, const Work&) = default;
    friend bool operator==(const Work&, const Work&) = default;
};

// The headers of one branch, by height: what a consensus rule may read of a header's past
// (pow's retarget reads an older timestamp).
class HeaderBranch {
public:
    virtual ~HeaderBranch() = default;
    // The header at `height` on this branch; null above the branch's tip.
    virtual const BlockHeader* at_height(std::uint64_t height) const = 0;
};

// What the fork choice asks of the consensus engine (consensus::Engine implements it).
class ConsensusRules {
public:
    virtual ~ConsensusRules() = default;
    // The consensus fields of `header`, a child of `parent`; `branch` ends at the parent.
    // chain::check_header has passed. An error rejects the header.
    virtual Result<void> check_consensus(const BlockHeader& header, const BlockHeader& parent,
                                         const HeaderBranch& branch) const = 0;
    // The fork-choice weight of a header that passed check_consensus (pow: its work); >= 1.
    virtual Work weight(const BlockHeader& header) const = 0;
};

struct ForkChoiceConfig {
    std::uint32_t max_reorg_depth = DEFAULT_FORK_MAX_REORG_DEPTH;  // >= 1
    std::size_t orphan_max_blocks = DEFAULT_ORPHAN_MAX_BLOCKS;
    std::size_t orphan_max_bytes = DEFAULT_ORPHAN_MAX_BYTES;
};

struct BlockAccepted {
    Block block;
};
struct HeaderAccepted {
    Hash256 hash{};
    std::uint64_t height = 0;
};
struct BlockOrphaned {
    Hash256 hash{};
    Hash256 missing_parent{};  // the first ancestor neither in the tree nor in the pool
};
struct Rejected {
    Hash256 hash{};
    ErrorCode reason;
};
struct NewBestTip {
    Hash256 previous_tip{};
    Hash256 tip{};
    std::uint64_t height = 0;     // of the new tip
    Hash256 fork_point{};         // the last block both chains share
    std::vector<Hash256> revert;  // previous tip first, down to above the fork point
    std::vector<Hash256> apply;   // from above the fork point up to the new tip

    bool is_reorg() const { return !revert.empty(); }
};
using ForkChoiceEvent =
    std::variant<BlockAccepted, HeaderAccepted, BlockOrphaned, Rejected, NewBestTip>;

class ForkChoice {
    struct Node;

public:
    // `genesis` is the root; its body counts as present. `rules` must outlive this object.
    ForkChoice(ChainParams params, ForkChoiceConfig config, const ConsensusRules& rules,
               const BlockHeader& genesis);
    ~ForkChoice();
    ForkChoice(const ForkChoice&) = delete;
    ForkChoice& operator=(const ForkChoice&) = delete;

    // A block from a peer or a miner, whose signatures the caller may have checked or not
    // (apply_block checks them unless told otherwise). `now_ms` is the caller's clock, for
    // check_header's future-timestamp rule (also applied to orphans attached by this call).
    void add_block(Block block, std::uint64_t now_ms);
    // A header alone (headers-first sync); its body may follow with add_block.
    void add_header(const BlockHeader& header, std::uint64_t now_ms);
    // The caller could not apply `block` (the reason is apply_block's error, for its logs); its
    // state is at `state_tip`, the block's parent, on the active chain as last announced. A
    // NewBestTip from `state_tip` always follows (with empty lists when it stays the tip).
    void mark_invalid(const Hash256& block, ErrorCode reason, const Hash256& state_tip);
    // At startup: `header`, a block of the node's own store that extends the active tip, is
    // taken as applied: complete, valid and the new active tip, without checks (they passed
    // when it was stored) and without events. Returns wrong_parent when it does not extend
    // the tip. Rationale: restarting a node must not re-validate its whole chain, and the
    // fork choice must know the stored chain to judge a peer's branch against it.
    Result<void> restore_applied(const BlockHeader& header);

    std::vector<ForkChoiceEvent> take_events();

    // A view of the branch ending at `tip` (null when unknown), for the consensus engine:
    // valid while the tree lives.
    class BranchView final : public HeaderBranch {
    public:
        const BlockHeader* at_height(std::uint64_t height) const override;
        const Hash256& tip_hash() const;

    private:
        friend class ForkChoice;
        BranchView(const ForkChoice& tree, const Node& tip) : m_tree(&tree), m_tip(&tip) {}
        const ForkChoice* m_tree;
        const Node* m_tip;
    };
    std::optional<BranchView> branch(const Hash256& tip) const;

    // Queries.
    const Hash256& tip_hash() const;
    const BlockHeader& tip() const;
    std::uint64_t height() const { return m_chain.size() - 1; }
    const Work& tip_work() const;
    bool contains(const Hash256& hash) const { return m_nodes.contains(hash); }
    bool is_orphan(const Hash256& hash) const { return m_orphans.contains(hash); }
    bool is_invalid(const Hash256& hash) const;
    const BlockHeader* header(const Hash256& hash) const;
    std::optional<Work> chain_work(const Hash256& hash) const;
    // The active chain's block at `height`, if it reaches that high.
    const Hash256* active_at(std::uint64_t height) const;
    // The header at `height` on the branch ending at `tip`.
    const BlockHeader* ancestor(const Hash256& tip, std::uint64_t height) const;
    std::size_t block_count() const { return m_nodes.size(); }
    std::size_t orphan_count() const { return m_orphans.size(); }
    std::size_t orphan_bytes() const { return m_orphan_bytes; }
    const ForkChoiceConfig& config() const { return m_config; }

    // Aborts when a structural rule breaks (indexes, flags, the active chain, the best tip,
    // the orphan pool's bounds and indexes). Tests and the simulator call it.
    void check_invariants() const;

private:
    struct Node {
        BlockHeader header;
        Hash256 hash{};
        Node* parent = nullptr;
        Node* skip = nullptr;  // the ancestor at height & (height - 1): O(log² n) lookups
        std::vector<Node*> children;
        Work chain_work;
        std::uint64_t height = 0;
        std::uint64_t candidate_order = 0;  // when it became complete (rule 3's "first")
        bool has_body = false;
        bool complete = false;  // has_body here and at every ancestor
        bool invalid = false;
    };
    // Best first: greatest work, then first complete.
    struct BetterFirst {
        bool operator()(const Node* a, const Node* b) const;
    };
    struct Orphan {
        Block block;
        std::size_t bytes = 0;
        std::uint64_t order = 0;
    };

    const Node* find(const Hash256& hash) const;
    Node* find(const Hash256& hash);
    Node* ancestor_of(const Node* from, std::uint64_t height) const;
    bool on_active_chain(const Node* node) const;
    // The last block `node`'s branch shares with the active chain, when it is at most
    // max_reorg_depth below the active tip; null when deeper.
    const Node* fork_point_within_depth(const Node* node) const;

    // Rule 1 for a header whose parent is known: the new node, or null (Rejected emitted).
    Node* insert_header(const BlockHeader& header, const Hash256& hash, Node& parent,
                        std::uint64_t now_ms);
    void set_body(Node& node);
    void make_complete_from(Node& node);
    void attach_orphans(const Hash256& parent, std::uint64_t now_ms);
    void add_orphan(Block block, const Hash256& hash);
    Block erase_orphan(const Hash256& hash);
    void drop_orphans_waiting_for(const Hash256& hash);
    void invalidate(Node& root);
    void choose_best();
    void reject(const Hash256& hash, ErrorCode reason);

    ChainParams m_params;
    ForkChoiceConfig m_config;
    const ConsensusRules* m_rules;
    std::map<Hash256, std::unique_ptr<Node>> m_nodes;
    std::vector<Node*> m_chain;                 // the active chain by height; genesis first
    std::set<Node*, BetterFirst> m_candidates;  // complete, valid, no complete valid child
    std::uint64_t m_next_candidate_order = 0;

    std::map<Hash256, Orphan> m_orphans;
    std::map<std::uint64_t, Hash256> m_orphans_by_age;
    std::multimap<Hash256, Hash256> m_orphans_by_parent;
    std::size_t m_orphan_bytes = 0;
    std::uint64_t m_next_orphan_order = 0;

    std::vector<ForkChoiceEvent> m_events;
};

}  // namespace chainmesh::chain
