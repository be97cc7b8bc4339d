// run, status, peers and tx submit: a node and its HTTP API from the command line.

#include "commands.hpp"

#include <chainmesh/api/http_client.hpp>
#include <chainmesh/api/http_server.hpp>
#include <chainmesh/api/node_routes.hpp>
#include <chainmesh/node/config.hpp>
#include <chainmesh/node/node.hpp>
#include <chainmesh/node/text_file.hpp>
#include <chainmesh/util/log.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>

namespace chainmesh::app {

namespace asio = boost::asio;

namespace {

constexpr std::string_view DEFAULT_API = "127.0.0.1:8645";

nlohmann::json get_json(const std::string& api, const std::string& target) {
    auto reply = api::http_request(api, boost::beast::http::verb::get, target, "",
                                   std::chrono::seconds(5));
    if (!reply) {
        throw std::runtime_error(reply.error().message);
    }
    if (reply->status != 200) {
        throw std::runtime_error(fmt::format("the node's API at {} answered {} to GET {}: {}", api,
                                             reply->status, target, reply->body));
    }
    return nlohmann::json::parse(reply->body);
}

}  // namespace

Command add_run_command(CLI::App& app, const LogOptions& global_log) {
    struct Options {
        std::filesystem::path config_file;
        std::map<std::string, std::vector<std::string>> flags;
    };
    auto options = std::make_shared<Options>();
    app.add_option("--config", options->config_file,
                   "a TOML config file (default: <data-dir>/chainmesh.toml when present)");
    for (const std::string& key : node::config_keys()) {
        const auto help = node::config_key_help(key);
        auto* option = app.add_option("--" + key, options->flags[key], std::string(help.help));
        if (help.is_bool) {
            option->expected(0, 1)->default_str("true");
        }
    }
    app.footer("Every option is also a key of the config file and an environment variable "
               "CHAINMESH_<KEY> (e.g. CHAINMESH_HTTP_ADDR); flags win over the environment, "
               "which wins over the file.");
    return [options, &app, &global_log]() -> int {
        node::NodeConfig config;
        // `chainmesh --log-level debug run` means what it says; the file, the environment and
        // run's own flags can still override it.
        config.log_level = global_log.level;
        config.log_json = global_log.json;
        // The data dir decides where the default config file is: find it first.
        const auto flagged = [&](const std::string& key) {
            return app.count("--" + key) > 0;
        };
        std::filesystem::path data_dir = config.data_dir;
        if (const char* env = std::getenv("CHAINMESH_DATA_DIR")) {
            data_dir = env;
        }
        if (flagged("data-dir") && !options->flags["data-dir"].empty()) {
            data_dir = options->flags["data-dir"].back();
        }
        std::filesystem::path file = options->config_file;
        if (file.empty() && std::filesystem::exists(data_dir / "chainmesh.toml")) {
            file = data_dir / "chainmesh.toml";
        }
        if (!file.empty()) {
            node::apply_toml(config,
                             node::read_text_file(file, node::CONFIG_FILE_MAX_BYTES, "config file"),
                             file.string());
        }
        node::apply_environment(config, [](const char* name) { return std::getenv(name); });
        for (const std::string& key : node::config_keys()) {
            if (!flagged(key)) {
                continue;
            }
            std::vector<std::string> values = options->flags[key];
            if (values.empty()) {
                values.push_back("true");  // a bare boolean flag
            }
            node::apply_override(config, {key, "--" + key, values});
        }
        node::finish_config(config);
        util::setup_logging(config.log_json ? util::LogFormat::json : util::LogFormat::human,
                            config.log_level);

        asio::io_context io;
        node::Node node(io, config);
        node.start();
        std::unique_ptr<api::HttpServer> server;
        if (!config.http_addr.empty()) {
            api::HttpServerConfig server_config;
            server_config.endpoint = api::parse_http_endpoint(config.http_addr);
            server = std::make_unique<api::HttpServer>(io, server_config);
            api::add_node_routes(*server, node);
            server->start();
            spdlog::info("HTTP API on http://{}", api::format_endpoint(server->local_endpoint()));
        }
        bool stopping = false;
        asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](const boost::system::error_code& ec, int signal) {
            if (ec) {
                return;
            }
            spdlog::info("stopping ({})", signal == SIGINT ? "SIGINT" : "SIGTERM");
            if (server) {
                server->stop();
            }
            node.stop();
            stopping = true;
        });
        while (!stopping && io.run_one() > 0) {
        }
        // Let the closing connections and coroutines finish before the node goes (the API's
        // handlers refer to it), within a bound in case something still waits.
        io.run_for(std::chrono::seconds(5));
        return 0;
    };
}

Command add_status_command(CLI::App& app) {
    auto api_addr = std::make_shared<std::string>(DEFAULT_API);
    auto json = std::make_shared<bool>(false);
    app.add_option("--api", *api_addr, "the node's HTTP API, host:port")->capture_default_str();
    app.add_flag("--json", *json, "print the JSON as the API gives it");
    return [api_addr, json]() -> int {
        const auto status = get_json(*api_addr, "/status");
        std::cout << (*json ? status.dump(2) + "\n" : api::render_status_text(status));
        return 0;
    };
}

Command add_peers_command(CLI::App& app) {
    auto api_addr = std::make_shared<std::string>(DEFAULT_API);
    app.add_option("--api", *api_addr, "the node's HTTP API, host:port")->capture_default_str();
    return [api_addr]() -> int {
        const auto peers = get_json(*api_addr, "/peers");
        std::cout << fmt::format("{:<54} {:<9} {:>8} {:>7} {:>5}  {}\n", "PEER", "DIR", "HEIGHT",
                                 "SCORE", "BAN", "AGENT");
        for (const auto& peer : peers) {
            const auto height = peer.value("height", nlohmann::json());
            std::cout << fmt::format(
                "{:<54} {:<9} {:>8} {:>7.1f} {:>5}  {}\n", peer.value("peer_id", ""),
                peer.value("direction", ""),
                height.is_number() ? std::to_string(height.get<std::uint64_t>()) : "-",
                peer.value("gossip_score", 0.0), peer.value("misbehaviour", 0),
                peer.value("agent_version", ""));
        }
        std::cout << peers.size() << " peers\n";
        return 0;
    };
}

Command add_tx_submit_command(CLI::App& app) {
    auto api_addr = std::make_shared<std::string>(DEFAULT_API);
    auto hex = std::make_shared<std::string>();
    app.add_option("tx", *hex, "the signed transaction in hex, as `chainmesh tx sign` prints it "
                               "(- or nothing: read it from stdin)");
    app.add_option("--api", *api_addr, "the node's HTTP API, host:port")->capture_default_str();
    return [api_addr, hex]() -> int {
        std::string body = *hex;
        if (body.empty() || body == "-") {
            std::getline(std::cin, body);
        }
        auto reply = api::http_request(*api_addr, boost::beast::http::verb::post, "/tx", body,
                                       std::chrono::seconds(10));
        if (!reply) {
            throw std::runtime_error(reply.error().message);
        }
        const auto answer = nlohmann::json::parse(reply->body, nullptr, false);
        if (reply->status == 200 && answer.value("accepted", false)) {
            std::cout << answer.value("id", "") << "\n";
            return 0;
        }
        std::cerr << "chainmesh: transaction refused: "
                  << (answer.is_object() ? answer.value("reason", std::string("?")) + " (" +
                                               answer.value("detail", std::string()) + ")"
                                         : reply->body)
                  << "\n";
        return 1;
    };
}

}  // namespace chainmesh::app
