#include <chainmesh/chain/address.hpp>
#include <chainmesh/node/config.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace chainmesh::node {
namespace {

const std::string FILE_PATH = "/x/chainmesh.toml";

wire::Multiaddr addr(std::string_view text) {
    return wire::Multiaddr::parse(text).value();
}

std::string some_address() {
    chain::Address address;
    address.bytes.fill(0x5a);
    return address.to_string();
}

// The message of the ConfigError `action` throws; fails the test when it throws nothing.
std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const ConfigError& e) {
        return e.what();
    }
    ADD_FAILURE() << "no ConfigError";
    return {};
}

// A fake environment: the variables of `vars`, nothing else.
auto fake_env(const std::map<std::string, std::string>& vars) {
    return [vars](const char* name) -> const char* {
        const auto found = vars.find(name);
        return found == vars.end() ? nullptr : found->second.c_str();
    };
}

TEST(NodeConfig, Defaults) {
    NodeConfig config;
    EXPECT_EQ(config.data_dir, "chainmesh-data");
    EXPECT_TRUE(config.key_file.empty());
    EXPECT_TRUE(config.genesis_file.empty());
    EXPECT_TRUE(config.listen_addrs.empty());
    EXPECT_TRUE(config.bootstrap_peers.empty());
    EXPECT_TRUE(config.static_peers.empty());
    EXPECT_EQ(config.http_addr, "127.0.0.1:8645");
    EXPECT_EQ(config.min_peers, 4U);
    EXPECT_EQ(config.max_peers, 64U);
    EXPECT_FALSE(config.mining);
    EXPECT_EQ(config.miner_threads, 1U);
    EXPECT_TRUE(config.beneficiary.empty());
    EXPECT_TRUE(config.sync_writes);
    EXPECT_EQ(config.log_level, "info");
    EXPECT_FALSE(config.log_json);

    finish_config(config);
    EXPECT_EQ(config.key_file, std::filesystem::path("chainmesh-data") / "node.key");
    EXPECT_EQ(config.listen_addrs, std::vector{addr("/ip4/0.0.0.0/tcp/4001")});
}

TEST(NodeConfig, FinishKeepsWhatWasSet) {
    NodeConfig config;
    config.data_dir = "/var/lib/cm";
    config.listen_addrs = {addr("/ip4/127.0.0.1/tcp/0")};
    finish_config(config);
    EXPECT_EQ(config.key_file, "/var/lib/cm/node.key");
    EXPECT_EQ(config.listen_addrs, std::vector{addr("/ip4/127.0.0.1/tcp/0")});

    config.key_file = "/keys/k";
    finish_config(config);
    EXPECT_EQ(config.key_file, "/keys/k");
}

TEST(NodeConfig, ConfigKeysAreTheFifteen) {
    const std::vector<std::string> expected = {
        "data-dir",      "key-file",    "genesis-file", "listen",    "bootstrap",
        "static-peers",  "http-addr",   "min-peers",    "max-peers", "mining",
        "miner-threads", "beneficiary", "sync-writes",  "log-level", "log-json"};
    EXPECT_EQ(config_keys(), expected);
}

