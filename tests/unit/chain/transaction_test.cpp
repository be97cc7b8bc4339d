#include <chainmesh/chain/address.hpp>
#include <chainmesh/chain/transaction.hpp>
#include <chainmesh/util/hex.hpp>
#include "chain_fixture.hpp"

#include "../test_hex.hpp"

#include <gtest/gtest.h>

namespace chainmesh::chain {
namespace {

using test::key;
using test::transfer;

using chainmesh::testing::hex;

Transaction sample() {
    return transfer(key(1), test::address_from_byte(0xaa), 1000, 7, 3, "hi", "testnet");
}

TEST(Address, DerivesFromTheTaggedHashOfTheKey) {
    const auto k = key(1);
    Bytes preimage = to_bytes(std::string_view("chainmesh/address/ed25519"));
    append(preimage, k.public_key());
    const Hash256 digest = crypto::sha256(preimage);
    const Address address = Address::from_public_key(k.public_key());
    EXPECT_TRUE(std::equal(address.bytes.begin(), address.bytes.end(), digest.begin()));
}

TEST(Address, TextFormIsPrefixedHexWithAChecksum) {
    const Address address = test::address_from_byte(0x11);
    const std::string text = address.to_string();
    ASSERT_EQ(text.size(), ADDRESS_TEXT_LENGTH);
    Bytes preimage = to_bytes(std::string_view("chainmesh/address-checksum"));
    append(preimage, address.bytes);
    const Hash256 check = crypto::sha256(preimage);
    EXPECT_EQ(text, "cm" + std::string(40, '1') + util::to_hex(ByteView(check).first(4)));
    EXPECT_EQ(*Address::parse(text), address);
}

TEST(Address, MatchesThePinnedVector) {
    const auto k = key(1);  // seed 0x01 x 32
    EXPECT_EQ(util::to_hex(k.public_key()),
              "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c");
    EXPECT_EQ(Address::from_public_key(k.public_key()).to_string(),
              "cm0482c7dc528e7982a64230d4ca87231c40149d9b648ad5ae");
}

TEST(Address, ParseRejectsAnythingElse) {
    const std::string good = test::address_of(key(2)).to_string();
    std::string upper = good;
    std::transform(upper.begin() + 2, upper.end(), upper.begin() + 2, ::toupper);
    EXPECT_EQ(*Address::parse(upper), *Address::parse(good));

    std::string typo = good;
    typo[10] = typo[10] == '0' ? '1' : '0';
    const std::string cases[] = {
        typo,                                   // checksum catches it
        "cx" + good.substr(2),                  // prefix
        good.substr(0, good.size() - 2),        // short
        good + "00",                            // long
        good.substr(0, good.size() - 1) + "g",  // not hex
        "",
    };
    for (const auto& text : cases) {
        const auto parsed = Address::parse(text);
        ASSERT_FALSE(parsed) << text;
        EXPECT_EQ(parsed.error(), ChainError::bad_address) << text;
    }
}

TEST(Transaction, EncodingFollowsTheSpecFieldByField) {
    const Transaction tx = sample();
    Bytes expected = hex("01");
    append(expected, hex("07"));
    append(expected, std::string_view("testnet"));
    append(expected, key(1).public_key());
    append(expected, Bytes(20, 0xaa));
    append(expected, hex("00000000000003e8"));  // amount 1000
    append(expected, hex("0000000000000007"));  // fee 7
    append(expected, hex("0000000000000003"));  // nonce 3
    append(expected, hex("0002"));
    append(expected, std::string_view("hi"));
    append(expected, tx.signature);
    EXPECT_EQ(util::to_hex(tx.encode()), util::to_hex(expected));
    EXPECT_EQ(tx.encoded_size(), expected.size());
    EXPECT_EQ(tx.id(), crypto::sha256(expected));

    Bytes signing = to_bytes(std::string_view("chainmesh/transaction/v1"));
    append(signing, ByteView(expected).first(expected.size() - 64));
    EXPECT_EQ(tx.signing_bytes(), signing);
    EXPECT_TRUE(crypto::ed25519_verify(tx.sender, signing, tx.signature));
}

// Pinned so that any change to the encoding, the signing domain or the id shows up here and
// in docs/protocol.md's test vectors (Ed25519 signatures are deterministic).
TEST(Transaction, MatchesThePinnedVector) {
    const Transaction tx = sample();
    EXPECT_EQ(util::to_hex(tx.id()),
              "f1ddcd891b7afebaa7627e240447ba18bd3835c807ba8c925400fddf4b0b26fe");
}

TEST(Transaction, RoundTrips) {
    const Transaction tx = sample();
    const auto decoded = Transaction::decode(tx.encode());
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, tx);
    EXPECT_TRUE(decoded->verify());

