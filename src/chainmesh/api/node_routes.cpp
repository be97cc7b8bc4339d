#include <chainmesh/api/node_routes.hpp>
#include <chainmesh/util/hex.hpp>

#include <boost/beast/core/string.hpp>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string_view>

namespace chainmesh::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
using nlohmann::json;

namespace {

json optional_json(const std::optional<double>& value) {
    return value ? json(*value) : json(nullptr);
}

json optional_json(const std::optional<std::uint64_t>& value) {
    return value ? json(*value) : json(nullptr);
}

json optional_json(const std::optional<std::string>& value) {
    return value ? json(*value) : json(nullptr);
}

json text_or_null(const std::string& text) {
    return text.empty() ? json(nullptr) : json(text);
}

std::string_view trim(std::string_view text) {
    constexpr std::string_view SPACE = " \t\r\n";
    const auto first = text.find_first_not_of(SPACE);
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(SPACE) - first + 1);
}

bool is_json_content(std::string_view content_type) {
    return beast::iequals(trim(content_type.substr(0, content_type.find(';'))), JSON_CONTENT_TYPE);
}

asio::awaitable<Response> get_health(node::NodeApi& node, const Request&) {
    if (node.healthy()) {
        co_return json_response(http::status::ok, {{"status", "ok"}});
    }
    co_return json_response(http::status::service_unavailable, {{"status", "unhealthy"}});
}

asio::awaitable<Response> get_status(node::NodeApi& node, const Request&) {
    co_return json_response(http::status::ok, status_to_json(node.status()));
}

asio::awaitable<Response> get_peers(node::NodeApi& node, const Request&) {
    json out = json::array();
    for (const auto& peer : node.peers()) {
        out.push_back(peer_to_json(peer));
    }
    co_return json_response(http::status::ok, out);
}

asio::awaitable<Response> get_block(node::NodeApi& node, const Request& request) {
    if (const auto block = node.block(request.parameter)) {
        co_return json_response(http::status::ok, block_to_json(*block));
    }
    co_return error_response(http::status::not_found, "not_found",
                             "no block at that height or with that hash");
}

asio::awaitable<Response> get_transaction(node::NodeApi& node, const Request& request) {
    if (const auto transaction = node.transaction(request.parameter)) {
        co_return json_response(http::status::ok, transaction_to_json(*transaction));
    }
    co_return error_response(http::status::not_found, "not_found",
                             "no transaction with that id in the chain or the mempool");
}

asio::awaitable<Response> get_account(node::NodeApi& node, const Request& request) {
    if (const auto account = node.account(request.parameter)) {
        co_return json_response(http::status::ok, account_to_json(*account));
    }
    co_return error_response(http::status::bad_request, "bad_address",
                             "not an address; addresses look like cm...");
}

asio::awaitable<Response> post_tx(node::NodeApi& node, const Request& request) {
    std::string json_tx;  // keeps the hex alive when it came inside JSON
    std::string_view hex = request.body;
    if (is_json_content(request.content_type)) {
        // nlohmann's parser and destructor are iterative, so deep nesting cannot exhaust the
        // stack; the body is already bounded by the server.
        const json document = json::parse(request.body, nullptr, false);
        if (document.is_discarded() || !document.is_object()) {
            co_return error_response(http::status::bad_request, "bad_json",
                                     "the body is not a JSON object; expected {\"tx\":\"<hex>\"}");
        }
        const auto tx = document.find("tx");
        if (tx == document.end() || !tx->is_string()) {
            co_return error_response(http::status::bad_request, "bad_json",
                                     "expected {\"tx\":\"<hex>\"}");
        }
        json_tx = tx->get<std::string>();
        hex = json_tx;
    }
    hex = trim(hex);
    if (hex.empty()) {
        co_return error_response(http::status::bad_request, "bad_hex",
                                 "no transaction: send the signed transaction in hex");
    }
    auto bytes = util::from_hex(hex);
    if (!bytes) {
        co_return error_response(http::status::bad_request, "bad_hex", bytes.error().message());
    }
    const node::SubmitResult result = co_await node.submit_transaction(std::move(*bytes));
    if (result.accepted) {
        co_return json_response(http::status::ok,
                                {{"accepted", true}, {"id", text_or_null(result.id)}});
    }
    co_return json_response(http::status::unprocessable_entity, {{"accepted", false},
                                                                 {"id", text_or_null(result.id)},
                                                                 {"reason", result.reason},
                                                                 {"detail", result.detail}});
}

// --- rendering ---

// A node's text on an operator's terminal: control characters (escape sequences) become '?'.
std::string printable(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            c = '?';
        }
    }
    return out;
}

std::string text_field(const json& object, const char* key) {
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? printable(it->get<std::string>()) : "?";
}