TEST(NodeConfig, FullFile) {
    const std::string beneficiary = some_address();
    const std::string text = R"(
data-dir = "/var/lib/chainmesh"
key-file = "/etc/chainmesh/node.key"
genesis-file = "/etc/chainmesh/genesis.toml"
listen = ["/ip4/0.0.0.0/tcp/5001", "/ip6/::/tcp/5001"]
bootstrap = ["/dns4/boot.example.org/tcp/4001"]
static-peers = ["/ip4/10.0.0.2/tcp/4001", "/ip4/10.0.0.3/tcp/4001"]
http-addr = "[::1]:9000"
min-peers = 8
max-peers = 100
mining = true
miner-threads = 4
beneficiary = ")" + beneficiary +
                             R"("
sync-writes = false
log-level = "debug"
log-json = true
)";
    NodeConfig config;
    apply_toml(config, text, FILE_PATH);
    EXPECT_EQ(config.data_dir, "/var/lib/chainmesh");
    EXPECT_EQ(config.key_file, "/etc/chainmesh/node.key");
    EXPECT_EQ(config.genesis_file, "/etc/chainmesh/genesis.toml");
    EXPECT_EQ(config.listen_addrs,
              (std::vector{addr("/ip4/0.0.0.0/tcp/5001"), addr("/ip6/::/tcp/5001")}));
    EXPECT_EQ(config.bootstrap_peers, std::vector{addr("/dns4/boot.example.org/tcp/4001")});
    EXPECT_EQ(config.static_peers,
              (std::vector{addr("/ip4/10.0.0.2/tcp/4001"), addr("/ip4/10.0.0.3/tcp/4001")}));
    EXPECT_EQ(config.http_addr, "[::1]:9000");
    EXPECT_EQ(config.min_peers, 8U);
    EXPECT_EQ(config.max_peers, 100U);
    EXPECT_TRUE(config.mining);
    EXPECT_EQ(config.miner_threads, 4U);
    EXPECT_EQ(config.beneficiary, beneficiary);
    EXPECT_FALSE(config.sync_writes);
    EXPECT_EQ(config.log_level, "debug");
    EXPECT_TRUE(config.log_json);

    const NodeConfig before = config;
    finish_config(config);
    EXPECT_EQ(config, before);  // nothing left to derive
}

TEST(NodeConfig, EnvironmentOverridesFile) {
    NodeConfig config;
    apply_toml(config, "min-peers = 8\nhttp-addr = \"127.0.0.1:1\"\nmining = true\n", FILE_PATH);
    apply_environment(config, fake_env({{"CHAINMESH_MIN_PEERS", "2"},
                                        {"CHAINMESH_MINING", "off"},
                                        {"CHAINMESH_LOG_LEVEL", "WARN"},
                                        {"MIN_PEERS", "99"},
                                        {"chainmesh_max_peers", "99"}}));
    EXPECT_EQ(config.min_peers, 2U);
    EXPECT_FALSE(config.mining);
    EXPECT_EQ(config.http_addr, "127.0.0.1:1");  // not in the environment: the file's
    EXPECT_EQ(config.log_level, "warn");
    EXPECT_EQ(config.max_peers, 64U);  // names are exact and upper-case

    // A flag after the environment wins over both.
    apply_override(config, {"min-peers", "--min-peers", {"3"}});
    EXPECT_EQ(config.min_peers, 3U);
}

TEST(NodeConfig, OverrideReplacesList) {
    NodeConfig config;
    apply_toml(config,
               "bootstrap = [\"/ip4/1.1.1.1/tcp/1\", \"/ip4/2.2.2.2/tcp/2\"]\n"
               "static-peers = [\"/ip4/3.3.3.3/tcp/3\"]\n",
               FILE_PATH);
    ASSERT_EQ(config.bootstrap_peers.size(), 2U);
    apply_override(config, {"bootstrap", "--bootstrap", {"/ip4/9.9.9.9/tcp/9"}});
    EXPECT_EQ(config.bootstrap_peers, std::vector{addr("/ip4/9.9.9.9/tcp/9")});

    // A lone empty value empties the list.
    apply_environment(config, fake_env({{"CHAINMESH_STATIC_PEERS", ""}}));
    EXPECT_TRUE(config.static_peers.empty());

    // An empty TOML array does too.
    apply_toml(config, "bootstrap = []\n", FILE_PATH);
    EXPECT_TRUE(config.bootstrap_peers.empty());
}

