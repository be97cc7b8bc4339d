#include <chainmesh/chain/address.hpp>
#include <chainmesh/node/config.hpp>
#include <chainmesh/util/host_port.hpp>

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <sstream>
#include <string_view>
#include <variant>

namespace chainmesh::node {

namespace {

using PathField = std::filesystem::path NodeConfig::*;
using TextField = std::string NodeConfig::*;
using AddrsField = std::vector<wire::Multiaddr> NodeConfig::*;
using CountField = std::size_t NodeConfig::*;
using FlagField = bool NodeConfig::*;
using Field = std::variant<PathField, TextField, AddrsField, CountField, FlagField>;

// What a text value must look like beyond its type.
enum class Check { none, not_empty, http_addr, log_level, beneficiary };

struct KeySpec {
    std::string_view key;
    Field field;
    std::string_view comment;  // one line, for example_toml()
    Check check = Check::none;
    std::size_t min = 0;  // counts only
    std::size_t max = 0;
};

const std::vector<KeySpec>& key_specs() {
    static const std::vector<KeySpec> specs = {
        {"data-dir", &NodeConfig::data_dir,
         "where the chain, the peer book and, by default, the node key live", Check::not_empty},
        {"key-file", &NodeConfig::key_file,
         "the node key, created on first run; empty: <data-dir>/node.key"},
        {"genesis-file", &NodeConfig::genesis_file,
         "the genesis TOML (chainmesh genesis new); empty: the copy kept in the data dir"},
        {"listen", &NodeConfig::listen_addrs,
         "multiaddrs to listen on; empty: /ip4/0.0.0.0/tcp/4001"},
        {"bootstrap", &NodeConfig::bootstrap_peers,
         "peers dialed at start and when short of peers, /ip4/../tcp/../p2p/<id>"},
        {"static-peers", &NodeConfig::static_peers, "peers kept connected, redialed with backoff"},
        {"http-addr", &NodeConfig::http_addr,
         "the HTTP API, host:port or [v6]:port with an IP or localhost; empty: off",
         Check::http_addr},
        {"min-peers", &NodeConfig::min_peers,
         "outbound connections kept: known peers are dialed while fewer, one per network group", Check::none,
         0, CONFIG_PEERS_MAX},
        {"max-peers", &NodeConfig::max_peers,
         "connections in all; what min-peers leaves is for inbound peers", Check::none, 1,
         CONFIG_PEERS_MAX},
        {"mining", &NodeConfig::mining, "mine blocks"},
        {"miner-threads", &NodeConfig::miner_threads, "threads searching for proof of work",
         Check::none, 1, CONFIG_MINER_THREADS_MAX},
        {"beneficiary", &NodeConfig::beneficiary,
         "the address paid by mined blocks; empty: the node key's own address", Check::beneficiary},
        {"sync-writes", &NodeConfig::sync_writes,
         "fsync every block commit (false trades durability on power loss for speed)"},
        {"log-level", &NodeConfig::log_level, "trace, debug, info, warn, error, critical or off",
         Check::log_level},
        {"log-json", &NodeConfig::log_json, "log JSON lines instead of text"},
    };
    return specs;
}

const KeySpec* find_spec(std::string_view key) {
    for (const KeySpec& spec : key_specs()) {
        if (spec.key == key) {
            return &spec;
        }
    }
    return nullptr;
}

constexpr std::size_t SHOWN_MAX = 80;
constexpr std::string_view LOG_LEVELS[] = {"trace", "debug",    "info", "warn",
                                           "error", "critical", "off"};

// Text from outside, made safe for a one-line message: control bytes masked, length cut.
std::string masked(std::string_view text) {
    std::string out;
    for (const char c : text.substr(0, std::min(text.size(), SHOWN_MAX))) {
        const auto byte = static_cast<unsigned char>(c);
        out += byte < 0x20 || byte == 0x7f ? '?' : c;
    }
    if (text.size() > SHOWN_MAX) {
        out += "...";
    }
    return out;
}

// A text value as a message shows it: in double quotes, so an empty or blank value is visible.
std::string quote_value(std::string_view text) {
    std::string out = "\"";
    for (const char c : masked(text)) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

// A TOML value as the file spelled it.
std::string shown(const toml::node& node) {
    if (const auto* text = node.as_string()) {
        return quote_value(text->get());
    }
    std::ostringstream out;
    out << toml::node_view<const toml::node>(node);
    return masked(out.str());
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return out;
}

std::string known_keys() {
    std::string out;
    for (const std::string& key : config_keys()) {
        out += (out.empty() ? "" : ", ") + key;
    }
    return out;
}

[[noreturn]] void fail(std::string_view key, const std::string& source, const std::string& value,
                       const std::string& reason) {
    // finish_config checks the merged result, which has no one source to name.
    const std::string from = source.empty() ? "" : " (from " + masked(source) + ")";
    throw ConfigError(std::string(key) + " = " + value + from + ": " + reason);
}

std::string range_text(const KeySpec& spec) {
    return "an integer from " + std::to_string(spec.min) + " to " + std::to_string(spec.max);
}

std::optional<bool> parse_bool(std::string_view text) {
    const std::string word = lower(text);
    if (word == "true" || word == "1" || word == "yes" || word == "on") {
        return true;
    }
    if (word == "false" || word == "0" || word == "no" || word == "off") {
        return false;
    }
    return std::nullopt;
}

// Plain decimal only: a sign, blanks or a suffix are refused rather than guessed at.
std::optional<std::size_t> parse_decimal(std::string_view text) {
    if (text.empty() ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    std::size_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

// Why `text` cannot be the HTTP API's address, or nullopt when it can (empty: the API off).
std::optional<std::string> http_addr_problem(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    auto parsed = parse_host_port(text);
    return parsed.value ? std::nullopt : std::optional(std::move(parsed.problem));
}

// Checks a text value against its key's rule; returns the value to store.
std::string checked_text(const KeySpec& spec, const std::string& source, std::string text) {
    switch (spec.check) {
        case Check::none:
            break;
        case Check::not_empty:
            if (text.empty()) {
                fail(spec.key, source, quote_value(text), "must not be empty");
            }
            break;
        case Check::http_addr:
            if (const auto problem = http_addr_problem(text)) {
                fail(spec.key, source, quote_value(text), *problem);
            }
            break;
        case Check::log_level: {
            std::string level = lower(text);
            if (std::find(std::begin(LOG_LEVELS), std::end(LOG_LEVELS), level) ==
                std::end(LOG_LEVELS)) {
                fail(spec.key, source, quote_value(text),
                     "expected trace, debug, info, warn, error, critical or off");
            }
            return level;
        }
        case Check::beneficiary:
            if (!text.empty()) {
                const auto address = chain::Address::parse(text);
                if (!address) {
                    // The parser says only "not a chainmesh address": say what one is.
                    fail(spec.key, source, quote_value(text),
                         "expected a chainmesh address: cm, 40 hex digits and an 8-digit "
                         "checksum");
                }
            }
            break;
    }
    return text;
}

void set_count(NodeConfig& config, const KeySpec& spec, CountField field, const std::string& source,
               const std::string& value_shown, std::optional<std::size_t> value) {
    if (!value || *value < spec.min || *value > spec.max) {
        fail(spec.key, source, value_shown, "expected " + range_text(spec));
    }
    config.*field = *value;
}

void set_addrs(NodeConfig& config, const KeySpec& spec, AddrsField field, const std::string& source,
               const std::vector<std::string>& values) {
    if (values.size() > CONFIG_LIST_MAX) {
        fail(spec.key, source, std::to_string(values.size()) + " items",
             "at most " + std::to_string(CONFIG_LIST_MAX) + " are allowed");
    }
    std::vector<wire::Multiaddr> addrs;
    // A lone empty value empties the list: the only way an environment variable can say "none".
    if (!(values.size() == 1 && values.front().empty())) {
        for (const std::string& value : values) {
            constexpr std::string_view BLANKS = " \t";
            const std::size_t first = value.find_first_not_of(BLANKS);
            const std::string item =
                first == std::string::npos
                    ? std::string()
                    : value.substr(first, value.find_last_not_of(BLANKS) - first + 1);
            if (item.empty()) {
                fail(spec.key, source, quote_value(value), "an empty item in the list");
            }
            auto addr = wire::Multiaddr::parse(item);
            if (!addr) {
                fail(spec.key, source, quote_value(item),
                     "not a multiaddr: " + addr.error().message());
            }
            addrs.push_back(std::move(*addr));
        }
    }
    config.*field = std::move(addrs);
}

// The one place a text value lands in the config, whichever source it came from.
void apply_text(NodeConfig& config, const KeySpec& spec, const std::string& source,
                const std::vector<std::string>& values) {
    if (const auto* field = std::get_if<AddrsField>(&spec.field)) {
        set_addrs(config, spec, *field, source, values);
        return;
    }
    std::string text;
    for (std::size_t i = 0; i < values.size(); ++i) {
        text += (i == 0 ? "" : ",") + values[i];
    }
    if (text.find('\0') != std::string::npos) {
        fail(spec.key, source, quote_value(text), "contains a NUL byte");
    }
    if (const auto* path_field = std::get_if<PathField>(&spec.field)) {
        config.** path_field = checked_text(spec, source, std::move(text));
    } else if (const auto* text_field = std::get_if<TextField>(&spec.field)) {
        config.** text_field = checked_text(spec, source, std::move(text));
    } else if (const auto* count = std::get_if<CountField>(&spec.field)) {
        set_count(config, spec, *count, source, quote_value(text), parse_decimal(text));
    } else if (const auto* flag_field = std::get_if<FlagField>(&spec.field)) {
        const auto flag = parse_bool(text);
        if (!flag) {
            fail(spec.key, source, quote_value(text),
                 "expected true, false, 1, 0, yes, no, on or off");
        }
        config.** flag_field = *flag;
    }
}

void apply_toml_value(NodeConfig& config, const KeySpec& spec, const std::string& source,
                      const toml::node& node) {
    if (std::holds_alternative<AddrsField>(spec.field)) {
        const auto* array = node.as_array();
        if (array == nullptr) {
            fail(spec.key, source, shown(node), "expected an array of strings");
        }
        if (array->size() > CONFIG_LIST_MAX) {
            fail(spec.key, source, std::to_string(array->size()) + " items",
                 "at most " + std::to_string(CONFIG_LIST_MAX) + " are allowed");
        }
        std::vector<std::string> values;
        for (const toml::node& item : *array) {
            const auto* text = item.as_string();
            if (text == nullptr) {
                fail(spec.key, source, shown(item), "expected an array of strings");
            }
            values.push_back(text->get());
        }
        // An empty array is an empty list; so is [""], as with the other sources.
        set_addrs(config, spec, std::get<AddrsField>(spec.field), source, values);
    } else if (const auto* count = std::get_if<CountField>(&spec.field)) {
        const auto* integer = node.as_integer();
        if (integer == nullptr) {
            fail(spec.key, source, shown(node), "expected " + range_text(spec));
        }
        std::optional<std::size_t> value;
        if (integer->get() >= 0 &&
            static_cast<std::uint64_t>(integer->get()) <= std::numeric_limits<std::size_t>::max()) {
            value = static_cast<std::size_t>(integer->get());
        }
        set_count(config, spec, *count, source, shown(node), value);
    } else if (const auto* flag_field = std::get_if<FlagField>(&spec.field)) {
        const auto* flag = node.as_boolean();
        if (flag == nullptr) {
            fail(spec.key, source, shown(node), "expected true or false");
        }
        config.** flag_field = flag->get();
    } else {
        const auto* text = node.as_string();
        if (text == nullptr) {
            fail(spec.key, source, shown(node), "expected a string");
        }
        apply_text(config, spec, source, {text->get()});
    }
}

// A TOML basic string; control characters escaped so the file stays one value per line.
std::string toml_string(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20 || byte == 0x7f) {
            std::array<char, 8> escape{};
            std::snprintf(escape.data(), escape.size(), "\\u%04x", static_cast<unsigned>(byte));
            out += escape.data();
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string toml_value(const NodeConfig& config, const KeySpec& spec) {
    return std::visit(
        [&](const auto& field) -> std::string {
            const auto& value = config.*field;
            using T = std::decay_t<decltype(value)>;
            if constexpr (std::is_same_v<T, std::filesystem::path>) {
                return toml_string(value.string());
            } else if constexpr (std::is_same_v<T, std::string>) {
                return toml_string(value);
            } else if constexpr (std::is_same_v<T, std::vector<wire::Multiaddr>>) {
                std::string out = "[";
                for (std::size_t i = 0; i < value.size(); ++i) {
                    out += (i == 0 ? "" : ", ") + toml_string(value[i].to_string());
                }
                return out + "]";
            } else if constexpr (std::is_same_v<T, bool>) {
                return value ? "true" : "false";
            } else {
                return std::to_string(value);
            }
        },
        spec.field);
}

const KeySpec& spec_of(std::string_view key) {
    const KeySpec* spec = find_spec(key);
    // The table and finish_config name the same keys; a miss is a programmer error.
    if (spec == nullptr) {
        throw std::logic_error("config: no key " + std::string(key));
    }
    return *spec;
}

}  // namespace

ConfigKeyHelp config_key_help(std::string_view key) {
    const KeySpec* spec = find_spec(key);
    if (spec == nullptr) {
        throw ConfigError("unknown config key '" + masked(key) + "'");
    }
    return {spec->comment, std::holds_alternative<FlagField>(spec->field)};
}

const std::vector<std::string>& config_keys() {
    static const std::vector<std::string> keys = [] {
        std::vector<std::string> out;
        for (const KeySpec& spec : key_specs()) {
            out.emplace_back(spec.key);
        }
        return out;
    }();
    return keys;
}

std::string environment_name(const std::string& key) {
    std::string name = "CHAINMESH_";
    for (const char c : key) {
        if (c == '-' || c == '.') {
            name += '_';
        } else if (c >= 'a' && c <= 'z') {
            name += static_cast<char>(c - 'a' + 'A');
        } else {
            name += c;
        }
    }
    return name;
}

void apply_toml(NodeConfig& config, std::string_view toml_text, const std::string& origin) {
    if (toml_text.size() > CONFIG_FILE_MAX_BYTES) {
        throw ConfigError(masked(origin) + ": the file has " + std::to_string(toml_text.size()) +
                          " bytes, more than the " + std::to_string(CONFIG_FILE_MAX_BYTES) +
                          " allowed");
    }
    toml::table root;
    try {
        root = toml::parse(toml_text, origin);
    } catch (const toml::parse_error& e) {
        throw ConfigError("invalid TOML in " + masked(origin) + " at line " +
                          std::to_string(e.source().begin.line) + ", column " +
                          std::to_string(e.source().begin.column) + ": " + masked(e.description()));
    }
    // Unknown keys first: a typo is the likelier mistake, and its message should not hide
    // behind a bad value written earlier in the file.
    for (const auto& [key, node] : root) {
        if (find_spec(key.str()) == nullptr) {
            throw ConfigError("unknown key '" + masked(key.str()) + "' in " + masked(origin) +
                              " line " + std::to_string(node.source().begin.line) +
                              "; known keys: " + known_keys());
        }
    }
    for (const auto& [key, node] : root) {
        const std::string source = origin + " line " + std::to_string(node.source().begin.line);
        apply_toml_value(config, *find_spec(key.str()), source, node);
    }
}

void apply_override(NodeConfig& config, const ConfigOverride& value) {
    const KeySpec* spec = find_spec(value.key);
    if (spec == nullptr) {
        throw ConfigError("unknown key '" + masked(value.key) + "' (from " + masked(value.source) +
                          "); known keys: " + known_keys());
    }
    apply_text(config, *spec, value.source, value.values);
}

void finish_config(NodeConfig& config) {
    const std::string source;  // the merged result: no one source to name
    // Fields may have been set in code rather than through apply_*: check them all again.
    const auto recheck = [&](std::string_view key, std::string& text) {
        text = checked_text(spec_of(key), source, text);
    };
    std::string data_dir = config.data_dir.string();
    recheck("data-dir", data_dir);
    recheck("http-addr", config.http_addr);
    recheck("log-level", config.log_level);
    recheck("beneficiary", config.beneficiary);
    for (const std::string_view key : {"min-peers", "max-peers", "miner-threads"}) {
        const KeySpec& spec = spec_of(key);
        const std::size_t value = config.*std::get<CountField>(spec.field);
        set_count(config, spec, std::get<CountField>(spec.field), source, std::to_string(value),
                  value);
    }
    if (config.min_peers > config.max_peers) {
        throw ConfigError("min-peers = " + std::to_string(config.min_peers) +
                          " is more than max-peers = " + std::to_string(config.max_peers) +
                          ": min-peers must be at most max-peers");
    }
    for (const std::string_view key : {"listen", "bootstrap", "static-peers"}) {
        const KeySpec& spec = spec_of(key);
        const std::size_t count = (config.*std::get<AddrsField>(spec.field)).size();
        if (count > CONFIG_LIST_MAX) {
            fail(key, source, std::to_string(count) + " items",
                 "at most " + std::to_string(CONFIG_LIST_MAX) + " are allowed");
        }
    }
    if (config.key_file.empty()) {
        config.key_file = config.data_dir / "node.key";
    }
    if (config.listen_addrs.empty()) {
        config.listen_addrs.push_back(wire::Multiaddr::parse("/ip4/0.0.0.0/tcp/4001").value());
    }
}

std::string example_toml() {
    const NodeConfig defaults;
    std::string out =
        "# chainmesh node configuration (chainmesh run --config FILE, or\n"
        "# <data-dir>/chainmesh.toml when present). Every key is also a flag (--http-addr)\n"
        "# and an environment variable (CHAINMESH_HTTP_ADDR); flags win over the environment,\n"
        "# which wins over this file. The values below are the defaults.\n";
    for (const KeySpec& spec : key_specs()) {
        out += "\n# " + std::string(spec.comment) + "\n";
        out += std::string(spec.key) + " = " + toml_value(defaults, spec) + "\n";
    }
    return out;
}

}  // namespace chainmesh::node
