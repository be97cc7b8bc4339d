#pragma once
// The consensus engines' refusals of a header (docs/protocol.md §11): the rules of the chain
// itself are chain::ChainError; these are the consensus fields' own.

#include <chainmesh/util/result.hpp>

#include <string_view>

namespace chainmesh::consensus {

enum class ConsensusError {
    bad_target = 1,             // pow: the header's target is not the retarget rule's
    bad_proof_of_work,          // pow: the header's hash is above its target
    unexpected_consensus_data,  // pow: blocks after genesis carry no consensus data
    unknown_ancestor,           // an ancestor the rule reads is not known
};
std::string_view describe(ConsensusError e);

// The enum's value name ("bad_target"), for logs, metrics and tests.
std::string_view name(ConsensusError e);

}  // namespace chainmesh::consensus

CHAINMESH_ERROR_ENUM(chainmesh::consensus, ConsensusError, "consensus")
