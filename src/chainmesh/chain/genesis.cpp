#include <chainmesh/chain/genesis.hpp>
#include <chainmesh/chain/merkle.hpp>
#include <chainmesh/util/hex.hpp>

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace chainmesh::chain {

namespace {

constexpr std::uint64_t U64_MAX = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t TOML_INTEGER_MAX =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

// Thrown inside the parser only; parse_genesis turns it into a GenesisError.
struct Bad {
    std::string message;
};

[[noreturn]] void bad(const std::string& message) {
    throw Bad{"genesis: " + message};
}

// A value as the user wrote it, for error messages.
std::string show(const toml::node& node) {
    std::string text;
    if (const auto* string = node.as_string()) {
        // toml++ prints strings in single quotes; users mostly write double quotes.
        text = "\"";
        for (const char c : string->get()) {
            if (c == '"' || c == '\\') {
                text += '\\';
            }
            text += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
        }
        text += "\"";
    } else {
        std::ostringstream out;
        out << toml::node_view<const toml::node>(node);
        text = out.str();
    }
    constexpr std::size_t SHOWN_MAX = 80;
    if (text.size() > SHOWN_MAX) {
        text = text.substr(0, SHOWN_MAX) + "…";
    }
    return text;
}

void check_keys(const toml::table& table, const std::string& prefix,
                std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, node] : table) {
        if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
            bad("unknown key " + prefix + std::string(key.str()) + " = " + show(node));
        }
    }
}

std::uint64_t read_u64(const toml::node& node, const std::string& path) {
    if (const auto* integer = node.as_integer()) {
        if (integer->get() >= 0) {
            return static_cast<std::uint64_t>(integer->get());
        }
    } else if (const auto* text = node.as_string()) {
        const std::string& digits = text->get();
        std::uint64_t value = 0;
        const char* end = digits.data() + digits.size();
        const auto [ptr, ec] = std::from_chars(digits.data(), end, value);
        if (!digits.empty() && ec == std::errc() && ptr == end) {
            return value;
        }
    }
    bad(path + " = " + show(node) + " must be an integer from 0 to 2^64-1");
}

std::uint32_t read_u32(const toml::node& node, const std::string& path) {
    const std::uint64_t value = read_u64(node, path);
    if (value > std::numeric_limits<std::uint32_t>::max()) {
        bad(path + " = " + show(node) + " must be an integer from 0 to 2^32-1");
    }
    return static_cast<std::uint32_t>(value);
}

std::string read_string(const toml::node& node, const std::string& path) {
    if (const auto* text = node.as_string()) {
        return text->get();
    }
    bad(path + " = " + show(node) + " must be a string");
}

const toml::table& read_table(const toml::node& node, const std::string& path) {
    if (const auto* table = node.as_table()) {
        return *table;
    }
    bad(path + " = " + show(node) + " must be a table");
}

const toml::node& required(const toml::table& table, std::string_view key,
                           const std::string& path) {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
        bad("missing key " + path);
    }
    return *node;
}

PowParams read_pow(const toml::table& table) {
    check_keys(table, "consensus.pow.",
               {"initial_target", "initial_difficulty", "target_block_time_ms", "retarget_window",
                "max_reorg_depth"});
    PowParams pow;
    const toml::node* target = table.get("initial_target");
    const toml::node* difficulty = table.get("initial_difficulty");
    if ((target == nullptr) == (difficulty == nullptr)) {
        bad("consensus.pow needs exactly one of initial_target and initial_difficulty");
    }
    if (target != nullptr) {
        const std::string text = read_string(*target, "consensus.pow.initial_target");
        const auto bytes = util::from_hex(text);
        if (!bytes || bytes->size() != pow.initial_target.size()) {
            bad("consensus.pow.initial_target = " + show(*target) + " must be 64 hex digits");
        }
        std::copy(bytes->begin(), bytes->end(), pow.initial_target.begin());
    } else {
        const std::uint64_t value = read_u64(*difficulty, "consensus.pow.initial_difficulty");
        if (value == 0) {
            bad("consensus.pow.initial_difficulty = 0 must be at least 1");
        }
        pow.initial_target = target_from_difficulty(value);
    }
    if (const auto* node = table.get("target_block_time_ms")) {
        pow.target_block_time_ms = read_u64(*node, "consensus.pow.target_block_time_ms");
    }
    if (const auto* node = table.get("retarget_window")) {
        pow.retarget_window = read_u32(*node, "consensus.pow.retarget_window");
    }
    if (const auto* node = table.get("max_reorg_depth")) {
        pow.max_reorg_depth = read_u32(*node, "consensus.pow.max_reorg_depth");
    }
    return pow;
}

