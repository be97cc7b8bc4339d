// multiaddr: the input as bytes goes to Multiaddr::from_bytes and as text to Multiaddr::parse.
// Whatever is accepted must print as text that parses back to the same address, and encode
// as bytes that decode back to it; binary input, being minimal by rule, re-encodes exactly.

#include "fuzz_target.hpp"

#include <chainmesh/wire/multiaddr.hpp>

#include <cstdio>
#include <cstdlib>

namespace chainmesh::fuzz {
namespace {

void check(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "multiaddr fuzz invariant broken: %s\n", what);
        std::abort();
    }
}

void check_round_trips(const wire::Multiaddr& addr) {
    check(!addr.empty(), "accepted addresses are not empty");
    check(addr.components().size() <= wire::MULTIADDR_MAX_COMPONENTS, "component bound");
    const Bytes bytes = addr.to_bytes();
    check(bytes.size() <= wire::MULTIADDR_MAX_BYTES, "byte bound");
    auto decoded = wire::Multiaddr::from_bytes(bytes);
    check(decoded && *decoded == addr, "bytes round-trip");
    const std::string text = addr.to_string();
    auto parsed = wire::Multiaddr::parse(text);
    check(parsed && *parsed == addr, "text round-trips");
    check(parsed->to_string() == text, "text is stable");
    if (auto id = addr.peer_id()) {
        check(addr.with_peer_id(*id) == addr, "with_peer_id replaces the trailing id");
        check(addr.without_peer_id().components().size() + 1 == addr.components().size(),
              "without_peer_id drops exactly the trailing id");
    }
    if (auto target = addr.tcp_target()) {
        check(!target->host.empty(), "tcp targets have a host");
    }
}

}  // namespace

CHAINMESH_FUZZ_TARGET(multiaddr, data) {
    if (auto addr = wire::Multiaddr::from_bytes(data)) {
        check(equal(addr->to_bytes(), data), "binary input re-encodes exactly");
        check_round_trips(*addr);
    }
    if (auto addr = wire::Multiaddr::parse(as_string(data))) {
        check_round_trips(*addr);
    }
}

}  // namespace chainmesh::fuzz
