#pragma once
// Multiaddrs (multiformats/multiaddr): self-describing network addresses, in text
// (`/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…`) and binary (`uvarint(code) ‖ value`) forms.
//
// Supported protocols: ip4, ip6, ip6zone, tcp, udp, dns, dns4, dns6, dnsaddr, p2p (text alias
// `ipfs`), p2p-circuit, quic-v1, tls, noise, ws, wss, unix. Decoding binary input from peers
// is bounded: at most MULTIADDR_MAX_BYTES in all and MULTIADDR_MAX_COMPONENTS components.

#include <chainmesh/crypto/peer_id.hpp>
#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chainmesh::wire {

inline constexpr std::size_t MULTIADDR_MAX_BYTES = 1024;
inline constexpr std::size_t MULTIADDR_MAX_COMPONENTS = 16;

enum class MultiaddrError {
    empty = 1,
    too_long,
    unknown_protocol,
    missing_value,
    bad_value,
    truncated,
    too_many_components,
};
std::string_view describe(MultiaddrError e);

namespace protocol_code {
inline constexpr std::uint64_t IP4 = 4;
inline constexpr std::uint64_t TCP = 6;
inline constexpr std::uint64_t IP6 = 41;
inline constexpr std::uint64_t IP6ZONE = 42;
inline constexpr std::uint64_t DNS = 53;
inline constexpr std::uint64_t DNS4 = 54;
inline constexpr std::uint64_t DNS6 = 55;
inline constexpr std::uint64_t DNSADDR = 56;
inline constexpr std::uint64_t UDP = 273;
inline constexpr std::uint64_t P2P_CIRCUIT = 290;
inline constexpr std::uint64_t UNIX = 400;
inline constexpr std::uint64_t P2P = 421;
inline constexpr std::uint64_t TLS = 448;
inline constexpr std::uint64_t NOISE = 454;
inline constexpr std::uint64_t QUIC_V1 = 461;
inline constexpr std::uint64_t WS = 477;
inline constexpr std::uint64_t WSS = 478;
}  // namespace protocol_code

// Where to open a TCP connection, as a multiaddr names it.
struct TcpTarget {
    enum class Kind { ip4, ip6, dns, dns4, dns6 };
    Kind kind = Kind::ip4;
    std::string host;  // dotted or colon text for ip4/ip6, the name for dns*
    std::uint16_t port = 0;
};

class Multiaddr {
public:
    struct Component {
        std::uint64_t code = 0;
        Bytes value;  // binary value, without the length prefix of variable-size values
        friend bool operator==(const Component&, const Component&) = default;
    };

    Multiaddr() = default;
    static Result<Multiaddr> parse(std::string_view text);
    static Result<Multiaddr> from_bytes(ByteView bytes);
    // `/ip4/a.b.c.d/tcp/port` or `/ip6/…/tcp/port` from raw address bytes (4 or 16 of them).
    static Multiaddr from_ip_tcp(ByteView ip, std::uint16_t port);

    std::string to_string() const;
    Bytes to_bytes() const;
    const std::vector<Component>& components() const { return m_components; }
    bool empty() const { return m_components.empty(); }

    // The trailing /p2p/<id>, if there is one.
    std::optional<crypto::PeerId> peer_id() const;
    Multiaddr without_peer_id() const;
    Multiaddr with_peer_id(const crypto::PeerId& id) const;
    // Set when the address is exactly ip4|ip6|dns|dns4|dns6 then tcp, optionally then p2p.
    std::optional<TcpTarget> tcp_target() const;

    friend bool operator==(const Multiaddr&, const Multiaddr&) = default;

private:
    std::vector<Component> m_components;
};

}  // namespace chainmesh::wire

CHAINMESH_ERROR_ENUM(chainmesh::wire, MultiaddrError, "multiaddr")
