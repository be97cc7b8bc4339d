#include <chainmesh/util/log.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <stdexcept>
#include <string>

namespace chainmesh::util {

void setup_logging(LogFormat format, std::string_view level) {
    const auto parsed = spdlog::level::from_str(std::string(level));
    // from_str answers `off` for anything it does not know; only "off" itself means off.
    if (parsed == spdlog::level::off && level != "off") {
        throw std::invalid_argument("unknown log level '" + std::string(level) +
                                    "' (use trace, debug, info, warn, error, critical or off)");
    }
    // A second call (a subcommand's own log settings) replaces the first logger.
    spdlog::drop("chainmesh");
    auto logger = spdlog::stderr_color_mt("chainmesh");
    if (format == LogFormat::json) {
        logger->set_pattern(
            R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":"%v"})");
    } else {
        logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
    }
    logger->set_level(parsed);
    spdlog::set_default_logger(logger);
}

}  // namespace chainmesh::util
