#include <chainmesh/crypto/identity.hpp>
#include <chainmesh/util/protobuf.hpp>

#include <sodium.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace chainmesh::crypto {

namespace {
constexpr std::size_t KEY_FILE_MAX_BYTES = 4096;

std::runtime_error key_file_error(const std::filesystem::path& path, const std::string& what) {
    return std::runtime_error("key file " + path.string() + ": " + what);
}
}  // namespace

Identity::Identity(Ed25519PrivateKey key)
    : m_key(std::move(key)),
      m_public_key(PublicKey::ed25519(m_key.public_key())),
      m_peer_id(PeerId::from_public_key(m_public_key)) {}

Bytes encode_private_key(const Ed25519PrivateKey& key) {
    Bytes data;
    const Ed25519Seed seed = key.seed();
    append(data, seed);
    append(data, key.public_key());
    Bytes out;
    util::ProtoWriter writer(out);
    writer.varint(1, static_cast<std::uint64_t>(KeyType::ed25519));
    writer.bytes(2, data);
    sodium_memzero(data.data(), data.size());
    return out;
}

Result<Ed25519PrivateKey> decode_private_key(ByteView encoded) {
    auto fields = decode_key_fields(encoded);
    if (!fields) {
        return fields.error();
    }
    const ByteView data = fields->data;
    if (fields->type != static_cast<std::uint64_t>(KeyType::ed25519)) {
        return KeyError::unknown_type;
    }
    // 64 bytes: seed ‖ public key; 96: a legacy form that repeats the public key.
    if (data.size() != 64 && data.size() != 96) {
        return KeyError::bad_key_length;
    }
    Ed25519Seed seed;
    std::memcpy(seed.data(), data.data(), seed.size());
    auto key = Ed25519PrivateKey::from_seed(seed);
    sodium_memzero(seed.data(), seed.size());
    for (std::size_t offset = 32; offset < data.size(); offset += 32) {
        if (!equal(data.subspan(offset, 32), key.public_key())) {
            return KeyError::public_key_mismatch;
        }
    }
    return key;
}

void save_key_file(const std::filesystem::path& path, const Ed25519PrivateKey& key,
                   bool overwrite) {
    if (!overwrite && std::filesystem::exists(path)) {
        throw key_file_error(path, "already exists; refusing to overwrite a key");
    }
    if (path.has_parent_path()) {
        std::filesystem::create_directories(path.parent_path());
    }
    const std::filesystem::path temporary = path.string() + ".tmp";
    Bytes encoded = encode_private_key(key);
    {
        // Create with 0600 from the start so the key is never readable by others, not even
        // for an instant.
        const mode_t old_mask = ::umask(077);
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        ::umask(old_mask);
        if (!out) {
            throw key_file_error(path, std::string("cannot write: ") + std::strerror(errno));
        }
        out.write(reinterpret_cast<const char*>(encoded.data()),
                  static_cast<std::streamsize>(encoded.size()));
        out.flush();
        if (!out) {
            throw key_file_error(path, "write failed");
        }
    }
    sodium_memzero(encoded.data(), encoded.size());
    std::filesystem::permissions(temporary, std::filesystem::perms::owner_read |
                                                std::filesystem::perms::owner_write);
    std::filesystem::rename(temporary, path);
}

Ed25519PrivateKey load_key_file(const std::filesystem::path& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        throw key_file_error(path, std::strerror(errno));
    }
    if (!S_ISREG(info.st_mode)) {
        throw key_file_error(path, "is not a regular file");
    }
    if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        throw key_file_error(path, "is readable or writable by other users; run `chmod 600 " +
                                       path.string() + "` to fix it");
    }
    if (info.st_size > static_cast<off_t>(KEY_FILE_MAX_BYTES)) {
        throw key_file_error(path, "is too large to be a key file");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw key_file_error(path, std::string("cannot read: ") + std::strerror(errno));
    }
    Bytes encoded((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto key = decode_private_key(encoded);
    sodium_memzero(encoded.data(), encoded.size());
    if (!key) {
        throw key_file_error(path, "not an Ed25519 libp2p private key (" + key.error().message() + ")");
    }
    return *key;
}

Ed25519PrivateKey load_or_create_key_file(const std::filesystem::path& path) {
    if (std::filesystem::exists(path)) {
        return load_key_file(path);
    }
    auto key = Ed25519PrivateKey::generate();
    save_key_file(path, key);
    return key;
}

}  // namespace chainmesh::crypto
