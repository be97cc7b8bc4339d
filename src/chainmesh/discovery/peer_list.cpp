#include <chainmesh/discovery/peer_list.hpp>
#include <cstdint>
#include <limits>

namespace chainmesh::discovery {

std::string_view describe(PeerListError e) {
    switch (e) {
        case PeerListError::too_large:
            return "peer list larger than allowed";
        case PeerListError::truncated:
            return "peer list ends inside a record";
        case PeerListError::trailing_bytes:
            return "bytes after the last peer list record";
        case PeerListError::too_many_peers:
            return "peer list has too many peers";
        case PeerListError::bad_address_count:
            return "peer list record has no or too many addresses";
        case PeerListError::bad_peer_id:
            return "peer list record has an invalid peer id";
        case PeerListError::bad_multiaddr:
            return "peer list record has an invalid multiaddr";
    }
    return "unknown peer list error";
}

std::string_view name(PeerListError e) {
    switch (e) {
        case PeerListError::too_large:
            return "too_large";
        case PeerListError::truncated:
            return "truncated";
        case PeerListError::trailing_bytes:
            return "trailing_bytes";
        case PeerListError::too_many_peers:
            return "too_many_peers";
        case PeerListError::bad_address_count:
            return "bad_address_count";
        case PeerListError::bad_peer_id:
            return "bad_peer_id";
        case PeerListError::bad_multiaddr:
            return "bad_multiaddr";
    }
    return "unknown";
}

Bytes encode_peer_list(std::span<const PeerRecord> records) {
    Bytes out;
    out.push_back(0);  // the count, patched once we know which records fit
    std::size_t count = 0;
    Bytes record;
    for (const PeerRecord& r : records) {
        if (count == MAX_PEER_LIST_PEERS) {
            break;
        }
        const Bytes& id = r.peer.bytes();
        // A PeerId is at most crypto::PEER_ID_MAX_BYTES long, well within a u8.
        if (id.empty() || id.size() > std::numeric_limits<std::uint8_t>::max()) {
            continue;
        }
        record.clear();
        record.push_back(static_cast<std::uint8_t>(id.size()));
        append(record, id);
        const std::size_t count_at = record.size();
        record.push_back(0);
        std::size_t addrs = 0;
        for (const wire::Multiaddr& addr : r.addrs) {
            if (addrs == MAX_PEER_LIST_ADDRS) {
                break;
            }
            const Bytes encoded = addr.to_bytes();
            // An empty address would not decode; a parsed one is never above the u16 range.
            if (encoded.empty() || encoded.size() > wire::MULTIADDR_MAX_BYTES) {
                continue;
            }
            put_u16be(record, static_cast<std::uint16_t>(encoded.size()));
            append(record, encoded);
            ++addrs;
        }
        if (addrs == 0 || out.size() + record.size() > MAX_PEER_LIST_BYTES) {
            continue;
        }
        record[count_at] = static_cast<std::uint8_t>(addrs);
        append(out, record);
        ++count;
    }
    out[0] = static_cast<std::uint8_t>(count);
    return out;
}

Result<std::vector<PeerRecord>> decode_peer_list(ByteView body) {
    if (body.size() > MAX_PEER_LIST_BYTES) {
        return PeerListError::too_large;
    }
    std::size_t pos = 0;
    const auto remaining = [&]() { return body.size() - pos; };

    if (remaining() < 1) {
        return PeerListError::truncated;
    }
    const std::size_t n = body[pos++];
    if (n > MAX_PEER_LIST_PEERS) {
        return PeerListError::too_many_peers;
    }
    std::vector<PeerRecord> records;
    records.reserve(n);  // at most MAX_PEER_LIST_PEERS
    for (std::size_t i = 0; i < n; ++i) {
        if (remaining() < 1) {
            return PeerListError::truncated;
        }
        const std::size_t id_len = body[pos++];
        if (remaining() < id_len) {
            return PeerListError::truncated;
        }
        auto peer = crypto::PeerId::from_bytes(body.subspan(pos, id_len));
        if (!peer) {
            return PeerListError::bad_peer_id;
        }
        pos += id_len;

        if (remaining() < 1) {
            return PeerListError::truncated;
        }
        const std::size_t m = body[pos++];
        if (m == 0 || m > MAX_PEER_LIST_ADDRS) {
            return PeerListError::bad_address_count;
        }
        PeerRecord record{*peer, {}};
        record.addrs.reserve(m);
        for (std::size_t k = 0; k < m; ++k) {
            if (remaining() < 2) {
                return PeerListError::truncated;
            }
            const std::size_t len = get_u16be(body.data() + pos);
            pos += 2;
            if (remaining() < len) {
                return PeerListError::truncated;
            }
            // from_bytes refuses empty and oversized addresses itself.
            auto addr = wire::Multiaddr::from_bytes(body.subspan(pos, len));
            if (!addr) {
                return PeerListError::bad_multiaddr;
            }
            pos += len;
            record.addrs.push_back(std::move(*addr));
        }
        records.push_back(std::move(record));
    }
    if (remaining() != 0) {
        return PeerListError::trailing_bytes;
    }
    return records;
}

}  // namespace chainmesh::discovery
