#include <chainmesh/util/hex.hpp>
#include <chainmesh/util/protobuf.hpp>

#include <gtest/gtest.h>

namespace chainmesh::util {
namespace {

TEST(Protobuf, WritesFieldsInCallOrderWithMinimalVarints) {
    Bytes out;
    ProtoWriter writer(out);
    writer.varint(1, 1);
    writer.bytes(2, Bytes{0xaa, 0xbb});
    writer.string(3, "hi");
    writer.varint(16, 300);
    EXPECT_EQ(to_hex(out), "08011202aabb1a0268698001ac02");
}

TEST(Protobuf, ReadsEveryWireTypeAndSkipsNothingSilently) {
    const Bytes input = *from_hex("0801" "1202aabb" "190102030405060708" "2d01020304");
    ProtoReader reader(input);
    auto f1 = reader.next();
    ASSERT_TRUE(f1 && *f1);
    EXPECT_EQ((*f1)->number, 1u);
    EXPECT_EQ((*f1)->value, 1u);
    auto f2 = reader.next();
    ASSERT_TRUE(f2 && *f2);
    EXPECT_EQ((*f2)->type, WireType::length_delimited);
    EXPECT_EQ(to_hex((*f2)->bytes), "aabb");
    auto f3 = reader.next();
    ASSERT_TRUE(f3 && *f3);
    EXPECT_EQ((*f3)->type, WireType::fixed64);
    EXPECT_EQ((*f3)->value, 0x0807060504030201u);
    auto f5 = reader.next();
    ASSERT_TRUE(f5 && *f5);
    EXPECT_EQ((*f5)->type, WireType::fixed32);
    EXPECT_EQ((*f5)->value, 0x04030201u);
    auto end = reader.next();
    ASSERT_TRUE(end);
    EXPECT_FALSE(*end);
}

TEST(Protobuf, RefusesTruncationGroupsAndFieldZero) {
    EXPECT_EQ(ProtoReader(*from_hex("1205aa")).next().error(), ProtoError::truncated);
    EXPECT_EQ(ProtoReader(*from_hex("0b")).next().error(), ProtoError::bad_wire_type);
    EXPECT_EQ(ProtoReader(*from_hex("0001")).next().error(), ProtoError::bad_field_number);
    EXPECT_EQ(ProtoReader(*from_hex("08ffffffffffffffffffff01")).next().error(),
              ProtoError::bad_varint);
    EXPECT_EQ(ProtoReader(*from_hex("08ff")).next().error(), ProtoError::truncated);
}

TEST(Protobuf, HugeLengthPrefixIsTruncationNotAllocation) {
    // A length of 2^62 must be refused by comparison with the input, never allocated.
    EXPECT_EQ(ProtoReader(*from_hex("12ffffffffffffffff3f")).next().error(), ProtoError::truncated);
}

}  // namespace
}  // namespace chainmesh::util
