// uvarint: decode the input's leading varint; when it decodes, re-encoding must give back the
// same bytes (the decoder accepts minimal encodings only) and uvarint_size must agree.

#include "fuzz_target.hpp"

#include <chainmesh/util/uvarint.hpp>

#include <cstdio>
#include <cstdlib>

namespace chainmesh::fuzz {
namespace {

void check(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "uvarint fuzz invariant broken: %s\n", what);
        std::abort();
    }
}

}  // namespace

CHAINMESH_FUZZ_TARGET(uvarint, data) {
    auto decoded = util::decode_uvarint(data);
    if (!decoded) {
        // Truncation is only reported for short inputs whose every byte continues.
        if (decoded.error() == util::VarintError::truncated) {
            check(data.size() < util::UVARINT_MAX_BYTES, "truncated only below the byte bound");
            for (const std::uint8_t b : data) {
                check((b & 0x80) != 0, "truncated only when every byte continues");
            }
        }
        return;
    }
    check(decoded->size >= 1 && decoded->size <= util::UVARINT_MAX_BYTES, "size in bounds");
    check(decoded->size <= data.size(), "consumed no more than the input");
    Bytes encoded;
    util::append_uvarint(encoded, decoded->value);
    check(equal(encoded, data.first(decoded->size)), "re-encoding gives the same bytes");
    check(util::uvarint_size(decoded->value) == decoded->size, "uvarint_size agrees");
}

}  // namespace chainmesh::fuzz
