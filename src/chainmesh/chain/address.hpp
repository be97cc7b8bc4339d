#pragma once
// Account addresses (docs/protocol.md §3).
//
// An address is the first 20 bytes of SHA-256("chainmesh/address/ed25519" ‖ public key).
// Rationale: 20 bytes keep transactions short while leaving 2^80 work for a collision; the
// domain tag keeps the value apart from every other hash of the same key (peer ids hash it
// too), and names the key type so other key types can get their own tag.
//
// Text form: "cm" followed by 48 lowercase hex digits: the 20 address bytes, then a 4-byte
// checksum, the first 4 bytes of SHA-256("chainmesh/address-checksum" ‖ address). Rationale:
// addresses are typed and pasted by people (`tx sign --to`); the checksum turns a typo into an
// error instead of a transfer to nobody. Parsing accepts upper- or lowercase hex.

#include <chainmesh/chain/errors.hpp>
#include <chainmesh/crypto/ed25519.hpp>
#include <chainmesh/crypto/sha256.hpp>
#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>

#include <compare>
#include <string>
#include <string_view>

namespace chainmesh::chain {

using crypto::Hash256;

inline constexpr std::size_t ADDRESS_BYTES = 20;
inline constexpr std::size_t ADDRESS_CHECKSUM_BYTES = 4;
inline constexpr std::string_view ADDRESS_TEXT_PREFIX = "cm";
inline constexpr std::size_t ADDRESS_TEXT_LENGTH =
    2 + 2 * (ADDRESS_BYTES + ADDRESS_CHECKSUM_BYTES);  // 50 characters
inline constexpr std::string_view ADDRESS_DOMAIN = "chainmesh/address/ed25519";
inline constexpr std::string_view ADDRESS_CHECKSUM_DOMAIN = "chainmesh/address-checksum";

struct Address {
    ByteArray<ADDRESS_BYTES> bytes{};

    static Address from_public_key(const crypto::Ed25519PublicKey& key);
    // The text form above; bad_address for anything else.
    static Result<Address> parse(std::string_view text);

    std::string to_string() const;
    bool is_zero() const;

    friend auto operator<=>(const Address&, const Address&) = default;
};

}  // namespace chainmesh::chain
