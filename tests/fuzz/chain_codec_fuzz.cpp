// Fuzz target `chain_codec`: every chain decoder on arbitrary bytes. What decodes must
// re-encode to exactly the input: each object has one encoding (docs/protocol.md).

#include "fuzz_target.hpp"

#include <chainmesh/chain/apply.hpp>
#include <chainmesh/chain/block.hpp>
#include <chainmesh/chain/params.hpp>
#include <chainmesh/chain/transaction.hpp>

#include <cstdlib>

namespace {

template <class T>
void check_round_trip(chainmesh::ByteView data) {
    auto decoded = T::decode(data);
    if (!decoded) {
        return;
    }
    const chainmesh::Bytes again = decoded->encode();
    if (!chainmesh::equal(again, data)) {
        std::abort();  // a second encoding of the same object
    }
}

}  // namespace

CHAINMESH_FUZZ_TARGET(chain_codec, data) {
    using namespace chainmesh::chain;
    check_round_trip<Transaction>(data);
    check_round_trip<BlockHeader>(data);
    check_round_trip<Block>(data);
    check_round_trip<BlockUndo>(data);
    check_round_trip<ChainParams>(data);
}
