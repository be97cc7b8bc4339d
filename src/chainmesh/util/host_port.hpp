#pragma once
// A listen address as operators write it for the HTTP API: "host:port" or "[IPv6]:port",
// where the host is an IP literal (an IPv6 one may carry a %zone) or "localhost", and the
// port is 0 to 65535. No name lookup: what parses here binds as written. The config check
// (node/config.cpp) and the server (api/http_server.cpp) share this one reading, so that a
// value the config accepts is one the server binds.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chainmesh {

struct HostPort {
    std::string host;  // without brackets; "localhost" as written
    std::uint16_t port = 0;
    bool bracketed = false;  // written as [IPv6]:port
};

struct HostPortParse {
    std::optional<HostPort> value;
    std::string problem;  // a sentence, when value is empty; it does not repeat the text
};

HostPortParse parse_host_port(std::string_view text);

}  // namespace chainmesh
