#include <chainmesh/pubsub/rpc.hpp>
#include <chainmesh/util/protobuf.hpp>

namespace chainmesh::pubsub {

std::string_view describe(PubsubError e) {
    switch (e) {
        case PubsubError::rpc_too_large: return "pubsub RPC is larger than allowed";
        case PubsubError::malformed_rpc: return "pubsub RPC is malformed";
        case PubsubError::too_many_entries: return "pubsub RPC has too many list entries";
        case PubsubError::message_too_large: return "pubsub message is larger than allowed";
        case PubsubError::duplicate_message: return "pubsub message was already seen";
    }
    return "unknown pubsub error";
}

namespace {

using util::ProtoField;
using util::ProtoReader;
using util::ProtoWriter;
using util::WireType;

// RPC
constexpr std::uint32_t RPC_SUBSCRIPTIONS = 1;
constexpr std::uint32_t RPC_PUBLISH = 2;
constexpr std::uint32_t RPC_CONTROL = 3;
// SubOpts
constexpr std::uint32_t SUB_SUBSCRIBE = 1;
constexpr std::uint32_t SUB_TOPIC = 2;
// Message
constexpr std::uint32_t MSG_FROM = 1;
constexpr std::uint32_t MSG_DATA = 2;
constexpr std::uint32_t MSG_SEQNO = 3;
constexpr std::uint32_t MSG_TOPIC = 4;
constexpr std::uint32_t MSG_SIGNATURE = 5;
constexpr std::uint32_t MSG_KEY = 6;
// ControlMessage
constexpr std::uint32_t CTRL_IHAVE = 1;
constexpr std::uint32_t CTRL_IWANT = 2;
constexpr std::uint32_t CTRL_GRAFT = 3;
constexpr std::uint32_t CTRL_PRUNE = 4;
constexpr std::uint32_t CTRL_IDONTWANT = 5;
// ControlIHave / ControlGraft / ControlPrune: topicID = 1; ControlIWant / IDontWant: ids = 1
constexpr std::uint32_t IHAVE_TOPIC = 1;
constexpr std::uint32_t IHAVE_IDS = 2;
constexpr std::uint32_t IWANT_IDS = 1;
constexpr std::uint32_t GRAFT_TOPIC = 1;
constexpr std::uint32_t PRUNE_TOPIC = 1;
constexpr std::uint32_t PRUNE_PEERS = 2;
constexpr std::uint32_t PRUNE_BACKOFF = 3;
constexpr std::uint32_t PEER_INFO_ID = 1;
constexpr std::uint32_t PEER_INFO_RECORD = 2;

// What is left of the RpcLimits while one RPC decodes.
struct Budget {
    std::size_t subscriptions;
    std::size_t messages;
    std::size_t ihave;
    std::size_t iwant;
    std::size_t graft;
    std::size_t prune;
    std::size_t idontwant;
    std::size_t message_ids;
    std::size_t prune_peers;