TEST(NodeConfig, EnvironmentSplitsListsAtCommas) {
    NodeConfig config;
    apply_environment(config,
                      fake_env({{"CHAINMESH_BOOTSTRAP", "/ip4/1.1.1.1/tcp/1,/ip4/2.2.2.2/tcp/2"},
                                {"CHAINMESH_LISTEN", "/ip4/0.0.0.0/tcp/7, /ip6/::/tcp/7"}}));
    EXPECT_EQ(config.bootstrap_peers,
              (std::vector{addr("/ip4/1.1.1.1/tcp/1"), addr("/ip4/2.2.2.2/tcp/2")}));
    // Blanks around items are trimmed.
    EXPECT_EQ(config.listen_addrs,
              (std::vector{addr("/ip4/0.0.0.0/tcp/7"), addr("/ip6/::/tcp/7")}));

    // An empty item is refused, naming the variable.
    const std::string message = error_of([] {
        NodeConfig fresh;
        apply_environment(
            fresh, fake_env({{"CHAINMESH_BOOTSTRAP", "/ip4/1.1.1.1/tcp/1,,/ip4/2.2.2.2/tcp/2"}}));
    });
    EXPECT_NE(message.find("bootstrap"), std::string::npos) << message;
    EXPECT_NE(message.find("CHAINMESH_BOOTSTRAP"), std::string::npos) << message;
    EXPECT_NE(message.find("empty item"), std::string::npos) << message;
}

TEST(NodeConfig, EnvironmentJoinsScalarsBackAtCommas) {
    // A scalar split at its commas is joined back: a value with a comma means what it says.
    NodeConfig config;
    apply_environment(config, fake_env({{"CHAINMESH_DATA_DIR", "/data/a,b"}}));
    EXPECT_EQ(config.data_dir, "/data/a,b");

    const std::string message = error_of([] {
        NodeConfig fresh;
        apply_environment(fresh, fake_env({{"CHAINMESH_HTTP_ADDR", "127.0.0.1:1,127.0.0.1:2"}}));
    });
    EXPECT_NE(message.find("http-addr"), std::string::npos) << message;
    EXPECT_NE(message.find("CHAINMESH_HTTP_ADDR"), std::string::npos) << message;
    EXPECT_NE(message.find("127.0.0.1:1,127.0.0.1:2"), std::string::npos) << message;
}

TEST(NodeConfig, RepeatedScalarFlagIsJoinedAndRefused) {
    NodeConfig config;
    const std::string message = error_of([&] {
        apply_override(config, {"log-level", "--log-level", {"info", "debug"}});
    });
    EXPECT_NE(message.find("log-level"), std::string::npos) << message;
    EXPECT_NE(message.find("--log-level"), std::string::npos) << message;
    EXPECT_NE(message.find("info,debug"), std::string::npos) << message;
}

TEST(NodeConfig, EnvironmentName) {
    EXPECT_EQ(environment_name("http-addr"), "CHAINMESH_HTTP_ADDR");
    EXPECT_EQ(environment_name("data-dir"), "CHAINMESH_DATA_DIR");
    EXPECT_EQ(environment_name("mining"), "CHAINMESH_MINING");
    EXPECT_EQ(environment_name("static-peers"), "CHAINMESH_STATIC_PEERS");
    EXPECT_EQ(environment_name("a.b"), "CHAINMESH_A_B");
}

TEST(NodeConfig, BooleanSpellings) {
    NodeConfig config;
    for (const auto& [text, expected] : std::vector<std::pair<std::string, bool>>{{"true", true},
                                                                                  {"FALSE", false},
                                                                                  {"1", true},
                                                                                  {"0", false},
                                                                                  {"Yes", true},
                                                                                  {"no", false},
                                                                                  {"ON", true},
                                                                                  {"off", false}}) {
        config.mining = !expected;
        apply_override(config, {"mining", "--mining", {text}});
        EXPECT_EQ(config.mining, expected) << text;
    }
}

TEST(NodeConfig, AcceptedHttpAddresses) {
    NodeConfig config;
    for (const std::string text :
         {"127.0.0.1:0", "0.0.0.0:65535", "[::1]:8645", "[::]:80", "localhost:8080", ""}) {
        apply_override(config, {"http-addr", "--http-addr", {text}});
        EXPECT_EQ(config.http_addr, text);
    }
}

struct BadValue {
    std::string key;
    std::string value;
    std::string reason;  // a word of the expected explanation
};

