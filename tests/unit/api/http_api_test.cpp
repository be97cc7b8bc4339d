// The HTTP API on loopback against a fake node: every route, the server's own error answers,
// its limits (body, header, connections, slow clients), keep-alive, stop(), and the blocking
// client's failures. The server runs on its own io thread, as in the node; the tests speak to
// it with http_request or with raw bytes, every wait bounded by WAIT_LIMIT (a hang detector,
// not a timing assertion).

#include <chainmesh/api/http_client.hpp>
#include <chainmesh/api/http_server.hpp>
#include <chainmesh/api/node_routes.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <future>
#include <optional>
#include <stdexcept>
#include <thread>

namespace chainmesh::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using nlohmann::json;

constexpr std::chrono::seconds WAIT_LIMIT{20};

class FakeNode final : public node::NodeApi {
public:
    node::NodeStatus status_value;
    std::vector<node::PeerStatus> peers_value;
    bool healthy_value = true;
    node::SubmitResult submit_answer{.accepted = true, .id = "ab01", .reason = {}, .detail = {}};
    std::vector<Bytes> submitted;

    node::NodeStatus status() const override { return status_value; }
    std::vector<node::PeerStatus> peers() const override { return peers_value; }
    bool healthy() const override { return healthy_value; }
    std::optional<node::BlockInfo> block(std::string_view height_or_hash) const override {
        if (height_or_hash == "7" || height_or_hash == "00cc") {
            return node::BlockInfo{.height = 7,
                                   .hash = "00cc",
                                   .previous_hash = "00bb",
                                   .state_root = "5e",
                                   .timestamp_ms = 1000,
                                   .beneficiary = "cm1miner",
                                   .size_bytes = 321,
                                   .on_best_chain = true,
                                   .transactions = {"ab01", "ab02"}};
        }
        return std::nullopt;
    }
    std::optional<node::TransactionInfo> transaction(std::string_view id) const override {
        if (id != "ab01" && id != "ab02") {
            return std::nullopt;
        }
        node::TransactionInfo info{.id = std::string(id),
                                   .status = "pending",
                                   .block_hash = std::nullopt,
                                   .height = std::nullopt,
                                   .sender = "cm1from",
                                   .recipient = "cm1to",
                                   .amount = 100,
                                   .fee = 5,
                                   .nonce = 2};
        if (id == "ab01") {
            info.status = "confirmed";
            info.block_hash = "00cc";
            info.height = 7;
        }
        return info;
    }
    std::optional<node::AccountStatus> account(std::string_view address) const override {
        if (!address.starts_with("cm")) {
            return std::nullopt;
        }
        return node::AccountStatus{
            .address = std::string(address), .balance = 1000, .nonce = 3, .next_nonce = 5};
    }
    asio::awaitable<node::SubmitResult> submit_transaction(Bytes encoded) override {
        // Suspends like the real one, whose check runs on a worker thread.
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        submitted.push_back(std::move(encoded));
        co_return submit_answer;
    }
};

node::NodeStatus sample_status() {
    node::NodeStatus status;
    status.peer_id = "12D3KooWTestPeer";
    status.network = "chainmesh-test";
    status.genesis_hash = "00aa";
    status.consensus = "pow";
    status.height = 1234;
    status.best_hash = "00bb";
    status.cumulative_work = std::string(64, '0');
    status.best_timestamp_ms = 1'700'000'000'000;
    status.peer_count = 3;
    status.mempool_size = 12;
    status.mempool_bytes = 3500;
    status.mining = true;
    status.sync = {
        .syncing = true, .target_height = 5000, .blocks_per_second = 120.5, .seconds_left = 31.0};
    status.listen_addrs = {"/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWTestPeer"};
    status.agent_version = "chainmesh/0.1.0";
    status.uptime_seconds = 3723;
    status.blocks_applied = 7;
    status.blocks_mined = 2;
    status.transactions_received = 9;
    status.transactions_applied = 11;
    status.inbound_refused = 12;
    status.inbound_evicted = 13;
    return status;
}

// Runs one coroutine on a private io_context until it finishes.
template <class T>
T run_blocking(asio::io_context& io, asio::awaitable<T> operation) {
    std::optional<T> result;
    std::exception_ptr failure;
    asio::co_spawn(io, std::move(operation), [&](std::exception_ptr error, T value) {
        failure = error;
        if (!error) {
            result.emplace(std::move(value));
        }
    });
    io.restart();
    io.run();
    if (failure) {
        std::rethrow_exception(failure);
    }
    return std::move(*result);
}

// A hand-driven client connection: raw bytes out, parsed responses in.
class RawConnection {
public:
    explicit RawConnection(const tcp::endpoint& server) {
        connected = run_blocking(m_io, connect(server));
    }

