#include <chainmesh/sync/errors.hpp>

namespace chainmesh::sync {

std::string_view describe(SyncError e) {
    switch (e) {
        case SyncError::malformed:
            return "malformed sync message";
        case SyncError::unknown_kind:
            return "unknown sync message kind";
        case SyncError::too_large:
            return "sync message too large";
        case SyncError::too_many_items:
            return "too many items in a sync message";
        case SyncError::wrong_network:
            return "peer is on another network";
        case SyncError::unsolicited:
            return "unsolicited sync response";
        case SyncError::bad_linkage:
            return "headers do not link";
        case SyncError::invalid_header:
            return "invalid header";
        case SyncError::wrong_block:
            return "block was not requested";
        case SyncError::timeout:
            return "sync request timed out";
        case SyncError::stall:
            return "peer stalled the download window";
        case SyncError::claim_not_backed:
            return "claimed work not backed by headers";
    }
    return "unknown sync error";
}

std::string_view name(SyncError e) {
    switch (e) {
        case SyncError::malformed:
            return "malformed";
        case SyncError::unknown_kind:
            return "unknown_kind";
        case SyncError::too_large:
            return "too_large";
        case SyncError::too_many_items:
            return "too_many_items";
        case SyncError::wrong_network:
            return "wrong_network";
        case SyncError::unsolicited:
            return "unsolicited";
        case SyncError::bad_linkage:
            return "bad_linkage";
        case SyncError::invalid_header:
            return "invalid_header";
        case SyncError::wrong_block:
            return "wrong_block";
        case SyncError::timeout:
            return "timeout";
        case SyncError::stall:
            return "stall";
        case SyncError::claim_not_backed:
            return "claim_not_backed";
    }
    return "unknown";
}

}  // namespace chainmesh::sync
