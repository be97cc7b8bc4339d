#pragma once
// The proof-of-work consensus engine (DESIGN.md section 4; docs/protocol.md §11): the
// consensus::Engine for networks whose genesis says kind = "pow".
//
// Rules (checked by check_consensus, for every header after genesis, after
// chain::check_header):
// 1. Consensus data is empty (unexpected_consensus_data). Rationale: pow has no fields beyond
//    target and nonce, and 8 KiB of arbitrary bytes per header would only be a free channel.
// 2. The target is the one pow::next_target derives from the parent's branch
//    (bad_target; unknown_ancestor when the branch lacks the window's first block).
//    Rationale: a miner must not pick an easy target; the retarget keeps block times near
//    target_block_time_ms as hash rate changes.
// 3. The block hash meets the target (bad_proof_of_work).
// Weight: pow::block_work(header.target), so the fork choice picks the most work.
// On a new tip: build a template on it and mine (the miner drops its old job).
// Template: chain::propose_block, then target = next_target, consensus data empty, nonce 0.
//
// Costs: check_consensus hashes the header once and, at retarget heights, reads one ancestor
// and does a few 256-bit divisions (microseconds). Stateless apart from the parameters, so
// one instance serves any number of chains views; not thread-safe only in that nothing here
// needs a lock (it has no mutable state).

#include <chainmesh/chain/params.hpp>
#include <chainmesh/consensus/engine.hpp>

namespace chainmesh::consensus::pow {

class PowEngine final : public Engine {
public:
    // Requires params.consensus == pow and params_problem(params) empty.
    explicit PowEngine(chain::ChainParams params);

    chain::ConsensusKind kind() const override { return chain::ConsensusKind::pow; }
    Result<void> check_consensus(const chain::BlockHeader& header, const chain::BlockHeader& parent,
                                 const chain::HeaderBranch& branch) const override;
    chain::Work weight(const chain::BlockHeader& header) const override;
    std::vector<TipAction> on_new_tip(const chain::BlockHeader& tip,
                                      const Hash256& tip_hash) override;
    Result<chain::ProposedBlock> make_template(chain::AccountState& state,
                                               const chain::BlockHeader& parent,
                                               const chain::HeaderBranch& branch,
                                               std::span<const chain::Transaction> candidates,
                                               const chain::Address& beneficiary,
                                               std::uint64_t now_ms) const override;

    // The target a child of `parent` must carry (rule 2).
    Result<Hash256> next_target(const chain::BlockHeader& parent,
                                const chain::HeaderBranch& branch) const;
    const chain::ChainParams& params() const { return m_params; }

private:
    chain::ChainParams m_params;
};

}  // namespace chainmesh::consensus::pow