std::optional<double> number_field(const json& object, const char* key) {
    const auto it = object.find(key);
    if (it == object.end() || !it->is_number()) {
        return std::nullopt;
    }
    return it->get<double>();
}

std::optional<bool> bool_field(const json& object, const char* key) {
    const auto it = object.find(key);
    if (it == object.end() || !it->is_boolean()) {
        return std::nullopt;
    }
    return it->get<bool>();
}

std::string integer_text(const json& object, const char* key) {
    const auto it = object.find(key);
    if (it != object.end() && it->is_number_unsigned()) {
        return std::to_string(it->get<std::uint64_t>());
    }
    if (it != object.end() && it->is_number_integer()) {
        return std::to_string(it->get<std::int64_t>());
    }
    return "?";
}

std::string fixed(double value, int decimals) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    return buffer;
}

std::string duration_text(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e9) {
        return "?";
    }
    const auto total = static_cast<std::uint64_t>(std::llround(seconds));
    const std::uint64_t days = total / 86400;
    const std::uint64_t hours = total % 86400 / 3600;
    const std::uint64_t minutes = total % 3600 / 60;
    const std::uint64_t secs = total % 60;
    char buffer[64];
    if (days > 0) {
        std::snprintf(buffer, sizeof buffer, "%llud %02lluh", static_cast<unsigned long long>(days),
                      static_cast<unsigned long long>(hours));
    } else if (hours > 0) {
        std::snprintf(buffer, sizeof buffer, "%lluh %02llum",
                      static_cast<unsigned long long>(hours),
                      static_cast<unsigned long long>(minutes));
    } else if (minutes > 0) {
        std::snprintf(buffer, sizeof buffer, "%llum %02llus",
                      static_cast<unsigned long long>(minutes),
                      static_cast<unsigned long long>(secs));
    } else {
        std::snprintf(buffer, sizeof buffer, "%llus", static_cast<unsigned long long>(secs));
    }
    return buffer;
}

std::string bytes_text(double bytes) {
    if (!std::isfinite(bytes) || bytes < 0 || bytes > 1e18) {
        return "?";
    }
    if (bytes < 1024) {
        return fixed(bytes, 0) + " B";
    }
    if (bytes < 1024.0 * 1024) {
        return fixed(bytes / 1024, 1) + " KiB";
    }
    return fixed(bytes / (1024.0 * 1024), 1) + " MiB";
}

std::string utc_text(double milliseconds) {
    if (!std::isfinite(milliseconds) || milliseconds <= 0 || milliseconds > 1e15) {
        return "";
    }
    const auto seconds = static_cast<std::time_t>(milliseconds / 1000);
    std::tm parts{};
    if (gmtime_r(&seconds, &parts) == nullptr) {
        return "";
    }
    char buffer[64];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S UTC", &parts);
    return buffer;
}

std::string sync_text(const json& status) {
    const auto sync = status.find("sync");
    if (sync == status.end() || !sync->is_object()) {
        return "?";
    }
    const auto syncing = bool_field(*sync, "syncing");
    if (!syncing) {
        return "?";
    }
    if (!*syncing) {
        return "up to date";
    }
    std::string out = "syncing to height " + integer_text(*sync, "target_height");
    if (const auto rate = number_field(*sync, "blocks_per_second")) {
        out += " at " + fixed(*rate, 1) + " blocks/s";
    }
    const auto left = number_field(*sync, "seconds_left");
    out += left ? ", about " + duration_text(*left) + " left" : ", time left unknown";
    return out;
}

}  // namespace

json status_to_json(const node::NodeStatus& status) {
    return {
        {"peer_id", status.peer_id},
        {"network", status.network},
        {"genesis_hash", status.genesis_hash},
        {"consensus", status.consensus},
        {"height", status.height},
        {"best_hash", status.best_hash},
        {"cumulative_work", status.cumulative_work},
        {"best_timestamp_ms", status.best_timestamp_ms},
        {"peer_count", status.peer_count},
        {"mempool_size", status.mempool_size},
        {"mempool_bytes", status.mempool_bytes},
        {"mining", status.mining},
        {"sync",
         {{"syncing", status.sync.syncing},
          {"target_height", status.sync.target_height},
          {"blocks_per_second", status.sync.blocks_per_second},
          {"seconds_left", optional_json(status.sync.seconds_left)}}},
        {"listen_addrs", status.listen_addrs},
        {"agent_version", status.agent_version},
        {"uptime_seconds", status.uptime_seconds},
        {"blocks_applied", status.blocks_applied},
        {"blocks_mined", status.blocks_mined},
        {"transactions_received", status.transactions_received},
        {"transactions_applied", status.transactions_applied},
        {"inbound_refused", status.inbound_refused},
        {"inbound_evicted", status.inbound_evicted},
    };
}

