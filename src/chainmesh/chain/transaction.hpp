#pragma once
// Transactions: Ed25519-signed transfers between accounts (docs/protocol.md §4).
//
// Canonical encoding, all integers big-endian (144 + network + memo bytes, at most 432):
//
//     u8  format = 0x01
//     u8  network id length n (1..32), n bytes of network id ([a-z0-9._-])
//     32  sender Ed25519 public key
//     20  recipient address
//     u64 amount    u64 fee    u64 nonce
//     u16 memo length m (0..256), m bytes of memo (opaque)
//     64  Ed25519 signature
//
// Rules (each with its ChainError):
// - decode() accepts exactly one encoding and nothing after it (malformed), a memo of at
//   most MEMO_MAX_BYTES (memo_too_long). Rationale: one encoding per transaction means one id.
// - The signature covers TRANSACTION_SIGNING_DOMAIN ‖ encoding without the signature.
//   Rationale: the domain keeps a chain signature from ever being a valid libp2p signature
//   (node keys can be account keys), and the network id inside stops replays across networks.
// - id() = SHA-256(encoding), signature included, so a block's Merkle root commits to every
//   byte it carries. Signatures cannot be altered by third parties (libsodium rejects
//   non-canonical S and small-order keys), so ids are stable.
//
// A Transaction is a plain value: change a field and id() and verify() follow. Callers that
// need the id or the sender's address repeatedly compute them once.

#include <chainmesh/chain/address.hpp>
#include <chainmesh/chain/errors.hpp>
#include <chainmesh/chain/params.hpp>
#include <chainmesh/crypto/ed25519.hpp>
#include <chainmesh/crypto/sha256.hpp>
#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace chainmesh::chain {

inline constexpr std::string_view TRANSACTION_SIGNING_DOMAIN = "chainmesh/transaction/v1";
inline constexpr std::size_t TRANSACTION_FIXED_BYTES = 1 + 1 + 32 + 20 + 8 + 8 + 8 + 2 + 64;
inline constexpr std::size_t TRANSACTION_MIN_BYTES = TRANSACTION_FIXED_BYTES + 1;
inline constexpr std::size_t TRANSACTION_MAX_BYTES =
    TRANSACTION_FIXED_BYTES + NETWORK_ID_MAX_BYTES + MEMO_MAX_BYTES;

struct Transaction {
    std::string network_id;
    crypto::Ed25519PublicKey sender{};
    Address recipient;
    std::uint64_t amount = 0;
    std::uint64_t fee = 0;
    std::uint64_t nonce = 0;
    Bytes memo;
    crypto::Ed25519Signature signature{};

    // Sets `sender` to the key's public key, then signs. Call after setting every other field.
    void sign(const crypto::Ed25519PrivateKey& key);
    // The Ed25519 check alone (about 50 µs): run it on a worker pool, see validation.hpp.
    bool verify() const;

    Hash256 id() const;
    Address sender_address() const { return Address::from_public_key(sender); }

    // Encoding requires network_id.size() <= 255 and memo.size() <= 65535 (a programmer
    // error otherwise); check_transaction() enforces the real bounds.
    Bytes encode() const;
    void encode_to(Bytes& out) const;  // appends
    std::size_t encoded_size() const {
        return TRANSACTION_FIXED_BYTES + network_id.size() + memo.size();
    }
    // The signed message: TRANSACTION_SIGNING_DOMAIN ‖ encoding without the signature.
    Bytes signing_bytes() const;

    static Result<Transaction> decode(ByteView encoded);
    // Decodes the transaction at the start of `input` and sets `consumed` to its size (a
    // block's transactions follow each other without length prefixes).
    static Result<Transaction> decode_prefix(ByteView input, std::size_t& consumed);

    friend bool operator==(const Transaction&, const Transaction&) = default;
};

}  // namespace chainmesh::chain