// Each kind of bad text value, from a flag and from the environment.
TEST(NodeConfig, BadValuesNameKeySourceAndValue) {
    const std::vector<BadValue> cases = {
        {"mining", "maybe", "expected true"},
        {"sync-writes", "", "expected true"},
        {"min-peers", "-1", "integer"},
        {"min-peers", "4x", "integer"},
        {"min-peers", " 4", "integer"},
        {"min-peers", "+4", "integer"},
        {"min-peers", "", "integer"},
        {"max-peers", "99999999999999999999999", "integer"},
        {"max-peers", "0", "from 1"},
        {"miner-threads", "0", "from 1 to 256"},
        {"miner-threads", "257", "from 1 to 256"},
        {"listen", "/ip4/1.2.3.4/tcp/notaport", "multiaddr"},
        {"bootstrap", "/bogus/1", "multiaddr"},
        {"static-peers", "1.2.3.4:4001", "multiaddr"},
        {"http-addr", "localhost", "host:port"},
        {"http-addr", "127.0.0.1:70000", "port"},
        {"http-addr", "127.0.0.1:", "port"},
        {"http-addr", "::1:80", "brackets"},
        {"http-addr", "[::1]80", "[IPv6 address]:port"},
        {"http-addr", "[nonsense]:80", "IPv6"},
        {"http-addr", "example.com:80", "IP address or localhost"},
        {"log-level", "loud", "trace"},
        {"beneficiary", "cm00", "address"},
        {"data-dir", "", "empty"},
    };
    for (const BadValue& bad : cases) {
        for (const bool from_environment : {false, true}) {
            NodeConfig config;
            const NodeConfig before = config;
            const std::string source =
                from_environment ? environment_name(bad.key) : "--" + bad.key;
            const std::string message = error_of([&] {
                if (from_environment) {
                    apply_environment(config, fake_env({{source, bad.value}}));
                } else {
                    apply_override(config, {bad.key, source, {bad.value}});
                }
            });
            SCOPED_TRACE(bad.key + " = \"" + bad.value + "\" from " + source + ": " + message);
            EXPECT_NE(message.find(bad.key), std::string::npos);
            EXPECT_NE(message.find(source), std::string::npos);
            EXPECT_NE(message.find("\"" + bad.value + "\""), std::string::npos);
            EXPECT_NE(message.find(bad.reason), std::string::npos);
            EXPECT_EQ(message.find('\n'), std::string::npos);
            EXPECT_EQ(config, before);  // a refused value changes nothing
        }
    }
}

TEST(NodeConfig, MultiaddrErrorCarriesTheParsersReason) {
    NodeConfig config;
    const std::string message = error_of([&] {
        apply_override(config, {"listen", "--listen", {"/ip4/1.2.3.4/tcp/1", "/nope/1"}});
    });
    const std::string reason =
        wire::Multiaddr::parse("/nope/1").error().message();  // the parser's own words
    EXPECT_NE(message.find(reason), std::string::npos) << message;
    EXPECT_NE(message.find("\"/nope/1\""), std::string::npos) << message;
    EXPECT_NE(message.find("--listen"), std::string::npos) << message;
}

struct BadFileValue {
    std::string line;  // key = value, as written in the file
    std::string key;
    std::string shown;  // the value as the message shows it
    std::string reason;
};

