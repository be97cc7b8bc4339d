#pragma once
// A small blocking HTTP/1.1 client for the CLI (`chainmesh status`, `chainmesh tx submit`) and
// tests: one request per connection, against an IP literal or localhost (no name lookup).
//
// Every failure is a value carrying a sentence for people that names the address, as in
// "cannot reach the node's API at 127.0.0.1:8645: Connection refused". An HTTP error status
// is not a failure: the reply carries it.
//
// Bounds: the whole exchange (connect, send, receive) must finish within the timeout; a reply
// header over 64 KiB or a body over MAX_REPLY_BODY_BYTES is a failure.
//
// Threading: blocks the calling thread on a private io_context; never call it on the node's
// I/O thread.

#include <chainmesh/util/result.hpp>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace chainmesh::api {

namespace http = boost::beast::http;

inline constexpr std::size_t MAX_REPLY_BODY_BYTES = 16 * 1024 * 1024;

struct HttpReply {
    unsigned status = 0;  // 200, 404, ...
    std::string content_type;
    std::string body;
    http::fields headers;
};

struct HttpClientError {
    // boost::asio::error::connection_refused, timed_out, ...; errc::invalid_argument for a
    // bad address.
    ErrorCode code;
    std::string message;  // names the address; print it as it is
};

// For HttpResult::value() on an error.
[[noreturn]] inline void throw_exception_from_error(const HttpClientError& error,
                                                    const boost::source_location&) {
    throw std::runtime_error(error.message);
}

using HttpResult = boost::system::result<HttpReply, HttpClientError>;

// Sends one request to `host_port` ("127.0.0.1:8645", "[::1]:8645", "localhost:8645") and
// returns the reply. `content_type` defaults to text/plain when there is a body.
HttpResult http_request(std::string_view host_port, http::verb method, std::string target,
                        std::string body, std::chrono::milliseconds timeout,
                        std::string_view content_type = {});

}  // namespace chainmesh::api
