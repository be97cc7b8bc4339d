#include <chainmesh/util/hex.hpp>

namespace chainmesh::util {

std::string_view describe(HexError e) {
    switch (e) {
        case HexError::odd_length: return "hex text has an odd number of digits";
        case HexError::bad_digit: return "hex text has a character that is not a hex digit";
    }
    return "unknown hex error";
}

std::string to_hex(ByteView bytes) {
    static constexpr char DIGITS[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const std::uint8_t b : bytes) {
        out.push_back(DIGITS[b >> 4]);
        out.push_back(DIGITS[b & 0x0f]);
    }
    return out;
}

namespace {
int digit_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}
}  // namespace

Result<Bytes> from_hex(std::string_view text) {
    if (text.size() % 2 != 0) {
        return HexError::odd_length;
    }
    Bytes out;
    out.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
        const int hi = digit_value(text[i]);
        const int lo = digit_value(text[i + 1]);
        if (hi < 0 || lo < 0) {
            return HexError::bad_digit;
        }
        out.push_back(static_cast<std::uint8_t>((hi << 4) | lo));
    }
    return out;
}

}  // namespace chainmesh::util