    bool connected = false;

    bool send(std::string bytes) { return run_blocking(m_io, write_all(std::move(bytes))); }

    std::optional<http::response<http::string_body>> read_response() {
        return run_blocking(m_io, read_one());
    }

    // True when the server closed (or reset) the connection with nothing more to read.
    bool closed_by_server() {
        if (m_buffer.size() > 0) {
            return false;
        }
        return run_blocking(m_io, wait_closed());
    }

private:
    asio::awaitable<bool> connect(tcp::endpoint server) {
        m_stream.expires_after(WAIT_LIMIT);
        auto [ec] = co_await m_stream.async_connect(server, asio::as_tuple(asio::use_awaitable));
        co_return !ec;
    }

    asio::awaitable<bool> write_all(std::string bytes) {
        m_stream.expires_after(WAIT_LIMIT);
        auto [ec, n] = co_await asio::async_write(m_stream, asio::buffer(bytes),
                                                  asio::as_tuple(asio::use_awaitable));
        co_return !ec;
    }

    asio::awaitable<std::optional<http::response<http::string_body>>> read_one() {
        m_stream.expires_after(WAIT_LIMIT);
        http::response_parser<http::string_body> parser;
        auto [ec, n] = co_await http::async_read(m_stream, m_buffer, parser,
                                                 asio::as_tuple(asio::use_awaitable));
        if (ec) {
            co_return std::nullopt;
        }
        co_return parser.release();
    }

    asio::awaitable<bool> wait_closed() {
        m_stream.expires_after(WAIT_LIMIT);
        char byte = 0;
        auto [ec, n] = co_await m_stream.async_read_some(asio::buffer(&byte, 1),
                                                         asio::as_tuple(asio::use_awaitable));
        co_return ec == asio::error::eof || ec == asio::error::connection_reset;
    }

    asio::io_context m_io;
    beast::tcp_stream m_stream{m_io};
    beast::flat_buffer m_buffer;
};

HttpServerConfig loopback_config() {
    HttpServerConfig config;
    config.endpoint = tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0);
    return config;
}

std::string get_request(std::string_view target, std::string_view extra_headers = {}) {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" +
           std::string(extra_headers) + "\r\n";
}

class HttpApiTest : public ::testing::Test {
protected:
    asio::io_context io;
    FakeNode node;
    std::unique_ptr<HttpServer> server;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::future<void> io_thread;
    std::string address;  // "127.0.0.1:<port>"

    void start(HttpServerConfig config = loopback_config()) {
        server = std::make_unique<HttpServer>(io, config);
        add_node_routes(*server, node);
        server->route(http::verb::get, "/throws", [](const Request&) -> asio::awaitable<Response> {
            throw std::runtime_error("handler failure");
            co_return Response{};
        });
        server->start();
        address = format_endpoint(server->local_endpoint());
        work.emplace(io.get_executor());
        io_thread = std::async(std::launch::async, [this] { io.run(); });
    }

    void TearDown() override {
        if (!io_thread.valid()) {
            return;
        }
        on_io([&] { server->stop(); });
        work.reset();
        // Once stopped, the server has no work left: the io_context must run dry.
        if (io_thread.wait_for(WAIT_LIMIT) != std::future_status::ready) {
            ADD_FAILURE() << "the server's coroutines did not end after stop()";
            io.stop();
        }
        io_thread.get();
        server.reset();
    }

    // Runs `f` on the server's io thread and returns its result.
    template <class F>
    auto on_io(F f) -> decltype(f()) {
        auto task = std::make_shared<std::packaged_task<decltype(f())()>>(std::move(f));
        auto result = task->get_future();
        asio::post(io, [task] { (*task)(); });
        if (result.wait_for(WAIT_LIMIT) != std::future_status::ready) {
            throw std::runtime_error("the io thread did not run the task");
        }
        return result.get();
    }

    HttpReply request(http::verb method, std::string target, std::string body = {},
                      std::string_view content_type = {}) {
        auto reply = http_request(address, method, std::move(target), std::move(body), WAIT_LIMIT,
                                  content_type);
        if (!reply) {
            ADD_FAILURE() << reply.error().message;
            return {};
        }
        return std::move(*reply);
    }

    json request_json(http::verb method, std::string target, std::string body = {},
                      std::string_view content_type = {}) {
        const HttpReply reply = request(method, std::move(target), std::move(body), content_type);
        EXPECT_EQ(reply.content_type, JSON_CONTENT_TYPE);
        return json::parse(reply.body, nullptr, false);
    }
};

// --- routes ---

