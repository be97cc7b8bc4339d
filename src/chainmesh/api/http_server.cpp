#include <chainmesh/api/http_server.hpp>
#include <chainmesh/util/host_port.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

namespace chainmesh::api {

namespace asio = boost::asio;
namespace beast = boost::beast;

Response json_response(http::status status, const nlohmann::json& body) {
    return Response{status, std::string(JSON_CONTENT_TYPE),
                    body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

Response error_response(http::status status, std::string_view error, std::string_view detail) {
    return json_response(status, {{"error", error}, {"detail", detail}});
}

tcp::endpoint parse_http_endpoint(std::string_view text) {
    const auto parsed = parse_host_port(text);
    if (!parsed.value) {
        throw std::invalid_argument("invalid HTTP address \"" + std::string(text) +
                                    "\": " + parsed.problem);
    }
    const HostPort& at = *parsed.value;
    if (!at.bracketed && at.host == "localhost") {
        return {asio::ip::make_address_v4("127.0.0.1"), at.port};
    }
    // parse_host_port checked the literal; a zone id still has to name an interface here.
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(at.host, ec);
    if (ec) {
        throw std::invalid_argument("invalid HTTP address \"" + std::string(text) +
                                    "\": " + ec.message());
    }
    return {address, at.port};
}

std::string format_endpoint(const tcp::endpoint& endpoint) {
    const std::string host = endpoint.address().to_string();
    const std::string port = std::to_string(endpoint.port());
    return endpoint.address().is_v6() ? "[" + host + "]:" + port : host + ":" + port;
}

namespace {

constexpr std::chrono::milliseconds LINGER_TIME_MAX{2000};
constexpr std::size_t LINGER_BYTES_MAX = 4 * 1024 * 1024;

using Routes = std::map<std::string, std::map<http::verb, HttpServer::Handler>, std::less<>>;

struct Connection {
    Connection(tcp::socket socket, std::size_t buffer_bytes_max)
        : stream(std::move(socket)), buffer(buffer_bytes_max) {}
    beast::tcp_stream stream;
    beast::flat_buffer buffer;  // carries pipelined bytes from one request to the next
};

// A completion token for detached coroutines that logs what escaped them.
auto log_failure(const char* what) {
    return [what](const std::exception_ptr& error) {
        if (!error) {
            return;
        }
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            spdlog::error("HTTP {}: {}", what, e.what());
        } catch (...) {
            spdlog::error("HTTP {}: an exception that is not a std::exception", what);
        }
    };
}

bool is_parser_error(const boost::system::error_code& ec) {
    return ec.category() == beast::http::make_error_code(http::error::bad_method).category();
}

std::string allowed_methods(const std::map<http::verb, HttpServer::Handler>& handlers) {
    std::string out;
    for (const auto& [verb, handler] : handlers) {
        if (!out.empty()) {
            out += ", ";
        }
        out += std::string(http::to_string(verb));
    }
    return out;
}

}  // namespace

struct HttpServer::State {
    State(asio::io_context& io_context, HttpServerConfig server_config)
        : io(io_context), config(std::move(server_config)), acceptor(io_context) {}

    asio::io_context& io;
    HttpServerConfig config;
    tcp::acceptor acceptor;
    bool running = false;
    bool stopped = false;
    Routes routes;            // by exact path
    Routes parameter_routes;  // by the prefix before the parameter, "/blocks/"
    std::set<Connection*> connections;

    // --- accepting ---

    static asio::awaitable<void> accept_loop(std::shared_ptr<State> self) {
        while (self->running) {
            auto [ec, socket] =
                co_await self->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec) {
                if (!self->running || ec == asio::error::operation_aborted) {
                    co_return;
                }
                // Out of file descriptors and the like: pause instead of spinning.
                asio::steady_timer pause(self->io, std::chrono::milliseconds(100));
                co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
                continue;
            }
            if (!self->running) {
                co_return;
            }
            if (self->connections.size() >= self->config.max_connections) {
                refuse(std::move(socket));
                continue;
            }
            // The buffer holds at most one header and a read's worth of what follows it.
            auto connection = std::make_shared<Connection>(
                std::move(socket), self->config.max_header_bytes + 64 * 1024);
            self->connections.insert(connection.get());
            asio::co_spawn(self->io, serve(self, std::move(connection)), log_failure("connection"));
        }
    }

    // Answers 503 without reading anything. A fresh socket's send buffer takes the few bytes at
    // once, so the non-blocking write never waits and no coroutine per refusal is needed.
    static void refuse(tcp::socket socket) {
        static const std::string REPLY = [] {
            const std::string body =
                R"({"error":"too_many_connections","detail":"the API serves a limited number of connections; retry later"})";
            return "HTTP/1.1 503 Service Unavailable\r\nServer: chainmesh\r\n"
                   "Content-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n" + body;
        }();
        boost::system::error_code ignored;
        socket.non_blocking(true, ignored);
        socket.write_some(asio::buffer(REPLY), ignored);
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        socket.close(ignored);
        spdlog::debug("HTTP: refused a connection: connection limit reached");
    }

    // --- one connection ---

    static asio::awaitable<void> serve(std::shared_ptr<State> self,
                                       std::shared_ptr<Connection> connection) {
        try {
            co_await self->serve_requests(*connection);
        } catch (const std::exception& e) {
            spdlog::debug("HTTP connection failed: {}", e.what());
        } catch (...) {
            spdlog::debug("HTTP connection failed");
        }
        // Forget the connection before closing it, in one step: a client that sees the close
        // can count on its slot being free.
        self->connections.erase(connection.get());
        boost::system::error_code ignored;
        connection->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        connection->stream.close();
    }

    asio::awaitable<void> serve_requests(Connection& connection) {
        for (;;) {
            if (!running) {
                co_return;
            }
            http::request_parser<http::string_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(config.max_header_bytes));
            parser.body_limit(config.max_body_bytes);

            connection.stream.expires_after(config.request_timeout);
            auto [header_error, header_bytes] = co_await http::async_read_header(
                connection.stream, connection.buffer, parser, asio::as_tuple(asio::use_awaitable));
            if (header_error) {
                co_await answer_read_error(connection, header_error);
                co_return;
            }
            if (!parser.is_done()) {
                const auto& header = parser.get();
                if (header.version() >= 11 &&
                    beast::iequals(header[http::field::expect], "100-continue")) {
                    http::response<http::empty_body> go_on{http::status::continue_, 11};
                    auto [continue_error, continue_bytes] = co_await http::async_write(
                        connection.stream, go_on, asio::as_tuple(asio::use_awaitable));
                    if (continue_error) {
                        co_return;
                    }
                }
                auto [body_error, body_bytes] =
                    co_await http::async_read(connection.stream, connection.buffer, parser,
                                              asio::as_tuple(asio::use_awaitable));
                if (body_error) {
                    co_await answer_read_error(connection, body_error);
                    co_return;
                }
            }
            // The handler's time is the node's, not the client's: no deadline while it runs.
            connection.stream.expires_never();
            http::request<http::string_body> message = parser.release();
            const Reply reply = co_await dispatch(message);
            if (!running) {
                co_return;
            }
            const bool keep_alive = config.keep_alive && message.keep_alive();
            if (!co_await send(connection, reply.response, message.version(), keep_alive,
                               reply.allow) ||
                !keep_alive) {
                co_return;
            }
        }
    }

