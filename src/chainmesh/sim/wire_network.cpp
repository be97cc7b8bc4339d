#include <algorithm>
#include <array>
#include <cassert>
#include <chainmesh/sim/wire_network.hpp>
#include <chainmesh/util/uvarint.hpp>
#include <chainmesh/wire/multistream.hpp>
#include <chainmesh/wire/noise.hpp>
#include <cstdio>
#include <cstdlib>
#include <variant>

namespace chainmesh::sim {

namespace {

// Small reads for negotiation bytes: a multistream message is at most this long.
constexpr std::size_t NEGOTIATION_READ_BYTES = wire::MULTISTREAM_MAX_MESSAGE_BYTES;

using Negotiator = std::variant<wire::MultistreamDialer, wire::MultistreamListener>;

Negotiator make_negotiator(WireRole role, std::string_view protocol) {
    std::vector<std::string> protocols{std::string(protocol)};
    if (role == WireRole::dialer) {
        return wire::MultistreamDialer(std::move(protocols));
    }
    return wire::MultistreamListener(std::move(protocols));
}

Bytes start_negotiator(Negotiator& negotiator) {
    return std::visit([](auto& n) { return n.start(); }, negotiator);
}

Result<wire::NegotiationStep> feed_negotiator(Negotiator& negotiator, ByteView data) {
    return std::visit([data](auto& n) { return n.on_data(data); }, negotiator);
}

std::string error_text(const ErrorCode& error) {
    return std::string(error.category().name()) + ": " + error.message();
}

std::string node_ip(NodeIndex node) {
    // Distinct addresses, so that P₆ (IP colocation) never fires between nodes.
    char text[32];
    std::snprintf(text, sizeof text, "10.%u.%u.%u", (node >> 16) & 0xffu, (node >> 8) & 0xffu,
                  node & 0xffu);
    return text;
}

long long to_micros(Duration d) {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// WireConnection

namespace {
enum class Phase { security, handshake, muxer, muxed };
}  // namespace

struct WireConnection::State {
    State(WireRole r, const crypto::Identity& identity, crypto::X25519KeyPair static_key,
          crypto::X25519KeyPair ephemeral_key, std::optional<crypto::PeerId> expected_remote,
          std::size_t max_rpc, wire::YamuxConfig yamux_settings)
        : role(r),
          max_rpc_bytes(max_rpc),
          yamux_config(yamux_settings),
          security(make_negotiator(r, wire::NOISE_PROTOCOL_ID)),
          handshake(r == WireRole::dialer ? wire::NoiseRole::initiator : wire::NoiseRole::responder,
                    identity, static_key, ephemeral_key,
                    r == WireRole::dialer ? std::move(expected_remote) : std::nullopt) {}

    WireRole role;
    std::size_t max_rpc_bytes;
    wire::YamuxConfig yamux_config;
    Phase phase = Phase::security;
    bool started = false;

    Negotiator security;
    wire::NoiseHandshake handshake;
    std::optional<wire::NoiseTransport> transport;
    std::optional<Negotiator> muxer;
    std::optional<wire::YamuxSession> yamux;
    std::optional<crypto::PeerId> remote;

    std::optional<wire::StreamId> out_id;
    std::optional<wire::MultistreamDialer> out_negotiator;
    bool out_ready = false;
    std::optional<wire::StreamId> in_id;
    std::optional<wire::MultistreamListener> in_negotiator;
    bool in_ready = false;
    Bytes rpc_buffer;  // RPC frames read from the inbound stream, at most one partial
    Bytes scratch;

    Bytes output;
    std::optional<std::size_t> ciphertext_from;
    std::vector<Event> events;
    bool closed = false;
    std::string close_reason;

    void fail(std::string reason) {
        if (closed) {
            return;
        }
        closed = true;
        close_reason = std::move(reason);
        events.push_back(Closed{close_reason});
    }

    void write_secure(ByteView plaintext) {
        if (plaintext.empty() || closed) {
            return;
        }
        if (!ciphertext_from) {
            ciphertext_from = output.size();
        }
        if (auto r = transport->encrypt(plaintext, output); !r) {
            fail(error_text(r.error()));
        }
    }

    void flush_yamux() {
        if (yamux && yamux->has_output()) {
            yamux->take_output(scratch);
            write_secure(scratch);
        }
    }

    void on_data(ByteView data) {
        if (closed || data.empty()) {
            return;
        }
        switch (phase) {
            case Phase::security:
                on_security(data);
                return;
            case Phase::handshake:
                on_handshake(data);
                return;
            case Phase::muxer:
            case Phase::muxed:
                on_ciphertext(data);
                return;
        }
    }

    void on_security(ByteView data) {
        auto step = feed_negotiator(security, data);
        if (!step) {
            fail(error_text(step.error()));
            return;
        }
        append(output, step->output);
        if (!step->protocol) {
            return;
        }
        phase = Phase::handshake;
        append(output, handshake.start());
        on_data(step->remainder);
    }

    void on_handshake(ByteView data) {
        auto step = handshake.on_data(data);
        if (!step) {
            fail(error_text(step.error()));
            return;
        }
        append(output, step->output);
        if (!step->complete) {
            return;
        }
        remote = handshake.remote_peer_id();
        transport.emplace(handshake.take_transport());
        phase = Phase::muxer;
        muxer.emplace(make_negotiator(role, wire::YAMUX_PROTOCOL_ID));
        write_secure(start_negotiator(*muxer));
        on_data(step->remainder);
    }

    void on_ciphertext(ByteView data) {
        Bytes plaintext;
        if (auto r = transport->decrypt(data, plaintext); !r) {
            fail(error_text(r.error()));
            return;
        }
        on_plaintext(plaintext);
    }

    void on_plaintext(ByteView plaintext) {
        if (closed || plaintext.empty()) {
            return;
        }
        if (phase == Phase::muxed) {
            feed_yamux(plaintext);
            return;
        }
        auto step = feed_negotiator(*muxer, plaintext);
        if (!step) {
            fail(error_text(step.error()));
            return;
        }
        write_secure(step->output);
        if (!step->protocol) {
            return;
        }
        phase = Phase::muxed;
        muxer.reset();
        yamux.emplace(role == WireRole::dialer ? wire::YamuxRole::client : wire::YamuxRole::server,
                      yamux_config);
        events.push_back(Upgraded{*remote});
        open_outbound();
        feed_yamux(step->remainder);
        flush_yamux();
    }

    void feed_yamux(ByteView plaintext) {
        if (closed) {
            return;
        }
        if (!plaintext.empty()) {
            if (auto r = yamux->on_data(plaintext); !r) {
                flush_yamux();  // the go-away the session queued
                fail(error_text(r.error()));
                return;
            }
        }
        handle_yamux_events();
        flush_yamux();
    }

    void open_outbound() {
        auto id = yamux->open_stream();
        if (!id) {
            fail(error_text(id.error()));
            return;
        }
        out_id = *id;
        out_negotiator.emplace(
            std::vector<std::string>{std::string(pubsub::GOSSIPSUB_PROTOCOL_ID)});
        write_stream(*out_id, out_negotiator->start());
    }

    void write_stream(wire::StreamId id, ByteView data) {
        if (data.empty() || closed) {
            return;
        }
        if (auto r = yamux->write(id, data); !r) {
            fail(error_text(r.error()));
        }
    }

    void handle_yamux_events() {
        for (auto events_now = yamux->take_events(); !events_now.empty() && !closed;
             events_now = yamux->take_events()) {
            for (const auto& event : events_now) {
                if (closed) {
                    return;
                }
                if (const auto* opened = std::get_if<wire::StreamOpened>(&event)) {
                    on_stream_opened(opened->id);
                } else if (const auto* readable = std::get_if<wire::StreamReadable>(&event)) {
                    on_readable(readable->id);
                } else if (const auto* reset = std::get_if<wire::StreamReset>(&event)) {
                    if (reset->id == out_id || reset->id == in_id) {
                        fail("yamux: meshsub stream reset");
                    }
                } else if (std::holds_alternative<wire::GoAwayReceived>(event)) {
                    fail("yamux: peer sent go-away");
                }
                // ReadClosed, Closed, Writable, PingAnswered: nothing to do for gossip.
            }
        }
    }

    void on_stream_opened(wire::StreamId id) {
        if (in_id) {
            yamux->reset(id);  // one inbound meshsub stream per peer
            return;
        }
        in_id = id;
        in_negotiator.emplace(std::vector<std::string>{std::string(pubsub::GOSSIPSUB_PROTOCOL_ID)});
        write_stream(id, in_negotiator->start());
        read_inbound();
    }

    void on_readable(wire::StreamId id) {
        if (id == out_id) {
            read_outbound();
        } else if (id == in_id) {
            read_inbound();
        } else {
            // A stream we reset or never wanted: read and drop, so its window is not held.
            while (!closed) {
                scratch.clear();
                if (yamux->read(id, scratch, NEGOTIATION_READ_BYTES) == 0) {
                    break;
                }
            }
        }
    }

    void read_outbound() {
        while (!closed) {
            scratch.clear();
            if (yamux->read(*out_id, scratch, NEGOTIATION_READ_BYTES) == 0) {
                return;
            }
            if (out_ready) {
                continue;  // the peer has nothing to say on our stream; drop it
            }
            auto step = out_negotiator->on_data(scratch);
            if (!step) {
                fail(error_text(step.error()));
                return;
            }
            write_stream(*out_id, step->output);
            if (step->protocol) {
                out_ready = true;
                out_negotiator.reset();
                events.push_back(StreamReady{});
                read_inbound();  // RPCs that waited for the router to know the peer
            }
        }
    }

    void read_inbound() {
        if (!in_id) {
            return;
        }
        while (!closed) {
            if (!in_ready) {
                scratch.clear();
                if (yamux->read(*in_id, scratch, NEGOTIATION_READ_BYTES) == 0) {
                    return;
                }
                auto step = in_negotiator->on_data(scratch);
                if (!step) {
                    fail(error_text(step.error()));
                    return;
                }
                write_stream(*in_id, step->output);
                if (step->protocol) {
                    in_ready = true;
                    in_negotiator.reset();
                    append(rpc_buffer, step->remainder);
                }
                continue;
            }
            if (!out_ready) {
                return;  // held in yamux until our router knows the peer
            }
            if (!extract_rpcs()) {
                return;
            }
            if (yamux->read(*in_id, rpc_buffer, RPC_READ_CHUNK_BYTES) == 0) {
                return;
            }
        }
    }

    // Emits every whole frame in rpc_buffer; false after a framing error.
    bool extract_rpcs() {
        std::size_t pos = 0;
        bool ok = true;
        while (pos < rpc_buffer.size()) {
            const ByteView rest = ByteView(rpc_buffer).subspan(pos);
            auto length = util::decode_uvarint(rest);
            if (!length) {
                if (length.error() != util::VarintError::truncated) {
                    fail("meshsub: malformed rpc length: " + length.error().message());
                    ok = false;
                }
                break;
            }
            // Checked before the body arrives, so a peer cannot make us buffer it.
            if (length->value > max_rpc_bytes) {
                fail("meshsub: rpc frame of " + std::to_string(length->value) +
                     " bytes exceeds the limit of " + std::to_string(max_rpc_bytes));
                ok = false;
                break;
            }
            const auto body = static_cast<std::size_t>(length->value);
            if (rest.size() - length->size < body) {
                break;
            }
            events.push_back(RpcReceived{to_bytes(rest.subspan(length->size, body))});
            pos += length->size + body;
        }
        if (!ok) {
            rpc_buffer.clear();
            return false;
        }
        rpc_buffer.erase(rpc_buffer.begin(), rpc_buffer.begin() + static_cast<std::ptrdiff_t>(pos));
        return true;
    }
};

WireConnection::WireConnection(WireRole role, const crypto::Identity& identity,
                               crypto::X25519KeyPair static_key,
                               crypto::X25519KeyPair ephemeral_key,
                               std::optional<crypto::PeerId> expected_remote,
                               std::size_t max_rpc_bytes, wire::YamuxConfig yamux)
    : m_state(std::make_unique<State>(role, identity, static_key, ephemeral_key,
                                      std::move(expected_remote), max_rpc_bytes, yamux)) {}

WireConnection::~WireConnection() = default;
WireConnection::WireConnection(WireConnection&&) noexcept = default;
WireConnection& WireConnection::operator=(WireConnection&&) noexcept = default;

void WireConnection::start() {
    State& s = *m_state;
    if (s.started) {
        std::fprintf(stderr, "chainmesh sim: WireConnection::start() called twice\n");
        std::abort();
    }
    s.started = true;
    append(s.output, start_negotiator(s.security));
}

void WireConnection::on_data(ByteView data) {
    m_state->on_data(data);
}

bool WireConnection::send_rpc(ByteView rpc) {
    State& s = *m_state;
    if (s.closed || !s.out_ready) {
        return false;
    }
    Bytes frame;
    frame.reserve(util::uvarint_size(rpc.size()) + rpc.size());
    util::append_uvarint(frame, rpc.size());
    append(frame, rpc);
    s.write_stream(*s.out_id, frame);
    s.flush_yamux();
    return !s.closed;
}

void WireConnection::close(std::string reason) {
    State& s = *m_state;
    if (s.closed) {
        return;
    }
    s.closed = true;
    s.close_reason = std::move(reason);
    s.output.clear();
    s.ciphertext_from.reset();
}

WireConnection::Output WireConnection::take_output() {
    State& s = *m_state;
    Output out;
    out.ciphertext_from = s.ciphertext_from.value_or(s.output.size());
    out.bytes = std::move(s.output);
    s.output.clear();
    s.ciphertext_from.reset();
    return out;
}

std::vector<WireConnection::Event> WireConnection::take_events() {
    return std::exchange(m_state->events, {});
}

bool WireConnection::closed() const {
    return m_state->closed;
}
const std::string& WireConnection::close_reason() const {
    return m_state->close_reason;
}
bool WireConnection::upgraded() const {
    return m_state->phase == Phase::muxed;
}
bool WireConnection::stream_ready() const {
    return m_state->out_ready && !m_state->closed;
}
const std::optional<crypto::PeerId>& WireConnection::remote_peer() const {
    return m_state->remote;
}

// ---------------------------------------------------------------------------------------------
// WireNetwork

std::string_view describe(ConnectionState state) {
    switch (state) {
        case ConnectionState::connecting:
            return "connecting";
        case ConnectionState::established:
            return "established";
        case ConnectionState::failed:
            return "failed";
        case ConnectionState::closed:
            return "closed";
    }
    return "unknown";
}

struct WireNetwork::Node {
    explicit Node(crypto::Identity id) : identity(std::move(id)) {}

    crypto::Identity identity;
    std::unique_ptr<pubsub::GossipRouter> router;
    std::optional<Instant> armed_heartbeat;
    std::map<crypto::PeerId, ConnectionId> carriers;  // the connection the router uses per peer
    std::uint64_t wire_bytes_sent = 0;
    std::uint64_t rpc_bytes_sent = 0;
    std::uint64_t rpcs_sent = 0;
};

struct WireNetwork::Connection {
    ConnectionInfo info;
    LinkConfig link;
    std::array<NodeIndex, 2> nodes{};         // [0] dialer, [1] listener
    std::vector<WireConnection> ends;         // the same order
    std::array<LinkDirection, 2> directions;  // [side]: from that side to the other
    std::array<bool, 2> upgraded{};
};

WireNetwork::WireNetwork(WireNetworkConfig config, WireTaps taps)
    : m_config(std::move(config)), m_taps(std::move(taps)), m_rng(m_config.seed) {
    if (const auto error = pubsub::config_error(m_config.gossip); !error.empty()) {
        std::fprintf(stderr, "chainmesh sim: bad gossip config: %s\n", error.c_str());
        std::abort();
    }
    const std::size_t n = m_config.node_count;
    m_nodes.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        crypto::Ed25519Seed seed{};
        m_rng.fill(seed);
        m_nodes.push_back(
            std::make_unique<Node>(crypto::Identity(crypto::Ed25519PrivateKey::from_seed(seed))));
        m_index.emplace(m_nodes.back()->identity.peer_id(), static_cast<NodeIndex>(i));
    }
    for (std::size_t i = 0; i < n; ++i) {
        Node& node = *m_nodes[i];
        node.router =
            std::make_unique<pubsub::GossipRouter>(m_config.gossip, node.identity, m_rng.fork());
        node.router->subscribe(m_config.topic, now());
        after_input(static_cast<NodeIndex>(i));
    }
}

WireNetwork::~WireNetwork() = default;

std::optional<NodeIndex> WireNetwork::index_of(const crypto::PeerId& peer) const {
    const auto it = m_index.find(peer);
    if (it == m_index.end()) {
        return std::nullopt;
    }
    return it->second;
}

const crypto::PeerId& WireNetwork::peer_id(NodeIndex node) const {
    return m_nodes.at(node)->identity.peer_id();
}

const pubsub::GossipRouter& WireNetwork::router(NodeIndex node) const {
    return *m_nodes.at(node)->router;
}

crypto::X25519KeyPair WireNetwork::draw_x25519() {
    crypto::X25519Key key{};
    m_rng.fill(key);
    return crypto::X25519KeyPair::from_private(key);
}

ConnectionId WireNetwork::add_link(NodeIndex a, NodeIndex b) {
    return dial(a, b, m_config.link, std::nullopt);
}

ConnectionId WireNetwork::add_link(NodeIndex a, NodeIndex b, LinkConfig config) {
    return dial(a, b, std::move(config), std::nullopt);
}

ConnectionId WireNetwork::add_link_expecting(NodeIndex a, NodeIndex b, crypto::PeerId expected) {
    return dial(a, b, m_config.link, std::move(expected));
}

ConnectionId WireNetwork::dial(NodeIndex a, NodeIndex b, LinkConfig config,
                               std::optional<crypto::PeerId> expected) {
    if (a >= m_nodes.size() || b >= m_nodes.size() || a == b) {
        std::fprintf(stderr, "chainmesh sim: bad link %u -> %u\n", a, b);
        std::abort();
    }
    const ConnectionId id = m_connections.size();
    auto c = std::make_unique<Connection>();
    c->info.dialer = a;
    c->info.listener = b;
    c->link = std::move(config);
    c->nodes = {a, b};
    // A real dialer knows whom it dials: by default it expects exactly that peer.
    auto dialer_expects = expected ? std::move(*expected) : peer_id(b);
    const std::size_t max_rpc = m_config.gossip.max_rpc_bytes;
    c->ends.reserve(2);
    const auto dialer_static = draw_x25519();
    const auto dialer_ephemeral = draw_x25519();
    c->ends.emplace_back(WireRole::dialer, m_nodes[a]->identity, dialer_static, dialer_ephemeral,
                         std::move(dialer_expects), max_rpc, m_config.yamux);
    const auto listener_static = draw_x25519();
    const auto listener_ephemeral = draw_x25519();
    c->ends.emplace_back(WireRole::listener, m_nodes[b]->identity, listener_static,
                         listener_ephemeral, std::nullopt, max_rpc, m_config.yamux);
    m_connections.push_back(std::move(c));
    for (int side = 0; side < 2; ++side) {
        m_connections[id]->ends[side].start();
        pump(id, side);
    }
    return id;
}

void WireNetwork::add_links(const Links& links) {
    for (const auto& [a, b] : links) {
        add_link(a, b);
    }
}

void WireNetwork::connect_full() {
    add_links(full_links(m_nodes.size()));
}

void WireNetwork::connect_line() {
    add_links(line_links(m_nodes.size()));
}

void WireNetwork::connect_ring() {
    connect_line();
    if (m_nodes.size() > 2) {
        add_link(static_cast<NodeIndex>(m_nodes.size() - 1), 0);
    }
}

void WireNetwork::corrupt_next(NodeIndex from, NodeIndex to) {
    ++m_corrupt_armed[{from, to}];
}

void WireNetwork::pump(ConnectionId id, int side) {
    for (;;) {
        WireConnection& end = m_connections[id]->ends[side];
        auto output = end.take_output();
        const bool had_output = !output.bytes.empty();
        if (had_output) {
            send_bytes(id, side, std::move(output));
        }
        auto events = end.take_events();
        if (events.empty() && !had_output) {
            return;
        }
        for (auto& event : events) {
            Connection& c = *m_connections[id];
            const NodeIndex node = c.nodes[side];
            const NodeIndex peer = c.nodes[1 - side];
            if (std::holds_alternative<WireConnection::Upgraded>(event)) {
                c.upgraded[side] = true;
                if (c.upgraded[0] && c.upgraded[1] && c.info.state == ConnectionState::connecting) {
                    c.info.state = ConnectionState::established;
                    c.info.established_at = now();
                }
            } else if (std::holds_alternative<WireConnection::StreamReady>(event)) {
                stream_ready(id, side);
            } else if (auto* rpc = std::get_if<WireConnection::RpcReceived>(&event)) {
                if (!c.ends[side].closed()) {
                    m_nodes[node]->router->on_rpc(peer_id(peer), rpc->rpc, now());
                    after_input(node);
                }
            } else if (auto* closed = std::get_if<WireConnection::Closed>(&event)) {
                end_closed(id, side, closed->reason);
            }
        }
    }
}

void WireNetwork::send_bytes(ConnectionId id, int side, WireConnection::Output output) {
    Connection& c = *m_connections[id];
    const NodeIndex from = c.nodes[side];
    const NodeIndex to = c.nodes[1 - side];
    Bytes& bytes = output.bytes;
    // Byte 2 of a transport frame is the first byte of its body (after the u16be length), so
    // the frame still parses and the AEAD check is what fails.
    const auto armed = m_corrupt_armed.find({from, to});
    if (armed != m_corrupt_armed.end() && output.ciphertext_from + 2 < bytes.size()) {
        bytes[output.ciphertext_from + 2] ^= 0x01;
        ++m_corruptions;
        if (--armed->second == 0) {
            m_corrupt_armed.erase(armed);
        }
    }
    m_nodes[from]->wire_bytes_sent += bytes.size();
    if (m_taps.wire) {
        m_taps.wire(from, to, bytes);
    }
    const Instant arrival =
        schedule_transfer(c.link, c.directions[side], bytes.size(), now(), m_rng);
    m_queue.schedule(arrival, [this, id, side, bytes = std::move(bytes)] {
        WireConnection& far = m_connections[id]->ends[1 - side];
        if (far.closed()) {
            return;
        }
        far.on_data(bytes);
        pump(id, 1 - side);
    });
}

void WireNetwork::end_closed(ConnectionId id, int side, const std::string& reason) {
    Connection& c = *m_connections[id];
    const NodeIndex node = c.nodes[side];
    const NodeIndex peer = c.nodes[1 - side];
    if (!c.info.closed_by) {
        c.info.closed_by = node;
        c.info.error = reason;
        c.info.closed_at = now();
        c.info.state = c.info.state == ConnectionState::established ? ConnectionState::closed
                                                                    : ConnectionState::failed;
    }
    if (!c.ends[1 - side].closed()) {
        // The close travels behind the bytes already in flight, as a FIN or RST would.
        const Instant arrival = schedule_transfer(c.link, c.directions[side], 0, now(), m_rng);
        m_queue.schedule(arrival, [this, id, side] {
            WireConnection& far = m_connections[id]->ends[1 - side];
            if (far.closed()) {
                return;
            }
            far.close("closed by peer");
            end_closed(id, 1 - side, "closed by peer");
        });
    }
    Node& n = *m_nodes[node];
    const crypto::PeerId& remote = peer_id(peer);
    const auto carrier = n.carriers.find(remote);
    if (carrier == n.carriers.end() || carrier->second != id) {
        return;
    }
    n.carriers.erase(carrier);
    n.router->on_peer_disconnected(remote, now());
    after_input(node);
    // Another connection to the same peer whose stream is ready takes over.
    for (ConnectionId other = 0; other < m_connections.size(); ++other) {
        const Connection& o = *m_connections[other];
        for (int s = 0; s < 2; ++s) {
            if (o.nodes[s] == node && o.nodes[1 - s] == peer && o.ends[s].stream_ready() &&
                !n.carriers.contains(remote)) {
                stream_ready(other, s);
            }
        }
    }
}

void WireNetwork::stream_ready(ConnectionId id, int side) {
    const Connection& c = *m_connections[id];
    const NodeIndex node = c.nodes[side];
    const NodeIndex peer = c.nodes[1 - side];
    Node& n = *m_nodes[node];
    if (!n.carriers.emplace(peer_id(peer), id).second) {
        return;  // another connection already carries this peer's RPCs
    }
    n.router->on_peer_connected(peer_id(peer), side == 0, node_ip(peer), now());
    after_input(node);
}

void WireNetwork::send_rpc(NodeIndex from, const crypto::PeerId& to, Bytes rpc) {
    Node& n = *m_nodes[from];
    const auto carrier = n.carriers.find(to);
    if (carrier == n.carriers.end()) {
        ++m_rpcs_unsent;
        return;
    }
    const ConnectionId id = carrier->second;
    const int side = m_connections[id]->nodes[0] == from ? 0 : 1;
    if (m_taps.rpc) {
        m_taps.rpc(from, m_connections[id]->nodes[1 - side], rpc);
    }
    if (!m_connections[id]->ends[side].send_rpc(rpc)) {
        ++m_rpcs_unsent;
    } else {
        n.rpc_bytes_sent += rpc.size();
        ++n.rpcs_sent;
    }
    pump(id, side);
}

void WireNetwork::after_input(NodeIndex node) {
    Node& n = *m_nodes[node];
    if (m_config.check_router_invariants) {
        n.router->check_invariants();
    }
    for (auto& action : n.router->take_actions()) {
        if (auto* send = std::get_if<pubsub::SendRpc>(&action)) {
            send_rpc(node, send->peer, std::move(send->rpc));
        } else if (auto* validate = std::get_if<pubsub::ValidateMessage>(&action)) {
            m_queue.schedule(now() + m_config.validation_delay, [this, node, id = validate->id] {
                m_nodes[node]->router->report_validation(id, pubsub::ValidationResult::accept,
                                                         now());
                after_input(node);
            });
        } else if (auto* deliver = std::get_if<pubsub::DeliverMessage>(&action)) {
            m_messages.on_deliver(deliver->id, node, now());
        } else if (std::holds_alternative<pubsub::ConnectPeer>(action)) {
            ++m_px_connects;
        } else if (auto* penalize = std::get_if<pubsub::PenalizePeer>(&action)) {
            ++m_penalties;
            const auto carrier = n.carriers.find(penalize->peer);
            if (carrier != n.carriers.end()) {
                const ConnectionId id = carrier->second;
                const int side = m_connections[id]->nodes[0] == node ? 0 : 1;
                const std::string reason = "gossip: " + penalize->reason;
                m_connections[id]->ends[side].close(reason);
                end_closed(id, side, reason);
            }
        }
    }
    arm_heartbeat(node);
}

void WireNetwork::arm_heartbeat(NodeIndex node) {
    Node& n = *m_nodes[node];
    const Instant at = n.router->next_heartbeat();
    if (n.armed_heartbeat == at) {
        return;
    }
    n.armed_heartbeat = at;
    m_queue.schedule(at, [this, node, at] {
        Node& h = *m_nodes[node];
        if (h.armed_heartbeat != at) {
            return;  // superseded by a later arming
        }
        h.armed_heartbeat.reset();
        h.router->on_heartbeat(now());
        after_input(node);
    });
}

void WireNetwork::schedule_publish(Instant at, NodeIndex node, Bytes data) {
    if (node >= m_nodes.size()) {
        std::fprintf(stderr, "chainmesh sim: no node %u\n", node);
        std::abort();
    }
    m_queue.schedule(at, [this, node, data = std::move(data)] { publish_now(node, data); });
}

void WireNetwork::schedule(Instant at, EventQueue::Callback callback) {
    m_queue.schedule(at, std::move(callback));
}

void WireNetwork::publish_now(NodeIndex node, Bytes data) {
    Node& n = *m_nodes[node];
    auto id = n.router->publish(m_config.topic, std::move(data), now());
    if (id) {
        m_messages.add(*id, node, m_config.topic, now(), m_nodes.size());
    }
    after_input(node);
}

std::uint64_t WireNetwork::run_until(Instant end) {
    std::uint64_t ran = 0;
    while (const auto next = m_queue.next_time()) {
        if (*next > end) {
            break;
        }
        if (ran >= m_config.max_events) {
            m_event_cap_reached = true;
            break;
        }
        m_queue.run_next();
        ++ran;
    }
    m_queue.advance_to(end);
    return ran;
}

std::optional<Instant> WireNetwork::delivery_time(std::size_t message, NodeIndex node) const {
    return m_messages.at(message).delivered.at(node);
}

std::size_t WireNetwork::delivered_count(std::size_t message) const {
    const auto& delivered = m_messages.at(message).delivered;
    return static_cast<std::size_t>(std::count_if(delivered.begin(), delivered.end(),
                                                  [](const auto& t) { return t.has_value(); }));
}

std::uint64_t WireNetwork::wire_bytes_sent(NodeIndex node) const {
    return m_nodes.at(node)->wire_bytes_sent;
}

std::uint64_t WireNetwork::rpc_bytes_sent(NodeIndex node) const {
    return m_nodes.at(node)->rpc_bytes_sent;
}

const ConnectionInfo& WireNetwork::connection(ConnectionId id) const {
    return m_connections.at(id)->info;
}

WireMetrics WireNetwork::metrics() const {
    WireMetrics m;
    m.node_count = m_nodes.size();
    m.message_count = m_messages.size();
    std::vector<const MessageRecord*> all;
    for (const auto& record : m_messages.records()) {
        all.push_back(&record);
    }
    const DeliveryStats stats = delivery_stats(all, m.node_count);
    m.deliveries = stats.deliveries;
    m.delivery_ratio = stats.delivery_ratio;
    m.latency_p50 = stats.p50;
    m.latency_p90 = stats.p90;
    m.latency_p99 = stats.p99;
    m.latency_max = stats.max;
    m.connections = m_connections.size();
    for (const auto& c : m_connections) {
        m.connections_established += c->info.established_at ? 1 : 0;
        m.connections_failed += c->info.state == ConnectionState::failed ? 1 : 0;
        m.connections_closed += c->info.state == ConnectionState::closed ? 1 : 0;
    }
    for (const auto& node : m_nodes) {
        m.wire_bytes_total += node->wire_bytes_sent;
        m.wire_bytes_max = std::max(m.wire_bytes_max, node->wire_bytes_sent);
        m.rpc_bytes_total += node->rpc_bytes_sent;
        m.rpcs_sent += node->rpcs_sent;
    }
    m.rpcs_unsent = m_rpcs_unsent;
    m.corruptions = m_corruptions;
    m.penalties = m_penalties;
    m.px_connects = m_px_connects;
    m.events = m_queue.events_run();
    m.event_cap_reached = m_event_cap_reached;
    return m;
}

std::string format_metrics(const WireMetrics& m) {
    std::string out;
    char line[128];
    const auto add = [&](const char* name, unsigned long long value) {
        std::snprintf(line, sizeof line, "%s %llu\n", name, value);
        out += line;
    };
    add("nodes", m.node_count);
    add("messages", m.message_count);
    add("deliveries", m.deliveries);
    std::snprintf(line, sizeof line, "delivery_ratio %.6f\n", m.delivery_ratio);
    out += line;
    add("latency_p50_us", static_cast<unsigned long long>(to_micros(m.latency_p50)));
    add("latency_p90_us", static_cast<unsigned long long>(to_micros(m.latency_p90)));
    add("latency_p99_us", static_cast<unsigned long long>(to_micros(m.latency_p99)));
    add("latency_max_us", static_cast<unsigned long long>(to_micros(m.latency_max)));
    add("connections", m.connections);
    add("connections_established", m.connections_established);
    add("connections_failed", m.connections_failed);
    add("connections_closed", m.connections_closed);
    add("wire_bytes_total", m.wire_bytes_total);
    add("wire_bytes_max", m.wire_bytes_max);
    add("rpc_bytes_total", m.rpc_bytes_total);
    add("rpcs_sent", m.rpcs_sent);
    add("rpcs_unsent", m.rpcs_unsent);
    add("corruptions", m.corruptions);
    add("penalties", m.penalties);
    add("px_connects", m.px_connects);
    add("events", m.events);
    add("event_cap_reached", m.event_cap_reached ? 1 : 0);
    return out;
}

}  // namespace chainmesh::sim
