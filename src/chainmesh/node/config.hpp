#pragma once
// A node's configuration: what `chainmesh run` takes from its TOML file, its flags and its
// environment (issue 4 item 3).
//
// Sources, weakest first: the defaults below, the TOML file (--config, or <data-dir>/chainmesh.toml
// when that exists), environment variables CHAINMESH_<KEY> (key upper-cased, '-' and '.' as
// '_': CHAINMESH_HTTP_ADDR, CHAINMESH_MINING), then command-line flags (--http-addr). Every key
// has all three spellings; list keys take a comma-separated environment value and a repeated
// flag. Rationale: zero-config defaults for a first run, a file for a deployment, environment
// for containers, flags for one-off overrides, the way go-ipfs and CometBFT layer theirs.
//
// Bad input is refused at startup with one line naming the key, where it came from and the
// value (ConfigError); unknown keys in the file are refused too, since a typo silently
// ignored is a setting silently not applied.
//
// Rules:
// - The file is flat: top-level keys only, lists as arrays of strings, booleans as TOML
//   booleans, counts as TOML integers. Rationale: one spelling per key across all three
//   sources, and nothing for a reader to guess about where a nested table would land.
// - Text values (flags, environment) go through the same checks as the file's: booleans are
//   true/false/1/0/yes/no/on/off in any case, integers plain decimal, multiaddrs must parse,
//   http-addr is "host:port" or "[v6]:port" with an IP literal or "localhost" as host (what the
//   API server will bind, checked here so a bad value fails before anything starts) or empty.
// - A list from a stronger source replaces the weaker one's list. Rationale: a flag that only
//   added to the file's bootstrap peers could never remove a dead one. A list value that is a
//   single empty string ("CHAINMESH_BOOTSTRAP=") empties the list; blanks around list items
//   are trimmed, since "a, b" in an environment variable is a natural thing to write.
// - Relative paths are kept as written: relative to the working directory, whichever source
//   they came from.
//
// Bounds: a file of at most CONFIG_FILE_MAX_BYTES, lists of at most CONFIG_LIST_MAX items, and
// values shown in messages cut to a short prefix with control characters masked, so a hostile
// environment cannot make the one-line error many lines long.
//
// Threading: plain functions over a NodeConfig owned by the caller; startup only.

#include <chainmesh/wire/multiaddr.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace chainmesh::node {

inline constexpr std::size_t CONFIG_FILE_MAX_BYTES = 1 << 20;
inline constexpr std::size_t CONFIG_LIST_MAX = 1024;      // items in one list key
inline constexpr std::size_t CONFIG_PEERS_MAX = 100'000;  // min-peers and max-peers
inline constexpr std::size_t CONFIG_MINER_THREADS_MAX = 256;

struct NodeConfig {
    // Where the chain (RocksDB), the peer book and, by default, the key live.
    std::filesystem::path data_dir = "chainmesh-data";
    // The node key (libp2p PrivateKey, mode 0600), created on first run. Empty:
    // <data_dir>/node.key.
    std::filesystem::path key_file;
    // The genesis TOML (chainmesh genesis new). Required unless the data dir already holds
    // a chain: then the copy kept there (<data_dir>/genesis.toml) is used.
    std::filesystem::path genesis_file;

    std::vector<wire::Multiaddr> listen_addrs;     // default /ip4/0.0.0.0/tcp/4001
    std::vector<wire::Multiaddr> bootstrap_peers;  // dialed at start, and when short of peers
    std::vector<wire::Multiaddr> static_peers;     // kept connected: redialed with backoff

    // The HTTP API (loopback by default); empty disables it.
    std::string http_addr = "127.0.0.1:8645";

    // Connections (discovery/peer_slots.hpp): min_peers outbound slots, kept filled from the
    // peer book, one peer per network group; max_peers - min_peers inbound slots.
    std::size_t min_peers = 4;
    std::size_t max_peers = 64;

    bool mining = false;
    std::size_t miner_threads = 1;
    // The account that receives block rewards and fees. Empty: the node key's own address.
    std::string beneficiary;

    // fsync every block commit (off trades durability across power loss for speed).
    bool sync_writes = true;

    std::string log_level = "info";
    bool log_json = false;

    friend bool operator==(const NodeConfig&, const NodeConfig&) = default;
};

// A refused configuration value: the message names the key, its source and the value.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One key's value from one source, as text (a flag, an environment variable).
struct ConfigOverride {
    std::string key;                  // e.g. "http-addr"
    std::string source;               // e.g. "--http-addr", "CHAINMESH_HTTP_ADDR"
    std::vector<std::string> values;  // one for scalars; one or more for lists
};

// Every key the config knows, in the file's spelling ("http-addr", "listen", ...).
const std::vector<std::string>& config_keys();

// What a key means (one line, as example_toml() comments it) and whether it is a boolean
// (a bare --flag means true). The CLI builds its flags from these, so a key added here has a
// flag too. Throws ConfigError for a key not in config_keys().
struct ConfigKeyHelp {
    std::string_view help;
    bool is_bool = false;
};
ConfigKeyHelp config_key_help(std::string_view key);

// Applies a TOML document (the file's text; `origin` names it in errors) over `config`.
// Throws ConfigError.
void apply_toml(NodeConfig& config, std::string_view toml_text, const std::string& origin);

// Applies CHAINMESH_* variables found by `getenv` (const char* (const char* name), nullptr when
// unset) over `config`, each value split at commas. Throws ConfigError.
template <class GetEnv>
void apply_environment(NodeConfig& config, GetEnv&& getenv);

// Applies one override (a flag or variable) over `config`: a scalar key joins several values
// back with ',' (and then usually fails, naming them all); a list key replaces the list.
// Throws ConfigError, also for a key not in config_keys().
void apply_override(NodeConfig& config, const ConfigOverride& value);

// The environment variable for `key`: "http-addr" -> "CHAINMESH_HTTP_ADDR".
std::string environment_name(const std::string& key);

// Fills what the defaults leave derived (key_file under data_dir, default listen address) and
// checks the whole: 1 <= max_peers <= CONFIG_PEERS_MAX, min_peers <= max_peers, miner_threads
// from 1 to CONFIG_MINER_THREADS_MAX, beneficiary empty or a valid address, and again the
// checks of apply_override for fields a caller may have set in code. Call it once, after every
// source is applied. Throws ConfigError.
void finish_config(NodeConfig& config);

// The TOML a data dir's example config shows: every key with its default and a comment.
// apply_toml of it over a default NodeConfig leaves the defaults unchanged.
std::string example_toml();

template <class GetEnv>
void apply_environment(NodeConfig& config, GetEnv&& getenv) {
    for (const std::string& key : config_keys()) {
        const std::string name = environment_name(key);
        if (const char* value = getenv(name.c_str())) {
            ConfigOverride item{key, name, {}};
            std::string text(value);
            std::size_t start = 0;
            while (true) {
                const std::size_t comma = text.find(',', start);
                item.values.push_back(text.substr(start, comma - start));
                if (comma == std::string::npos) {
                    break;
                }
                start = comma + 1;
            }
            apply_override(config, item);
        }
    }
}

}  // namespace chainmesh::node