TEST_F(HttpApiTest, HealthIsOkThenUnhealthy) {
    start();
    HttpReply reply = request(http::verb::get, "/health");
    EXPECT_EQ(reply.status, 200u);
    EXPECT_EQ(json::parse(reply.body), json({{"status", "ok"}}));

    on_io([&] { node.healthy_value = false; });
    reply = request(http::verb::get, "/health");
    EXPECT_EQ(reply.status, 503u);
    EXPECT_EQ(json::parse(reply.body), json({{"status", "unhealthy"}}));
}

TEST_F(HttpApiTest, StatusHasEveryFieldInSnakeCase) {
    node.status_value = sample_status();
    start();
    const HttpReply reply = request(http::verb::get, "/status");
    ASSERT_EQ(reply.status, 200u);
    json status = json::parse(reply.body);
    EXPECT_EQ(status["peer_id"], "12D3KooWTestPeer");
    EXPECT_EQ(status["network"], "chainmesh-test");
    EXPECT_EQ(status["genesis_hash"], "00aa");
    EXPECT_EQ(status["consensus"], "pow");
    EXPECT_EQ(status["height"], 1234);
    EXPECT_EQ(status["best_hash"], "00bb");
    EXPECT_EQ(status["cumulative_work"], std::string(64, '0'));
    EXPECT_EQ(status["best_timestamp_ms"], 1'700'000'000'000);
    EXPECT_EQ(status["peer_count"], 3);
    EXPECT_EQ(status["mempool_size"], 12);
    EXPECT_EQ(status["mempool_bytes"], 3500);
    EXPECT_EQ(status["mining"], true);
    EXPECT_EQ(status["sync"], json({{"syncing", true},
                                    {"target_height", 5000},
                                    {"blocks_per_second", 120.5},
                                    {"seconds_left", 31.0}}));
    EXPECT_EQ(status["listen_addrs"], json({"/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWTestPeer"}));
    EXPECT_EQ(status["agent_version"], "chainmesh/0.1.0");
    EXPECT_EQ(status["uptime_seconds"], 3723.0);
    EXPECT_EQ(status["blocks_applied"], 7);
    EXPECT_EQ(status["blocks_mined"], 2);
    EXPECT_EQ(status["transactions_received"], 9);
    EXPECT_EQ(status["transactions_applied"], 11);
    EXPECT_EQ(status["inbound_refused"], 12);
    EXPECT_EQ(status["inbound_evicted"], 13);
    EXPECT_EQ(status.size(), 22u) << "a field was added: test it";

    on_io([&] { node.status_value.sync.seconds_left.reset(); });
    json later = request_json(http::verb::get, "/status");
    ASSERT_TRUE(later.is_object());
    EXPECT_TRUE(later["sync"]["seconds_left"].is_null());
}

TEST_F(HttpApiTest, PeersIsAnArrayWithNullForUnknownHeights) {
    node.peers_value = {
        {.peer_id = "12D3KooWA",
         .direction = "outbound",
         .remote_addr = "/ip4/10.0.0.1/tcp/4001",
         .agent_version = "chainmesh/0.1.0",
         .height = 77,
         .gossip_score = 1.5,
         .misbehaviour = 10},
        // A peer's agent version is whatever it sent: not even UTF-8.
        {.peer_id = "12D3KooWB",
         .direction = "inbound",
         .remote_addr = "/ip4/10.0.0.2/tcp/5555",
         .agent_version = "bad\xff\xfe",
         .height = std::nullopt,
         .gossip_score = -2,
         .misbehaviour = 0},
    };
    start();
    json peers = request_json(http::verb::get, "/peers");
    ASSERT_TRUE(peers.is_array());
    ASSERT_EQ(peers.size(), 2u);
    EXPECT_EQ(peers[0], json({{"peer_id", "12D3KooWA"},
                              {"direction", "outbound"},
                              {"remote_addr", "/ip4/10.0.0.1/tcp/4001"},
                              {"agent_version", "chainmesh/0.1.0"},
                              {"height", 77},
                              {"gossip_score", 1.5},
                              {"misbehaviour", 10}}));
    EXPECT_TRUE(peers[1]["height"].is_null());
    EXPECT_EQ(peers[1]["direction"], "inbound");
    EXPECT_TRUE(peers[1]["agent_version"].get<std::string>().starts_with("bad"));

    on_io([&] { node.peers_value.clear(); });
    EXPECT_EQ(request_json(http::verb::get, "/peers"), json::array());
}

TEST_F(HttpApiTest, SubmitsHexBodyWithSurroundingWhitespace) {
    start();
    const HttpReply reply = request(http::verb::post, "/tx", "  0A0b0c\r\n");
    EXPECT_EQ(reply.status, 200u);
    EXPECT_EQ(json::parse(reply.body), json({{"accepted", true}, {"id", "ab01"}}));
    const auto submitted = on_io([&] { return node.submitted; });
    EXPECT_EQ(submitted, std::vector<Bytes>{Bytes({0x0a, 0x0b, 0x0c})});
}

