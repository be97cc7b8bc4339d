#include <chainmesh/net/errors.hpp>

namespace chainmesh::net {

std::string_view describe(NetError e) {
    switch (e) {
        case NetError::timeout: return "timed out";
        case NetError::connection_closed: return "connection closed";
        case NetError::stream_reset: return "stream reset by peer";
        case NetError::stream_closed: return "stream closed before the expected data";
        case NetError::not_connected: return "not connected to that peer";
        case NetError::unsupported_address: return "address is not a TCP multiaddr this host can dial";
        case NetError::resolve_failed: return "could not resolve the host name";
        case NetError::connect_failed: return "TCP connect failed";
        case NetError::connection_limit: return "connection limit reached";
        case NetError::stream_limit: return "stream limit reached";
        case NetError::protocol_not_supported: return "peer supports none of the protocols";
        case NetError::message_too_large: return "message larger than allowed";
        case NetError::shutting_down: return "host is shutting down";
        case NetError::identify_failed: return "identify did not complete";
        case NetError::ping_mismatch: return "ping answer did not match";
    }
    return "unknown network error";
}

}  // namespace chainmesh::net