TEST(NodeConfig, BadFileValuesNameKeyFileLineAndValue) {
    const std::vector<BadFileValue> cases = {
        {"min-peers = \"4\"", "min-peers", "\"4\"", "integer"},
        {"min-peers = -1", "min-peers", "-1", "integer"},
        {"miner-threads = 1.5", "miner-threads", "1.5", "integer"},
        {"mining = \"yes\"", "mining", "\"yes\"", "true or false"},
        {"listen = \"/ip4/0.0.0.0/tcp/1\"", "listen", "\"/ip4/0.0.0.0/tcp/1\"", "array of strings"},
        {"bootstrap = [1]", "bootstrap", "1", "array of strings"},
        {"static-peers = [\"/ip4/1.2.3.4/tcp/x\"]", "static-peers", "\"/ip4/1.2.3.4/tcp/x\"",
         "multiaddr"},
        {"http-addr = 8645", "http-addr", "8645", "string"},
        {"http-addr = \"127.0.0.1\"", "http-addr", "\"127.0.0.1\"", "host:port"},
        {"data-dir = false", "data-dir", "false", "string"},
        {"log-level = \"chatty\"", "log-level", "\"chatty\"", "trace"},
        {"beneficiary = \"someone\"", "beneficiary", "\"someone\"", "address"},
    };
    for (const BadFileValue& bad : cases) {
        NodeConfig config;
        const std::string message =
            error_of([&] { apply_toml(config, "# a comment\n" + bad.line + "\n", FILE_PATH); });
        SCOPED_TRACE(bad.line + ": " + message);
        EXPECT_NE(message.find(bad.key), std::string::npos);
        EXPECT_NE(message.find(FILE_PATH + " line 2"), std::string::npos);
        EXPECT_NE(message.find(bad.shown), std::string::npos);
        EXPECT_NE(message.find(bad.reason), std::string::npos);
        EXPECT_EQ(message.find('\n'), std::string::npos);
    }
}

TEST(NodeConfig, UnknownKeyInFile) {
    NodeConfig config;
    const std::string message = error_of([&] {
        apply_toml(config, "min-peers = \"bad\"\nlisen = [\"/ip4/0.0.0.0/tcp/1\"]\n", FILE_PATH);
    });
    // The typo is reported even though a bad value came first.
    EXPECT_NE(message.find("unknown key 'lisen' in " + FILE_PATH), std::string::npos) << message;
    EXPECT_NE(message.find("line 2"), std::string::npos) << message;
    EXPECT_NE(message.find("known keys: data-dir, key-file"), std::string::npos) << message;
    EXPECT_NE(message.find("listen"), std::string::npos) << message;
    EXPECT_EQ(config, NodeConfig{});
}

TEST(NodeConfig, TablesAreUnknownKeys) {
    NodeConfig config;
    const std::string message =
        error_of([&] { apply_toml(config, "[p2p]\nlisten = []\n", FILE_PATH); });
    EXPECT_NE(message.find("unknown key 'p2p'"), std::string::npos) << message;
}

TEST(NodeConfig, UnknownOverrideKey) {
    NodeConfig config;
    const std::string message = error_of([&] {
        apply_override(config, {"lisen", "--lisen", {"x"}});
    });
    EXPECT_NE(message.find("'lisen'"), std::string::npos) << message;
    EXPECT_NE(message.find("--lisen"), std::string::npos) << message;
}