TEST_F(HttpApiTest, SubmitsJsonBody) {
    start();
    const json answer = request_json(http::verb::post, "/tx", R"({"tx":"ff00"})",
                                     "application/json; charset=utf-8");
    EXPECT_EQ(answer, json({{"accepted", true}, {"id", "ab01"}}));
    // The same body as text/plain is not hex.
    const HttpReply as_text = request(http::verb::post, "/tx", R"({"tx":"ff00"})");
    EXPECT_EQ(as_text.status, 400u);
    const auto submitted = on_io([&] { return node.submitted; });
    EXPECT_EQ(submitted, std::vector<Bytes>{Bytes({0xff, 0x00})});
}

TEST_F(HttpApiTest, BadHexIs400AndNothingIsSubmitted) {
    start();
    for (const std::string body : {"abc", "zz", "", "  \n", "0x00", "00 11"}) {
        const HttpReply reply = request(http::verb::post, "/tx", body);
        EXPECT_EQ(reply.status, 400u) << body;
        json answer = json::parse(reply.body, nullptr, false);
        EXPECT_EQ(answer["error"], "bad_hex") << body;
        EXPECT_TRUE(answer["detail"].is_string()) << body;
    }
    for (const std::string body : {"{", "[\"00\"]", R"({"tx":1})", R"({"other":"00"})"}) {
        const HttpReply reply = request(http::verb::post, "/tx", body, JSON_CONTENT_TYPE);
        EXPECT_EQ(reply.status, 400u) << body;
        EXPECT_EQ(json::parse(reply.body, nullptr, false)["error"], "bad_json") << body;
    }
    const HttpReply bad_hex_in_json =
        request(http::verb::post, "/tx", R"({"tx":"xyz"})", JSON_CONTENT_TYPE);
    EXPECT_EQ(json::parse(bad_hex_in_json.body, nullptr, false)["error"], "bad_hex");
    EXPECT_TRUE(on_io([&] { return node.submitted.empty(); }));
}

TEST_F(HttpApiTest, RejectedTransactionIs422WithReason) {
    node.submit_answer = {.accepted = false,
                          .id = "cd02",
                          .reason = "nonce_too_low",
                          .detail = "the account's nonce is already 5"};
    start();
    HttpReply reply = request(http::verb::post, "/tx", "0102");
    EXPECT_EQ(reply.status, 422u);
    EXPECT_EQ(json::parse(reply.body), json({{"accepted", false},
                                             {"id", "cd02"},
                                             {"reason", "nonce_too_low"},
                                             {"detail", "the account's nonce is already 5"}}));

    // A transaction that does not decode has no id.
    on_io([&] { node.submit_answer = {false, "", "malformed", "truncated transaction"}; });
    reply = request(http::verb::post, "/tx", "01");
    EXPECT_EQ(reply.status, 422u);
    EXPECT_TRUE(json::parse(reply.body)["id"].is_null());
}

TEST_F(HttpApiTest, BlocksByHeightOrHash) {
    start();
    const json expected = {
        {"height", 7},        {"hash", "00cc"},        {"previous_hash", "00bb"},
        {"state_root", "5e"}, {"timestamp_ms", 1000},  {"beneficiary", "cm1miner"},
        {"size_bytes", 321},  {"on_best_chain", true}, {"transactions", {"ab01", "ab02"}}};
    EXPECT_EQ(request_json(http::verb::get, "/blocks/7"), expected);
    EXPECT_EQ(request_json(http::verb::get, "/blocks/00cc"), expected);
    const HttpReply unknown = request(http::verb::get, "/blocks/8");
    EXPECT_EQ(unknown.status, 404u);
    EXPECT_EQ(json::parse(unknown.body)["error"], "not_found");
    // The parameter is exactly one non-empty segment.
    EXPECT_EQ(request(http::verb::get, "/blocks/").status, 404u);
    EXPECT_EQ(request(http::verb::get, "/blocks").status, 404u);
    EXPECT_EQ(request(http::verb::get, "/blocks/7/x").status, 404u);
    const HttpReply wrong_method = request(http::verb::post, "/blocks/7", "x");
    EXPECT_EQ(wrong_method.status, 405u);
    EXPECT_EQ(wrong_method.headers[http::field::allow], "GET");
}

