#include <chainmesh/util/uvarint.hpp>

#include <cassert>

namespace chainmesh::util {

std::string_view describe(VarintError e) {
    switch (e) {
        case VarintError::truncated: return "varint is truncated";
        case VarintError::non_minimal: return "varint is not minimally encoded";
        case VarintError::overflow: return "varint is longer than 9 bytes";
    }
    return "unknown varint error";
}

void append_uvarint(Bytes& out, std::uint64_t value) {
    assert(value < (std::uint64_t{1} << 63) && "multiformats varints carry at most 63 bits");
    while (value >= 0x80) {
        out.push_back(static_cast<std::uint8_t>(value | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(value));
}

std::size_t uvarint_size(std::uint64_t value) {
    std::size_t n = 1;
    while (value >= 0x80) {
        value >>= 7;
        ++n;
    }
    return n;
}

Result<DecodedUvarint> decode_uvarint(ByteView input) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < input.size(); ++i) {
        if (i == UVARINT_MAX_BYTES) {
            return VarintError::overflow;
        }
        const std::uint8_t b = input[i];
        value |= std::uint64_t{static_cast<std::uint8_t>(b & 0x7f)} << (7 * i);
        if ((b & 0x80) == 0) {
            // A last byte of zero after the first adds nothing: the encoding was not minimal.
            if (b == 0 && i > 0) {
                return VarintError::non_minimal;
            }
            return DecodedUvarint{value, i + 1};
        }
    }
    if (input.size() >= UVARINT_MAX_BYTES) {
        return VarintError::overflow;
    }
    return VarintError::truncated;
}

}  // namespace chainmesh::util
