// genesis new, address and tx sign: the chain from the command line, offline.

#include "commands.hpp"

#include <chainmesh/chain/address.hpp>
#include <chainmesh/chain/genesis.hpp>
#include <chainmesh/chain/transaction.hpp>
#include <chainmesh/chain/validation.hpp>
#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/util/hex.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <stdexcept>

namespace chainmesh::app {

namespace {

constexpr std::string_view DEFAULT_NETWORK = "devnet";

chain::Address parse_address(const std::string& text, const std::string& what) {
    auto address = chain::Address::parse(text);
    if (!address) {
        throw std::runtime_error("bad " + what + " '" + text + "': " + address.error().message());
    }
    return *address;
}

// "ADDRESS=AMOUNT" → allocation.
chain::GenesisAllocation parse_allocation(const std::string& text) {
    const auto eq = text.find('=');
    if (eq == std::string::npos) {
        throw std::runtime_error("bad --alloc '" + text + "': expected ADDRESS=AMOUNT");
    }
    chain::GenesisAllocation allocation;
    allocation.address = parse_address(text.substr(0, eq), "--alloc address");
    const std::string amount = text.substr(eq + 1);
    try {
        std::size_t used = 0;
        allocation.amount = std::stoull(amount, &used);
        if (used != amount.size() || amount.starts_with('-') || allocation.amount == 0) {
            throw std::invalid_argument(amount);
        }
    } catch (const std::logic_error&) {
        throw std::runtime_error("bad --alloc amount '" + amount +
                                 "': expected a whole number above 0");
    }
    return allocation;
}

}  // namespace

Command add_genesis_command(CLI::App& app) {
    auto* create = app.add_subcommand("new", "write a new genesis file");
    app.require_subcommand(1);
    struct Options {
        std::filesystem::path out = "genesis.toml";
        std::string network{DEFAULT_NETWORK};
        std::string consensus = "pow";
        std::vector<std::string> allocations;
        std::uint64_t difficulty = 1 << 16;
        double block_time_s = 10;
        bool force = false;
    };
    auto options = std::make_shared<Options>();
    create->add_option("--out", options->out, "where to write it")->capture_default_str();
    create->add_option("--network", options->network, "the network id ([a-z0-9._-], 1-32)")
        ->capture_default_str();
    create->add_option("--consensus", options->consensus, "consensus kind (pow)")
        ->capture_default_str();
    create->add_option("--alloc", options->allocations, "ADDRESS=AMOUNT, repeatable");
    create->add_option("--difficulty", options->difficulty, "initial pow difficulty")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 62))
        ->capture_default_str();
    create->add_option("--block-time", options->block_time_s, "target seconds between blocks")
        ->check(CLI::Range(0.05, 86400.0))
        ->capture_default_str();
    create->add_flag("--force", options->force, "replace an existing file");
    return [options]() -> int {
        if (options->consensus != "pow") {
            throw std::runtime_error("--consensus '" + options->consensus +
                                     "' is not available yet: use pow");
        }
        if (!chain::is_valid_network_id(options->network)) {
            throw std::runtime_error("bad --network '" + options->network +
                                     "': use 1 to 32 of a-z, 0-9, '.', '_', '-'");
        }
        if (!options->force && std::filesystem::exists(options->out)) {
            throw std::runtime_error(options->out.string() +
                                     " already exists; pass --force to replace it");
        }
        chain::PowGenesisSpec spec{
            .network_id = options->network,
            .difficulty = options->difficulty,
            .block_time_ms = static_cast<std::uint64_t>(options->block_time_s * 1000.0),
            .timestamp_ms = now_ms(),
            .allocations = {},
        };
        for (const auto& text : options->allocations) {
            spec.allocations.push_back(parse_allocation(text));
        }
        auto made = chain::make_pow_genesis(std::move(spec));
        if (!made) {
            throw std::runtime_error(made.error().message);
        }
        const chain::Genesis& genesis = *made;
        const std::string text = chain::write_genesis(genesis);
        // Parse what we wrote: a file this command makes must be one `run` accepts.
        const chain::Genesis check = chain::parse_genesis(text).value();
        std::ofstream out(options->out, std::ios::trunc);
        out << text;
        if (!out.flush()) {
            throw std::runtime_error("cannot write " + options->out.string());
        }
        std::cerr << "wrote " << options->out.string() << "\n";
        std::cout << "network " << check.params.network_id << ", genesis "
                  << util::to_hex(check.block().header.hash()) << "\n";
        return 0;
    };
}

Command add_address_command(CLI::App& app) {
    auto key = std::make_shared<std::filesystem::path>(default_key_path());
    app.add_option("--key", *key, "the key file")->capture_default_str();
    return [key]() -> int {
        const auto private_key = crypto::load_key_file(*key);
        std::cout << chain::Address::from_public_key(private_key.public_key()).to_string() << "\n";
        return 0;
    };
}

Command add_tx_command(CLI::App& app) {
    auto* sign = app.add_subcommand("sign", "sign a transfer offline and print it as hex");
    auto* submit = app.add_subcommand("submit", "send a signed transaction to a node's API");
    Command run_submit = add_tx_submit_command(*submit);
    app.require_subcommand(1);
    struct Options {
        std::filesystem::path key = default_key_path();
        std::string to;
        std::uint64_t amount = 0;
        std::uint64_t fee = 0;
        std::uint64_t nonce = 0;
        std::string memo;
        std::string network{DEFAULT_NETWORK};
    };
    auto options = std::make_shared<Options>();
    sign->add_option("--key", options->key, "the sender's key file")->capture_default_str();
    sign->add_option("--to", options->to, "the recipient address")->required();
    sign->add_option("--amount", options->amount, "amount to send")->required();
    sign->add_option("--fee", options->fee, "fee for the block producer")->required();
    sign->add_option("--nonce", options->nonce, "the sender's next nonce")->required();
    sign->add_option("--memo", options->memo, "up to 256 bytes of text");
    sign->add_option("--network", options->network, "the network id the transaction is for")
        ->capture_default_str();
    return [options, sign, run_submit]() -> int {
        if (!sign->parsed()) {
            return run_submit();
        }
        chain::Transaction tx;
        tx.network_id = options->network;
        tx.recipient = parse_address(options->to, "--to");
        tx.amount = options->amount;
        tx.fee = options->fee;
        tx.nonce = options->nonce;
        tx.memo = to_bytes(options->memo);
        if (tx.memo.size() > chain::MEMO_MAX_BYTES) {
            throw std::runtime_error("--memo is " + std::to_string(tx.memo.size()) +
                                     " bytes; the limit is " +
                                     std::to_string(chain::MEMO_MAX_BYTES));
        }
        if (!chain::is_valid_network_id(tx.network_id)) {
            throw std::runtime_error("bad --network '" + tx.network_id + "'");
        }
        tx.sign(crypto::load_key_file(options->key));
        chain::ChainParams params;
        params.network_id = tx.network_id;
        if (auto valid = chain::check_transaction(tx, params); !valid) {
            throw std::runtime_error("the transaction would be refused: " +
                                     valid.error().message());
        }
        std::cout << util::to_hex(tx.encode()) << "\n";
        std::cerr << "id " << util::to_hex(tx.id()) << "\n";
        return 0;
    };
}

}  // namespace chainmesh::app