json peer_to_json(const node::PeerStatus& peer) {
    return {
        {"peer_id", peer.peer_id},
        {"direction", peer.direction},
        {"remote_addr", peer.remote_addr},
        {"agent_version", peer.agent_version},
        {"height", optional_json(peer.height)},
        {"gossip_score", peer.gossip_score},
        {"misbehaviour", peer.misbehaviour},
    };
}

json block_to_json(const node::BlockInfo& block) {
    return {
        {"height", block.height},
        {"hash", block.hash},
        {"previous_hash", block.previous_hash},
        {"state_root", block.state_root},
        {"timestamp_ms", block.timestamp_ms},
        {"beneficiary", block.beneficiary},
        {"size_bytes", block.size_bytes},
        {"on_best_chain", block.on_best_chain},
        {"transactions", block.transactions},
    };
}

json transaction_to_json(const node::TransactionInfo& transaction) {
    return {
        {"id", transaction.id},
        {"status", transaction.status},
        {"block_hash", optional_json(transaction.block_hash)},
        {"height", optional_json(transaction.height)},
        {"sender", transaction.sender},
        {"recipient", transaction.recipient},
        {"amount", transaction.amount},
        {"fee", transaction.fee},
        {"nonce", transaction.nonce},
    };
}

json account_to_json(const node::AccountStatus& account) {
    return {
        {"address", account.address},
        {"balance", account.balance},
        {"nonce", account.nonce},
        {"next_nonce", account.next_nonce},
    };
}

void add_node_routes(HttpServer& server, node::NodeApi& node) {
    // Plain lambdas returning the coroutines' awaitables: a capturing lambda must not be a
    // coroutine itself (its captures would die before it resumes).
    server.route(http::verb::get, "/health",
                 [&node](const Request& request) { return get_health(node, request); });
    server.route(http::verb::get, "/status",
                 [&node](const Request& request) { return get_status(node, request); });
    server.route(http::verb::get, "/peers",
                 [&node](const Request& request) { return get_peers(node, request); });
    server.route(http::verb::post, "/tx",
                 [&node](const Request& request) { return post_tx(node, request); });
    server.route(http::verb::get, "/blocks/{height_or_hash}",
                 [&node](const Request& request) { return get_block(node, request); });
    server.route(http::verb::get, "/tx/{id}",
                 [&node](const Request& request) { return get_transaction(node, request); });
    server.route(http::verb::get, "/accounts/{address}",
                 [&node](const Request& request) { return get_account(node, request); });
}

std::string render_status_text(const json& status) {
    if (!status.is_object()) {
        return "the node's status is not a JSON object\n";
    }
    std::string out;
    const auto line = [&](std::string_view name, const std::string& value) {
        out += name;
        out.append(name.size() < 12 ? 12 - name.size() : 1, ' ');
        out += value;
        out += '\n';
    };
    line("peer id", text_field(status, "peer_id"));
    std::string agent = text_field(status, "agent_version");
    if (const auto uptime = number_field(status, "uptime_seconds")) {
        agent += ", up " + duration_text(*uptime);
    }
    line("agent", agent);
    line("network", text_field(status, "network") + " (" + text_field(status, "consensus") + ")");
    line("genesis", text_field(status, "genesis_hash"));
    line("height", integer_text(status, "height"));
    std::string best = text_field(status, "best_hash");
    if (const auto timestamp = number_field(status, "best_timestamp_ms")) {
        if (const std::string when = utc_text(*timestamp); !when.empty()) {
            best += "  (" + when + ")";
        }
    }
    line("best block", best);
    line("peers", integer_text(status, "peer_count"));
    std::string mempool = integer_text(status, "mempool_size") + " transactions";
    if (const auto bytes = number_field(status, "mempool_bytes")) {
        mempool += ", " + bytes_text(*bytes);
    }
    line("mempool", mempool);
    line("sync", sync_text(status));
    const auto mining = bool_field(status, "mining");
    std::string mining_text = mining ? (*mining ? "on" : "off") : "?";
    if (mining && *mining) {
        mining_text += ", " + integer_text(status, "blocks_mined") + " blocks mined";
    }
    line("mining", mining_text);
    const auto addrs = status.find("listen_addrs");
    if (addrs != status.end() && addrs->is_array() && !addrs->empty()) {
        bool first = true;
        for (const auto& addr : *addrs) {
            line(first ? "listening" : "",
                 addr.is_string() ? printable(addr.get<std::string>()) : std::string("?"));
            first = false;
        }
    } else {
        line("listening", "-");
    }
    return out;
}

}  // namespace chainmesh::api
