#include <chainmesh/crypto/peer_id.hpp>
#include <chainmesh/crypto/sha256.hpp>
#include <chainmesh/pubsub/message_id.hpp>
#include <chainmesh/util/uvarint.hpp>

namespace chainmesh::pubsub {

namespace {

constexpr std::uint8_t MULTIHASH_IDENTITY = 0x00;

ByteView field(const std::optional<Bytes>& b) { return b ? ByteView(*b) : ByteView(); }

// The PublicKey protobuf inlined in an identity-multihash peer id, or nothing.
std::optional<ByteView> inlined_key(ByteView peer_id) {
    auto code = util::decode_uvarint(peer_id);
    if (!code || code->value != MULTIHASH_IDENTITY) {
        return std::nullopt;
    }
    auto length = util::decode_uvarint(peer_id.subspan(code->size));
    if (!length) {
        return std::nullopt;
    }
    const ByteView digest = peer_id.subspan(code->size + length->size);
    if (digest.size() != length->value) {
        return std::nullopt;
    }
    return digest;
}

std::uint64_t rotl(std::uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

struct SipState {
    std::uint64_t v0, v1, v2, v3;
    void round() {
        v0 += v1;
        v1 = rotl(v1, 13);
        v1 ^= v0;
        v0 = rotl(v0, 32);
        v2 += v3;
        v3 = rotl(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = rotl(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = rotl(v1, 17);
        v1 ^= v2;
        v2 = rotl(v2, 32);
    }
    void compress(std::uint64_t m) {
        v3 ^= m;
        round();
        round();
        v0 ^= m;
    }
};

std::uint64_t load_le(const std::uint8_t* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        v |= std::uint64_t{p[i]} << (8 * i);
    }
    return v;
}

}  // namespace

MessageId js_message_id(const Message& message) {
    MessageId id;
    const ByteView from = field(message.from);
    if (auto key = inlined_key(from)) {
        append(id, *key);
    } else if (message.key) {
        append(id, *message.key);
    } else {
        append(id, from);
    }
    append(id, field(message.seqno));
    return id;
}

MessageId go_message_id(const Message& message) {
    MessageId id = to_bytes(field(message.from));
    append(id, field(message.seqno));
    return id;
}

MessageId content_message_id(const Message& message) {
    crypto::Sha256 hash;
    hash.update(as_bytes(message.topic));
    hash.update(field(message.data));
    const crypto::Hash256 digest = hash.finish();
    return MessageId(digest.begin(), digest.begin() + CONTENT_MESSAGE_ID_BYTES);
}

std::uint64_t siphash24(std::uint64_t k0, std::uint64_t k1, ByteView data) {
    SipState s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
               k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL};
    const std::size_t whole = data.size() - data.size() % 8;
    for (std::size_t i = 0; i < whole; i += 8) {
        s.compress(load_le(data.data() + i, 8));
    }
    const std::uint64_t last = (std::uint64_t{data.size() & 0xff} << 56) |
                               load_le(data.data() + whole, data.size() - whole);
    s.compress(last);
    s.v2 ^= 0xff;
    for (int i = 0; i < 4; ++i) {
        s.round();
    }
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace chainmesh::pubsub
