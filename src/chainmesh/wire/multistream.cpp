#include <chainmesh/wire/multistream.hpp>
#include <chainmesh/util/uvarint.hpp>

#include <cassert>

namespace chainmesh::wire {

namespace {

constexpr std::string_view NA = "na";
constexpr std::string_view LS = "ls";

struct Message {
    std::string_view text;  // without the trailing newline, a view into the buffer
    std::size_t size = 0;   // bytes consumed, length prefix included
};

// The first whole message of `input`, or nullopt when more bytes are needed. Fails as soon as
// the length prefix is known to be over the bound, without waiting for the body.
Result<std::optional<Message>> next_message(ByteView input) {
    // n continuation bytes already mean a length of at least 128^n: once that is over the
    // bound, no further byte can help. Checked first, so the answer does not depend on how
    // the bytes were split across reads.
    const std::size_t prefix_max = util::uvarint_size(MULTISTREAM_MAX_MESSAGE_BYTES);
    std::size_t continued = 0;
    while (continued < prefix_max && continued < input.size() && (input[continued] & 0x80) != 0) {
        ++continued;
    }
    if (continued == prefix_max) {
        return MultistreamError::message_too_long;
    }
    auto length = util::decode_uvarint(input);
    if (!length) {
        if (length.error() == util::VarintError::truncated) {
            return std::optional<Message>{};
        }
        return MultistreamError::malformed_message;
    }
    if (length->value > MULTISTREAM_MAX_MESSAGE_BYTES) {
        return MultistreamError::message_too_long;
    }
    if (length->value == 0) {
        return MultistreamError::malformed_message;
    }
    const std::size_t body_size = static_cast<std::size_t>(length->value);
    if (input.size() - length->size < body_size) {
        return std::optional<Message>{};
    }
    const ByteView body = input.subspan(length->size, body_size);
    if (body.back() != '\n') {
        return MultistreamError::malformed_message;
    }
    return std::optional<Message>{
        Message{as_string(body.first(body_size - 1)), length->size + body_size}};
}

void check_protocol_ids(const std::vector<std::string>& protocols) {
    for ([[maybe_unused]] const auto& id : protocols) {
        assert(!id.empty() && id.size() < MULTISTREAM_MAX_MESSAGE_BYTES &&
               id.find('\n') == std::string::npos && "protocol ids are short single lines");
    }
}

// The loop both roles share: buffer `data`, require the header first, then hand each whole
// message to `handle(text, rest, step)`, where `rest` is what follows the message. `handle`
// answers true when negotiation is over (the step is returned and the buffer emptied), false
// to read on, or an error. Bytes of an incomplete message stay buffered (under the bound).
template <class Handle>
Result<NegotiationStep> process_messages(Bytes& buffer, ByteView data, bool& header_received,
                                         Handle&& handle) {
    append(buffer, data);
    NegotiationStep step;
    std::size_t pos = 0;
    for (;;) {
        auto message = next_message(ByteView(buffer).subspan(pos));
        if (!message) {
            return message.error();
        }
        if (!*message) {
            break;
        }
        const std::string_view text = (*message)->text;
        pos += (*message)->size;
        if (!header_received) {
            if (text != MULTISTREAM_PROTOCOL_ID) {
                return MultistreamError::bad_header;
            }
            header_received = true;
            continue;
        }
        auto done = handle(text, ByteView(buffer).subspan(pos), step);
        if (!done) {
            return done.error();
        }
        if (*done) {
            buffer.clear();
            return step;
        }
    }
    buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(pos));
    return step;
}

}  // namespace

std::string_view describe(MultistreamError e) {
    switch (e) {
        case MultistreamError::bad_header: return "multistream header is not /multistream/1.0.0";
        case MultistreamError::message_too_long:
            return "multistream message is longer than allowed";
        case MultistreamError::malformed_message: return "multistream message is malformed";
        case MultistreamError::unexpected_response:
            return "multistream listener answered neither our proposal nor na";
        case MultistreamError::no_protocol_agreed: return "multistream peer refused every protocol";
        case MultistreamError::too_many_proposals:
            return "multistream dialer made too many proposals";
    }
    return "unknown multistream error";
}

void append_multistream_message(Bytes& out, std::string_view text) {
    util::append_uvarint(out, text.size() + 1);
    append(out, text);
    out.push_back('\n');
}

MultistreamDialer::MultistreamDialer(std::vector<std::string> protocols)
    : m_protocols(std::move(protocols)) {
    assert(!m_protocols.empty() && "the dialer needs a protocol to propose");
    check_protocol_ids(m_protocols);
}

Bytes MultistreamDialer::start() {
    Bytes out;
    append_multistream_message(out, MULTISTREAM_PROTOCOL_ID);
    append_multistream_message(out, m_protocols[m_next]);
    return out;
}

Result<NegotiationStep> MultistreamDialer::on_data(ByteView data) {
    return process_messages(
        m_buffer, data, m_header_received,
        [this](std::string_view text, ByteView rest, NegotiationStep& step) -> Result<bool> {
            if (text == m_protocols[m_next]) {
                step.protocol = m_protocols[m_next];
                step.remainder = to_bytes(rest);
                return true;
            }
            if (text != NA) {
                return MultistreamError::unexpected_response;
            }
            if (++m_next == m_protocols.size()) {
                return MultistreamError::no_protocol_agreed;
            }
            append_multistream_message(step.output, m_protocols[m_next]);
            return false;
        });
}

MultistreamListener::MultistreamListener(std::vector<std::string> protocols)
    : m_protocols(std::move(protocols)) {
    check_protocol_ids(m_protocols);
}

Bytes MultistreamListener::start() {
    Bytes out;
    append_multistream_message(out, MULTISTREAM_PROTOCOL_ID);
    return out;
}

Result<NegotiationStep> MultistreamListener::on_data(ByteView data) {
    return process_messages(
        m_buffer, data, m_header_received,
        [this](std::string_view text, ByteView rest, NegotiationStep& step) -> Result<bool> {
            for (const auto& id : m_protocols) {
                if (text == id) {
                    append_multistream_message(step.output, id);
                    step.protocol = id;
                    // Lazy-select data from the dialer follows the proposal: hand it on.
                    step.remainder = to_bytes(rest);
                    return true;
                }
            }
            // `ls` counts against the same budget as refused proposals: each answer is far
            // larger than the request, so unbounded answers would let a peer amplify traffic.
            if (++m_refused > MULTISTREAM_MAX_PROPOSALS) {
                return MultistreamError::too_many_proposals;
            }
            if (text == LS) {
                Bytes list;
                for (const auto& id : m_protocols) {
                    append_multistream_message(list, id);
                }
                append_multistream_message(step.output, as_string(list));
            } else {
                append_multistream_message(step.output, NA);
            }
            return false;
        });
}

}  // namespace chainmesh::wire