TEST_F(HttpApiTest, TransactionsById) {
    start();
    EXPECT_EQ(request_json(http::verb::get, "/tx/ab01"), json({{"id", "ab01"},
                                                               {"status", "confirmed"},
                                                               {"block_hash", "00cc"},
                                                               {"height", 7},
                                                               {"sender", "cm1from"},
                                                               {"recipient", "cm1to"},
                                                               {"amount", 100},
                                                               {"fee", 5},
                                                               {"nonce", 2}}));
    json pending = request_json(http::verb::get, "/tx/ab02");
    EXPECT_EQ(pending["status"], "pending");
    EXPECT_TRUE(pending["block_hash"].is_null());
    EXPECT_TRUE(pending["height"].is_null());
    EXPECT_EQ(request(http::verb::get, "/tx/ffff").status, 404u);
    // POST /tx and GET /tx/{id} live side by side.
    EXPECT_EQ(request(http::verb::get, "/tx").headers[http::field::allow], "POST");
    EXPECT_EQ(request(http::verb::post, "/tx/ab01", "00").headers[http::field::allow], "GET");
}

TEST_F(HttpApiTest, AccountsByAddress) {
    start();
    EXPECT_EQ(request_json(http::verb::get, "/accounts/cm1abc"),
              json({{"address", "cm1abc"}, {"balance", 1000}, {"nonce", 3}, {"next_nonce", 5}}));
    const HttpReply bad = request(http::verb::get, "/accounts/xyz");
    EXPECT_EQ(bad.status, 400u);
    EXPECT_EQ(json::parse(bad.body)["error"], "bad_address");
}

// --- the server's own answers ---

TEST_F(HttpApiTest, UnknownPathIs404) {
    start();
    for (const std::string target : {"/nope", "/health/", "/statusx", "/?x=1"}) {
        const HttpReply reply = request(http::verb::get, target);
        EXPECT_EQ(reply.status, 404u) << target;
        json answer = json::parse(reply.body, nullptr, false);
        EXPECT_EQ(answer["error"], "not_found") << target;
    }
    // The query is not part of the path.
    EXPECT_EQ(request(http::verb::get, "/health?verbose=1").status, 200u);
}

TEST_F(HttpApiTest, WrongMethodIs405WithAllow) {
    start();
    HttpReply reply = request(http::verb::post, "/health", "x");
    EXPECT_EQ(reply.status, 405u);
    EXPECT_EQ(reply.headers[http::field::allow], "GET");
    EXPECT_EQ(json::parse(reply.body)["error"], "method_not_allowed");

    reply = request(http::verb::get, "/tx");
    EXPECT_EQ(reply.status, 405u);
    EXPECT_EQ(reply.headers[http::field::allow], "POST");

    reply = request(http::verb::delete_, "/status");
    EXPECT_EQ(reply.status, 405u);
}

TEST_F(HttpApiTest, HandlerExceptionIs500AndTheServerRunsOn) {
    start();
    const HttpReply reply = request(http::verb::get, "/throws");
    EXPECT_EQ(reply.status, 500u);
    EXPECT_EQ(json::parse(reply.body)["error"], "internal");
    EXPECT_EQ(request(http::verb::get, "/health").status, 200u);
}

TEST_F(HttpApiTest, BodyOverTheLimitIs413) {
    HttpServerConfig config = loopback_config();
    config.max_body_bytes = 1024;
    start(config);
    // A body just at the limit is read (and is not hex).
    EXPECT_EQ(request(http::verb::post, "/tx", std::string(1024, 'z')).status, 400u);

    const HttpReply reply = request(http::verb::post, "/tx", std::string(64 * 1024, 'a'));
    EXPECT_EQ(reply.status, 413u);
    EXPECT_EQ(json::parse(reply.body)["error"], "body_too_large");

    // The length alone is enough: the server answers before any body arrives, and closes.
    RawConnection raw(server->local_endpoint());
    ASSERT_TRUE(raw.connected);
    ASSERT_TRUE(raw.send("POST /tx HTTP/1.1\r\nHost: test\r\nContent-Length: 1000000000\r\n\r\n"));
    const auto answer = raw.read_response();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->result_int(), 413u);
    EXPECT_FALSE(answer->keep_alive());
    EXPECT_TRUE(raw.closed_by_server());
    EXPECT_TRUE(on_io([&] { return node.submitted.empty(); }));
}

TEST_F(HttpApiTest, MalformedRequestIs400ThenClose) {
    start();
    for (const std::string garbage : {"NOT HTTP AT ALL\r\n\r\n", "GET /health HTTX/1.1\r\n\r\n",
                                      "GET /health HTTP/1.1\r\nBad Header Line\r\n\r\n",
                                      "POST /tx HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n",
                                      "GET health HTTP/1.1\r\nHost: test\r\n\r\n"}) {
        RawConnection raw(server->local_endpoint());
        ASSERT_TRUE(raw.connected);
        ASSERT_TRUE(raw.send(garbage));
        const auto answer = raw.read_response();
        ASSERT_TRUE(answer) << garbage;
        EXPECT_EQ(answer->result_int(), 400u) << garbage;
        EXPECT_EQ(json::parse(answer->body(), nullptr, false)["error"], "bad_request") << garbage;
        if (!garbage.starts_with("GET health")) {
            // A framing error leaves no way to find the next request.
            EXPECT_TRUE(raw.closed_by_server()) << garbage;
        }
    }
}

