#include <chainmesh/api/http_client.hpp>
#include <chainmesh/api/http_server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <exception>
#include <optional>

namespace chainmesh::api {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

constexpr std::uint32_t MAX_REPLY_HEADER_BYTES = 64 * 1024;

struct Exchange {
    std::string host_port;
    tcp::endpoint endpoint;
    std::chrono::milliseconds timeout;
    http::request<http::string_body> request;
};

HttpClientError timed_out(const Exchange& exchange, std::string_view doing) {
    return {asio::error::timed_out, "the node's API at " + exchange.host_port + " did not " +
                                        std::string(doing) + " within " +
                                        std::to_string(exchange.timeout.count()) + " ms"};
}

asio::awaitable<HttpResult> exchange_once(beast::tcp_stream& stream, Exchange exchange) {
    // One deadline for the whole exchange: it stays armed across the operations below.
    stream.expires_after(exchange.timeout);
    auto [connect_error] =
        co_await stream.async_connect(exchange.endpoint, asio::as_tuple(asio::use_awaitable));
    if (connect_error == beast::error::timeout) {
        co_return timed_out(exchange, "accept the connection");
    }
    if (connect_error) {
        co_return HttpClientError{connect_error, "cannot reach the node's API at " +
                                                     exchange.host_port + ": " +
                                                     connect_error.message()};
    }
    auto [write_error, written] =
        co_await http::async_write(stream, exchange.request, asio::as_tuple(asio::use_awaitable));
    if (write_error == beast::error::timeout) {
        co_return timed_out(exchange, "take the request");
    }
    // A server may answer before it took the whole body (413) and close: its answer is
    // still readable, so read it even after a failed write.
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.header_limit(MAX_REPLY_HEADER_BYTES);
    parser.body_limit(MAX_REPLY_BODY_BYTES);
    auto [read_error, read] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (read_error == beast::error::timeout) {
        co_return timed_out(exchange, "answer");
    }
    if (read_error) {
        const auto cause = write_error ? write_error : read_error;
        co_return HttpClientError{cause, "the node's API at " + exchange.host_port +
                                             " sent no valid reply: " + cause.message()};
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    auto reply = parser.release();
    HttpReply out;
    out.status = reply.result_int();
    out.content_type = std::string(reply[http::field::content_type]);
    out.body = std::move(reply.body());
    out.headers = std::move(reply.base());
    co_return out;
}

}  // namespace

HttpResult http_request(std::string_view host_port, http::verb method, std::string target,
                        std::string body, std::chrono::milliseconds timeout,
                        std::string_view content_type) {
    Exchange exchange;
    exchange.host_port = std::string(host_port);
    exchange.timeout = timeout;
    try {
        exchange.endpoint = parse_http_endpoint(host_port);
    } catch (const std::invalid_argument& e) {
        return HttpClientError{make_error_code(boost::system::errc::invalid_argument), e.what()};
    }
    auto& request = exchange.request;
    request.method(method);
    request.target(target);
    request.version(11);
    request.set(http::field::host, host_port);
    request.set(http::field::user_agent, "chainmesh");
    request.set(http::field::accept, JSON_CONTENT_TYPE);
    if (!body.empty() || method == http::verb::post || method == http::verb::put) {
        request.set(http::field::content_type,
                    content_type.empty() ? std::string_view("text/plain") : content_type);
    }
    request.body() = std::move(body);
    request.keep_alive(false);
    request.prepare_payload();

    asio::io_context io;
    beast::tcp_stream stream(io);
    std::optional<HttpResult> result;
    std::exception_ptr failure;
    asio::co_spawn(io, exchange_once(stream, std::move(exchange)),
                   [&](std::exception_ptr error, HttpResult value) {
                       failure = error;
                       result.emplace(std::move(value));
                   });
    io.run();
    if (failure) {
        std::rethrow_exception(failure);
    }
    return std::move(*result);
}

}  // namespace chainmesh::api
