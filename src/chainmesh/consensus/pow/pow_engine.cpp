#include <chainmesh/consensus/errors.hpp>
#include <chainmesh/consensus/pow/pow.hpp>
#include <chainmesh/consensus/pow/pow_engine.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace chainmesh::consensus::pow {

PowEngine::PowEngine(chain::ChainParams params) : m_params(std::move(params)) {
    if (m_params.consensus != chain::ConsensusKind::pow ||
        !chain::params_problem(m_params).empty()) {
        std::fprintf(stderr, "PowEngine: parameters are not a valid proof-of-work network\n");
        std::abort();
    }
}

Result<Hash256> PowEngine::next_target(const chain::BlockHeader& parent,
                                       const chain::HeaderBranch& branch) const {
    return pow::next_target(m_params.pow, parent, branch);
}

Result<void> PowEngine::check_consensus(const chain::BlockHeader& header,
                                        const chain::BlockHeader& parent,
                                        const chain::HeaderBranch& branch) const {
    if (!header.consensus_data.empty()) {
        return ConsensusError::unexpected_consensus_data;
    }
    const auto expected = next_target(parent, branch);
    if (!expected) {
        return expected.error();
    }
    return check_proof(header, *expected);
}

chain::Work PowEngine::weight(const chain::BlockHeader& header) const {
    return block_work(header.target);
}

std::vector<TipAction> PowEngine::on_new_tip(const chain::BlockHeader& tip,
                                             const Hash256& tip_hash) {
    return {BuildTemplate{tip_hash, tip.height + 1}};
}

Result<chain::ProposedBlock> PowEngine::make_template(
    chain::AccountState& state, const chain::BlockHeader& parent, const chain::HeaderBranch& branch,
    std::span<const chain::Transaction> candidates, const chain::Address& beneficiary,
    std::uint64_t now_ms) const {
    const auto target = next_target(parent, branch);
    if (!target) {
        return target.error();
    }
    const std::uint64_t timestamp = std::max(now_ms, parent.timestamp_ms + 1);
    auto proposal =
        chain::propose_block(state, parent, candidates, beneficiary, timestamp, m_params);
    if (!proposal) {
        return proposal.error();
    }
    proposal->block.header.target = *target;
    proposal->block.header.consensus_data.clear();
    proposal->block.header.nonce = 0;
    return proposal;
}

}  // namespace chainmesh::consensus::pow