TEST_F(HttpApiTest, HeaderOverTheLimitIs431) {
    HttpServerConfig config = loopback_config();
    config.max_header_bytes = 4096;
    start(config);
    RawConnection raw(server->local_endpoint());
    ASSERT_TRUE(raw.connected);
    ASSERT_TRUE(raw.send(get_request("/health", "X-Padding: " + std::string(8192, 'p') + "\r\n")));
    const auto answer = raw.read_response();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->result_int(), 431u);
    EXPECT_TRUE(raw.closed_by_server());
}

TEST_F(HttpApiTest, StalledClientIsCutOffByTheRequestTimeout) {
    HttpServerConfig config = loopback_config();
    config.request_timeout = std::chrono::milliseconds(300);
    start(config);
    RawConnection raw(server->local_endpoint());
    ASSERT_TRUE(raw.connected);
    ASSERT_TRUE(raw.send("GET /health HTTP/1.1\r\nHost: te"));
    EXPECT_TRUE(raw.closed_by_server());
    // The deadline closes the socket before the connection's coroutine ends: give the io
    // thread a bounded number of turns to finish it.
    std::size_t open = 1;
    for (int turn = 0; turn < 1000 && open != 0; ++turn) {
        open = on_io([&] { return server->connection_count(); });
    }
    EXPECT_EQ(open, 0u);

    // So is one that sent its header but stalls in the body.
    RawConnection body(server->local_endpoint());
    ASSERT_TRUE(body.connected);
    ASSERT_TRUE(body.send("POST /tx HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\n01"));
    EXPECT_TRUE(body.closed_by_server());
    EXPECT_TRUE(on_io([&] { return node.submitted.empty(); }));

    // A prompt client is still served.
    EXPECT_EQ(request(http::verb::get, "/health").status, 200u);
}

TEST_F(HttpApiTest, KeepAliveServesRequestsInOrderOnOneConnection) {
    node.status_value = sample_status();
    start();
    RawConnection raw(server->local_endpoint());
    ASSERT_TRUE(raw.connected);
    ASSERT_TRUE(raw.send(get_request("/health")));
    auto first = raw.read_response();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->result_int(), 200u);
    EXPECT_TRUE(first->keep_alive());

    ASSERT_TRUE(raw.send(get_request("/status")));
    auto second = raw.read_response();
    ASSERT_TRUE(second);
    EXPECT_EQ(second->result_int(), 200u);
    EXPECT_EQ(json::parse(second->body())["height"], 1234);

    // Pipelined: three requests in one write, the last one closing.
    ASSERT_TRUE(raw.send(get_request("/peers") + get_request("/nope") +
                         get_request("/health", "Connection: close\r\n")));
    auto peers = raw.read_response();
    auto missing = raw.read_response();
    auto last = raw.read_response();
    ASSERT_TRUE(peers && missing && last);
    EXPECT_EQ(peers->result_int(), 200u);
    EXPECT_EQ(missing->result_int(), 404u);
    EXPECT_EQ(last->result_int(), 200u);
    EXPECT_FALSE(last->keep_alive());
    EXPECT_TRUE(raw.closed_by_server());
}

TEST_F(HttpApiTest, Http10ClosesUnlessAskedToKeepAlive) {
    start();
    RawConnection closing(server->local_endpoint());
    ASSERT_TRUE(closing.connected);
    ASSERT_TRUE(closing.send("GET /health HTTP/1.0\r\n\r\n"));
    auto answer = closing.read_response();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->version(), 10u);
    EXPECT_TRUE(closing.closed_by_server());

    RawConnection kept(server->local_endpoint());
    ASSERT_TRUE(kept.connected);
    ASSERT_TRUE(kept.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    ASSERT_TRUE(kept.read_response());
    ASSERT_TRUE(kept.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    answer = kept.read_response();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->result_int(), 200u);
}

