#pragma once
// The upgrade pipeline of a fresh TCP connection (libp2p-interop.md §1):
// multistream-select `/noise`, the Noise XX handshake, then multistream-select `/yamux/1.0.0`
// inside Noise. The dialer is the Noise initiator and the yamux client.

#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/util/result.hpp>
#include <chainmesh/wire/noise.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <optional>

namespace chainmesh::net::detail {

struct UpgradedConnection {
    wire::NoiseTransport transport;
    crypto::PeerId remote_peer;
    Bytes remainder;  // yamux bytes that arrived with the last negotiation message
};

boost::asio::awaitable<Result<UpgradedConnection>> upgrade_connection(
    boost::asio::ip::tcp::socket& socket, bool dialer, const crypto::Identity& identity,
    std::optional<crypto::PeerId> expected_remote);

}  // namespace chainmesh::net::detail
