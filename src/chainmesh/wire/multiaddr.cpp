#include <chainmesh/wire/multiaddr.hpp>
#include <chainmesh/util/base58.hpp>
#include <chainmesh/util/uvarint.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cassert>

namespace chainmesh::wire {

namespace {

// Refused before any work. Every address within MULTIADDR_MAX_BYTES and
// MULTIADDR_MAX_COMPONENTS prints shorter: a port is 10 characters for 3 bytes, a valueless
// protocol at most 12 characters and 16 of them, a path one character more than its bytes.
constexpr std::size_t MAX_TEXT_CHARS = 4 * MULTIADDR_MAX_BYTES;
// DNS names are at most 255 bytes (RFC 1035 section 2.3.4); zones get the same bound.
constexpr std::size_t MAX_NAME_BYTES = 255;

enum class ValueKind { none, fixed, variable };

struct ProtocolInfo {
    std::uint64_t code;
    std::string_view name;
    ValueKind kind;
    std::size_t fixed_size;  // for ValueKind::fixed
};

constexpr std::array<ProtocolInfo, 17> PROTOCOLS{{
    {protocol_code::IP4, "ip4", ValueKind::fixed, 4},
    {protocol_code::TCP, "tcp", ValueKind::fixed, 2},
    {protocol_code::IP6, "ip6", ValueKind::fixed, 16},
    {protocol_code::IP6ZONE, "ip6zone", ValueKind::variable, 0},
    {protocol_code::DNS, "dns", ValueKind::variable, 0},
    {protocol_code::DNS4, "dns4", ValueKind::variable, 0},
    {protocol_code::DNS6, "dns6", ValueKind::variable, 0},
    {protocol_code::DNSADDR, "dnsaddr", ValueKind::variable, 0},
    {protocol_code::UDP, "udp", ValueKind::fixed, 2},
    {protocol_code::P2P_CIRCUIT, "p2p-circuit", ValueKind::none, 0},
    {protocol_code::UNIX, "unix", ValueKind::variable, 0},
    {protocol_code::P2P, "p2p", ValueKind::variable, 0},
    {protocol_code::TLS, "tls", ValueKind::none, 0},
    {protocol_code::NOISE, "noise", ValueKind::none, 0},
    {protocol_code::QUIC_V1, "quic-v1", ValueKind::none, 0},
    {protocol_code::WS, "ws", ValueKind::none, 0},
    {protocol_code::WSS, "wss", ValueKind::none, 0},
}};

const ProtocolInfo* find_by_code(std::uint64_t code) {
    for (const auto& p : PROTOCOLS) {
        if (p.code == code) {
            return &p;
        }
    }
    return nullptr;
}

const ProtocolInfo* find_by_name(std::string_view name) {
    if (name == "ipfs") {  // the old text name of p2p, still written by some tools
        return find_by_code(protocol_code::P2P);
    }
    for (const auto& p : PROTOCOLS) {
        if (p.name == name) {
            return &p;
        }
    }
    return nullptr;
}

bool is_name_protocol(std::uint64_t code) {
    return code == protocol_code::DNS || code == protocol_code::DNS4 ||
           code == protocol_code::DNS6 || code == protocol_code::DNSADDR ||
           code == protocol_code::IP6ZONE;
}

// The checks every binary value passes, whether it came from text or from a peer. Values that
// pass print as text that parses back to the same bytes.
Result<void> check_value(std::uint64_t code, ByteView value) {
    if (is_name_protocol(code)) {
        const std::string_view name = as_string(value);
        if (name.empty() || name.size() > MAX_NAME_BYTES ||
            name.find('/') != std::string_view::npos) {
            return MultiaddrError::bad_value;
        }
    } else if (code == protocol_code::P2P) {
        if (!crypto::PeerId::from_bytes(value)) {
            return MultiaddrError::bad_value;
        }
    } else if (code == protocol_code::UNIX) {
        // The text form is `/unix` followed by the absolute path, so the path must be absolute
        // and more than the root alone (`/unix/` has no value).
        if (value.size() < 2 || value[0] != '/') {
            return MultiaddrError::bad_value;
        }
    }
    return {};
}

Result<Bytes> parse_ip(int family, std::string_view text) {
    // inet_pton reads a C string: an embedded NUL would cut the text short unnoticed.
    if (text.empty() || text.size() > INET6_ADDRSTRLEN ||
        text.find('\0') != std::string_view::npos) {
        return MultiaddrError::bad_value;
    }
    const std::string terminated(text);
    std::array<std::uint8_t, 16> raw{};
    if (inet_pton(family, terminated.c_str(), raw.data()) != 1) {
        return MultiaddrError::bad_value;
    }
    return Bytes(raw.begin(), raw.begin() + (family == AF_INET ? 4 : 16));
}

Result<Bytes> parse_port(std::string_view text) {
    if (text.empty()) {
        return MultiaddrError::bad_value;
    }
    std::uint32_t port = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return MultiaddrError::bad_value;
        }
        port = port * 10 + static_cast<std::uint32_t>(c - '0');
        if (port > 0xffff) {
            return MultiaddrError::bad_value;
        }
    }
    Bytes out;
    put_u16be(out, static_cast<std::uint16_t>(port));
    return out;
}

