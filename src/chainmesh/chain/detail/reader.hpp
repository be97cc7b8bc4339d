#pragma once
// A bounds-checked cursor over canonical encodings (docs/protocol.md §2): fixed-width
// big-endian integers and fixed-size byte strings. Every read checks the remaining length
// first; a failed read leaves the reader failed, so decoders check `ok()` at the points where
// they need a value and once at the end.

#include <chainmesh/util/bytes.hpp>

#include <cstring>

namespace chainmesh::chain::detail {

class Reader {
public:
    explicit Reader(ByteView input) : m_input(input) {}

    bool ok() const { return m_ok; }
    std::size_t position() const { return m_position; }
    std::size_t remaining() const { return m_ok ? m_input.size() - m_position : 0; }
    bool at_end() const { return m_ok && m_position == m_input.size(); }

    std::uint8_t u8() {
        const std::uint8_t* p = take(1);
        return p != nullptr ? p[0] : 0;
    }
    std::uint16_t u16() {
        const std::uint8_t* p = take(2);
        return p != nullptr ? get_u16be(p) : 0;
    }
    std::uint32_t u32() {
        const std::uint8_t* p = take(4);
        return p != nullptr ? get_u32be(p) : 0;
    }
    std::uint64_t u64() {
        const std::uint8_t* p = take(8);
        return p != nullptr ? get_u64be(p) : 0;
    }
    template <std::size_t N>
    void array(ByteArray<N>& out) {
        const std::uint8_t* p = take(N);
        if (p != nullptr) {
            std::memcpy(out.data(), p, N);
        }
    }
    // A view of the next `size` bytes (empty when they are not there).
    ByteView view(std::size_t size) {
        const std::uint8_t* p = take(size);
        return p != nullptr ? ByteView(p, size) : ByteView();
    }
    void fail() { m_ok = false; }

private:
    const std::uint8_t* take(std::size_t size) {
        if (!m_ok || m_input.size() - m_position < size) {
            m_ok = false;
            return nullptr;
        }
        const std::uint8_t* p = m_input.data() + m_position;
        m_position += size;
        return p;
    }

    ByteView m_input;
    std::size_t m_position = 0;
    bool m_ok = true;
};

}  // namespace chainmesh::chain::detail
