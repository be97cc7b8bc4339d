#pragma once
// The store's errors. Two kinds, as STYLE.md "Errors" asks:
//
// - Opening a data dir is startup: every problem there (another network's dir, a damaged dir,
//   a dir in use) throws StoreOpenError with one line naming the dir and the problem, for
//   main to print. Nothing is ever reset, repaired or deleted.
// - Once open, operations return Result<T> with a StoreError; corrupt and io_error come with
//   a sentence in BlockStore::last_error_detail() for the log.

#include <chainmesh/util/result.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace chainmesh::store {

enum class StoreError {
    not_found = 1,   // no such block, header, height or transaction
    not_on_tip,      // the block does not extend the current tip (previous hash or height)
    state_mismatch,  // the pending state's root is not the block's state root
    at_genesis,      // the genesis block cannot be reverted
    corrupt,         // stored data does not decode or does not fit together
    io_error,        // RocksDB refused a read or a write
};
std::string_view describe(StoreError e);

class StoreOpenError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace chainmesh::store

CHAINMESH_ERROR_ENUM(chainmesh::store, StoreError, "store")
