// keygen and id: node keys on disk.

#include "commands.hpp"

#include <chainmesh/crypto/identity.hpp>

#include <cstdlib>
#include <iostream>
#include <memory>

namespace chainmesh::app {

std::filesystem::path default_key_path() {
    const char* home = std::getenv("HOME");
    if (home == nullptr || *home == '\0') {
        return "node.key";
    }
    return std::filesystem::path(home) / ".chainmesh" / "node.key";
}

Command add_keygen_command(CLI::App& app) {
    struct Options {
        std::filesystem::path out = default_key_path();
        bool force = false;
        bool cid = false;
    };
    auto options = std::make_shared<Options>();
    app.add_option("--out", options->out, "where to write the key (mode 0600)")
        ->capture_default_str();
    app.add_flag("--force", options->force, "replace an existing key file");
    app.add_flag("--cid", options->cid, "print the peer id in its CIDv1 form too");
    return [options] {
        const auto key = crypto::Ed25519PrivateKey::generate();
        crypto::save_key_file(options->out, key, options->force);
        const crypto::Identity identity(key);
        std::cerr << "wrote " << options->out.string() << "\n";
        std::cout << identity.peer_id().to_string() << "\n";
        if (options->cid) {
            std::cout << identity.peer_id().to_cid() << "\n";
        }
        return 0;
    };
}

Command add_id_command(CLI::App& app) {
    struct Options {
        std::filesystem::path key = default_key_path();
        bool cid = false;
    };
    auto options = std::make_shared<Options>();
    app.add_option("--key", options->key, "the key file")->capture_default_str();
    app.add_flag("--cid", options->cid, "print the CIDv1 form instead of base58");
    return [options] {
        const crypto::Identity identity(crypto::load_key_file(options->key));
        std::cout << (options->cid ? identity.peer_id().to_cid() : identity.peer_id().to_string())
                  << "\n";
        return 0;
    };
}

}  // namespace chainmesh::app
