#pragma once
// The sync engine's header checks against a fork choice (sync_engine.hpp's HeaderValidator),
// and the header answers a fork choice gives: what the node and the simulator both use, so
// that the simulator tests the same rules.
//
// A header passes when its parent is known (in the fork choice's tree, or a header this
// validator passed before: the header chain runs ahead of the blocks applied), it is not
// known invalid, its branch forks from the active chain at most max_reorg_depth below the
// active tip, and it passes chain::check_header and the consensus rules against its branch.
//
// Rules, each with its rationale:
// 1. A branch forking deeper than the fork choice will ever switch to is refused here
//    (fork_too_deep), or sync would download it forever for the fork choice to refuse.
// 2. Headers passed are remembered with their fork height until prune() finds them in the
//    fork choice or too deep to matter. Headers of a branch still being fetched stay whatever
//    their height: a node mining its own branch moves its tip past them while it downloads a
//    heavier one (pruning by height alone once made honest peers look invalid).
//
// Bounds: at most MAX_REMEMBERED headers; past it a header still passes but is not kept (its
// child then fails unknown_ancestor, and the engine asks again later). Each costs a
// BlockHeader plus two map entries. check_header costs the checks plus O(reorg depth) lookups
// for a header whose parent the tree holds.
//
// Not thread-safe; the owner of the fork choice calls it. Time comes from `now_ms`.

#include <chainmesh/chain/fork_choice.hpp>
#include <chainmesh/chain/params.hpp>
#include <chainmesh/sync/sync_engine.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

namespace chainmesh::sync {

class ForkChoiceHeaderValidator final : public HeaderValidator {
public:
    static constexpr std::size_t MAX_REMEMBERED = 200'000;

    // `fork` and `rules` must outlive the validator; `now_ms` is the caller's clock.
    ForkChoiceHeaderValidator(const chain::ForkChoice& fork, chain::ChainParams params,
                              const chain::ConsensusRules& rules,
                              std::function<std::uint64_t()> now_ms);

    Result<chain::Work> check_header(const chain::BlockHeader& header) override;

    // Forgets remembered headers at or below `applied_height` that the fork choice now holds,
    // and those too far below it to ever be reorganised to (rule 2).
    void prune(std::uint64_t applied_height);

    std::size_t remembered() const { return m_headers.size(); }

private:
    class Branch;

    const chain::BlockHeader* find(const Hash256& hash) const;
    std::uint64_t fork_point_height(const Hash256& parent) const;
    void remember(const chain::BlockHeader& header, std::uint64_t fork_height);

    const chain::ForkChoice& m_fork;
    chain::ChainParams m_params;
    const chain::ConsensusRules& m_rules;
    std::function<std::uint64_t()> m_now_ms;
    std::map<Hash256, chain::BlockHeader> m_headers;
    std::map<Hash256, std::uint64_t> m_fork_heights;  // of each header in m_headers
    std::map<std::uint64_t, std::vector<Hash256>> m_by_height;
};

// The responder's side of GetHeaders against the fork choice's active chain: from the first
// locator hash on it (headers_start), up to the request's max_count (at most
// MAX_HEADERS_PER_MESSAGE), stopping after stop_hash.
Headers headers_for(const chain::ForkChoice& fork, const GetHeaders& request);

}  // namespace chainmesh::sync
