// multistream: byte 0 picks the role (bit 0 set: dialer, else listener); the rest is a list of
// chunks `u8(n) ‖ n bytes` (a short last chunk takes what is left), fed to on_data() as the
// peer's bytes until negotiation ends. The chunked run must end exactly as one on_data() of
// all the bytes does: same error, or same protocol, same output and the same bytes after the
// negotiation; and the output stays within the bound a peer could extract.

#include "fuzz_target.hpp"

#include <chainmesh/wire/multistream.hpp>

#include <cstdio>
#include <cstdlib>
#include <optional>

namespace chainmesh::fuzz {
namespace {

void check(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "multistream fuzz invariant broken: %s\n", what);
        std::abort();
    }
}

const std::vector<std::string> DIALER_PROTOCOLS{"/meshsub/1.1.0", "/meshsub/1.0.0", "/noise"};
const std::vector<std::string> LISTENER_PROTOCOLS{"/noise", "/yamux/1.0.0", "/ipfs/id/1.0.0",
                                                  "/meshsub/1.0.0"};

struct Outcome {
    std::optional<ErrorCode> error;
    std::optional<std::string> protocol;
    Bytes output;
    Bytes after;  // remainder plus whatever was never fed
};

template <class Engine>
Outcome run(Engine engine, const std::vector<ByteView>& chunks) {
    Outcome outcome;
    std::size_t i = 0;
    for (; i < chunks.size(); ++i) {
        auto step = engine.on_data(chunks[i]);
        if (!step) {
            outcome.error = step.error();
            return outcome;
        }
        append(outcome.output, step->output);
        if (step->protocol) {
            outcome.protocol = step->protocol;
            outcome.after = step->remainder;
            break;
        }
        check(step->remainder.empty(), "no remainder before the end");
    }
    for (++i; i < chunks.size(); ++i) {
        append(outcome.after, chunks[i]);
    }
    return outcome;
}

}  // namespace

CHAINMESH_FUZZ_TARGET(multistream, data) {
    if (data.empty()) {
        return;
    }
    const bool dialer = (data[0] & 1) != 0;
    std::vector<ByteView> chunks;
    Bytes whole;
    for (ByteView rest = data.subspan(1); !rest.empty();) {
        const std::size_t n = std::min<std::size_t>(rest[0], rest.size() - 1);
        chunks.push_back(rest.subspan(1, n));
        append(whole, chunks.back());
        rest = rest.subspan(1 + n);
    }

    Outcome chunked;
    Outcome at_once;
    std::size_t answer_max = 0;
    if (dialer) {
        chunked = run(wire::MultistreamDialer(DIALER_PROTOCOLS), chunks);
        at_once = run(wire::MultistreamDialer(DIALER_PROTOCOLS), {ByteView(whole)});
        for (const auto& id : DIALER_PROTOCOLS) {
            answer_max += id.size() + 2;  // every later proposal at most once
        }
    } else {
        chunked = run(wire::MultistreamListener(LISTENER_PROTOCOLS), chunks);
        at_once = run(wire::MultistreamListener(LISTENER_PROTOCOLS), {ByteView(whole)});
        Bytes list;
        for (const auto& id : LISTENER_PROTOCOLS) {
            wire::append_multistream_message(list, id);
        }
        // Each answer is at most the ls list; one per allowed proposal plus the echo.
        answer_max = (list.size() + 3) * (wire::MULTISTREAM_MAX_PROPOSALS + 1);
    }
    check(chunked.output.size() <= answer_max, "output bounded");
    check(chunked.error == at_once.error, "chunking does not change the error");
    check(chunked.protocol == at_once.protocol, "chunking does not change the protocol");
    if (!chunked.error) {
        check(chunked.output == at_once.output, "chunking does not change the output");
        check(chunked.after == at_once.after, "chunking does not change the bytes after");
    }
    if (chunked.protocol) {
        check(whole.size() >= chunked.after.size() &&
                  equal(ByteView(whole).last(chunked.after.size()), chunked.after),
              "the bytes after negotiation are the input's tail");
    }
}

}  // namespace chainmesh::fuzz
