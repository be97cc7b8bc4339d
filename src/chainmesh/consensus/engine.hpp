#pragma once
// The consensus engine interface (DESIGN.md section 4): what a node asks of any consensus,
// proof of work today (pow/pow_engine.hpp), the BFT engine later.
//
// A node asks four things:
// 1. Is this header's consensus part valid, given its parent and the parent's branch?
//    (check_consensus; chain::check_header covers the rest of the header.)
// 2. How much does this header weigh in the fork choice? (weight; pow: its work.) The fork
//    choice (chain/fork_choice.hpp) sums it along a branch; the heaviest complete branch wins.
// 3. The node's state moved to a new tip: what now? (on_new_tip; pow: build a template and
//    mine on it.)
// 4. Make a block template on a parent (make_template): the transactions and both roots
//    (chain::propose_block) and the consensus fields, for the node to produce (pow: mine the
//    nonce; bft: propose it).
//
// Honest limits: this is what pow needs and what a BFT engine can answer too (check a commit
// certificate's signatures in check_consensus, weight 1 per block, finality bounding reorgs
// through the fork choice's max depth), but the BFT engine also needs inputs the node does
// not give pow: its own messages (proposals, votes) and timeouts (on_message, on_tick) with
// actions out; it will add them, as alternatives of TipAction and new methods, when it lands.
//
// Engines are pure: no threads, no clock (time comes in as now_ms), no I/O. Mining's threads
// live in the node (node/miner.hpp), which calls pow::mine in chunks.

#include <chainmesh/chain/apply.hpp>
#include <chainmesh/chain/block.hpp>
#include <chainmesh/chain/fork_choice.hpp>
#include <chainmesh/chain/params.hpp>
#include <chainmesh/chain/state.hpp>
#include <chainmesh/util/result.hpp>

#include <cstdint>
#include <span>
#include <variant>
#include <vector>

namespace chainmesh::consensus {

using crypto::Hash256;

// Assemble a block on `parent` with make_template and start producing it (pow: hand it to
// the miner, replacing the job it had).
struct BuildTemplate {
    Hash256 parent{};
    std::uint64_t height = 0;  // of the block to build
};
using TipAction = std::variant<BuildTemplate>;

class Engine : public chain::ConsensusRules {
public:
    virtual chain::ConsensusKind kind() const = 0;

    // check_consensus and weight come from chain::ConsensusRules: the fork choice calls them
    // for every header it admits.

    // After the node's state reached `tip` (a plan of the fork choice carried out).
    virtual std::vector<TipAction> on_new_tip(const chain::BlockHeader& tip,
                                              const Hash256& tip_hash) = 0;

    // A block on `parent` for this node to produce: chain::propose_block over `candidates`
    // (best first, signature-checked: the mempool's selection) against `state`, the state at
    // `parent` (and that again on return), then the consensus fields. `branch` ends at
    // `parent`. The timestamp is max(now_ms, parent's + 1).
    virtual Result<chain::ProposedBlock> make_template(
        chain::AccountState& state, const chain::BlockHeader& parent,
        const chain::HeaderBranch& branch, std::span<const chain::Transaction> candidates,
        const chain::Address& beneficiary, std::uint64_t now_ms) const = 0;
};

}  // namespace chainmesh::consensus