TEST(NodeConfig, TomlSyntaxErrorNamesFileAndLine) {
    NodeConfig config;
    const std::string message =
        error_of([&] { apply_toml(config, "data-dir = \"/d\"\n\nmin-peers = = 3\n", FILE_PATH); });
    EXPECT_NE(message.find(FILE_PATH), std::string::npos) << message;
    EXPECT_NE(message.find("line 3"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;

    // toml++ refuses a key given twice; that is a syntax error too.
    const std::string twice =
        error_of([&] { apply_toml(config, "mining = true\nmining = false\n", FILE_PATH); });
    EXPECT_NE(twice.find("line 2"), std::string::npos) << twice;
}

TEST(NodeConfig, OversizedFileIsRefused) {
    NodeConfig config;
    const std::string text(CONFIG_FILE_MAX_BYTES + 1, '#');
    const std::string message = error_of([&] { apply_toml(config, text, FILE_PATH); });
    EXPECT_NE(message.find(FILE_PATH), std::string::npos) << message;
}

TEST(NodeConfig, HostileValuesStayOnOneShortLine) {
    NodeConfig config;
    const std::string value = "a\nb\r\x1b[31m" + std::string(10'000, 'x');
    const std::string message = error_of([&] {
        apply_override(config, {"log-level", "CHAINMESH_LOG_LEVEL", {value}});
    });
    EXPECT_EQ(message.find('\n'), std::string::npos);
    EXPECT_EQ(message.find('\x1b'), std::string::npos);
    EXPECT_LT(message.size(), 400U);
    EXPECT_NE(message.find("log-level"), std::string::npos);

    const std::string with_nul = error_of([&] {
        apply_override(config, {"data-dir", "--data-dir", {std::string("/a\0b", 4)}});
    });
    EXPECT_NE(with_nul.find("NUL"), std::string::npos) << with_nul;
}

TEST(NodeConfig, FinishChecksTheWhole) {
    const auto finish_error = [](const std::function<void(NodeConfig&)>& change) {
        NodeConfig config;
        change(config);
        return error_of([&] { finish_config(config); });
    };
    std::string message = finish_error([](NodeConfig& c) {
        c.min_peers = 10;
        c.max_peers = 5;
    });
    EXPECT_NE(message.find("min-peers = 10"), std::string::npos) << message;
    EXPECT_NE(message.find("max-peers = 5"), std::string::npos) << message;

    message = finish_error([](NodeConfig& c) {
        c.min_peers = 0;
        c.max_peers = 0;
    });
    EXPECT_NE(message.find("max-peers = 0"), std::string::npos) << message;

    message = finish_error([](NodeConfig& c) { c.miner_threads = 0; });
    EXPECT_NE(message.find("miner-threads = 0"), std::string::npos) << message;
    message = finish_error([](NodeConfig& c) { c.miner_threads = 257; });
    EXPECT_NE(message.find("miner-threads = 257"), std::string::npos) << message;

    message = finish_error([](NodeConfig& c) { c.beneficiary = "cmnotanaddress"; });
    EXPECT_NE(message.find("beneficiary = \"cmnotanaddress\""), std::string::npos) << message;

    message = finish_error([](NodeConfig& c) { c.http_addr = "nowhere"; });
    EXPECT_NE(message.find("http-addr"), std::string::npos) << message;

    message = finish_error([](NodeConfig& c) { c.data_dir.clear(); });
    EXPECT_NE(message.find("data-dir"), std::string::npos) << message;

    // The limits themselves pass.
    NodeConfig config;
    config.min_peers = CONFIG_PEERS_MAX;
    config.max_peers = CONFIG_PEERS_MAX;
    config.miner_threads = CONFIG_MINER_THREADS_MAX;
    config.beneficiary = some_address();
    config.log_level = "Critical";
    finish_config(config);
    EXPECT_EQ(config.log_level, "critical");
}

TEST(NodeConfig, ExampleTomlGivesTheDefaults) {
    const std::string example = example_toml();
    NodeConfig config;
    apply_toml(config, example, "example");
    EXPECT_EQ(config, NodeConfig{});

    // Every key is in it, so it also resets a config that differs in every field.
    NodeConfig changed;
    changed.data_dir = "/elsewhere";
    changed.key_file = "/k";
    changed.genesis_file = "/g";
    changed.listen_addrs = {addr("/ip4/1.1.1.1/tcp/1")};
    changed.bootstrap_peers = {addr("/ip4/1.1.1.1/tcp/1")};
    changed.static_peers = {addr("/ip4/1.1.1.1/tcp/1")};
    changed.http_addr = "";
    changed.min_peers = 1;
    changed.max_peers = 2;
    changed.mining = true;
    changed.miner_threads = 3;
    changed.beneficiary = some_address();
    changed.sync_writes = false;
    changed.log_level = "off";
    changed.log_json = true;
    apply_toml(changed, example, "example");
    EXPECT_EQ(changed, NodeConfig{});

    // One comment line per key, right above it.
    for (const std::string& key : config_keys()) {
        const std::size_t at = example.find("\n" + key + " = ");
        ASSERT_NE(at, std::string::npos) << key;
        const std::size_t comment = example.rfind("\n# ", at - 1);
        ASSERT_NE(comment, std::string::npos) << key;
        EXPECT_EQ(example.find('\n', comment + 1), at) << key;
    }
}

}  // namespace
}  // namespace chainmesh::node
