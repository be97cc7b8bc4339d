#include <chainmesh/util/base58.hpp>
#include <chainmesh/util/hex.hpp>
#include <chainmesh/util/multibase.hpp>

namespace chainmesh::util {

namespace {
constexpr std::string_view BASE32_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

int base32_value(char c) {
    if (c >= 'a' && c <= 'z') {
        return c - 'a';
    }
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= '2' && c <= '7') {
        return c - '2' + 26;
    }
    return -1;
}
}  // namespace

std::string_view describe(MultibaseError e) {
    switch (e) {
        case MultibaseError::empty: return "multibase text is empty";
        case MultibaseError::unsupported_base: return "multibase prefix names an unsupported base";
        case MultibaseError::bad_character: return "multibase text has a character outside its alphabet";
        case MultibaseError::too_long: return "multibase text is longer than allowed";
    }
    return "unknown multibase error";
}

std::string base32_encode(ByteView bytes) {
    std::string out;
    out.reserve((bytes.size() * 8 + 4) / 5);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const std::uint8_t b : bytes) {
        buffer = (buffer << 8) | b;
        bits += 8;
        while (bits >= 5) {
            out.push_back(BASE32_ALPHABET[(buffer >> (bits - 5)) & 0x1f]);
            bits -= 5;
        }
    }
    if (bits > 0) {
        out.push_back(BASE32_ALPHABET[(buffer << (5 - bits)) & 0x1f]);
    }
    return out;
}

Result<Bytes> base32_decode(std::string_view text) {
    if (text.size() > MULTIBASE_MAX_CHARS) {
        return MultibaseError::too_long;
    }
    Bytes out;
    out.reserve(text.size() * 5 / 8);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const char c : text) {
        const int v = base32_value(c);
        if (v < 0) {
            return MultibaseError::bad_character;
        }
        buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
        bits += 5;
        if (bits >= 8) {
            out.push_back(static_cast<std::uint8_t>(buffer >> (bits - 8)));
            bits -= 8;
        }
    }
    return out;
}

std::string multibase_encode_base32(ByteView bytes) { return "b" + base32_encode(bytes); }

Result<Bytes> multibase_decode(std::string_view text) {
    if (text.empty()) {
        return MultibaseError::empty;
    }
    if (text.size() > MULTIBASE_MAX_CHARS) {
        return MultibaseError::too_long;
    }
    const std::string_view body = text.substr(1);
    switch (text.front()) {
        case 'b':
        case 'B': return base32_decode(body);
        case 'z': {
            auto r = base58_decode(body, MULTIBASE_MAX_CHARS);
            if (!r) {
                return MultibaseError::bad_character;
            }
            return r;
        }
        case 'f':
        case 'F': {
            auto r = from_hex(body);
            if (!r) {
                return MultibaseError::bad_character;
            }
            return r;
        }
        default: return MultibaseError::unsupported_base;
    }
}

}  // namespace chainmesh::util
