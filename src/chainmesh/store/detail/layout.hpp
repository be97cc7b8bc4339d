#pragma once
// The on-disk layout of a store (schema version 1): column family names, metadata keys, and
// the fixed-size encodings of index entries, accounts and state tree nodes. All integers are
// big-endian, so RocksDB's bytewise order is numeric order (the height index iterates by
// height).
//
//   column family   key                               value
//   default         metadata name (ASCII, below)      see each name
//   blocks          32 block hash                     Block::encode()
//   headers         32 block hash                     BlockHeader::encode()
//   heights         u64 height                        32 block hash (best chain only)
//   transactions    32 transaction id                 32 block hash ‖ u32 position
//   accounts        20 address                        u64 balance ‖ u64 nonce (absent if empty)
//   state_nodes     u8 depth ‖ ceil(depth/8) path     slot(bit 0) ‖ slot(bit 1)
//   undo            32 block hash                     BlockUndo::encode() (best chain only)
//
// A slot describes one subtree of the state tree (chain/state.hpp):
//   u8 0                        no accounts
//   u8 1 ‖ 32 key ‖ 32 hash     one account: its state key and leaf hash (the account itself
//                               is in `accounts`)
//   u8 2 ‖ 32 hash              two or more: an inner node, whose record is in `state_nodes`
// A state_nodes record exists exactly for the inner nodes; its path is the first `depth` bits
// of the keys below it, the remaining bits zero.

#include <chainmesh/chain/address.hpp>
#include <chainmesh/chain/state.hpp>
#include <chainmesh/util/bytes.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace chainmesh::store::detail {

using chain::Hash256;

inline constexpr std::uint32_t SCHEMA_VERSION = 1;

inline constexpr std::string_view CF_META = "default";
inline constexpr std::string_view CF_BLOCKS = "blocks";
inline constexpr std::string_view CF_HEADERS = "headers";
inline constexpr std::string_view CF_HEIGHTS = "heights";
inline constexpr std::string_view CF_TRANSACTIONS = "transactions";
inline constexpr std::string_view CF_ACCOUNTS = "accounts";
inline constexpr std::string_view CF_STATE_NODES = "state_nodes";
inline constexpr std::string_view CF_UNDO = "undo";

// In the order of BlockStore's handle array.
inline constexpr std::array<std::string_view, 8> COLUMN_FAMILIES = {
    CF_META,         CF_BLOCKS,   CF_HEADERS,     CF_HEIGHTS,
    CF_TRANSACTIONS, CF_ACCOUNTS, CF_STATE_NODES, CF_UNDO};
enum Cf : std::size_t { meta, blocks, headers, heights, transactions, accounts, state_nodes, undo };

inline constexpr std::string_view META_SCHEMA_VERSION = "schema_version";  // u32
inline constexpr std::string_view META_NETWORK_ID = "network_id";          // the id's bytes
inline constexpr std::string_view META_GENESIS_HASH = "genesis_hash";      // 32
inline constexpr std::string_view META_TIP = "tip";                        // 32 hash ‖ u64 height
inline constexpr std::string_view META_STATE_ROOT = "state_root";          // slot of the root

inline constexpr std::size_t TIP_BYTES = 32 + 8;
inline constexpr std::size_t TX_LOCATION_BYTES = 32 + 4;
inline constexpr std::size_t ACCOUNT_BYTES = 8 + 8;
inline constexpr std::size_t NODE_KEY_MAX_BYTES = 1 + 32;
inline constexpr std::size_t SLOT_MAX_BYTES = 1 + 32 + 32;

enum class SlotKind : std::uint8_t { empty = 0, leaf = 1, inner = 2 };

struct Slot {
    SlotKind kind = SlotKind::empty;
    Hash256 hash{};  // EMPTY_STATE_ROOT when empty
    Hash256 key{};   // leaf only

    friend bool operator==(const Slot&, const Slot&) = default;
};

struct InnerRecord {
    Slot children[2];
};

// An inner node's position: `depth` leading bits of `path` (the rest zero).
struct NodeKey {
    std::uint8_t depth = 0;
    Hash256 path{};

    friend auto operator<=>(const NodeKey&, const NodeKey&) = default;
};

inline unsigned key_bit(const Hash256& key, unsigned depth) {
    return (key[depth / 8] >> (7 - depth % 8)) & 1U;
}

