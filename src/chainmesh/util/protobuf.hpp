#pragma once
// A minimal protobuf codec: enough for libp2p's small messages (keys, noise payloads,
// identify, gossipsub RPCs), with the deterministic output that signatures need.
//
// ProtoWriter emits fields in the order it is called, with minimal varints; callers write
// fields in ascending number order. ProtoReader walks fields one at a time over a view it
// does not own; it never allocates. Unknown fields are skipped by the caller (never an error,
// libp2p-interop.md pitfall 10); groups (wire types 3 and 4) are refused.

#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace chainmesh::util {

enum class ProtoError { truncated = 1, bad_varint, bad_wire_type, bad_field_number, wrong_wire_type };
std::string_view describe(ProtoError e);

enum class WireType : std::uint8_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

struct ProtoField {
    std::uint32_t number = 0;
    WireType type = WireType::varint;
    std::uint64_t value = 0;  // varint, fixed64 and fixed32 values
    ByteView bytes;           // length-delimited payload, a view into the reader's input
};

class ProtoWriter {
public:
    explicit ProtoWriter(Bytes& out) : m_out(out) {}

    void varint(std::uint32_t field, std::uint64_t value);
    void bytes(std::uint32_t field, ByteView value);
    void string(std::uint32_t field, std::string_view value) { bytes(field, as_bytes(value)); }
    void boolean(std::uint32_t field, bool value) { varint(field, value ? 1 : 0); }

private:
    void tag(std::uint32_t field, WireType type);
    void raw_varint(std::uint64_t value);

    Bytes& m_out;
};

class ProtoReader {
public:
    explicit ProtoReader(ByteView input) : m_input(input) {}

    // The next field, or nullopt at the end of the input.
    Result<std::optional<ProtoField>> next();

private:
    Result<std::uint64_t> read_varint();

    ByteView m_input;
    std::size_t m_pos = 0;
};

// Varint size in the protobuf flavour (up to 10 bytes, 64 bits).
std::size_t proto_varint_size(std::uint64_t value);

}  // namespace chainmesh::util

CHAINMESH_ERROR_ENUM(chainmesh::util, ProtoError, "protobuf")