TEST_F(HttpApiTest, ExpectContinueIsAnsweredBeforeTheBody) {
    start();
    RawConnection raw(server->local_endpoint());
    ASSERT_TRUE(raw.connected);
    ASSERT_TRUE(raw.send(
        "POST /tx HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
    const auto go_on = raw.read_response();
    ASSERT_TRUE(go_on);
    EXPECT_EQ(go_on->result_int(), 100u);
    ASSERT_TRUE(raw.send("beef"));
    const auto answer = raw.read_response();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->result_int(), 200u);
    EXPECT_EQ(on_io([&] { return node.submitted; }), std::vector<Bytes>{Bytes({0xbe, 0xef})});
}

TEST_F(HttpApiTest, ConnectionsPastTheLimitGet503) {
    HttpServerConfig config = loopback_config();
    config.max_connections = 2;
    start(config);
    RawConnection first(server->local_endpoint());
    RawConnection second(server->local_endpoint());
    // A served request proves the server counts the connection.
    for (RawConnection* raw : {&first, &second}) {
        ASSERT_TRUE(raw->connected);
        ASSERT_TRUE(raw->send(get_request("/health")));
        const auto answer = raw->read_response();
        ASSERT_TRUE(answer);
        EXPECT_EQ(answer->result_int(), 200u);
    }
    EXPECT_EQ(on_io([&] { return server->connection_count(); }), 2u);

    // The third is answered at once, without its request being read, and closed.
    RawConnection third(server->local_endpoint());
    ASSERT_TRUE(third.connected);
    const auto refused = third.read_response();
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->result_int(), 503u);
    EXPECT_EQ(json::parse(refused->body())["error"], "too_many_connections");
    EXPECT_TRUE(third.closed_by_server());
    const auto through_client = http_request(address, http::verb::get, "/health", {}, WAIT_LIMIT);
    ASSERT_TRUE(through_client) << through_client.error().message;
    EXPECT_EQ(through_client->status, 503u);

    // A closed connection frees its slot.
    ASSERT_TRUE(first.send(get_request("/health", "Connection: close\r\n")));
    ASSERT_TRUE(first.read_response());
    ASSERT_TRUE(first.closed_by_server());
    EXPECT_EQ(request(http::verb::get, "/health").status, 200u);
    // The second was never disturbed.
    ASSERT_TRUE(second.send(get_request("/health")));
    const auto still = second.read_response();
    ASSERT_TRUE(still);
    EXPECT_EQ(still->result_int(), 200u);
}

TEST_F(HttpApiTest, StopClosesEveryConnectionAndTheListener) {
    start();
    RawConnection idle(server->local_endpoint());
    ASSERT_TRUE(idle.connected);
    ASSERT_TRUE(idle.send(get_request("/health")));
    ASSERT_TRUE(idle.read_response());
    RawConnection partial(server->local_endpoint());
    ASSERT_TRUE(partial.connected);
    ASSERT_TRUE(partial.send("GET /hea"));

    on_io([&] { server->stop(); });
    EXPECT_TRUE(idle.closed_by_server());
    EXPECT_TRUE(partial.closed_by_server());
    const auto after = http_request(address, http::verb::get, "/health", {}, WAIT_LIMIT);
    ASSERT_FALSE(after);
    EXPECT_EQ(after.error().code, asio::error::connection_refused);
}

// --- the client ---

TEST(HttpClientTest, ReportsARefusedConnectionNamingTheAddress) {
    // A port that was free a moment ago and has no listener now.
    asio::io_context io;
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
    const std::string address = format_endpoint(probe.local_endpoint());
    probe.close();

    const auto reply = http_request(address, http::verb::get, "/status", {}, WAIT_LIMIT);
    ASSERT_FALSE(reply);
    EXPECT_EQ(reply.error().code, asio::error::connection_refused);
    EXPECT_EQ(reply.error().message,
              "cannot reach the node's API at " + address + ": Connection refused");
    EXPECT_THROW((void)reply.value(), std::runtime_error);
}

TEST(HttpClientTest, TimesOutOnASilentServer) {
    // The kernel completes the handshake into the backlog; nobody ever accepts or answers.
    asio::io_context io;
    tcp::acceptor silent(io, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
    const std::string address = format_endpoint(silent.local_endpoint());

    const auto reply =
        http_request(address, http::verb::get, "/status", {}, std::chrono::milliseconds(200));
    ASSERT_FALSE(reply);
    EXPECT_EQ(reply.error().code, asio::error::timed_out);
    EXPECT_NE(reply.error().message.find(address), std::string::npos) << reply.error().message;
    EXPECT_NE(reply.error().message.find("within 200 ms"), std::string::npos)
        << reply.error().message;
}

TEST(HttpClientTest, RejectsAnAddressThatIsNotAnIpLiteral) {
    const auto reply =
        http_request("node.example.com:8645", http::verb::get, "/status", {}, WAIT_LIMIT);
    ASSERT_FALSE(reply);
    EXPECT_EQ(reply.error().code, boost::system::errc::invalid_argument);
    EXPECT_NE(reply.error().message.find("node.example.com:8645"), std::string::npos);
}

// --- startup ---

TEST(HttpServerStartTest, FailsNamingTheAddressWhenItIsTaken) {
    asio::io_context io;
    HttpServer first(io, loopback_config());
    first.start();
    HttpServerConfig config = loopback_config();
    config.endpoint = first.local_endpoint();
    HttpServer second(io, config);
    try {
        second.start();
        FAIL() << "a second server bound the same port";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()), "cannot listen for HTTP on " +
                                             format_endpoint(config.endpoint) +
                                             ": Address already in use");
    }
    EXPECT_NE(first.local_endpoint().port(), 0);
}