inline Hash256 child_path(const Hash256& path, unsigned depth, unsigned bit) {
    Hash256 out = path;
    if (bit != 0) {
        out[depth / 8] |= static_cast<std::uint8_t>(0x80U >> (depth % 8));
    }
    return out;
}

inline Bytes encode_node_key(const NodeKey& key) {
    Bytes out;
    out.reserve(NODE_KEY_MAX_BYTES);
    out.push_back(key.depth);
    out.insert(out.end(), key.path.begin(), key.path.begin() + (key.depth + 7) / 8);
    return out;
}

inline void encode_slot(Bytes& out, const Slot& slot) {
    out.push_back(static_cast<std::uint8_t>(slot.kind));
    if (slot.kind == SlotKind::leaf) {
        append(out, slot.key);
    }
    if (slot.kind != SlotKind::empty) {
        append(out, slot.hash);
    }
}

// Decodes the slot at the start of `in` and advances it; nullopt when malformed.
inline std::optional<Slot> decode_slot(ByteView& in) {
    if (in.empty() || in[0] > static_cast<std::uint8_t>(SlotKind::inner)) {
        return std::nullopt;
    }
    Slot slot;
    slot.kind = static_cast<SlotKind>(in[0]);
    in = in.subspan(1);
    const std::size_t need = slot.kind == SlotKind::leaf    ? 64
                             : slot.kind == SlotKind::inner ? 32
                                                            : 0;
    if (in.size() < need) {
        return std::nullopt;
    }
    if (slot.kind == SlotKind::leaf) {
        std::copy_n(in.begin(), 32, slot.key.begin());
        in = in.subspan(32);
    }
    if (slot.kind != SlotKind::empty) {
        std::copy_n(in.begin(), 32, slot.hash.begin());
        in = in.subspan(32);
    }
    return slot;
}

inline Bytes encode_record(const InnerRecord& record) {
    Bytes out;
    out.reserve(2 * SLOT_MAX_BYTES);
    encode_slot(out, record.children[0]);
    encode_slot(out, record.children[1]);
    return out;
}

// An inner record has two slots that are not both empty, nor one leaf beside an empty one
// (such a subtree would be a leaf itself).
inline std::optional<InnerRecord> decode_record(ByteView in) {
    InnerRecord record;
    for (Slot& child : record.children) {
        auto slot = decode_slot(in);
        if (!slot) {
            return std::nullopt;
        }
        child = *slot;
    }
    const SlotKind a = record.children[0].kind;
    const SlotKind b = record.children[1].kind;
    const bool collapsible = (a == SlotKind::empty && b != SlotKind::inner) ||
                             (b == SlotKind::empty && a != SlotKind::inner);
    if (!in.empty() || collapsible) {
        return std::nullopt;
    }
    return record;
}

inline Bytes encode_slot(const Slot& slot) {
    Bytes out;
    encode_slot(out, slot);
    return out;
}

inline std::optional<Slot> decode_root_slot(ByteView in) {
    auto slot = decode_slot(in);
    if (!slot || !in.empty()) {
        return std::nullopt;
    }
    return slot;
}

inline ByteArray<8> encode_height(std::uint64_t height) {
    ByteArray<8> out;
    for (std::size_t i = 0; i < 8; ++i) {
        out[i] = static_cast<std::uint8_t>(height >> (56 - 8 * i));
    }
    return out;
}

inline ByteArray<ACCOUNT_BYTES> encode_account(const chain::Account& account) {
    ByteArray<ACCOUNT_BYTES> out;
    for (std::size_t i = 0; i < 8; ++i) {
        out[i] = static_cast<std::uint8_t>(account.balance >> (56 - 8 * i));
        out[8 + i] = static_cast<std::uint8_t>(account.nonce >> (56 - 8 * i));
    }
    return out;
}

inline std::optional<chain::Account> decode_account(ByteView in) {
    if (in.size() != ACCOUNT_BYTES) {
        return std::nullopt;
    }
    chain::Account account{get_u64be(in.data()), get_u64be(in.data() + 8)};
    if (account.is_empty()) {
        return std::nullopt;  // empty accounts are never stored
    }
    return account;
}

}  // namespace chainmesh::store::detail
