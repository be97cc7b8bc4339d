// The child of store_crash_test: opens the store in argv[1], then imports the deterministic
// chain of seed argv[2] from the store's tip up to height argv[3], writing "begin H" before
// and "end H" after each block's import (one write(2) each, unbuffered, so the parent sees
// exactly how far it got when it is killed). At start it writes "open H <state root hex>".

#include "store_crash_chain.hpp"

#include <chainmesh/store/block_store.hpp>
#include <chainmesh/util/hex.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace {

void say(const std::string& line) {
    const std::string text = line + "\n";
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(STDOUT_FILENO, text.data() + written, text.size() - written);
        if (n <= 0) {
            std::_Exit(3);
        }
        written += static_cast<std::size_t>(n);
    }
}

}  // namespace

int main(int argc, char** argv) {
    using namespace chainmesh;
    if (argc != 4) {
        std::fprintf(stderr, "usage: store_crash_child DIR SEED MAX_HEIGHT\n");
        return 2;
    }
    try {
        const store::crash_test::CrashChain chain(std::stoull(argv[2]));
        const std::uint64_t max_height = std::stoull(argv[3]);
        auto db = store::BlockStore::open(argv[1], chain.genesis());
        say("open " + std::to_string(db->tip().height) + " " + util::to_hex(db->state().root()));
        while (db->tip().height < max_height) {
            const chain::Block block = chain.next_block(db->state(), db->tip_header());
            const std::string height = std::to_string(block.header.height);
            say("begin " + height);
            auto imported = db->import_block(block, chain::SignatureCheck::verify);
            if (!imported) {
                say("error " + imported.error().message() + " " + db->last_error_detail());
                return 1;
            }
            say("end " + height);
        }
        say("done");
    } catch (const std::exception& e) {
        say(std::string("error ") + e.what());
        return 1;
    }
    return 0;
}
