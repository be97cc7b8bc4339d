#include <chainmesh/crypto/identity.hpp>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace chainmesh::crypto {
namespace {

class KeyFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_dir = std::filesystem::temp_directory_path() /
                ("chainmesh-key-test-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(m_dir);
        std::filesystem::create_directories(m_dir);
    }
    void TearDown() override { std::filesystem::remove_all(m_dir); }
    std::filesystem::path m_dir;
};

TEST_F(KeyFileTest, SavesWithOwnerOnlyModeAndLoadsTheSameKey) {
    const auto key = Ed25519PrivateKey::generate();
    const auto path = m_dir / "sub" / "node.key";
    save_key_file(path, key);
    struct stat info {};
    ASSERT_EQ(::stat(path.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);
    EXPECT_EQ(std::filesystem::file_size(path), 68u);
    EXPECT_EQ(load_key_file(path).public_key(), key.public_key());
}

TEST_F(KeyFileTest, RefusesToOverwriteUnlessAsked) {
    const auto path = m_dir / "node.key";
    save_key_file(path, Ed25519PrivateKey::generate());
    EXPECT_THROW(save_key_file(path, Ed25519PrivateKey::generate()), std::runtime_error);
    const auto replacement = Ed25519PrivateKey::generate();
    save_key_file(path, replacement, true);
    EXPECT_EQ(load_key_file(path).public_key(), replacement.public_key());
}

TEST_F(KeyFileTest, RefusesAKeyOthersCanReadAndSaysHowToFixIt) {
    const auto path = m_dir / "node.key";
    save_key_file(path, Ed25519PrivateKey::generate());
    std::filesystem::permissions(path, std::filesystem::perms::group_read,
                                 std::filesystem::perm_options::add);
    try {
        load_key_file(path);
        FAIL() << "a group-readable key was loaded";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("chmod 600 " + path.string()), std::string::npos)
            << e.what();
    }
}

TEST_F(KeyFileTest, RefusesGarbageAndMissingFiles) {
    const auto path = m_dir / "garbage.key";
    {
        std::ofstream out(path);
        out << "not a key";
    }
    std::filesystem::permissions(path, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_write);
    EXPECT_THROW(load_key_file(path), std::runtime_error);
    EXPECT_THROW(load_key_file(m_dir / "missing.key"), std::runtime_error);
}

TEST_F(KeyFileTest, LoadOrCreateCreatesOnceThenReuses) {
    const auto path = m_dir / "node.key";
    const auto first = load_or_create_key_file(path);
    const auto second = load_or_create_key_file(path);
    EXPECT_EQ(first.public_key(), second.public_key());
}

TEST(PrivateKeyEncoding, RoundTripsAndChecksThePublicHalf) {
    const auto key = Ed25519PrivateKey::generate();
    Bytes encoded = encode_private_key(key);
    ASSERT_EQ(encoded.size(), 68u);
    EXPECT_EQ(decode_private_key(encoded)->public_key(), key.public_key());
    encoded.back() ^= 1;
    EXPECT_EQ(decode_private_key(encoded).error(), KeyError::public_key_mismatch);
}

}  // namespace
}  // namespace chainmesh::crypto
