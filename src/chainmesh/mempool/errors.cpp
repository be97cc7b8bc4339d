#include <chainmesh/mempool/errors.hpp>

namespace chainmesh::mempool {

std::string_view describe(MempoolError e) {
    switch (e) {
        case MempoolError::already_known: return "transaction is already in the pool";
        case MempoolError::replacement_underpriced:
            return "replacement does not raise the fee enough";
        case MempoolError::sender_limit: return "sender has too many pending transactions";
        case MempoolError::pool_full: return "pool is full of transactions paying more per byte";
    }
    return "unknown mempool error";
}

std::string_view name(MempoolError e) {
    switch (e) {
        case MempoolError::already_known: return "already_known";
        case MempoolError::replacement_underpriced: return "replacement_underpriced";
        case MempoolError::sender_limit: return "sender_limit";
        case MempoolError::pool_full: return "pool_full";
    }
    return "unknown";
}

}  // namespace chainmesh::mempool
