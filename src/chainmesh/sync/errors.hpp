#pragma once
// The sync protocol's errors: decoding refusals (the codec) and the reasons the engine
// penalises a peer (sync_engine.hpp). A node maps each reason to the same penalty it gives the
// same fault on the gossip path (bad_linkage, invalid_header, wrong_block are bad data).

#include <chainmesh/util/result.hpp>
#include <string_view>

namespace chainmesh::sync {

enum class SyncError {
    malformed = 1,     // a message that does not decode exactly
    unknown_kind,      // a message kind this version does not know
    too_large,         // a message above MAX_MESSAGE_BYTES
    too_many_items,    // more headers, hashes, locators or blocks than a message may carry
    wrong_network,     // the peer's genesis hash is not ours
    unsolicited,       // a response nobody asked for
    bad_linkage,       // headers that do not chain onto what we know, or onto each other
    invalid_header,    // a header the node's validator refused
    wrong_block,       // a block that is not one we asked this peer for
    timeout,           // a request unanswered within its deadline
    stall,             // held the window's lowest block too long
    claim_not_backed,  // claimed more work than the headers it sent show
};
std::string_view describe(SyncError e);
std::string_view name(SyncError e);

}  // namespace chainmesh::sync

CHAINMESH_ERROR_ENUM(chainmesh::sync, SyncError, "sync")
