#include <chainmesh/store/errors.hpp>

namespace chainmesh::store {

std::string_view describe(StoreError e) {
    switch (e) {
        case StoreError::not_found:
            return "not in the store";
        case StoreError::not_on_tip:
            return "block does not extend the stored tip";
        case StoreError::state_mismatch:
            return "state root does not match the block's";
        case StoreError::at_genesis:
            return "the genesis block cannot be reverted";
        case StoreError::corrupt:
            return "stored data is damaged";
        case StoreError::io_error:
            return "storage read or write failed";
    }
    return "unknown store error";
}

}  // namespace chainmesh::store
