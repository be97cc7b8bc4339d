#pragma once
// Logging setup. Parts log through spdlog's default logger; the CLI picks the format.

#include <string_view>

namespace chainmesh::util {

enum class LogFormat { human, json };

// Throws std::invalid_argument naming `level` when it is not one of
// trace, debug, info, warn, error, critical, off.
void setup_logging(LogFormat format, std::string_view level);

}  // namespace chainmesh::util