    // Answers what can be answered after a failed read; the connection closes after it.
    asio::awaitable<void> answer_read_error(Connection& connection,
                                            const boost::system::error_code& ec) {
        std::optional<Response> answer;
        if (ec == http::error::body_limit) {
            answer = error_response(
                http::status::payload_too_large, "body_too_large",
                "the body is larger than " + std::to_string(config.max_body_bytes) + " bytes");
        } else if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
            answer = error_response(
                http::status::request_header_fields_too_large, "header_too_large",
                "the header is larger than " + std::to_string(config.max_header_bytes) + " bytes");
        } else if (is_parser_error(ec) && ec != http::error::end_of_stream &&
                   ec != http::error::partial_message) {
            answer = error_response(http::status::bad_request, "bad_request",
                                    "malformed HTTP request: " + ec.message());
        }
        if (!answer) {
            // The client left, or was too slow (tcp_stream closed the socket on the deadline).
            spdlog::debug("HTTP connection ended: {}", ec.message());
            co_return;
        }
        if (co_await send(connection, *answer, 11, false, {})) {
            co_await linger(connection);
        }
    }

    // Closing a socket with unread input resets it, and the reset can destroy our answer
    // before the client reads it (a client still sending a too-large body). So: send FIN,
    // then read and discard what the client still sends, within small bounds.
    asio::awaitable<void> linger(Connection& connection) {
        boost::system::error_code ignored;
        connection.stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        connection.stream.expires_after(std::min(config.request_timeout, LINGER_TIME_MAX));
        std::array<char, 16 * 1024> discard{};
        std::size_t discarded = 0;
        while (discarded < LINGER_BYTES_MAX) {
            auto [ec, bytes] = co_await connection.stream.async_read_some(
                asio::buffer(discard), asio::as_tuple(asio::use_awaitable));
            if (ec) {
                break;
            }
            discarded += bytes;
        }
    }

    asio::awaitable<bool> send(Connection& connection, const Response& response, unsigned version,
                               bool keep_alive, std::string_view allow) {
        http::response<http::string_body> message{response.status, version};
        message.set(http::field::server, "chainmesh");
        message.set(http::field::content_type, response.content_type);
        message.set(http::field::cache_control, "no-store");
        if (!allow.empty()) {
            message.set(http::field::allow, allow);
        }
        message.body() = response.body;
        message.keep_alive(keep_alive);
        message.prepare_payload();
        connection.stream.expires_after(config.request_timeout);
        auto [ec, bytes] = co_await http::async_write(connection.stream, message,
                                                      asio::as_tuple(asio::use_awaitable));
        connection.stream.expires_never();
        co_return !ec;
    }

    // A handler's response, or the server's own; `allow` is set for 405.
    struct Reply {
        Response response;
        std::string allow;
    };

    static Reply reply_of(Response response, std::string allow = {}) {
        Reply reply;
        reply.response = std::move(response);
        reply.allow = std::move(allow);
        return reply;
    }

    asio::awaitable<Reply> dispatch(const http::request<http::string_body>& message) {
        const std::string_view target = message.target();
        if (!target.starts_with('/')) {
            co_return reply_of(
                error_response(http::status::bad_request, "bad_request",
                               "the request target must be a path starting with '/'"));
        }
        const auto question = target.find('?');
        Request request;
        request.method = message.method();
        request.path = std::string(target.substr(0, question));
        if (question != std::string_view::npos) {
            request.query = std::string(target.substr(question + 1));
        }
        request.content_type = std::string(message[http::field::content_type]);
        request.body = message.body();

        const std::string method_name(message.method_string());
        const std::map<http::verb, Handler>* methods = nullptr;
        if (const auto exact = routes.find(request.path); exact != routes.end()) {
            methods = &exact->second;
        } else {
            const std::string_view prefix =
                std::string_view(request.path).substr(0, request.path.rfind('/') + 1);
            const auto with_parameter = parameter_routes.find(prefix);
            if (with_parameter != parameter_routes.end() && prefix.size() < request.path.size()) {
                methods = &with_parameter->second;
                request.parameter = request.path.substr(prefix.size());
            }
        }
        if (methods == nullptr) {
            co_return reply_of(error_response(http::status::not_found, "not_found",
                                              "no route for " + method_name + " " + request.path));
        }
        const auto handler = methods->find(request.method);
        if (handler == methods->end()) {
            std::string allow = allowed_methods(*methods);
            Response response = error_response(
                http::status::method_not_allowed, "method_not_allowed",
                method_name + " is not allowed on " + request.path + "; allowed: " + allow);
            co_return reply_of(std::move(response), std::move(allow));
        }
        // A copy: the handler may replace routes while it runs.
        const Handler call = handler->second;
        std::string failure = "an exception that is not a std::exception";
        try {
            // Not `co_return Reply{co_await ...}`: GCC 12 miscompiles co_await inside a braced
            // initialiser (its temporaries are destroyed twice).
            Response response = co_await call(request);
            co_return reply_of(std::move(response));
        } catch (const std::exception& e) {
            failure = e.what();
        } catch (...) {
        }
        spdlog::error("HTTP {} {} failed: {}", method_name, request.path, failure);
        co_return reply_of(error_response(http::status::internal_server_error, "internal",
                                          "the request failed inside the node; see its log"));
    }
};

