#include <chainmesh/protocols/identify.hpp>
#include <chainmesh/util/protobuf.hpp>

namespace chainmesh::protocols {

namespace {
// Field numbers of the Identify message (libp2p-interop.md section 8).
constexpr std::uint32_t FIELD_PUBLIC_KEY = 1;
constexpr std::uint32_t FIELD_LISTEN_ADDRS = 2;
constexpr std::uint32_t FIELD_PROTOCOLS = 3;
constexpr std::uint32_t FIELD_OBSERVED_ADDR = 4;
constexpr std::uint32_t FIELD_PROTOCOL_VERSION = 5;
constexpr std::uint32_t FIELD_AGENT_VERSION = 6;
}  // namespace

std::string_view describe(IdentifyError e) {
    switch (e) {
        case IdentifyError::malformed: return "identify message is malformed";
        case IdentifyError::too_large: return "identify message is larger than allowed";
        case IdentifyError::too_many_entries: return "identify message has too many list entries";
        case IdentifyError::bad_public_key: return "identify message holds an invalid public key";
    }
    return "unknown identify error";
}

Bytes IdentifyMessage::encode() const {
    Bytes out;
    util::ProtoWriter writer(out);
    if (public_key) {
        writer.bytes(FIELD_PUBLIC_KEY, public_key->encode());
    }
    for (const auto& addr : listen_addrs) {
        writer.bytes(FIELD_LISTEN_ADDRS, addr.to_bytes());
    }
    for (const auto& protocol : protocols) {
        writer.string(FIELD_PROTOCOLS, protocol);
    }
    if (observed_addr) {
        writer.bytes(FIELD_OBSERVED_ADDR, observed_addr->to_bytes());
    }
    if (protocol_version) {
        writer.string(FIELD_PROTOCOL_VERSION, *protocol_version);
    }
    if (agent_version) {
        writer.string(FIELD_AGENT_VERSION, *agent_version);
    }
    return out;
}

Result<IdentifyMessage> IdentifyMessage::decode(ByteView body) {
    if (body.size() > IDENTIFY_MAX_MESSAGE_BYTES) {
        return IdentifyError::too_large;
    }
    IdentifyMessage message;
    // Entries are counted as they arrive, undecodable addresses included, so the bound holds
    // for the work done and not only for what is kept.
    std::size_t listen_addr_entries = 0;
    util::ProtoReader reader(body);
    for (;;) {
        auto next = reader.next();
        if (!next) {
            return IdentifyError::malformed;
        }
        if (!*next) {
            break;
        }
        const util::ProtoField& field = **next;
        const bool known = field.number >= FIELD_PUBLIC_KEY && field.number <= FIELD_AGENT_VERSION;
        if (!known) {
            continue;  // signedPeerRecord (8) and anything newer
        }
        if (field.type != util::WireType::length_delimited) {
            return IdentifyError::malformed;
        }
        switch (field.number) {
            case FIELD_PUBLIC_KEY: {
                auto key = crypto::PublicKey::decode(field.bytes);
                if (!key) {
                    return IdentifyError::bad_public_key;
                }
                message.public_key = std::move(*key);
                break;
            }
            case FIELD_LISTEN_ADDRS: {
                if (++listen_addr_entries > IDENTIFY_MAX_LIST_ENTRIES) {
                    return IdentifyError::too_many_entries;
                }
                // An address we cannot decode may use a protocol we do not know: skip it.
                if (auto addr = wire::Multiaddr::from_bytes(field.bytes)) {
                    message.listen_addrs.push_back(std::move(*addr));
                }
                break;
            }
            case FIELD_PROTOCOLS: {
                if (message.protocols.size() == IDENTIFY_MAX_LIST_ENTRIES) {
                    return IdentifyError::too_many_entries;
                }
                message.protocols.emplace_back(as_string(field.bytes));
                break;
            }
            case FIELD_OBSERVED_ADDR: {
                // Only advisory (it feeds address discovery), so like a listen address an
                // undecodable one is dropped rather than failing the whole message.
                auto addr = wire::Multiaddr::from_bytes(field.bytes);
                if (addr) {
                    message.observed_addr = std::move(*addr);
                } else {
                    message.observed_addr.reset();
                }
                break;
            }
            case FIELD_PROTOCOL_VERSION:
                message.protocol_version = std::string(as_string(field.bytes));
                break;
            case FIELD_AGENT_VERSION:
                message.agent_version = std::string(as_string(field.bytes));
                break;
            default: break;
        }
    }
    return message;
}

void IdentifyMessage::merge(const IdentifyMessage& update) {
    if (update.protocol_version) {
        protocol_version = update.protocol_version;
    }
    if (update.agent_version) {
        agent_version = update.agent_version;
    }
    if (update.public_key) {
        public_key = update.public_key;
    }
    if (!update.listen_addrs.empty()) {
        listen_addrs = update.listen_addrs;
    }
    if (update.observed_addr) {
        observed_addr = update.observed_addr;
    }
    if (!update.protocols.empty()) {
        protocols = update.protocols;
    }
}

}  // namespace chainmesh::protocols
