#pragma once
// Asio endpoints as multiaddrs.

#include <chainmesh/wire/multiaddr.hpp>

#include <boost/asio/ip/tcp.hpp>

namespace chainmesh::net::detail {

inline wire::Multiaddr multiaddr_of(const boost::asio::ip::tcp::endpoint& endpoint) {
    const auto address = endpoint.address();
    if (address.is_v4()) {
        return wire::Multiaddr::from_ip_tcp(address.to_v4().to_bytes(), endpoint.port());
    }
    return wire::Multiaddr::from_ip_tcp(address.to_v6().to_bytes(), endpoint.port());
}

}  // namespace chainmesh::net::detail
