#include <chainmesh/crypto/public_key.hpp>
#include <chainmesh/util/protobuf.hpp>

#include <cstring>

namespace chainmesh::crypto {

std::string_view describe(KeyError e) {
    switch (e) {
        case KeyError::malformed: return "key encoding is malformed";
        case KeyError::missing_field: return "key encoding lacks its type or data";
        case KeyError::unknown_type: return "key type is unknown";
        case KeyError::bad_key_length: return "key has the wrong length for its type";
        case KeyError::too_large: return "key encoding is larger than allowed";
        case KeyError::public_key_mismatch: return "private and public halves of the key differ";
    }
    return "unknown key error";
}

PublicKey PublicKey::ed25519(const Ed25519PublicKey& key) {
    return PublicKey{KeyType::ed25519, Bytes(key.begin(), key.end())};
}

Bytes PublicKey::encode() const {
    Bytes out;
    out.reserve(4 + data.size());
    util::ProtoWriter writer(out);
    // Both fields are always written, even Type = 0 (RSA): peer ids hash this exact encoding.
    writer.varint(1, static_cast<std::uint64_t>(type));
    writer.bytes(2, data);
    return out;
}

Result<KeyFields> decode_key_fields(ByteView encoded) {
    util::ProtoReader reader(encoded);
    std::optional<std::uint64_t> type;
    std::optional<ByteView> data;
    for (;;) {
        auto field = reader.next();
        if (!field) {
            return KeyError::malformed;
        }
        if (!*field) {
            break;
        }
        const auto& f = **field;
        if (f.number == 1 && f.type == util::WireType::varint) {
            type = f.value;
        } else if (f.number == 2 && f.type == util::WireType::length_delimited) {
            data = f.bytes;
        } else {
            return KeyError::malformed;
        }
    }
    if (!type || !data) {
        return KeyError::missing_field;
    }
    return KeyFields{*type, *data};
}

Result<PublicKey> PublicKey::decode(ByteView encoded) {
    if (encoded.size() > PUBLIC_KEY_MAX_BYTES) {
        return KeyError::too_large;
    }
    auto fields = decode_key_fields(encoded);
    if (!fields) {
        return fields.error();
    }
    if (fields->type > static_cast<std::uint64_t>(KeyType::ecdsa)) {
        return KeyError::unknown_type;
    }
    PublicKey key{static_cast<KeyType>(fields->type), to_bytes(fields->data)};
    if (key.type == KeyType::ed25519 && key.data.size() != ED25519_PUBLIC_KEY_BYTES) {
        return KeyError::bad_key_length;
    }
    if (key.type == KeyType::secp256k1 && key.data.size() != 33) {
        return KeyError::bad_key_length;
    }
    return key;
}

bool PublicKey::verify(ByteView message, ByteView signature) const {
    if (type != KeyType::ed25519 || data.size() != ED25519_PUBLIC_KEY_BYTES) {
        return false;
    }
    Ed25519PublicKey key;
    std::memcpy(key.data(), data.data(), key.size());
    return ed25519_verify(key, message, signature);
}

}  // namespace chainmesh::crypto