void read_consensus(const toml::table& table, ChainParams& params) {
    check_keys(table, "consensus.", {"kind", "pow"});
    const toml::node& kind_node = required(table, "kind", "consensus.kind");
    const std::string kind = read_string(kind_node, "consensus.kind");
    if (kind == "bft") {
        bad("consensus.kind = \"bft\" is not supported yet (only \"pow\")");
    }
    if (kind != "pow") {
        bad("consensus.kind = " + show(kind_node) +
            " is not a consensus kind (expected \"pow\" or \"bft\")");
    }
    params.consensus = ConsensusKind::pow;
    const toml::node& pow = required(table, "pow", "consensus.pow");
    params.pow = read_pow(read_table(pow, "consensus.pow"));
}

void read_limits(const toml::table& table, ChainParams& params) {
    check_keys(table, "limits.",
               {"max_block_bytes", "max_block_transactions", "max_timestamp_drift_ms"});
    if (const auto* node = table.get("max_block_bytes")) {
        params.max_block_bytes = read_u32(*node, "limits.max_block_bytes");
    }
    if (const auto* node = table.get("max_block_transactions")) {
        params.max_block_transactions = read_u32(*node, "limits.max_block_transactions");
    }
    if (const auto* node = table.get("max_timestamp_drift_ms")) {
        params.max_timestamp_drift_ms = read_u64(*node, "limits.max_timestamp_drift_ms");
    }
}

std::vector<GenesisAllocation> read_allocations(const toml::table& table) {
    std::vector<GenesisAllocation> allocations;
    allocations.reserve(table.size());
    for (const auto& [key, node] : table) {
        const std::string path = "allocations.\"" + std::string(key.str()) + "\"";
        const auto address = Address::parse(key.str());
        if (!address) {
            bad("allocations key \"" + std::string(key.str()) +
                "\" is not an address (\"cm\" and 48 hex digits with a valid checksum)");
        }
        const std::uint64_t amount = read_u64(node, path);
        if (amount == 0) {
            bad(path + " = 0 must be at least 1");
        }
        allocations.push_back({*address, amount});
    }
    std::sort(allocations.begin(), allocations.end(),
              [](const auto& a, const auto& b) { return a.address < b.address; });
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < allocations.size(); ++i) {
        if (i > 0 && allocations[i].address == allocations[i - 1].address) {
            bad("allocations list " + allocations[i].address.to_string() +
                " twice (keys differing only in case)");
        }
        if (allocations[i].amount > U64_MAX - total) {
            bad("allocations total more than 2^64-1");
        }
        total += allocations[i].amount;
    }
    return allocations;
}

Genesis read_genesis(const toml::table& root) {
    check_keys(root, "",
               {"network", "timestamp_ms", "block_reward", "limits", "consensus", "allocations"});
    Genesis genesis;
    ChainParams& params = genesis.params;
    const toml::node& network = required(root, "network", "network");
    params.network_id = read_string(network, "network");
    if (!is_valid_network_id(params.network_id)) {
        bad("network = " + show(network) +
            " is not a network id (1 to 32 characters from a-z, 0-9, '.', '_', '-')");
    }
    genesis.timestamp_ms = read_u64(required(root, "timestamp_ms", "timestamp_ms"), "timestamp_ms");
    if (const auto* node = root.get("block_reward")) {
        params.block_reward = read_u64(*node, "block_reward");
    }
    if (const auto* node = root.get("limits")) {
        read_limits(read_table(*node, "limits"), params);
    }
    read_consensus(read_table(required(root, "consensus", "consensus"), "consensus"), params);
    if (const std::string problem = params_problem(params); !problem.empty()) {
        bad(problem);
    }
    if (const auto* node = root.get("allocations")) {
        genesis.allocations = read_allocations(read_table(*node, "allocations"));
    }
    return genesis;
}

void write_u64(std::string& out, std::string_view key, std::uint64_t value) {
    out += key;
    out += " = ";
    if (value > TOML_INTEGER_MAX) {
        out += "\"" + std::to_string(value) + "\"";
    } else {
        out += std::to_string(value);
    }
    out += "\n";
}

}  // namespace