    explicit Budget(const RpcLimits& l)
        : subscriptions(l.max_subscriptions),
          messages(l.max_messages),
          ihave(l.max_control_entries),
          iwant(l.max_control_entries),
          graft(l.max_control_entries),
          prune(l.max_control_entries),
          idontwant(l.max_control_entries),
          message_ids(l.max_message_ids),
          prune_peers(l.max_prune_peers) {}
};

bool take(std::size_t& budget) {
    if (budget == 0) {
        return false;
    }
    --budget;
    return true;
}

// Walks the fields of `body`, handing each to `on_field`, which returns an error code or
// nothing; reader errors are malformed RPCs.
template <class F>
Result<void> for_each_field(ByteView body, F&& on_field) {
    ProtoReader reader(body);
    for (;;) {
        auto next = reader.next();
        if (!next) {
            return PubsubError::malformed_rpc;
        }
        if (!*next) {
            return {};
        }
        if (auto r = on_field(**next); !r) {
            return r.error();
        }
    }
}

bool is_bytes(const ProtoField& f) { return f.type == WireType::length_delimited; }
bool is_varint(const ProtoField& f) { return f.type == WireType::varint; }

Result<void> decode_sub_opts(ByteView body, SubOpts& out) {
    return for_each_field(body, [&](const ProtoField& f) -> Result<void> {
        if (f.number == SUB_SUBSCRIBE) {
            if (!is_varint(f)) {
                return PubsubError::malformed_rpc;
            }
            out.subscribe = f.value != 0;
        } else if (f.number == SUB_TOPIC) {
            if (!is_bytes(f)) {
                return PubsubError::malformed_rpc;
            }
            out.topic.assign(as_string(f.bytes));
        }
        return {};
    });
}

// IWANT and IDONTWANT: one repeated bytes field of ids.
Result<void> decode_id_list(ByteView body, std::uint32_t field, std::vector<MessageId>& out,
                            Budget& budget) {
    return for_each_field(body, [&](const ProtoField& f) -> Result<void> {
        if (f.number != field) {
            return {};
        }
        if (!is_bytes(f)) {
            return PubsubError::malformed_rpc;
        }
        if (!take(budget.message_ids)) {
            return PubsubError::too_many_entries;
        }
        out.push_back(to_bytes(f.bytes));
        return {};
    });
}

Result<void> decode_ihave(ByteView body, ControlIHave& out, Budget& budget) {
    return for_each_field(body, [&](const ProtoField& f) -> Result<void> {
        if (f.number == IHAVE_TOPIC) {
            if (!is_bytes(f)) {
                return PubsubError::malformed_rpc;
            }
            out.topic.assign(as_string(f.bytes));
        } else if (f.number == IHAVE_IDS) {
            if (!is_bytes(f)) {
                return PubsubError::malformed_rpc;
            }
            if (!take(budget.message_ids)) {
                return PubsubError::too_many_entries;
            }
            out.message_ids.push_back(to_bytes(f.bytes));
        }
        return {};
    });
}

Result<void> decode_graft(ByteView body, ControlGraft& out) {
    return for_each_field(body, [&](const ProtoField& f) -> Result<void> {
        if (f.number == GRAFT_TOPIC) {
            if (!is_bytes(f)) {
                return PubsubError::malformed_rpc;
            }
            out.topic.assign(as_string(f.bytes));
        }
        return {};
    });
}

Result<void> decode_peer_info(ByteView body, PeerInfo& out) {
    return for_each_field(body, [&](const ProtoField& f) -> Result<void> {
        if (f.number == PEER_INFO_ID || f.number == PEER_INFO_RECORD) {
            if (!is_bytes(f)) {
                return PubsubError::malformed_rpc;
            }
            if (f.number == PEER_INFO_ID) {
                out.peer_id = to_bytes(f.bytes);
            } else {
                out.signed_peer_record = to_bytes(f.bytes);
            }
        }
        return {};
    });
}

Result<void> decode_prune(ByteView body, ControlPrune& out, Budget& budget) {
    return for_each_field(body, [&](const ProtoField& f) -> Result<void> {
        switch (f.number) {
            case PRUNE_TOPIC:
                if (!is_bytes(f)) {
                    return PubsubError::malformed_rpc;
                }
                out.topic.assign(as_string(f.bytes));
                break;
            case PRUNE_PEERS: {
                if (!is_bytes(f)) {
                    return PubsubError::malformed_rpc;
                }
                if (!take(budget.prune_peers)) {
                    return PubsubError::too_many_entries;
                }
                PeerInfo info;
                if (auto r = decode_peer_info(f.bytes, info); !r) {
                    return r.error();
                }
                out.peers.push_back(std::move(info));
                break;
            }
            case PRUNE_BACKOFF:
                if (!is_varint(f)) {
                    return PubsubError::malformed_rpc;
                }
                out.backoff_seconds = f.value;
                break;
            default: break;
        }
        return {};
    });
}

Result<void> decode_control(ByteView body, ControlMessage& out, Budget& budget) {
    return for_each_field(body, [&](const ProtoField& f) -> Result<void> {
        if (f.number < CTRL_IHAVE || f.number > CTRL_IDONTWANT) {
            return {};
        }
        if (!is_bytes(f)) {
            return PubsubError::malformed_rpc;
        }
        switch (f.number) {
            case CTRL_IHAVE: {
                if (!take(budget.ihave)) {
                    return PubsubError::too_many_entries;
                }
                ControlIHave ihave;
                if (auto r = decode_ihave(f.bytes, ihave, budget); !r) {
                    return r.error();
                }
                out.ihave.push_back(std::move(ihave));
                break;
            }
            case CTRL_IWANT: {
                if (!take(budget.iwant)) {
                    return PubsubError::too_many_entries;
                }
                ControlIWant iwant;
                if (auto r = decode_id_list(f.bytes, IWANT_IDS, iwant.message_ids, budget); !r) {
                    return r.error();
                }
                out.iwant.push_back(std::move(iwant));
                break;
            }
            case CTRL_GRAFT: {
                if (!take(budget.graft)) {
                    return PubsubError::too_many_entries;
                }
                ControlGraft graft;
                if (auto r = decode_graft(f.bytes, graft); !r) {
                    return r.error();
                }
                out.graft.push_back(std::move(graft));
                break;
            }
            case CTRL_PRUNE: {
                if (!take(budget.prune)) {
                    return PubsubError::too_many_entries;
                }
                ControlPrune prune;
                if (auto r = decode_prune(f.bytes, prune, budget); !r) {
                    return r.error();
                }
                out.prune.push_back(std::move(prune));
                break;
            }
            case CTRL_IDONTWANT: {
                if (!take(budget.idontwant)) {
                    return PubsubError::too_many_entries;
                }
                ControlIDontWant idontwant;
                if (auto r = decode_id_list(f.bytes, IWANT_IDS, idontwant.message_ids, budget);
                    !r) {
                    return r.error();
                }
                out.idontwant.push_back(std::move(idontwant));
                break;
            }
            default: break;
        }
        return {};
    });
}

void write_fields_1_to_4(ProtoWriter& w, const Message& m) {
    if (m.from) {
        w.bytes(MSG_FROM, *m.from);
    }
    if (m.data) {
        w.bytes(MSG_DATA, *m.data);
    }
    if (m.seqno) {
        w.bytes(MSG_SEQNO, *m.seqno);
    }
    w.string(MSG_TOPIC, m.topic);
}

std::size_t optional_field_bytes(const std::optional<Bytes>& b) {
    return b ? field_bytes(b->size()) : 0;
}

std::size_t fields_1_to_4_bytes(const Message& m) {
    return optional_field_bytes(m.from) + optional_field_bytes(m.data) +
           optional_field_bytes(m.seqno) + field_bytes(m.topic.size());
}

Bytes encode_ids(std::uint32_t field, const std::vector<MessageId>& ids) {
    Bytes out;
    ProtoWriter w(out);
    for (const MessageId& id : ids) {
        w.bytes(field, id);
    }
    return out;
}

}  // namespace

std::size_t field_bytes(std::size_t payload_bytes) {
    return 1 + util::proto_varint_size(payload_bytes) + payload_bytes;
}

Bytes Message::encode() const {
    Bytes out;
    out.reserve(fields_1_to_4_bytes(*this) + optional_field_bytes(signature) +
                optional_field_bytes(key));
    ProtoWriter w(out);
    write_fields_1_to_4(w, *this);
    if (signature) {
        w.bytes(MSG_SIGNATURE, *signature);
    }
    if (key) {
        w.bytes(MSG_KEY, *key);
    }
    return out;
}

Bytes Message::signing_bytes() const {
    Bytes out;
    out.reserve(SIGNING_PREFIX.size() + fields_1_to_4_bytes(*this));
    append(out, SIGNING_PREFIX);
    ProtoWriter w(out);
    write_fields_1_to_4(w, *this);
    return out;
}

Result<Message> Message::decode(ByteView body) {
    Message m;
    auto r = for_each_field(body, [&](const ProtoField& f) -> Result<void> {
        if (f.number < MSG_FROM || f.number > MSG_KEY) {
            return {};
        }
        if (!is_bytes(f)) {
            return PubsubError::malformed_rpc;
        }
        switch (f.number) {
            case MSG_FROM: m.from = to_bytes(f.bytes); break;
            case MSG_DATA: m.data = to_bytes(f.bytes); break;
            case MSG_SEQNO: m.seqno = to_bytes(f.bytes); break;
            case MSG_TOPIC: m.topic.assign(as_string(f.bytes)); break;
            case MSG_SIGNATURE: m.signature = to_bytes(f.bytes); break;
            case MSG_KEY: m.key = to_bytes(f.bytes); break;
            default: break;
        }
        return {};
    });
    if (!r) {
        return r.error();
    }
    return m;
}

Bytes ControlMessage::encode() const {
    Bytes out;
    ProtoWriter w(out);
    for (const ControlIHave& entry : ihave) {
        Bytes body;
        ProtoWriter b(body);
        b.string(IHAVE_TOPIC, entry.topic);
        for (const MessageId& id : entry.message_ids) {
            b.bytes(IHAVE_IDS, id);
        }
        w.bytes(CTRL_IHAVE, body);
    }
    for (const ControlIWant& entry : iwant) {
        w.bytes(CTRL_IWANT, encode_ids(IWANT_IDS, entry.message_ids));
    }
    for (const ControlGraft& entry : graft) {
        Bytes body;
        ProtoWriter b(body);
        b.string(GRAFT_TOPIC, entry.topic);
        w.bytes(CTRL_GRAFT, body);
    }
    for (const ControlPrune& entry : prune) {
        Bytes body;
        ProtoWriter b(body);
        b.string(PRUNE_TOPIC, entry.topic);
        for (const PeerInfo& info : entry.peers) {
            Bytes peer;
            ProtoWriter p(peer);
            p.bytes(PEER_INFO_ID, info.peer_id);
            if (info.signed_peer_record) {
                p.bytes(PEER_INFO_RECORD, *info.signed_peer_record);
            }
            b.bytes(PRUNE_PEERS, peer);
        }
        if (entry.backoff_seconds) {
            b.varint(PRUNE_BACKOFF, *entry.backoff_seconds);
        }
        w.bytes(CTRL_PRUNE, body);
    }
    for (const ControlIDontWant& entry : idontwant) {
        w.bytes(CTRL_IDONTWANT, encode_ids(IWANT_IDS, entry.message_ids));
    }
    return out;
}

Bytes encode_rpc(std::span<const SubOpts> subscriptions, std::span<const ByteView> messages,
                 const ControlMessage* control) {
    std::size_t size = 0;
    for (const ByteView m : messages) {
        size += field_bytes(m.size());
    }
    Bytes control_body;
    if (control != nullptr && !control->empty()) {
        control_body = control->encode();
        size += field_bytes(control_body.size());
    }
    Bytes out;
    out.reserve(size + subscriptions.size() * 32);
    ProtoWriter w(out);
    for (const SubOpts& sub : subscriptions) {
        Bytes body;
        ProtoWriter b(body);
        b.boolean(SUB_SUBSCRIBE, sub.subscribe);
        b.string(SUB_TOPIC, sub.topic);
        w.bytes(RPC_SUBSCRIPTIONS, body);
    }
    for (const ByteView m : messages) {
        w.bytes(RPC_PUBLISH, m);
    }
    if (!control_body.empty()) {
        w.bytes(RPC_CONTROL, control_body);
    }
    return out;
}

Bytes Rpc::encode() const {
    std::vector<Bytes> encoded;
    encoded.reserve(messages.size());
    std::vector<ByteView> views;
    views.reserve(messages.size());
    for (const Message& m : messages) {
        encoded.push_back(m.encode());
        views.emplace_back(encoded.back());
    }
    return encode_rpc(subscriptions, views, control ? &*control : nullptr);
}

Result<Rpc> Rpc::decode(ByteView body, std::size_t max_bytes, const RpcLimits& limits) {
    if (body.size() > max_bytes) {
        return PubsubError::rpc_too_large;
    }
    Budget budget(limits);
    Rpc rpc;
    auto r = for_each_field(body, [&](const ProtoField& f) -> Result<void> {
        if (f.number < RPC_SUBSCRIPTIONS || f.number > RPC_CONTROL) {
            return {};
        }
        if (!is_bytes(f)) {
            return PubsubError::malformed_rpc;
        }
        switch (f.number) {
            case RPC_SUBSCRIPTIONS: {
                if (!take(budget.subscriptions)) {
                    return PubsubError::too_many_entries;
                }
                SubOpts sub;
                if (auto s = decode_sub_opts(f.bytes, sub); !s) {
                    return s.error();
                }
                rpc.subscriptions.push_back(std::move(sub));
                break;
            }
            case RPC_PUBLISH: {
                if (!take(budget.messages)) {
                    return PubsubError::too_many_entries;
                }
                auto m = Message::decode(f.bytes);
                if (!m) {
                    return m.error();
                }
                rpc.messages.push_back(std::move(*m));
                break;
            }
            case RPC_CONTROL: {
                // Repeated occurrences of a singular message field merge, as protobuf does.
                if (!rpc.control) {
                    rpc.control.emplace();
                }
                if (auto c = decode_control(f.bytes, *rpc.control, budget); !c) {
                    return c.error();
                }
                break;
            }
            default: break;
        }
        return {};
    });
    if (!r) {
        return r.error();
    }
    if (rpc.control && rpc.control->empty()) {
        rpc.control.reset();  // an empty control says nothing: one canonical form
    }
    return rpc;
}

}  // namespace chainmesh::pubsub