Result<Bytes> value_from_text(std::uint64_t code, std::string_view text) {
    switch (code) {
        case protocol_code::IP4: return parse_ip(AF_INET, text);
        case protocol_code::IP6: return parse_ip(AF_INET6, text);
        case protocol_code::TCP:
        case protocol_code::UDP: return parse_port(text);
        case protocol_code::P2P: {
            auto id = crypto::PeerId::parse(text);
            if (!id) {
                return MultiaddrError::bad_value;
            }
            return id->bytes();
        }
        default: break;
    }
    Bytes value = to_bytes(text);
    if (auto ok = check_value(code, value); !ok) {
        return ok.error();
    }
    return value;
}

std::string value_to_text(std::uint64_t code, ByteView value) {
    switch (code) {
        case protocol_code::IP4:
        case protocol_code::IP6: {
            std::array<char, INET6_ADDRSTRLEN> text{};
            const int family = code == protocol_code::IP4 ? AF_INET : AF_INET6;
            if (inet_ntop(family, value.data(), text.data(), text.size()) == nullptr) {
                return {};  // unreachable: the value has the family's size
            }
            return std::string(text.data());
        }
        case protocol_code::TCP:
        case protocol_code::UDP: return std::to_string(get_u16be(value.data()));
        case protocol_code::P2P: return util::base58_encode(value);
        default: return std::string(as_string(value));
    }
}

}  // namespace

std::string_view describe(MultiaddrError e) {
    switch (e) {
        case MultiaddrError::empty: return "multiaddr is empty";
        case MultiaddrError::too_long: return "multiaddr is longer than allowed";
        case MultiaddrError::unknown_protocol: return "multiaddr names an unknown protocol";
        case MultiaddrError::missing_value: return "multiaddr protocol lacks its value";
        case MultiaddrError::bad_value: return "multiaddr value is malformed";
        case MultiaddrError::truncated: return "multiaddr bytes end inside a component";
        case MultiaddrError::too_many_components: return "multiaddr has too many components";
    }
    return "unknown multiaddr error";
}

Result<Multiaddr> Multiaddr::parse(std::string_view text) {
    if (text.empty() || text == "/") {
        return MultiaddrError::empty;
    }
    if (text.size() > MAX_TEXT_CHARS) {
        return MultiaddrError::too_long;
    }
    if (text[0] != '/') {
        return MultiaddrError::bad_value;
    }
    // Reads the segment at `pos` up to the next '/', and moves `pos` past that '/'. A single
    // trailing '/' is tolerated, as go- and js-multiaddr do.
    std::size_t pos = 1;
    const auto next_segment = [&]() {
        const std::size_t end = std::min(text.find('/', pos), text.size());
        const std::string_view segment = text.substr(pos, end - pos);
        pos = end < text.size() ? end + 1 : end;
        return segment;
    };

    Multiaddr result;
    std::size_t encoded_size = 0;
    while (pos < text.size()) {
        const ProtocolInfo* protocol = find_by_name(next_segment());
        if (protocol == nullptr) {
            return MultiaddrError::unknown_protocol;
        }
        if (result.m_components.size() == MULTIADDR_MAX_COMPONENTS) {
            return MultiaddrError::too_many_components;
        }
        Component component{protocol->code, {}};
        if (protocol->kind != ValueKind::none) {
            if (pos >= text.size()) {
                return MultiaddrError::missing_value;
            }
            if (protocol->code == protocol_code::UNIX) {
                // A path protocol takes the rest of the text, slashes included.
                std::string path = "/";
                path += text.substr(pos);
                pos = text.size();
                component.value = chainmesh::to_bytes(path);
                if (auto ok = check_value(protocol->code, component.value); !ok) {
                    return ok.error();
                }
            } else {
                auto value = value_from_text(protocol->code, next_segment());
                if (!value) {
                    return value.error();
                }
                component.value = std::move(*value);
            }
        }
        encoded_size += util::uvarint_size(component.code) + component.value.size();
        if (protocol->kind == ValueKind::variable) {
            encoded_size += util::uvarint_size(component.value.size());
        }
        if (encoded_size > MULTIADDR_MAX_BYTES) {
            return MultiaddrError::too_long;
        }
        result.m_components.push_back(std::move(component));
    }
    return result;
}

