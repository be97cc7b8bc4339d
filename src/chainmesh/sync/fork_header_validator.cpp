#include <chainmesh/sync/fork_header_validator.hpp>

#include <chainmesh/chain/validation.hpp>
#include <chainmesh/consensus/errors.hpp>
#include <chainmesh/sync/errors.hpp>

#include <algorithm>
#include <iterator>
#include <optional>
#include <utility>

namespace chainmesh::sync {

// The branch ending at a header: through remembered headers down to the fork choice's tree.
class ForkChoiceHeaderValidator::Branch final : public chain::HeaderBranch {
public:
    Branch(const ForkChoiceHeaderValidator& owner, const Hash256& tip)
        : m_owner(owner), m_tip(tip) {}

    const chain::BlockHeader* at_height(std::uint64_t height) const override {
        Hash256 hash = m_tip;
        for (;;) {
            if (m_owner.m_fork.contains(hash)) {
                return m_owner.m_fork.ancestor(hash, height);
            }
            const auto it = m_owner.m_headers.find(hash);
            if (it == m_owner.m_headers.end() || it->second.height < height) {
                return nullptr;
            }
            if (it->second.height == height) {
                return &it->second;
            }
            hash = it->second.previous_hash;
        }
    }

private:
    const ForkChoiceHeaderValidator& m_owner;
    Hash256 m_tip;
};

ForkChoiceHeaderValidator::ForkChoiceHeaderValidator(const chain::ForkChoice& fork,
                                                     chain::ChainParams params,
                                                     const chain::ConsensusRules& rules,
                                                     std::function<std::uint64_t()> now_ms)
    : m_fork(fork), m_params(std::move(params)), m_rules(rules), m_now_ms(std::move(now_ms)) {}

Result<chain::Work> ForkChoiceHeaderValidator::check_header(const chain::BlockHeader& header) {
    const chain::BlockHeader* parent = find(header.previous_hash);
    if (parent == nullptr) {
        return consensus::ConsensusError::unknown_ancestor;
    }
    if (m_fork.is_invalid(header.hash())) {
        return chain::ForkChoiceError::known_invalid;
    }
    const std::uint64_t fork_height = fork_point_height(header.previous_hash);
    if (m_fork.height() > fork_height + m_fork.config().max_reorg_depth) {
        return chain::ForkChoiceError::fork_too_deep;
    }
    if (auto ok = chain::check_header(header, *parent, m_params, m_now_ms()); !ok) {
        return ok.error();
    }
    const Branch branch(*this, header.previous_hash);
    if (auto ok = m_rules.check_consensus(header, *parent, branch); !ok) {
        return ok.error();
    }
    remember(header, fork_height);
    return m_rules.weight(header);
}

void ForkChoiceHeaderValidator::prune(std::uint64_t applied_height) {
    const std::uint64_t depth = m_fork.config().max_reorg_depth;
    for (auto it = m_by_height.begin(); it != m_by_height.end() && it->first <= applied_height;) {
        const bool too_deep = it->first + depth < applied_height;
        std::erase_if(it->second, [&](const Hash256& hash) {
            if (too_deep || m_fork.contains(hash)) {
                m_headers.erase(hash);
                m_fork_heights.erase(hash);
                return true;
            }
            return false;
        });
        it = it->second.empty() ? m_by_height.erase(it) : std::next(it);
    }
}

const chain::BlockHeader* ForkChoiceHeaderValidator::find(const Hash256& hash) const {
    if (const chain::BlockHeader* known = m_fork.header(hash)) {
        return known;
    }
    const auto it = m_headers.find(hash);
    return it == m_headers.end() ? nullptr : &it->second;
}

// Kept for each remembered header, else a walk down the fork choice's tree (its side
// branches are short: it refuses deep ones).
std::uint64_t ForkChoiceHeaderValidator::fork_point_height(const Hash256& parent) const {
    if (const auto cached = m_fork_heights.find(parent); cached != m_fork_heights.end()) {
        return cached->second;
    }
    for (const chain::BlockHeader* at = m_fork.header(parent); at != nullptr && at->height > 0;
         at = m_fork.header(at->previous_hash)) {
        const Hash256* active = m_fork.active_at(at->height);
        if (active != nullptr && *active == at->hash()) {
            return at->height;
        }
    }
    return 0;
}

void ForkChoiceHeaderValidator::remember(const chain::BlockHeader& header,
                                         std::uint64_t fork_height) {
    if (m_headers.size() >= MAX_REMEMBERED) {
        return;
    }
    const Hash256 hash = header.hash();
    if (m_headers.emplace(hash, header).second) {
        m_by_height[header.height].push_back(hash);
        m_fork_heights[hash] = fork_height;
    }
}

Headers headers_for(const chain::ForkChoice& fork, const GetHeaders& request) {
    const std::uint64_t start = headers_start(request, [&fork](const Hash256& hash) {
        std::optional<std::uint64_t> height;
        if (const chain::BlockHeader* header = fork.header(hash)) {
            if (const Hash256* active = fork.active_at(header->height); active && *active == hash) {
                height = header->height;
            }
        }
        return height;
    });
    Headers response;
    const std::size_t max = std::min<std::size_t>(request.max_count, MAX_HEADERS_PER_MESSAGE);
    for (std::uint64_t height = start + 1; response.headers.size() < max; ++height) {
        const Hash256* hash = fork.active_at(height);
        if (hash == nullptr) {
            break;
        }
        response.headers.push_back(*fork.header(*hash));
        if (*hash == request.stop_hash) {
            break;
        }
    }
    return response;
}

}  // namespace chainmesh::sync
