#include <chainmesh/chain/block.hpp>
#include <chainmesh/chain/merkle.hpp>
#include <chainmesh/util/hex.hpp>
#include "chain_fixture.hpp"

#include "../test_hex.hpp"

#include <gtest/gtest.h>

namespace chainmesh::chain {
namespace {

using test::key;
using test::transfer;

using chainmesh::testing::hex;

Hash256 filled(std::uint8_t value) {
    Hash256 h;
    h.fill(value);
    return h;
}

BlockHeader sample_header() {
    BlockHeader header;
    header.network_id = "testnet";
    header.height = 5;
    header.previous_hash = filled(0x11);
    header.transactions_root = filled(0x22);
    header.state_root = filled(0x33);
    header.timestamp_ms = 1'700'000'000'123;
    header.beneficiary = test::address_from_byte(0x44);
    header.target = filled(0x0f);
    header.consensus_data = {0xc0, 0xde};
    header.nonce = 0x0102030405060708;
    return header;
}

Block sample_block() {
    Block block;
    block.header = sample_header();
    block.transactions.push_back(transfer(key(1), test::address_from_byte(2), 10, 1, 0, "a"));
    block.transactions.push_back(transfer(key(2), test::address_from_byte(3), 20, 2, 0));
    block.transactions.push_back(transfer(key(1), test::address_from_byte(4), 30, 3, 1, "ccc"));
    test::fix_merkle_root(block);
    return block;
}

TEST(BlockHeader, EncodingFollowsTheSpecFieldByField) {
    const BlockHeader header = sample_header();
    Bytes expected = hex("02");
    append(expected, hex("07"));
    append(expected, std::string_view("testnet"));
    append(expected, hex("0000000000000005"));
    append(expected, Bytes(32, 0x11));
    append(expected, Bytes(32, 0x22));
    append(expected, Bytes(32, 0x33));
    append(expected, hex("0000018bcfe5687b"));  // 1700000000123
    append(expected, Bytes(20, 0x44));
    append(expected, Bytes(32, 0x0f));
    append(expected, hex("0002c0de"));
    append(expected, hex("0102030405060708"));
    EXPECT_EQ(util::to_hex(header.encode()), util::to_hex(expected));
    EXPECT_EQ(header.encoded_size(), expected.size());
    EXPECT_EQ(header.hash(), crypto::sha256(expected));
}

TEST(BlockHeader, RoundTripsAndRejectsBadInput) {
    const BlockHeader header = sample_header();
    const Bytes encoded = header.encode();
    EXPECT_EQ(*BlockHeader::decode(encoded), header);
    for (std::size_t size = 0; size < encoded.size(); ++size) {
        EXPECT_EQ(BlockHeader::decode(ByteView(encoded).first(size)).error(), ChainError::malformed)
            << size;
    }
    Bytes longer = encoded;
    longer.push_back(0);
    EXPECT_EQ(BlockHeader::decode(longer).error(), ChainError::malformed);

    BlockHeader big = header;
    big.consensus_data.assign(CONSENSUS_DATA_MAX_BYTES, 1);
    EXPECT_EQ(*BlockHeader::decode(big.encode()), big);
    big.consensus_data.push_back(1);
    EXPECT_EQ(BlockHeader::decode(big.encode()).error(), ChainError::malformed);
}

TEST(Block, EncodingIsHeaderCountAndTransactions) {
    const Block block = sample_block();
    Bytes expected = block.header.encode();
    append(expected, hex("00000003"));
    for (const auto& tx : block.transactions) {
        append(expected, tx.encode());
    }
    EXPECT_EQ(block.encode(), expected);
    EXPECT_EQ(block.encoded_size(), expected.size());
    EXPECT_EQ(block.hash(), block.header.hash());
}

TEST(Block, RoundTripsAndRejectsBadInput) {
    const Block block = sample_block();
    const Bytes encoded = block.encode();
    EXPECT_EQ(*Block::decode(encoded), block);
    for (std::size_t size = 0; size < encoded.size(); ++size) {
        const auto decoded = Block::decode(ByteView(encoded).first(size));
        ASSERT_FALSE(decoded) << size;
        EXPECT_EQ(decoded.error(), ChainError::malformed) << size;
    }
    Bytes longer = encoded;
    longer.push_back(0);
    EXPECT_EQ(Block::decode(longer).error(), ChainError::malformed);

    Block empty = block;
    empty.transactions.clear();
    EXPECT_EQ(*Block::decode(empty.encode()), empty);
}

TEST(Block, DecodeBoundsCountAndSizeBeforeAllocating) {
    const Block block = sample_block();
    const std::size_t count_at = block.header.encoded_size();
    Bytes encoded = block.encode();
    // A count the bytes cannot hold.
    encoded[count_at + 2] = 0x01;  // 259 transactions
    EXPECT_EQ(Block::decode(encoded).error(), ChainError::malformed);
    // A count above the absolute limit.
    encoded[count_at] = 0xff;
    EXPECT_EQ(Block::decode(encoded).error(), ChainError::too_many_transactions);
    // More bytes than any block may have.
    Bytes huge(BLOCK_MAX_BYTES_LIMIT + 1, 0);
    EXPECT_EQ(Block::decode(huge).error(), ChainError::block_too_large);
}

// The definition of docs/protocol.md, written recursively, as the reference.
Hash256 reference_root(std::span<const Hash256> ids) {
    if (ids.empty()) {
        return Hash256{};
    }
    if (ids.size() == 1) {
        return merkle_leaf(ids[0]);
    }
    std::size_t k = 1;
    while (k * 2 < ids.size()) {
        k *= 2;
    }
    return merkle_node(reference_root(ids.first(k)), reference_root(ids.subspan(k)));
}

TEST(Merkle, LeavesAndNodesAreDomainSeparated) {
    const Hash256 a = filled(0xaa);
    const Hash256 b = filled(0xbb);
    Bytes leaf = hex("00");
    append(leaf, a);
    EXPECT_EQ(merkle_leaf(a), crypto::sha256(leaf));
    Bytes node = hex("01");
    append(node, a);
    append(node, b);
    EXPECT_EQ(merkle_node(a, b), crypto::sha256(node));
}

TEST(Merkle, SmallTreesMatchTheDefinition) {
    const Hash256 a = filled(1);
    const Hash256 b = filled(2);
    const Hash256 c = filled(3);
    EXPECT_EQ(merkle_root({}), Hash256{});
    const std::vector<Hash256> one{a};
    EXPECT_EQ(merkle_root(one), merkle_leaf(a));
    const std::vector<Hash256> two{a, b};
    EXPECT_EQ(merkle_root(two), merkle_node(merkle_leaf(a), merkle_leaf(b)));
    const std::vector<Hash256> three{a, b, c};
    EXPECT_EQ(merkle_root(three),
              merkle_node(merkle_node(merkle_leaf(a), merkle_leaf(b)), merkle_leaf(c)));
}

TEST(Merkle, DuplicatingTheLastLeafChangesTheRoot) {
    const std::vector<Hash256> three{filled(1), filled(2), filled(3)};
    const std::vector<Hash256> four{filled(1), filled(2), filled(3), filled(3)};
    EXPECT_NE(merkle_root(three), merkle_root(four));
    const std::vector<Hash256> five{filled(1), filled(2), filled(3), filled(4), filled(5)};
    std::vector<Hash256> six = five;
    six.push_back(filled(5));
    EXPECT_NE(merkle_root(five), merkle_root(six));
    // A list of one leaf whose id is an inner node's preimage does not match the pair.
    const std::vector<Hash256> pair{filled(1), filled(2)};
    const std::vector<Hash256> single{merkle_node(merkle_leaf(filled(1)), merkle_leaf(filled(2)))};
    EXPECT_NE(merkle_root(pair), merkle_root(single));
}

TEST(Merkle, MatchesTheRecursiveDefinitionForEverySizeUpTo70) {
    std::vector<Hash256> ids;
    for (std::size_t n = 0; n <= 70; ++n) {
        EXPECT_EQ(merkle_root(ids), reference_root(ids)) << n;
        ids.push_back(crypto::sha256(as_bytes(std::to_string(n))));
    }
}

TEST(Target, DifficultyDividesTheLargestHash) {
    EXPECT_EQ(util::to_hex(target_from_difficulty(1)), std::string(64, 'f'));
    EXPECT_EQ(util::to_hex(target_from_difficulty(2)), "7" + std::string(63, 'f'));
    EXPECT_EQ(util::to_hex(target_from_difficulty(256)), "00" + std::string(62, 'f'));
    EXPECT_EQ(util::to_hex(target_from_difficulty(3)), std::string(64, '5'));
    EXPECT_EQ(util::to_hex(target_from_difficulty(0xffffffffffffffffULL)),
              "0000000000000001000000000000000100000000000000010000000000000001");
}

TEST(Target, HashMeetsTargetWhenNotAbove) {
    const Hash256 target = filled(0x10);
    Hash256 hash = target;
    EXPECT_TRUE(hash_meets_target(hash, target));
    hash[31] = 0x11;
    EXPECT_FALSE(hash_meets_target(hash, target));
    hash = target;
    hash[0] = 0x0f;
    hash[31] = 0xff;
    EXPECT_TRUE(hash_meets_target(hash, target));
}

}  // namespace
}  // namespace chainmesh::chain