void throw_exception_from_error(const GenesisError& error, const boost::source_location&) {
    throw std::runtime_error(error.message);
}

std::vector<AccountUpdate> Genesis::initial_accounts() const {
    std::vector<AccountUpdate> accounts;
    accounts.reserve(allocations.size());
    for (const GenesisAllocation& allocation : allocations) {
        accounts.push_back({allocation.address, Account{allocation.amount, 0}});
    }
    return accounts;
}

MemoryState Genesis::initial_state() const {
    MemoryState state;
    state.apply(initial_accounts());
    return state;
}

Block Genesis::block() const {
    Block block;
    BlockHeader& header = block.header;
    header.network_id = params.network_id;
    header.height = 0;
    header.transactions_root = merkle_root({});
    header.state_root = initial_state().root();
    header.timestamp_ms = timestamp_ms;
    if (params.consensus == ConsensusKind::pow) {
        header.target = params.pow.initial_target;
    }
    header.consensus_data = params.encode();
    return block;
}

GenesisResult parse_genesis(std::string_view toml_text) {
    if (toml_text.size() > GENESIS_MAX_BYTES) {
        return GenesisError{"genesis: the file has " + std::to_string(toml_text.size()) +
                            " bytes, more than the " + std::to_string(GENESIS_MAX_BYTES) +
                            " allowed"};
    }
    toml::table root;
    try {
        root = toml::parse(toml_text);
    } catch (const toml::parse_error& e) {
        return GenesisError{"genesis: line " + std::to_string(e.source().begin.line) + ", column " +
                            std::to_string(e.source().begin.column) + ": " +
                            std::string(e.description())};
    }
    try {
        return read_genesis(root);
    } catch (const Bad& e) {
        return GenesisError{e.message};
    }
}

GenesisResult make_pow_genesis(PowGenesisSpec spec) {
    Genesis genesis;
    genesis.params.network_id = std::move(spec.network_id);
    genesis.params.consensus = ConsensusKind::pow;
    genesis.params.block_reward = spec.block_reward;
    genesis.params.pow.initial_target = target_from_difficulty(spec.difficulty);
    genesis.params.pow.target_block_time_ms = spec.block_time_ms;
    genesis.timestamp_ms = spec.timestamp_ms;
    std::sort(spec.allocations.begin(), spec.allocations.end(),
              [](const auto& a, const auto& b) { return a.address < b.address; });
    for (std::size_t i = 1; i < spec.allocations.size(); ++i) {
        if (spec.allocations[i].address == spec.allocations[i - 1].address) {
            return GenesisError{"the allocations name " + spec.allocations[i].address.to_string() +
                                " twice"};
        }
    }
    genesis.allocations = std::move(spec.allocations);
    if (const auto problem = params_problem(genesis.params); !problem.empty()) {
        return GenesisError{problem};
    }
    return genesis;
}

std::string write_genesis(const Genesis& genesis) {
    const ChainParams& params = genesis.params;
    std::string out;
    out += "# chainmesh genesis: every node of the network must use this file unchanged\n";
    out += "# (its genesis block hash commits to every value below).\n";
    out += "network = \"" + params.network_id + "\"\n";
    write_u64(out, "timestamp_ms", genesis.timestamp_ms);
    write_u64(out, "block_reward", params.block_reward);
    out += "\n[limits]\n";
    write_u64(out, "max_block_bytes", params.max_block_bytes);
    write_u64(out, "max_block_transactions", params.max_block_transactions);
    write_u64(out, "max_timestamp_drift_ms", params.max_timestamp_drift_ms);
    out += "\n[consensus]\n";
    out += "kind = \"" + std::string(to_string(params.consensus)) + "\"\n";
    if (params.consensus == ConsensusKind::pow) {
        out += "\n[consensus.pow]\n";
        out += "# a block's hash, read as a 256-bit big-endian number, must be <= its target\n";
        out += "initial_target = \"" + util::to_hex(params.pow.initial_target) + "\"\n";
        write_u64(out, "target_block_time_ms", params.pow.target_block_time_ms);
        write_u64(out, "retarget_window", params.pow.retarget_window);
        write_u64(out, "max_reorg_depth", params.pow.max_reorg_depth);
    }
    out += "\n[allocations]\n";
    for (const GenesisAllocation& allocation : genesis.allocations) {
        write_u64(out, "\"" + allocation.address.to_string() + "\"", allocation.amount);
    }
    return out;
}

}  // namespace chainmesh::chain
