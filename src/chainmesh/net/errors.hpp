#pragma once
// Errors of the network driver. Engine errors (noise, yamux, multistream, ...) pass through
// unchanged as ErrorCodes of their own categories.

#include <chainmesh/util/result.hpp>

#include <string_view>

namespace chainmesh::net {

enum class NetError {
    timeout = 1,
    connection_closed,
    stream_reset,
    stream_closed,
    not_connected,
    unsupported_address,
    resolve_failed,
    connect_failed,
    connection_limit,
    stream_limit,
    protocol_not_supported,
    message_too_large,
    shutting_down,
    identify_failed,
    ping_mismatch,
};
std::string_view describe(NetError e);

}  // namespace chainmesh::net

CHAINMESH_ERROR_ENUM(chainmesh::net, NetError, "net")
