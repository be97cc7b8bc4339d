#include <chainmesh/chain/detail/formats.hpp>
#include <chainmesh/chain/detail/reader.hpp>
#include <chainmesh/chain/params.hpp>

#include <algorithm>
#include <string>

namespace chainmesh::chain {

std::string_view to_string(ConsensusKind kind) {
    switch (kind) {
        case ConsensusKind::pow:
            return "pow";
        case ConsensusKind::bft:
            return "bft";
    }
    return "unknown";
}

bool is_valid_network_id(std::string_view id) {
    if (id.empty() || id.size() > NETWORK_ID_MAX_BYTES) {
        return false;
    }
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    });
}

std::string params_problem(const ChainParams& params) {
    if (!is_valid_network_id(params.network_id)) {
        return "network = \"" + params.network_id +
               "\" is not a network id (1 to 32 characters from a-z, 0-9, '.', '_', '-')";
    }
    if (params.max_block_bytes < BLOCK_MIN_BYTES_LIMIT ||
        params.max_block_bytes > BLOCK_MAX_BYTES_LIMIT) {
        return "limits.max_block_bytes = " + std::to_string(params.max_block_bytes) +
               " is outside " + std::to_string(BLOCK_MIN_BYTES_LIMIT) + ".." +
               std::to_string(BLOCK_MAX_BYTES_LIMIT);
    }
    if (params.max_block_transactions < 1 ||
        params.max_block_transactions > BLOCK_MAX_TRANSACTIONS_LIMIT) {
        return "limits.max_block_transactions = " + std::to_string(params.max_block_transactions) +
               " is outside 1.." + std::to_string(BLOCK_MAX_TRANSACTIONS_LIMIT);
    }
    if (params.consensus == ConsensusKind::pow) {
        const auto& target = params.pow.initial_target;
        if (std::all_of(target.begin(), target.end(), [](std::uint8_t b) { return b == 0; })) {
            return "consensus.pow.initial_target is zero: no block could ever meet it";
        }
        if (params.pow.target_block_time_ms == 0) {
            return "consensus.pow.target_block_time_ms = 0 must be at least 1";
        }
        if (params.pow.retarget_window == 0) {
            return "consensus.pow.retarget_window = 0 must be at least 1";
        }
        if (params.pow.max_reorg_depth == 0) {
            return "consensus.pow.max_reorg_depth = 0 must be at least 1";
        }
    } else {
        return "consensus.kind = \"" + std::string(to_string(params.consensus)) +
               "\" is not supported yet (only \"pow\")";
    }
    return {};
}

Bytes ChainParams::encode() const {
    Bytes out;
    out.reserve(128);
    out.push_back(detail::PARAMS_FORMAT);
    out.push_back(static_cast<std::uint8_t>(network_id.size()));
    append(out, network_id);
    put_u64be(out, block_reward);
    put_u32be(out, max_block_bytes);
    put_u32be(out, max_block_transactions);
    put_u64be(out, max_timestamp_drift_ms);
    out.push_back(static_cast<std::uint8_t>(consensus));
    if (consensus == ConsensusKind::pow) {
        append(out, pow.initial_target);
        put_u64be(out, pow.target_block_time_ms);
        put_u32be(out, pow.retarget_window);
        put_u32be(out, pow.max_reorg_depth);
    }
    return out;
}

Result<ChainParams> ChainParams::decode(ByteView encoded) {
    detail::Reader reader(encoded);
    if (reader.u8() != detail::PARAMS_FORMAT) {
        return ChainError::malformed;
    }
    ChainParams params;
    const std::size_t network_size = reader.u8();
    params.network_id = std::string(as_string(reader.view(network_size)));
    params.block_reward = reader.u64();
    params.max_block_bytes = reader.u32();
    params.max_block_transactions = reader.u32();
    params.max_timestamp_drift_ms = reader.u64();
    const std::uint8_t kind = reader.u8();
    if (kind != static_cast<std::uint8_t>(ConsensusKind::pow)) {
        return ChainError::malformed;
    }
    params.consensus = ConsensusKind::pow;
    reader.array(params.pow.initial_target);
    params.pow.target_block_time_ms = reader.u64();
    params.pow.retarget_window = reader.u32();
    params.pow.max_reorg_depth = reader.u32();
    if (!reader.at_end() || !params_problem(params).empty()) {
        return ChainError::malformed;
    }
    return params;
}

Hash256 target_from_difficulty(std::uint64_t difficulty) {
    __extension__ using Wide = unsigned __int128;
    Hash256 target{};
    if (difficulty == 0) {
        return target;
    }
    // Long division of 2^256 - 1 (all ones) by a 64-bit divisor, one 64-bit limb at a time;
    // the remainder stays below the divisor, so remainder * 2^64 + limb fits in 128 bits.
    std::uint64_t remainder = 0;
    for (std::size_t limb = 0; limb < 4; ++limb) {
        const Wide dividend = (Wide{remainder} << 64) | Wide{~std::uint64_t{0}};
        const auto quotient = static_cast<std::uint64_t>(dividend / difficulty);
        remainder = static_cast<std::uint64_t>(dividend % difficulty);
        for (std::size_t i = 0; i < 8; ++i) {
            target[limb * 8 + i] = static_cast<std::uint8_t>(quotient >> (56 - 8 * i));
        }
    }
    return target;
}

bool hash_meets_target(const Hash256& hash, const Hash256& target) {
    return !std::lexicographical_compare(target.begin(), target.end(), hash.begin(), hash.end());
}

}  // namespace chainmesh::chain
