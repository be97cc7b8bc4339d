#pragma once
// Reading the small text files a node and its CLI are given (genesis, config, scenarios,
// the testnet's layout) with a size bound, and the end of a log.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace chainmesh::node {

// The whole file. Throws std::runtime_error naming `what` and the path when it cannot be
// read or is larger than `max_bytes` (checked before reading: a wrong path to a huge file
// must not fill memory).
std::string read_text_file(const std::filesystem::path& path, std::size_t max_bytes,
                           std::string_view what);

// At most the last `lines` lines of a file, reading at most its last `max_bytes`; empty when
// it cannot be read.
std::string read_last_lines(const std::filesystem::path& path, std::size_t lines,
                            std::size_t max_bytes = 64 * 1024);

}  // namespace chainmesh::node
