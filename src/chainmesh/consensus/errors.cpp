#include <chainmesh/consensus/errors.hpp>

namespace chainmesh::consensus {

std::string_view describe(ConsensusError e) {
    switch (e) {
        case ConsensusError::bad_target:
            return "target differs from the retarget rule's";
        case ConsensusError::bad_proof_of_work:
            return "block hash above its target";
        case ConsensusError::unexpected_consensus_data:
            return "proof-of-work block carries consensus data";
        case ConsensusError::unknown_ancestor:
            return "an ancestor the consensus rule needs is unknown";
    }
    return "unknown consensus error";
}

std::string_view name(ConsensusError e) {
    switch (e) {
        case ConsensusError::bad_target:
            return "bad_target";
        case ConsensusError::bad_proof_of_work:
            return "bad_proof_of_work";
        case ConsensusError::unexpected_consensus_data:
            return "unexpected_consensus_data";
        case ConsensusError::unknown_ancestor:
            return "unknown_ancestor";
    }
    return "unknown";
}

}  // namespace chainmesh::consensus
