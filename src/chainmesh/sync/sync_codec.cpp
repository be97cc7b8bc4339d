#include <cassert>
#include <chainmesh/sync/errors.hpp>
#include <chainmesh/sync/sync_codec.hpp>
#include <limits>

namespace chainmesh::sync {
namespace {

void put_hash(Bytes& out, const Hash256& hash) {
    out.insert(out.end(), hash.begin(), hash.end());
}

void encode_body(Bytes& out, const Status& m) {
    put_hash(out, m.genesis_hash);
    put_u64be(out, m.best_height);
    put_hash(out, m.best_hash);
    put_hash(out, m.cumulative_work.to_bytes());
}

void encode_body(Bytes& out, const GetHeaders& m) {
    assert(!m.locator.empty() && m.locator.size() <= MAX_LOCATOR_HASHES);
    out.push_back(static_cast<std::uint8_t>(m.locator.size()));
    for (const Hash256& hash : m.locator) {
        put_hash(out, hash);
    }
    put_hash(out, m.stop_hash);
    put_u16be(out, m.max_count);
}

void encode_body(Bytes& out, const Headers& m) {
    assert(m.headers.size() <= MAX_HEADERS_PER_MESSAGE);
    put_u16be(out, static_cast<std::uint16_t>(m.headers.size()));
    for (const chain::BlockHeader& header : m.headers) {
        header.encode_to(out);
    }
}

void encode_body(Bytes& out, const GetBlocks& m) {
    assert(!m.hashes.empty() && m.hashes.size() <= MAX_BLOCKS_PER_MESSAGE);
    put_u16be(out, static_cast<std::uint16_t>(m.hashes.size()));
    for (const Hash256& hash : m.hashes) {
        put_hash(out, hash);
    }
}

void encode_body(Bytes& out, const Blocks& m) {
    assert(m.blocks.size() <= MAX_BLOCKS_PER_MESSAGE);
    put_u16be(out, static_cast<std::uint16_t>(m.blocks.size()));
    for (const chain::Block& block : m.blocks) {
        const Bytes encoded = block.encode();
        assert(encoded.size() <= std::numeric_limits<std::uint32_t>::max());
        put_u32be(out, static_cast<std::uint32_t>(encoded.size()));
        append(out, encoded);
    }
}

template <class T>
constexpr MessageKind kind_of() {
    if constexpr (std::is_same_v<T, Status>) {
        return MessageKind::status;
    } else if constexpr (std::is_same_v<T, GetHeaders>) {
        return MessageKind::get_headers;
    } else if constexpr (std::is_same_v<T, Headers>) {
        return MessageKind::headers;
    } else if constexpr (std::is_same_v<T, GetBlocks>) {
        return MessageKind::get_blocks;
    } else {
        return MessageKind::blocks;
    }
}

// A cursor that never reads past its view.
class Reader {
public:
    explicit Reader(ByteView input) : m_input(input) {}
    bool has(std::size_t n) const { return m_input.size() - m_offset >= n; }
    std::size_t remaining() const { return m_input.size() - m_offset; }
    bool done() const { return m_offset == m_input.size(); }
    ByteView rest() const { return m_input.subspan(m_offset); }
    void skip(std::size_t n) { m_offset += n; }
    std::uint8_t u8() { return m_input[m_offset++]; }
    std::uint16_t u16() {
        const std::uint16_t v = get_u16be(m_input.data() + m_offset);
        m_offset += 2;
        return v;
    }
    std::uint32_t u32() {
        const std::uint32_t v = get_u32be(m_input.data() + m_offset);
        m_offset += 4;
        return v;
    }
    std::uint64_t u64() {
        const std::uint64_t v = get_u64be(m_input.data() + m_offset);
        m_offset += 8;
        return v;
    }
    Hash256 hash() {
        Hash256 out{};
        std::copy_n(m_input.begin() + static_cast<std::ptrdiff_t>(m_offset), out.size(),
                    out.begin());
        m_offset += out.size();
        return out;
    }

private:
    ByteView m_input;
    std::size_t m_offset = 0;
};

Result<Message> decode_status(Reader& r) {
    if (!r.has(32 + 8 + 32 + 32)) {
        return SyncError::malformed;
    }
    Status m;
    m.genesis_hash = r.hash();
    m.best_height = r.u64();
    m.best_hash = r.hash();
    m.cumulative_work = chain::Work::from_bytes(r.hash());
    return Message{std::move(m)};
}

Result<Message> decode_get_headers(Reader& r) {
    if (!r.has(1)) {
        return SyncError::malformed;
    }
    const std::size_t n = r.u8();
    if (n == 0) {
        return SyncError::malformed;
    }
    if (n > MAX_LOCATOR_HASHES) {
        return SyncError::too_many_items;
    }
    if (!r.has(n * 32 + 32 + 2)) {
        return SyncError::malformed;
    }
    GetHeaders m;
    m.locator.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        m.locator.push_back(r.hash());
    }
    m.stop_hash = r.hash();
    m.max_count = r.u16();
    if (m.max_count == 0) {
        return SyncError::malformed;
    }
    if (m.max_count > MAX_HEADERS_PER_MESSAGE) {
        return SyncError::too_many_items;
    }
    return Message{std::move(m)};
}

Result<Message> decode_headers(Reader& r) {
    if (!r.has(2)) {
        return SyncError::malformed;
    }
    const std::size_t n = r.u16();
    if (n > MAX_HEADERS_PER_MESSAGE) {
        return SyncError::too_many_items;
    }
    // Each header takes at least HEADER_FIXED_BYTES: check before reserving.
    if (r.remaining() / chain::HEADER_FIXED_BYTES < n) {
        return SyncError::malformed;
    }
    Headers m;
    m.headers.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t consumed = 0;
        auto header = chain::BlockHeader::decode_prefix(r.rest(), consumed);
        if (!header) {
            return header.error();
        }
        r.skip(consumed);
        m.headers.push_back(std::move(*header));
    }
    return Message{std::move(m)};
}

