#pragma once
// A small HTTP/1.1 server for the node's operator API, on Boost.Beast and C++20 coroutines.
//
// It serves a fixed table of routes, each a coroutine from Request to Response; everything
// else it answers itself, as JSON {"error": <name>, "detail": <sentence>}:
//   - a path no route has: 404 not_found;
//   - a known path with another method: 405 method_not_allowed, with an Allow header;
//   - a body over max_body_bytes: 413 body_too_large, then close. Rationale: the limit is
//     checked against Content-Length before the body is read, so a client cannot make us
//     buffer more than the limit;
//   - headers over max_header_bytes: 431 header_too_large, then close;
//   - anything the parser rejects: 400 bad_request, then close. Rationale: after a framing
//     error we cannot know where the next request starts;
//   - a connection past max_connections: 503 too_many_connections, then close, without
//     reading the request;
//   - a handler that throws: 500 internal, logged; the server runs on.
// Keep-alive follows HTTP/1.1 (HTTP/1.0 only with "Connection: keep-alive"); pipelined
// requests are answered in order. "Expect: 100-continue" is answered before the body is read.
//
// Bounds: max_connections sockets; per connection one header of at most max_header_bytes and
// one body of at most max_body_bytes in memory at a time. Each request must arrive whole
// within request_timeout of the connection becoming ready for it (an idle keep-alive
// connection is closed after that long too), and each response must be taken by the client
// within request_timeout. Rationale: a slow or stalled client would otherwise hold one of the
// few connections forever. A client past a deadline is cut off without an answer.
//
// Threading: the server runs on one io_context thread (the node's I/O thread); every handler
// runs there too, so handlers must not block it: long work (signature checks, disk) goes to a
// worker pool and is awaited. Call route(), start(), stop() and local_endpoint() on that
// thread, or before it runs. The server's state is shared with its coroutines, so destroying
// the server is safe at any time; but handlers capture what they serve, which must outlive
// the io_context's run (stop() the server, let the io_context drain, then destroy the node).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace chainmesh::api {

namespace http = boost::beast::http;
using boost::asio::ip::tcp;
using namespace std::chrono_literals;

inline constexpr std::string_view JSON_CONTENT_TYPE = "application/json";
inline constexpr std::string_view TEXT_CONTENT_TYPE = "text/plain; charset=utf-8";

struct HttpServerConfig {
    tcp::endpoint endpoint{boost::asio::ip::make_address_v4("127.0.0.1"), 8645};
    std::size_t max_connections = 64;
    std::size_t max_body_bytes = 1024 * 1024;
    std::size_t max_header_bytes = 16 * 1024;
    std::chrono::milliseconds request_timeout = 10s;
    // False: every response closes its connection.
    bool keep_alive = true;
};

// One request as a handler sees it. It lives until the handler's awaitable completes.
struct Request {
    http::verb method = http::verb::get;
    std::string path;          // the target up to '?', as sent (no percent-decoding)
    std::string parameter;     // the last segment, for a route like "/blocks/{id}"
    std::string query;         // after '?', without it; empty when there is none
    std::string content_type;  // the Content-Type header as sent; empty when absent
    std::string body;
};

struct Response {
    http::status status = http::status::ok;
    std::string content_type{JSON_CONTENT_TYPE};
    std::string body;
};

// `body` serialised; text a peer sent us (agent versions) may be invalid UTF-8, which is
// replaced rather than thrown on.
Response json_response(http::status status, const nlohmann::json& body);
// {"error": error, "detail": detail}
Response error_response(http::status status, std::string_view error, std::string_view detail);

// "host:port" or "[v6]:port" to an endpoint; the host must be an IP literal or "localhost"
// (127.0.0.1). Rationale: the API is bound at startup, where a name lookup could hang or
// resolve somewhere unexpected. Throws std::invalid_argument naming the value.
tcp::endpoint parse_http_endpoint(std::string_view text);
// "127.0.0.1:8645", "[::1]:8645"
std::string format_endpoint(const tcp::endpoint& endpoint);

class HttpServer {
public:
    using Handler = std::function<boost::asio::awaitable<Response>(const Request&)>;

    HttpServer(boost::asio::io_context& io, HttpServerConfig config);
    ~HttpServer();  // stops
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Adds or replaces the handler of `method` on `path`: an exact path ("/status"), or one
    // ending in a parameter ("/blocks/{id}"), which matches any one non-empty last segment
    // ("/blocks/12", not "/blocks/" nor "/blocks/1/2") and hands it over as
    // Request::parameter. An exact path wins over a parameter.
    void route(http::verb method, std::string path, Handler handler);

    // Binds and starts accepting. Throws std::runtime_error naming the address when it cannot
    // listen ("cannot listen for HTTP on 127.0.0.1:8645: Address already in use"). Once only.
    void start();
    // Closes the listener and every connection; a handler in flight finishes, but its answer
    // is not sent.
    void stop();

    // The bound endpoint (port 0 resolved); the configured one before start().
    tcp::endpoint local_endpoint() const;
    // Open connections (for metrics and tests).
    std::size_t connection_count() const;

private:
    struct State;
    std::shared_ptr<State> m_state;
};

}  // namespace chainmesh::api
