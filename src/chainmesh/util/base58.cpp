#include <chainmesh/util/base58.hpp>

#include <array>

namespace chainmesh::util {

namespace {
constexpr std::string_view ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

constexpr std::array<std::int8_t, 256> make_reverse() {
    std::array<std::int8_t, 256> table{};
    for (auto& v : table) {
        v = -1;
    }
    for (std::size_t i = 0; i < ALPHABET.size(); ++i) {
        table[static_cast<std::uint8_t>(ALPHABET[i])] = static_cast<std::int8_t>(i);
    }
    return table;
}
constexpr auto REVERSE = make_reverse();
}  // namespace

std::string_view describe(Base58Error e) {
    switch (e) {
        case Base58Error::bad_character: return "text has a character outside the base58 alphabet";
        case Base58Error::too_long: return "base58 text is longer than allowed";
    }
    return "unknown base58 error";
}

std::string base58_encode(ByteView bytes) {
    std::size_t zeros = 0;
    while (zeros < bytes.size() && bytes[zeros] == 0) {
        ++zeros;
    }
    // log(256) / log(58) < 1.37: enough base-58 digits for the rest of the input.
    std::vector<std::uint8_t> digits((bytes.size() - zeros) * 137 / 100 + 1, 0);
    std::size_t used = 0;
    for (std::size_t i = zeros; i < bytes.size(); ++i) {
        unsigned carry = bytes[i];
        std::size_t j = 0;
        for (auto it = digits.rbegin(); (carry != 0 || j < used) && it != digits.rend(); ++it, ++j) {
            carry += 256u * *it;
            *it = static_cast<std::uint8_t>(carry % 58);
            carry /= 58;
        }
        used = j;
    }
    std::string out(zeros, '1');
    for (std::size_t i = digits.size() - used; i < digits.size(); ++i) {
        out.push_back(ALPHABET[digits[i]]);
    }
    return out;
}

Result<Bytes> base58_decode(std::string_view text, std::size_t max_chars) {
    if (text.size() > max_chars) {
        return Base58Error::too_long;
    }
    std::size_t ones = 0;
    while (ones < text.size() && text[ones] == '1') {
        ++ones;
    }
    // log(58) / log(256) < 0.733.
    std::vector<std::uint8_t> bytes((text.size() - ones) * 733 / 1000 + 1, 0);
    std::size_t used = 0;
    for (std::size_t i = ones; i < text.size(); ++i) {
        const int value = REVERSE[static_cast<std::uint8_t>(text[i])];
        if (value < 0) {
            return Base58Error::bad_character;
        }
        unsigned carry = static_cast<unsigned>(value);
        std::size_t j = 0;
        for (auto it = bytes.rbegin(); (carry != 0 || j < used) && it != bytes.rend(); ++it, ++j) {
            carry += 58u * *it;
            *it = static_cast<std::uint8_t>(carry & 0xff);
            carry >>= 8;
        }
        used = j;
    }
    Bytes out(ones, 0);
    out.insert(out.end(), bytes.end() - static_cast<std::ptrdiff_t>(used), bytes.end());
    return out;
}

}  // namespace chainmesh::util