Result<Multiaddr> Multiaddr::from_bytes(ByteView bytes) {
    if (bytes.empty()) {
        return MultiaddrError::empty;
    }
    if (bytes.size() > MULTIADDR_MAX_BYTES) {
        return MultiaddrError::too_long;
    }
    const auto read_uvarint = [&](std::size_t& pos) -> Result<std::uint64_t> {
        auto v = util::decode_uvarint(bytes.subspan(pos));
        if (!v) {
            return v.error() == util::VarintError::truncated ? MultiaddrError::truncated
                                                              : MultiaddrError::bad_value;
        }
        pos += v->size;
        return v->value;
    };

    Multiaddr result;
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        if (result.m_components.size() == MULTIADDR_MAX_COMPONENTS) {
            return MultiaddrError::too_many_components;
        }
        auto code = read_uvarint(pos);
        if (!code) {
            return code.error();
        }
        const ProtocolInfo* protocol = find_by_code(*code);
        if (protocol == nullptr) {
            return MultiaddrError::unknown_protocol;
        }
        std::size_t size = protocol->fixed_size;
        if (protocol->kind == ValueKind::variable) {
            auto length = read_uvarint(pos);
            if (!length) {
                return length.error();
            }
            if (*length > bytes.size() - pos) {
                return MultiaddrError::truncated;
            }
            size = static_cast<std::size_t>(*length);
        }
        if (size > bytes.size() - pos) {
            return MultiaddrError::truncated;
        }
        const ByteView value = bytes.subspan(pos, size);
        pos += size;
        if (auto ok = check_value(*code, value); !ok) {
            return ok.error();
        }
        // In text a path takes the rest of the address, so nothing can follow it there; an
        // address that had something after it would not print as text that parses back.
        if (*code == protocol_code::UNIX && pos != bytes.size()) {
            return MultiaddrError::bad_value;
        }
        result.m_components.push_back(Component{*code, chainmesh::to_bytes(value)});
    }
    return result;
}

Multiaddr Multiaddr::from_ip_tcp(ByteView ip, std::uint16_t port) {
    assert((ip.size() == 4 || ip.size() == 16) && "an IP address has 4 or 16 bytes");
    Multiaddr result;
    const std::uint64_t code = ip.size() == 4 ? protocol_code::IP4 : protocol_code::IP6;
    result.m_components.push_back(Component{code, chainmesh::to_bytes(ip)});
    Bytes port_bytes;
    put_u16be(port_bytes, port);
    result.m_components.push_back(Component{protocol_code::TCP, std::move(port_bytes)});
    return result;
}

std::string Multiaddr::to_string() const {
    std::string text;
    for (const auto& component : m_components) {
        const ProtocolInfo* protocol = find_by_code(component.code);
        assert(protocol != nullptr && "components are only made from known protocols");
        text += '/';
        text += protocol->name;
        if (protocol->kind == ValueKind::none) {
            continue;
        }
        if (component.code != protocol_code::UNIX) {  // a path brings its own leading '/'
            text += '/';
        }
        text += value_to_text(component.code, component.value);
    }
    return text;
}

Bytes Multiaddr::to_bytes() const {
    Bytes out;
    for (const auto& component : m_components) {
        util::append_uvarint(out, component.code);
        const ProtocolInfo* protocol = find_by_code(component.code);
        if (protocol != nullptr && protocol->kind == ValueKind::variable) {
            util::append_uvarint(out, component.value.size());
        }
        append(out, component.value);
    }
    return out;
}

std::optional<crypto::PeerId> Multiaddr::peer_id() const {
    if (m_components.empty() || m_components.back().code != protocol_code::P2P) {
        return std::nullopt;
    }
    auto id = crypto::PeerId::from_bytes(m_components.back().value);
    if (!id) {
        return std::nullopt;
    }
    return *id;
}

Multiaddr Multiaddr::without_peer_id() const {
    Multiaddr result = *this;
    if (!result.m_components.empty() && result.m_components.back().code == protocol_code::P2P) {
        result.m_components.pop_back();
    }
    return result;
}

Multiaddr Multiaddr::with_peer_id(const crypto::PeerId& id) const {
    Multiaddr result = without_peer_id();
    result.m_components.push_back(Component{protocol_code::P2P, id.bytes()});
    return result;
}

std::optional<TcpTarget> Multiaddr::tcp_target() const {
    const std::size_t n = m_components.size();
    if (n < 2 || n > 3 || m_components[1].code != protocol_code::TCP) {
        return std::nullopt;
    }
    if (n == 3 && m_components[2].code != protocol_code::P2P) {
        return std::nullopt;
    }
    const Component& host = m_components[0];
    TcpTarget target;
    switch (host.code) {
        case protocol_code::IP4: target.kind = TcpTarget::Kind::ip4; break;
        case protocol_code::IP6: target.kind = TcpTarget::Kind::ip6; break;
        case protocol_code::DNS: target.kind = TcpTarget::Kind::dns; break;
        case protocol_code::DNS4: target.kind = TcpTarget::Kind::dns4; break;
        case protocol_code::DNS6: target.kind = TcpTarget::Kind::dns6; break;
        default: return std::nullopt;
    }
    target.host = value_to_text(host.code, host.value);
    target.port = get_u16be(m_components[1].value.data());
    return target;
}

}  // namespace chainmesh::wire
