#pragma once
// A node's identity: its Ed25519 key, the libp2p PublicKey it presents and its peer id.
//
// Key files hold libp2p's PrivateKey message (`08 01 12 40 ‖ seed ‖ public key`), the format
// go- and js-libp2p marshal, so keys move between implementations. A key file must not be
// readable by anyone but its owner: loading one that is refuses with a message saying how to
// fix it, as ssh does.

#include <chainmesh/crypto/ed25519.hpp>
#include <chainmesh/crypto/peer_id.hpp>
#include <chainmesh/crypto/public_key.hpp>

#include <filesystem>

namespace chainmesh::crypto {

class Identity {
public:
    explicit Identity(Ed25519PrivateKey key);
    static Identity generate() { return Identity(Ed25519PrivateKey::generate()); }

    const Ed25519PrivateKey& key() const { return m_key; }
    const PublicKey& public_key() const { return m_public_key; }
    const PeerId& peer_id() const { return m_peer_id; }
    Ed25519Signature sign(ByteView message) const { return m_key.sign(message); }

private:
    Ed25519PrivateKey m_key;
    PublicKey m_public_key;
    PeerId m_peer_id;
};

Bytes encode_private_key(const Ed25519PrivateKey& key);
Result<Ed25519PrivateKey> decode_private_key(ByteView encoded);

// Writes the key with mode 0600, atomically (temporary file, then rename). Throws
// std::runtime_error naming the path when it cannot, or when the file exists and
// `overwrite` is false.
void save_key_file(const std::filesystem::path& path, const Ed25519PrivateKey& key,
                   bool overwrite = false);

// Throws std::runtime_error naming the path: missing, unreadable, readable by group or others
// (with the chmod that fixes it), or not a key.
Ed25519PrivateKey load_key_file(const std::filesystem::path& path);

// Loads the key, or creates and saves a new one when the file does not exist.
Ed25519PrivateKey load_or_create_key_file(const std::filesystem::path& path);

}  // namespace chainmesh::crypto
