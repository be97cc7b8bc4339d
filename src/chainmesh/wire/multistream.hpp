#pragma once
// multistream-select 1.0 (multiformats/multistream-select; libp2p-interop.md §2), both roles,
// as a pure state machine: bytes in, bytes out, no I/O.
//
// Messages are `uvarint(len) ‖ text ‖ '\n'` (len counts the newline). Both sides send the
// header `/multistream/1.0.0`; the dialer proposes protocol ids in preference order, the
// listener echoes the one it accepts or answers `na`.
//
// Rules:
// - The dialer writes the header and its first proposal in one write (start()), and proposes
//   the next id after each `na`. Rationale: one round trip instead of two, as go and js do.
// - The listener answers `ls` with its protocol list. Rationale: the spec's optional command,
//   cheap to serve, and a debugging aid.
// - Bytes that arrive after the final message (a peer's "lazy" first application bytes) are
//   handed back in NegotiationStep::remainder, never dropped (pitfall 14).
// Bounds: a message is at most MULTISTREAM_MAX_MESSAGE_BYTES; the listener accepts at most
// MULTISTREAM_MAX_PROPOSALS proposals before failing; the input buffer never holds more than
// one message.

#include <chainmesh/util/bytes.hpp>
#include <chainmesh/util/result.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chainmesh::wire {

inline constexpr std::string_view MULTISTREAM_PROTOCOL_ID = "/multistream/1.0.0";
inline constexpr std::size_t MULTISTREAM_MAX_MESSAGE_BYTES = 1024;
inline constexpr std::size_t MULTISTREAM_MAX_PROPOSALS = 32;

enum class MultistreamError {
    bad_header = 1,         // the first message was not /multistream/1.0.0
    message_too_long,       // a length prefix over MULTISTREAM_MAX_MESSAGE_BYTES
    malformed_message,      // bad varint or no trailing newline
    unexpected_response,    // listener answered something other than our proposal or na
    no_protocol_agreed,     // dialer: every proposal was refused
    too_many_proposals,     // listener: MULTISTREAM_MAX_PROPOSALS refused in a row
};
std::string_view describe(MultistreamError e);

struct NegotiationStep {
    Bytes output;                         // to write to the peer now (may be empty)
    std::optional<std::string> protocol;  // set once negotiation has succeeded
    Bytes remainder;                      // bytes after the last negotiation message
};

// Encodes one multistream message: uvarint(len + 1) ‖ text ‖ '\n'.
void append_multistream_message(Bytes& out, std::string_view text);

class MultistreamDialer {
public:
    explicit MultistreamDialer(std::vector<std::string> protocols);

    // Header plus first proposal, to be written before any read.
    Bytes start();
    // Feed bytes read from the peer. After a step with `protocol` set, negotiation is over.
    Result<NegotiationStep> on_data(ByteView data);

private:
    std::vector<std::string> m_protocols;
    std::size_t m_next = 0;
    bool m_header_received = false;
    Bytes m_buffer;
};

class MultistreamListener {
public:
    explicit MultistreamListener(std::vector<std::string> protocols);

    // The header; the listener may send it before it reads anything.
    Bytes start();
    Result<NegotiationStep> on_data(ByteView data);

private:
    std::vector<std::string> m_protocols;
    std::size_t m_refused = 0;
    bool m_header_received = false;
    Bytes m_buffer;
};

}  // namespace chainmesh::wire

CHAINMESH_ERROR_ENUM(chainmesh::wire, MultistreamError, "multistream")
