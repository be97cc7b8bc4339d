#include <chainmesh/crypto/peer_id.hpp>
#include <chainmesh/crypto/sha256.hpp>
#include <chainmesh/util/base58.hpp>
#include <chainmesh/util/multibase.hpp>
#include <chainmesh/util/uvarint.hpp>

#include <string_view>

namespace chainmesh::crypto {

namespace {
constexpr std::uint8_t MULTIHASH_IDENTITY = 0x00;
constexpr std::uint8_t MULTIHASH_SHA2_256 = 0x12;
constexpr std::size_t IDENTITY_MAX_DIGEST = 42;
constexpr std::uint8_t CID_V1 = 0x01;
constexpr std::uint8_t CODEC_LIBP2P_KEY = 0x72;
}  // namespace

std::string_view describe(PeerIdError e) {
    switch (e) {
        case PeerIdError::malformed: return "peer id is not a valid multihash";
        case PeerIdError::unsupported_hash: return "peer id uses a hash other than identity or sha2-256";
        case PeerIdError::bad_key: return "peer id holds a public key that does not decode";
        case PeerIdError::not_a_peer_id_cid: return "CID does not have the libp2p-key codec";
        case PeerIdError::too_long: return "peer id is longer than allowed";
    }
    return "unknown peer id error";
}

PeerId PeerId::from_public_key(const PublicKey& key) {
    const Bytes encoded = key.encode();
    Bytes id;
    if (encoded.size() <= IDENTITY_MAX_DIGEST) {
        id.push_back(MULTIHASH_IDENTITY);
        util::append_uvarint(id, encoded.size());
        append(id, encoded);
    } else {
        id.push_back(MULTIHASH_SHA2_256);
        id.push_back(SHA256_BYTES);
        append(id, sha256(encoded));
    }
    return PeerId(std::move(id));
}

Result<PeerId> PeerId::from_bytes(ByteView multihash) {
    if (multihash.size() > PEER_ID_MAX_BYTES) {
        return PeerIdError::too_long;
    }
    auto code = util::decode_uvarint(multihash);
    if (!code) {
        return PeerIdError::malformed;
    }
    auto length = util::decode_uvarint(multihash.subspan(code->size));
    if (!length) {
        return PeerIdError::malformed;
    }
    const ByteView digest = multihash.subspan(code->size + length->size);
    if (digest.size() != length->value) {
        return PeerIdError::malformed;
    }
    if (code->value == MULTIHASH_IDENTITY) {
        if (digest.size() > IDENTITY_MAX_DIGEST || !PublicKey::decode(digest)) {
            return PeerIdError::bad_key;
        }
    } else if (code->value == MULTIHASH_SHA2_256) {
        if (digest.size() != SHA256_BYTES) {
            return PeerIdError::malformed;
        }
    } else {
        return PeerIdError::unsupported_hash;
    }
    return PeerId(to_bytes(multihash));
}

Result<PeerId> PeerId::parse(std::string_view text) {
    if (text.starts_with('1') || text.starts_with("Qm")) {
        auto bytes = util::base58_decode(text, 128);
        if (!bytes) {
            return PeerIdError::malformed;
        }
        return from_bytes(*bytes);
    }
    auto cid = util::multibase_decode(text);
    if (!cid) {
        return PeerIdError::malformed;
    }
    auto version = util::decode_uvarint(*cid);
    if (!version || version->value != CID_V1) {
        return PeerIdError::malformed;
    }
    const ByteView rest = ByteView(*cid).subspan(version->size);
    auto codec = util::decode_uvarint(rest);
    if (!codec) {
        return PeerIdError::malformed;
    }
    if (codec->value != CODEC_LIBP2P_KEY) {
        return PeerIdError::not_a_peer_id_cid;
    }
    return from_bytes(rest.subspan(codec->size));
}

std::string PeerId::to_base58() const { return util::base58_encode(m_bytes); }

std::string PeerId::to_cid() const {
    Bytes cid{CID_V1, CODEC_LIBP2P_KEY};
    append(cid, m_bytes);
    return util::multibase_encode_base32(cid);
}

std::optional<PublicKey> PeerId::public_key() const {
    if (m_bytes.size() < 2 || m_bytes[0] != MULTIHASH_IDENTITY) {
        return std::nullopt;
    }
    auto length = util::decode_uvarint(ByteView(m_bytes).subspan(1));
    if (!length) {
        return std::nullopt;
    }
    auto key = PublicKey::decode(ByteView(m_bytes).subspan(1 + length->size));
    if (!key) {
        return std::nullopt;
    }
    return *key;
}

}  // namespace chainmesh::crypto

std::size_t std::hash<chainmesh::crypto::PeerId>::operator()(
    const chainmesh::crypto::PeerId& id) const noexcept {
    // The tail of an id is key or hash bytes: already uniformly distributed.
    const auto& b = id.bytes();
    std::size_t h = 0;
    const std::size_t n = std::min<std::size_t>(b.size(), sizeof(h));
    for (std::size_t i = 0; i < n; ++i) {
        h = (h << 8) | b[b.size() - 1 - i];
    }
    return h;
}