TEST(ParseHttpEndpointTest, AcceptsIpLiteralsAndLocalhost) {
    EXPECT_EQ(parse_http_endpoint("127.0.0.1:8645"),
              tcp::endpoint(asio::ip::make_address("127.0.0.1"), 8645));
    EXPECT_EQ(parse_http_endpoint("0.0.0.0:0"),
              tcp::endpoint(asio::ip::make_address("0.0.0.0"), 0));
    EXPECT_EQ(parse_http_endpoint("localhost:80"),
              tcp::endpoint(asio::ip::make_address("127.0.0.1"), 80));
    EXPECT_EQ(parse_http_endpoint("[::1]:65535"),
              tcp::endpoint(asio::ip::make_address("::1"), 65535));
    EXPECT_EQ(format_endpoint(parse_http_endpoint("[::1]:8645")), "[::1]:8645");
    EXPECT_EQ(format_endpoint(parse_http_endpoint("10.1.2.3:9")), "10.1.2.3:9");
}

TEST(ParseHttpEndpointTest, RejectsEverythingElseNamingTheValue) {
    for (const std::string bad :
         {"", "127.0.0.1", "127.0.0.1:", ":8645", "127.0.0.1:65536", "127.0.0.1:-1",
          "127.0.0.1:80x", "127.0.0.1:123456", "example.com:80", "::1:8645", "[::1]", "[::1]8645",
          "[127.0.0.1]:80", "[::1:80", "256.0.0.1:80", "localhost:http"}) {
        try {
            (void)parse_http_endpoint(bad);
            ADD_FAILURE() << "accepted \"" << bad << "\"";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("\"" + bad + "\""), std::string::npos) << e.what();
        }
    }
}

// --- rendering ---

TEST(RenderStatusTextTest, ShowsWhatAnOperatorLooksFor) {
    const std::string text = render_status_text(status_to_json(sample_status()));
    for (const std::string expected :
         {"peer id     12D3KooWTestPeer\n", "network     chainmesh-test (pow)\n",
          "height      1234\n", "best block  00bb  (2023-11-14 22:13:20 UTC)\n", "peers       3\n",
          "mempool     12 transactions, 3.4 KiB\n",
          "sync        syncing to height 5000 at 120.5 blocks/s, about 31s left\n",
          "mining      on, 2 blocks mined\n",
          "listening   /ip4/127.0.0.1/tcp/4001/p2p/12D3KooWTestPeer\n",
          "agent       chainmesh/0.1.0, up 1h 02m\n"}) {
        EXPECT_NE(text.find(expected), std::string::npos) << "missing: " << expected << text;
    }

    node::NodeStatus idle = sample_status();
    idle.sync = {};
    idle.mining = false;
    idle.sync.syncing = true;
    idle.sync.target_height = 9;
    const std::string eta_unknown = render_status_text(status_to_json(idle));
    EXPECT_NE(eta_unknown.find("syncing to height 9 at 0.0 blocks/s, time left unknown"),
              std::string::npos)
        << eta_unknown;
    EXPECT_NE(eta_unknown.find("mining      off\n"), std::string::npos) << eta_unknown;
    idle.sync.syncing = false;
    EXPECT_NE(render_status_text(status_to_json(idle)).find("sync        up to date\n"),
              std::string::npos);
}

TEST(RenderStatusTextTest, SurvivesWhateverTheNodeSent) {
    EXPECT_EQ(render_status_text(json::array()), "the node's status is not a JSON object\n");
    const std::string text = render_status_text(json({{"height", "tall"},
                                                      {"sync", 5},
                                                      {"peer_id", "\x1b[31mred"},
                                                      {"listen_addrs", {1, "/ip4/1.2.3.4/tcp/1"}},
                                                      {"mempool_bytes", -1e300}}));
    EXPECT_NE(text.find("height      ?\n"), std::string::npos) << text;
    EXPECT_NE(text.find("sync        ?\n"), std::string::npos) << text;
    EXPECT_NE(text.find("peer id     ?[31mred\n"), std::string::npos) << text;
    EXPECT_NE(text.find("listening   ?\n            /ip4/1.2.3.4/tcp/1\n"), std::string::npos)
        << text;
}

}  // namespace
}  // namespace chainmesh::api
