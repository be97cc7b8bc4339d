#include <chainmesh/util/host_port.hpp>

#include <arpa/inet.h>

#include <charconv>

namespace chainmesh {

namespace {

HostPortParse refuse(std::string problem) {
    HostPortParse parse;
    parse.problem = std::move(problem);
    return parse;
}

}  // namespace

HostPortParse parse_host_port(std::string_view text) {
    HostPort out;
    std::string_view port;
    if (text.starts_with('[')) {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return refuse("expected [IPv6 address]:port");
        }
        out.host = std::string(text.substr(1, close - 1));
        out.bracketed = true;
        port = text.substr(close + 2);
        const std::string address = out.host.substr(0, out.host.find('%'));  // a zone may follow
        in6_addr parsed{};
        if (inet_pton(AF_INET6, address.c_str(), &parsed) != 1) {
            return refuse("the address in brackets must be an IPv6 address");
        }
    } else {
        const std::size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            return refuse("expected host:port or [IPv6 address]:port");
        }
        out.host = std::string(text.substr(0, colon));
        port = text.substr(colon + 1);
        if (out.host.find(':') != std::string::npos) {
            return refuse("put an IPv6 address in brackets, as in [::1]:8645");
        }
        in_addr parsed{};
        if (out.host != "localhost" && inet_pton(AF_INET, out.host.c_str(), &parsed) != 1) {
            return refuse("the host must be an IP address or localhost");
        }
    }
    // from_chars reads digits only (no sign or space) and refuses values past 65535; the
    // length check refuses long runs of leading zeros.
    std::uint16_t number = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (port.empty() || port.size() > 5 || ec != std::errc() || end != port.data() + port.size()) {
        return refuse("the port must be a number from 0 to 65535");
    }
    out.port = number;
    HostPortParse parse;
    parse.value = std::move(out);
    return parse;
}

}  // namespace chainmesh
