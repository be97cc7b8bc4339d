#include <gtest/gtest.h>

#include <chainmesh/sync/errors.hpp>
#include <chainmesh/sync/sync_codec.hpp>

namespace chainmesh::sync {
namespace {

Hash256 filled(std::uint8_t value) {
    Hash256 out{};
    out.fill(value);
    return out;
}

chain::BlockHeader header_at(std::uint64_t height, const Hash256& previous) {
    chain::BlockHeader header;
    header.network_id = "testnet";
    header.height = height;
    header.previous_hash = previous;
    header.timestamp_ms = 1'700'000'000'000 + height;
    header.nonce = height * 7;
    return header;
}

ErrorCode code(SyncError e) {
    return e;
}

void expect_round_trip(const Message& message) {
    const Bytes encoded = encode(message);
    auto decoded = decode(encoded);
    ASSERT_TRUE(decoded) << decoded.error().message();
    EXPECT_EQ(*decoded, message);
}

TEST(SyncCodec, StatusExactBytes) {
    Status status;
    status.genesis_hash = filled(0xaa);
    status.best_height = 0x0102030405060708;
    status.best_hash = filled(0xbb);
    status.cumulative_work = chain::Work::from_u64(0x1234);
    const Bytes encoded = encode(Message{status});
    ASSERT_EQ(encoded.size(), 1U + 32 + 8 + 32 + 32);
    EXPECT_EQ(encoded[0], 1);
    EXPECT_EQ(encoded[1], 0xaa);
    EXPECT_EQ(encoded[33], 0x01);
    EXPECT_EQ(encoded[40], 0x08);
    EXPECT_EQ(encoded[41], 0xbb);
    EXPECT_EQ(encoded[encoded.size() - 2], 0x12);
    EXPECT_EQ(encoded[encoded.size() - 1], 0x34);
    expect_round_trip(status);
}

TEST(SyncCodec, RoundTrips) {
    GetHeaders get_headers;
    get_headers.locator = {filled(1), filled(2), filled(3)};
    get_headers.stop_hash = filled(9);
    get_headers.max_count = 2000;
    expect_round_trip(get_headers);
    const Bytes encoded = encode(Message{get_headers});
    EXPECT_EQ(encoded.size(), 1U + 1 + 3 * 32 + 32 + 2);
    EXPECT_EQ(encoded[1], 3);
    EXPECT_EQ(encoded[encoded.size() - 2], 0x07);
    EXPECT_EQ(encoded[encoded.size() - 1], 0xd0);

    Headers headers;
    Hash256 previous{};
    for (std::uint64_t height = 1; height <= 5; ++height) {
        headers.headers.push_back(header_at(height, previous));
        previous = headers.headers.back().hash();
    }
    expect_round_trip(headers);
    expect_round_trip(Headers{});

    expect_round_trip(GetBlocks{{filled(4), filled(5)}});

    Blocks blocks;
    for (std::uint64_t height = 1; height <= 3; ++height) {
        blocks.blocks.push_back(chain::Block{header_at(height, filled(0)), {}});
    }
    expect_round_trip(blocks);
    expect_round_trip(Blocks{});

    const Request request = GetBlocks{{filled(4)}};
    EXPECT_EQ(encode(request), encode(Message{GetBlocks{{filled(4)}}}));
}

TEST(SyncCodec, RejectsEmptyUnknownAndTrailing) {
    EXPECT_EQ(decode(Bytes{}).error(), code(SyncError::malformed));
    EXPECT_EQ(decode(Bytes{9}).error(), code(SyncError::unknown_kind));
    EXPECT_EQ(decode(Bytes{0}).error(), code(SyncError::unknown_kind));
    Bytes status = encode(Message{Status{}});
    status.push_back(0);
    EXPECT_EQ(decode(status).error(), code(SyncError::malformed));
    status.resize(status.size() - 2);
    EXPECT_EQ(decode(status).error(), code(SyncError::malformed));
}

TEST(SyncCodec, BoundsOnCounts) {
    // A locator of 0 and of MAX_LOCATOR_HASHES + 1 hashes.
    EXPECT_EQ(decode(Bytes{2, 0}).error(), code(SyncError::malformed));
    Bytes locator{2, static_cast<std::uint8_t>(MAX_LOCATOR_HASHES + 1)};
    locator.resize(locator.size() + (MAX_LOCATOR_HASHES + 1) * 32 + 32 + 2, 0);
    EXPECT_EQ(decode(locator).error(), code(SyncError::too_many_items));

    GetHeaders get_headers;
    get_headers.locator = {filled(1)};
    get_headers.max_count = 1;
    Bytes encoded = encode(Message{get_headers});
    encoded[encoded.size() - 2] = 0x07;
    encoded[encoded.size() - 1] = 0xd1;  // 2001
    EXPECT_EQ(decode(encoded).error(), code(SyncError::too_many_items));
    encoded[encoded.size() - 2] = 0;
    encoded[encoded.size() - 1] = 0;
    EXPECT_EQ(decode(encoded).error(), code(SyncError::malformed));

    // Headers: a count above the bound, and a count the bytes cannot hold (no allocation).
    EXPECT_EQ(decode(Bytes{3, 0x07, 0xd1}).error(), code(SyncError::too_many_items));
    EXPECT_EQ(decode(Bytes{3, 0x07, 0xd0}).error(), code(SyncError::malformed));

    EXPECT_EQ(decode(Bytes{4, 0, 0}).error(), code(SyncError::malformed));
    EXPECT_EQ(decode(Bytes{4, 0, MAX_BLOCKS_PER_MESSAGE + 1}).error(),
              code(SyncError::too_many_items));
    EXPECT_EQ(decode(Bytes{4, 0, 2}).error(), code(SyncError::malformed));

    EXPECT_EQ(decode(Bytes{5, 0, MAX_BLOCKS_PER_MESSAGE + 1}).error(),
              code(SyncError::too_many_items));
    // A block whose length runs past the message.
    Blocks blocks;
    blocks.blocks.push_back(chain::Block{header_at(1, filled(0)), {}});
    Bytes block_message = encode(Message{blocks});
    block_message[6] = static_cast<std::uint8_t>(block_message[6] + 1);
    EXPECT_EQ(decode(block_message).error(), code(SyncError::malformed));

    Bytes huge(MAX_MESSAGE_BYTES + 1, 0);
    huge[0] = 3;
    EXPECT_EQ(decode(huge).error(), code(SyncError::too_large));
}

TEST(SyncCodec, HeaderErrorsPropagate) {
    Headers headers;
    headers.headers.push_back(header_at(1, filled(0)));
    Bytes encoded = encode(Message{headers});
    encoded[3] = 0x7f;  // the header's format byte
    EXPECT_FALSE(decode(encoded));
    // Every truncation fails cleanly.
    const Bytes good = encode(Message{headers});
    for (std::size_t size = 0; size < good.size(); ++size) {
        EXPECT_FALSE(decode(ByteView(good).first(size))) << size;
    }
}

TEST(SyncCodec, MutatedMessagesNeverCrash) {
    Headers headers;
    Hash256 previous{};
    for (std::uint64_t height = 1; height <= 3; ++height) {
        headers.headers.push_back(header_at(height, previous));
        previous = headers.headers.back().hash();
    }
    Blocks blocks;
    blocks.blocks.push_back(chain::Block{header_at(1, filled(0)), {}});
    GetHeaders get_headers;
    get_headers.locator = {filled(1), filled(2)};
    get_headers.max_count = 5;
    for (const Message& message :
         {Message{headers}, Message{blocks}, Message{get_headers}, Message{Status{}}}) {
        const Bytes good = encode(message);
        for (std::size_t i = 0; i < good.size(); ++i) {
            for (const std::uint8_t flip : {0x01, 0x80, 0xff}) {
                Bytes mutated = good;
                mutated[i] ^= flip;
                auto decoded = decode(mutated);
                if (decoded) {
                    // Whatever decodes re-encodes to the same bytes: the encoding is canonical.
                    EXPECT_EQ(encode(*decoded), mutated) << i;
                }
            }
        }
    }
}

}  // namespace
}  // namespace chainmesh::sync
