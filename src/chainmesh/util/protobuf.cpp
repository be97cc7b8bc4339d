#include <chainmesh/util/protobuf.hpp>

namespace chainmesh::util {

std::string_view describe(ProtoError e) {
    switch (e) {
        case ProtoError::truncated: return "protobuf message is truncated";
        case ProtoError::bad_varint: return "protobuf varint is longer than 10 bytes";
        case ProtoError::bad_wire_type: return "protobuf field has an unsupported wire type";
        case ProtoError::bad_field_number: return "protobuf field number is 0 or too large";
        case ProtoError::wrong_wire_type: return "protobuf field has the wrong wire type";
    }
    return "unknown protobuf error";
}

std::size_t proto_varint_size(std::uint64_t value) {
    std::size_t n = 1;
    while (value >= 0x80) {
        value >>= 7;
        ++n;
    }
    return n;
}

void ProtoWriter::raw_varint(std::uint64_t value) {
    while (value >= 0x80) {
        m_out.push_back(static_cast<std::uint8_t>(value | 0x80));
        value >>= 7;
    }
    m_out.push_back(static_cast<std::uint8_t>(value));
}

void ProtoWriter::tag(std::uint32_t field, WireType type) {
    raw_varint((std::uint64_t{field} << 3) | static_cast<std::uint8_t>(type));
}

void ProtoWriter::varint(std::uint32_t field, std::uint64_t value) {
    tag(field, WireType::varint);
    raw_varint(value);
}

void ProtoWriter::bytes(std::uint32_t field, ByteView value) {
    tag(field, WireType::length_delimited);
    raw_varint(value.size());
    append(m_out, value);
}

Result<std::uint64_t> ProtoReader::read_varint() {
    std::uint64_t value = 0;
    for (int i = 0; i < 10; ++i) {
        if (m_pos >= m_input.size()) {
            return ProtoError::truncated;
        }
        const std::uint8_t b = m_input[m_pos++];
        value |= std::uint64_t{static_cast<std::uint8_t>(b & 0x7f)} << (7 * i);
        if ((b & 0x80) == 0) {
            return value;
        }
    }
    return ProtoError::bad_varint;
}

Result<std::optional<ProtoField>> ProtoReader::next() {
    if (m_pos >= m_input.size()) {
        return std::optional<ProtoField>{};
    }
    auto key = read_varint();
    if (!key) {
        return key.error();
    }
    const std::uint64_t number = *key >> 3;
    if (number == 0 || number > 0x1fffffff) {
        return ProtoError::bad_field_number;
    }
    ProtoField field;
    field.number = static_cast<std::uint32_t>(number);
    switch (*key & 7) {
        case 0: {
            field.type = WireType::varint;
            auto v = read_varint();
            if (!v) {
                return v.error();
            }
            field.value = *v;
            break;
        }
        case 1:
        case 5: {
            const std::size_t width = (*key & 7) == 1 ? 8 : 4;
            if (m_input.size() - m_pos < width) {
                return ProtoError::truncated;
            }
            field.type = width == 8 ? WireType::fixed64 : WireType::fixed32;
            for (std::size_t i = 0; i < width; ++i) {  // little-endian
                field.value |= std::uint64_t{m_input[m_pos + i]} << (8 * i);
            }
            m_pos += width;
            break;
        }
        case 2: {
            field.type = WireType::length_delimited;
            auto len = read_varint();
            if (!len) {
                return len.error();
            }
            if (*len > m_input.size() - m_pos) {
                return ProtoError::truncated;
            }
            field.bytes = m_input.subspan(m_pos, static_cast<std::size_t>(*len));
            m_pos += static_cast<std::size_t>(*len);
            break;
        }
        default: return ProtoError::bad_wire_type;
    }
    return std::optional<ProtoField>{field};
}

}  // namespace chainmesh::util