HttpServer::HttpServer(asio::io_context& io, HttpServerConfig config)
    : m_state(std::make_shared<State>(io, std::move(config))) {}

HttpServer::~HttpServer() {
    stop();
}

void HttpServer::route(http::verb method, std::string path, Handler handler) {
    const auto open = path.rfind("/{");
    if (open != std::string::npos && path.ends_with('}') &&
        path.find('/', open + 1) == std::string::npos) {
        m_state->parameter_routes[path.substr(0, open + 1)][method] = std::move(handler);
        return;
    }
    m_state->routes[std::move(path)][method] = std::move(handler);
}

void HttpServer::start() {
    if (m_state->running || m_state->stopped) {
        throw std::logic_error("HttpServer::start called twice");
    }
    const tcp::endpoint endpoint = m_state->config.endpoint;
    auto& acceptor = m_state->acceptor;
    const auto fail = [&](const boost::system::error_code& ec) {
        boost::system::error_code ignored;
        acceptor.close(ignored);
        throw std::runtime_error("cannot listen for HTTP on " + format_endpoint(endpoint) + ": " +
                                 ec.message());
    };
    boost::system::error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (ec) {
        fail(ec);
    }
    // A restarted node must not wait out TIME_WAIT; Linux still refuses a second listener.
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && endpoint.address().is_v6()) {
        acceptor.set_option(asio::ip::v6_only(true), ec);
    }
    if (ec) {
        fail(ec);
    }
    acceptor.bind(endpoint, ec);
    if (ec) {
        fail(ec);
    }
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        fail(ec);
    }
    m_state->running = true;
    asio::co_spawn(m_state->io, State::accept_loop(m_state), log_failure("accept loop"));
}

void HttpServer::stop() {
    if (!m_state->running) {
        return;
    }
    m_state->running = false;
    m_state->stopped = true;
    boost::system::error_code ignored;
    m_state->acceptor.close(ignored);
    for (Connection* connection : m_state->connections) {
        connection->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        connection->stream.socket().close(ignored);
    }
}

tcp::endpoint HttpServer::local_endpoint() const {
    boost::system::error_code ec;
    const auto endpoint = m_state->acceptor.local_endpoint(ec);
    return ec ? m_state->config.endpoint : endpoint;
}

std::size_t HttpServer::connection_count() const {
    return m_state->connections.size();
}

}  // namespace chainmesh::api
