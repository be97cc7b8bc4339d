// identify: decode the input as an Identify body; when it decodes, its encoding must decode
// to a message with the same encoding (decode keeps only what it understands, so one pass
// reaches the canonical form), no larger than the input, and merging must not break.

#include "fuzz_target.hpp"

#include <chainmesh/protocols/identify.hpp>

#include <cstdio>
#include <cstdlib>

namespace chainmesh::fuzz {
namespace {

void check(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "identify fuzz invariant broken: %s\n", what);
        std::abort();
    }
}

}  // namespace

CHAINMESH_FUZZ_TARGET(identify, data) {
    auto message = protocols::IdentifyMessage::decode(data);
    if (!message) {
        return;
    }
    check(message->listen_addrs.size() <= protocols::IDENTIFY_MAX_LIST_ENTRIES, "addr bound");
    check(message->protocols.size() <= protocols::IDENTIFY_MAX_LIST_ENTRIES, "protocol bound");
    const Bytes encoded = message->encode();
    check(encoded.size() <= data.size(), "canonical form is no larger than the input");
    auto again = protocols::IdentifyMessage::decode(encoded);
    check(bool(again), "the encoding decodes");
    check(again->encode() == encoded, "re-encoding is stable");

    protocols::IdentifyMessage merged;
    merged.merge(*message);
    check(merged.encode() == encoded, "merging into an empty message copies every field");
}

}  // namespace chainmesh::fuzz
