#include <chainmesh/node/text_file.hpp>

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace chainmesh::node {

std::string read_text_file(const std::filesystem::path& path, std::size_t max_bytes,
                           std::string_view what) {
    const std::string name = std::string(what) + " " + path.string();
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) {
        throw std::runtime_error("cannot read the " + name + ": " + ec.message());
    }
    if (size > max_bytes) {
        throw std::runtime_error("the " + name + " is " + std::to_string(size) +
                                 " bytes; at most " + std::to_string(max_bytes) + " are read");
    }
    std::ifstream in(path, std::ios::binary);
    std::string text(static_cast<std::size_t>(size), '\0');
    if (!in.read(text.data(), static_cast<std::streamsize>(text.size()))) {
        throw std::runtime_error("cannot read the " + name);
    }
    return text;
}

std::string read_last_lines(const std::filesystem::path& path, std::size_t lines,
                            std::size_t max_bytes) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) {
        return {};
    }
    const auto size = static_cast<std::size_t>(in.tellg());
    const std::size_t start = size > max_bytes ? size - max_bytes : 0;
    in.seekg(static_cast<std::streamoff>(start));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t pos = text.size();
    if (pos > 0 && text[pos - 1] == '\n') {
        --pos;  // the final newline ends the last line; it does not start another
    }
    for (std::size_t found = 0; pos > 0; --pos) {
        if (text[pos - 1] == '\n' && ++found == lines) {
            break;
        }
    }
    return text.substr(pos);
}

}  // namespace chainmesh::node
