#include <chainmesh/consensus/errors.hpp>
#include <chainmesh/consensus/pow/pow.hpp>
#include <chainmesh/consensus/pow/uint256.hpp>

#include <algorithm>
#include <cstring>
#include <limits>

// The mining loop copies a SHA-256 state (the midstate of the header prefix) once per
// attempt. crypto::Sha256 wraps an EVP context that cannot be copied without an allocation,
// so the loop uses OpenSSL's plain SHA256_CTX, a 112-byte struct, deprecated in OpenSSL 3 but
// present and backed by the same SHA-NI/AVX2 code: about 18 million attempts per second per
// core here, five times header.hash() in a loop. Follow-up: a copyable midstate in crypto/,
// so that OpenSSL stays behind crypto/.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

namespace chainmesh::consensus::pow {

chain::Work block_work(const Hash256& target) {
    const UInt256 t = UInt256::from_bytes(target);
    if (t.is_zero()) {
        return chain::Work::max();
    }
    if (t == UInt256::max()) {
        return chain::Work::from_u64(1);
    }
    // 2^256 / (t + 1) = (2^256 - 1 - t) / (t + 1) + 1 exactly, and 2^256 - 1 - t = ~t fits.
    const UInt256 divisor = UInt256::add(t, UInt256::from_u64(1)).value;
    const UInt256 quotient = UInt256::divmod(~t, divisor).quotient;
    return chain::Work::from_bytes(UInt256::add(quotient, UInt256::from_u64(1)).value.to_bytes());
}

bool is_retarget_height(std::uint64_t height, std::uint32_t window) {
    // The window's first block, h - 1 - W, must not be genesis, whose timestamp is when the
    // genesis file was written, not when mining began.
    return window >= 1 && height % window == 0 && height >= std::uint64_t{window} + 2;
}

Hash256 retarget(const Hash256& target, std::uint64_t actual_timespan_ms,
                 std::uint64_t target_block_time_ms, std::uint32_t window) {
    const UInt256 one = UInt256::from_u64(1);
    UInt256 old_target = UInt256::from_bytes(target);
    if (old_target.is_zero()) {
        old_target = one;
    }
    const UInt256 factor = UInt256::from_u64(RETARGET_MAX_FACTOR);
    const UInt256 expected =
        UInt256::mul(UInt256::from_u64(std::max<std::uint64_t>(target_block_time_ms, 1)),
                     UInt256::from_u64(std::max<std::uint32_t>(window, 1)))
            .value;  // < 2^96
    // Clamping the timespan first keeps every product below 2^256 except q × actual, whose
    // overflow can only mean "more than 4 × target" and saturates.
    UInt256 actual = UInt256::from_u64(actual_timespan_ms);
    actual = std::min(actual, UInt256::mul(expected, factor).value);

    // floor(t × a / e) = q × a + floor(r × a / e), with t = q × e + r and r × a < 2^194.
    const auto [quotient, remainder] = UInt256::divmod(old_target, expected);
    const auto high = UInt256::mul(quotient, actual);
    const UInt256 low = UInt256::divmod(UInt256::mul(remainder, actual).value, expected).quotient;
    const auto sum = UInt256::add(high.value, low);
    UInt256 new_target = high.overflow || sum.overflow ? UInt256::max() : sum.value;

    const auto upper = UInt256::mul(old_target, factor);
    const UInt256 highest = upper.overflow ? UInt256::max() : upper.value;
    const UInt256 lowest = std::max(old_target.shifted_right(2), one);
    new_target = std::clamp(new_target, lowest, highest);
    return new_target.to_bytes();
}

Result<Hash256> next_target(const chain::PowParams& params, const chain::BlockHeader& parent,
                            const chain::HeaderBranch& branch) {
    const std::uint64_t height = parent.height + 1;
    if (!is_retarget_height(height, params.retarget_window)) {
        return parent.target;
    }
    const chain::BlockHeader* first = branch.at_height(height - 1 - params.retarget_window);
    if (first == nullptr) {
        return ConsensusError::unknown_ancestor;
    }
    // Timestamps strictly increase along a valid chain; a damaged branch yields 0 and the
    // clamp.
    const std::uint64_t actual =
        parent.timestamp_ms > first->timestamp_ms ? parent.timestamp_ms - first->timestamp_ms : 0;
    return retarget(parent.target, actual, params.target_block_time_ms, params.retarget_window);
}

Result<void> check_proof(const chain::BlockHeader& header, const Hash256& expected_target) {
    if (header.target != expected_target) {
        return ConsensusError::bad_target;
    }
    if (!chain::hash_meets_target(header.hash(), header.target)) {
        return ConsensusError::bad_proof_of_work;
    }
    return {};
}

Bytes header_prefix(const chain::BlockHeader& header) {
    Bytes encoded = header.encode();
    encoded.resize(encoded.size() - 8);
    return encoded;
}

MineResult mine(ByteView header_prefix, const Hash256& target, std::uint64_t nonce_start,
                std::uint64_t count) {
    MineResult result;
    if (count == 0) {
        return result;
    }
    SHA256_CTX midstate;
    SHA256_Init(&midstate);
    SHA256_Update(&midstate, header_prefix.data(), header_prefix.size());

    // Most attempts are decided by the hash's first 8 bytes against the target's.
    const std::uint64_t target_head = get_u64be(target.data());
    const std::uint64_t last = std::numeric_limits<std::uint64_t>::max() - nonce_start < count - 1
                                   ? std::numeric_limits<std::uint64_t>::max()
                                   : nonce_start + (count - 1);
    std::uint8_t nonce_bytes[8];
    Hash256 hash{};
    for (std::uint64_t nonce = nonce_start;; ++nonce) {
        for (int i = 0; i < 8; ++i) {
            nonce_bytes[i] = static_cast<std::uint8_t>(nonce >> (56 - 8 * i));
        }
        SHA256_CTX context = midstate;
        SHA256_Update(&context, nonce_bytes, sizeof nonce_bytes);
        SHA256_Final(hash.data(), &context);
        ++result.attempts;
        const std::uint64_t head = get_u64be(hash.data());
        if (head < target_head || (head == target_head && chain::hash_meets_target(hash, target))) {
            result.nonce = nonce;
            result.hash = hash;
            return result;
        }
        if (nonce == last) {
            return result;
        }
    }
}

}  // namespace chainmesh::consensus::pow