    Transaction longest = transfer(key(2), test::address_from_byte(1), 1, 0, 0,
                                   std::string(MEMO_MAX_BYTES, 'm'), std::string(32, 'n'));
    EXPECT_EQ(longest.encoded_size(), TRANSACTION_MAX_BYTES);
    EXPECT_EQ(*Transaction::decode(longest.encode()), longest);
}

TEST(Transaction, DecodeRejectsEveryTruncationAndTrailingBytes) {
    const Bytes encoded = sample().encode();
    for (std::size_t size = 0; size < encoded.size(); ++size) {
        const auto decoded = Transaction::decode(ByteView(encoded).first(size));
        ASSERT_FALSE(decoded) << size;
        EXPECT_EQ(decoded.error(), ChainError::malformed) << size;
    }
    Bytes longer = encoded;
    longer.push_back(0);
    EXPECT_EQ(Transaction::decode(longer).error(), ChainError::malformed);
}

TEST(Transaction, DecodeRejectsBadFields) {
    const Bytes encoded = sample().encode();
    auto with = [&](std::size_t at, std::uint8_t value) {
        Bytes copy = encoded;
        copy[at] = value;
        return Transaction::decode(copy);
    };
    EXPECT_EQ(with(0, 0x02).error(), ChainError::malformed);  // a header's format byte
    EXPECT_EQ(with(1, 0).error(), ChainError::malformed);     // empty network id
    EXPECT_EQ(with(2, 'T').error(), ChainError::malformed);   // uppercase network id

    Transaction long_network = sample();
    long_network.network_id = std::string(33, 'n');
    EXPECT_EQ(Transaction::decode(long_network.encode()).error(), ChainError::malformed);

    Transaction long_memo = sample();
    long_memo.memo.assign(MEMO_MAX_BYTES + 1, 'm');
    EXPECT_EQ(Transaction::decode(long_memo.encode()).error(), ChainError::memo_too_long);
    // A memo length far beyond the bytes present is still memo_too_long, not an allocation.
    const std::size_t memo_at = 1 + 1 + 7 + 32 + 20 + 24;
    Bytes huge = encoded;
    huge[memo_at] = 0xff;
    huge[memo_at + 1] = 0xff;
    EXPECT_EQ(Transaction::decode(huge).error(), ChainError::memo_too_long);
}

TEST(Transaction, SignatureCoversEveryField) {
    const Transaction tx = sample();
    ASSERT_TRUE(tx.verify());
    std::vector<Transaction> changed(9, tx);
    changed[0].network_id = "othernet";
    changed[1].sender = key(2).public_key();
    changed[2].recipient.bytes[0] ^= 1;
    changed[3].amount += 1;
    changed[4].fee += 1;
    changed[5].nonce += 1;
    changed[6].memo.push_back('!');
    changed[7].signature[0] ^= 1;
    changed[8].signature[63] ^= 0x80;
    for (std::size_t i = 0; i < changed.size(); ++i) {
        EXPECT_FALSE(changed[i].verify()) << i;
        EXPECT_NE(changed[i].id(), tx.id()) << i;
    }
}

TEST(Transaction, SignSetsTheSender) {
    Transaction tx;
    tx.network_id = "testnet";
    tx.amount = 1;
    tx.sign(key(3));
    EXPECT_EQ(tx.sender, key(3).public_key());
    EXPECT_EQ(tx.sender_address(), test::address_of(key(3)));
    EXPECT_TRUE(tx.verify());
}

TEST(Transaction, DecodePrefixReportsTheSize) {
    const Bytes first = sample().encode();
    Bytes both = first;
    append(both, transfer(key(2), test::address_from_byte(3), 5, 1, 0).encode());
    std::size_t consumed = 0;
    const auto decoded = Transaction::decode_prefix(both, consumed);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(consumed, first.size());
    EXPECT_EQ(*decoded, sample());
}

}  // namespace
}  // namespace chainmesh::chain