Result<Message> decode_get_blocks(Reader& r) {
    if (!r.has(2)) {
        return SyncError::malformed;
    }
    const std::size_t n = r.u16();
    if (n == 0) {
        return SyncError::malformed;
    }
    if (n > MAX_BLOCKS_PER_MESSAGE) {
        return SyncError::too_many_items;
    }
    if (!r.has(n * 32)) {
        return SyncError::malformed;
    }
    GetBlocks m;
    m.hashes.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        m.hashes.push_back(r.hash());
    }
    return Message{std::move(m)};
}

Result<Message> decode_blocks(Reader& r) {
    if (!r.has(2)) {
        return SyncError::malformed;
    }
    const std::size_t n = r.u16();
    if (n > MAX_BLOCKS_PER_MESSAGE) {
        return SyncError::too_many_items;
    }
    if (r.remaining() / (4 + chain::HEADER_FIXED_BYTES) < n) {
        return SyncError::malformed;
    }
    Blocks m;
    m.blocks.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (!r.has(4)) {
            return SyncError::malformed;
        }
        const std::size_t length = r.u32();
        if (!r.has(length)) {
            return SyncError::malformed;
        }
        auto block = chain::Block::decode(r.rest().first(length));
        if (!block) {
            return block.error();
        }
        r.skip(length);
        m.blocks.push_back(std::move(*block));
    }
    return Message{std::move(m)};
}

}  // namespace

Bytes encode(const Message& message) {
    Bytes out;
    std::visit(
        [&out](const auto& m) {
            out.push_back(static_cast<std::uint8_t>(kind_of<std::decay_t<decltype(m)>>()));
            encode_body(out, m);
        },
        message);
    return out;
}

Bytes encode(const Request& request) {
    return std::visit([](const auto& m) { return encode(Message{m}); }, request);
}

Result<Message> decode(ByteView body) {
    if (body.size() > MAX_MESSAGE_BYTES) {
        return SyncError::too_large;
    }
    Reader r(body);
    if (!r.has(1)) {
        return SyncError::malformed;
    }
    Result<Message> out = SyncError::malformed;
    switch (static_cast<MessageKind>(r.u8())) {
        case MessageKind::status:
            out = decode_status(r);
            break;
        case MessageKind::get_headers:
            out = decode_get_headers(r);
            break;
        case MessageKind::headers:
            out = decode_headers(r);
            break;
        case MessageKind::get_blocks:
            out = decode_get_blocks(r);
            break;
        case MessageKind::blocks:
            out = decode_blocks(r);
            break;
        default:
            return SyncError::unknown_kind;
    }
    if (out && !r.done()) {
        return SyncError::malformed;
    }
    return out;
}

}  // namespace chainmesh::sync
