#include <chainmesh/chain/detail/require.hpp>
#include <chainmesh/chain/fork_choice.hpp>
#include <chainmesh/chain/validation.hpp>

#include <algorithm>
#include <deque>
#include <utility>

namespace chainmesh::chain {

bool is_sender_fault(const ErrorCode& reason) {
    return reason != ForkChoiceError::already_known && reason != ForkChoiceError::unknown_parent &&
           reason != ForkChoiceError::fork_too_deep &&
           reason != ForkChoiceError::orphan_too_large &&
           reason != ChainError::timestamp_too_far_in_future;
}

std::string_view describe(ForkChoiceError e) {
    switch (e) {
        case ForkChoiceError::already_known:
            return "block or header already known";
        case ForkChoiceError::known_invalid:
            return "block was found invalid before";
        case ForkChoiceError::unknown_parent:
            return "parent header unknown";
        case ForkChoiceError::invalid_parent:
            return "parent block is invalid";
        case ForkChoiceError::fork_too_deep:
            return "branch forks deeper than the maximum reorg depth";
        case ForkChoiceError::orphan_too_large:
            return "orphan block larger than the orphan pool";
    }
    return "unknown fork choice error";
}

std::string_view name(ForkChoiceError e) {
    switch (e) {
        case ForkChoiceError::already_known:
            return "already_known";
        case ForkChoiceError::known_invalid:
            return "known_invalid";
        case ForkChoiceError::unknown_parent:
            return "unknown_parent";
        case ForkChoiceError::invalid_parent:
            return "invalid_parent";
        case ForkChoiceError::fork_too_deep:
            return "fork_too_deep";
        case ForkChoiceError::orphan_too_large:
            return "orphan_too_large";
    }
    return "unknown";
}

// --- Work ----------------------------------------------------------------------------------

Work Work::from_u64(std::uint64_t value) {
    Work w;
    w.limbs[3] = value;
    return w;
}

Work Work::from_bytes(const Hash256& big_endian) {
    Work w;
    for (std::size_t i = 0; i < 4; ++i) {
        w.limbs[i] = get_u64be(big_endian.data() + 8 * i);
    }
    return w;
}

Work Work::max() {
    Work w;
    w.limbs.fill(~std::uint64_t{0});
    return w;
}

Hash256 Work::to_bytes() const {
    Hash256 out{};
    for (std::size_t i = 0; i < 4; ++i) {
        for (std::size_t b = 0; b < 8; ++b) {
            out[8 * i + b] = static_cast<std::uint8_t>(limbs[i] >> (56 - 8 * b));
        }
    }
    return out;
}

Work operator+(const Work& a, const Work& b) {
    Work sum;
    std::uint64_t carry = 0;
    for (std::size_t i = 4; i-- > 0;) {
        const std::uint64_t partial = a.limbs[i] + b.limbs[i];
        const std::uint64_t carry_a = partial < a.limbs[i] ? 1 : 0;
        sum.limbs[i] = partial + carry;
        const std::uint64_t carry_b = sum.limbs[i] < partial ? 1 : 0;
        carry = carry_a | carry_b;
    }
    return carry != 0 ? Work::max() : sum;
}

// --- ForkChoice ----------------------------------------------------------------------------

bool ForkChoice::BetterFirst::operator()(const Node* a, const Node* b) const {
    if (a->chain_work != b->chain_work) {
        return a->chain_work > b->chain_work;
    }
    return a->candidate_order < b->candidate_order;
}

ForkChoice::ForkChoice(ChainParams params, ForkChoiceConfig config, const ConsensusRules& rules,
                       const BlockHeader& genesis)
    : m_params(std::move(params)), m_config(config), m_rules(&rules) {
    CHAINMESH_CHAIN_REQUIRE(m_config.max_reorg_depth >= 1);
    CHAINMESH_CHAIN_REQUIRE(genesis.height == 0);
    auto node = std::make_unique<Node>();
    node->header = genesis;
    node->hash = genesis.hash();
    node->height = 0;
    node->chain_work = m_rules->weight(genesis);
    node->has_body = true;
    node->complete = true;
    node->candidate_order = m_next_candidate_order++;
    Node* root = node.get();
    m_nodes.emplace(root->hash, std::move(node));
    m_chain.push_back(root);
    m_candidates.insert(root);
}

ForkChoice::~ForkChoice() = default;

std::vector<ForkChoiceEvent> ForkChoice::take_events() {
    std::vector<ForkChoiceEvent> out;
    out.swap(m_events);
    return out;
}

// --- queries -------------------------------------------------------------------------------

const ForkChoice::Node* ForkChoice::find(const Hash256& hash) const {
    const auto it = m_nodes.find(hash);
    return it == m_nodes.end() ? nullptr : it->second.get();
}

ForkChoice::Node* ForkChoice::find(const Hash256& hash) {
    const auto it = m_nodes.find(hash);
    return it == m_nodes.end() ? nullptr : it->second.get();
}

const Hash256& ForkChoice::tip_hash() const {
    return m_chain.back()->hash;
}

const BlockHeader& ForkChoice::tip() const {
    return m_chain.back()->header;
}

const Work& ForkChoice::tip_work() const {
    return m_chain.back()->chain_work;
}

bool ForkChoice::is_invalid(const Hash256& hash) const {
    const Node* node = find(hash);
    return node != nullptr && node->invalid;
}

const BlockHeader* ForkChoice::header(const Hash256& hash) const {
    const Node* node = find(hash);
    return node == nullptr ? nullptr : &node->header;
}

std::optional<Work> ForkChoice::chain_work(const Hash256& hash) const {
    const Node* node = find(hash);
    if (node == nullptr) {
        return std::nullopt;
    }
    return node->chain_work;
}

const Hash256* ForkChoice::active_at(std::uint64_t height) const {
    return height < m_chain.size() ? &m_chain[height]->hash : nullptr;
}

const BlockHeader* ForkChoice::ancestor(const Hash256& tip, std::uint64_t height) const {
    const Node* node = ancestor_of(find(tip), height);
    return node == nullptr ? nullptr : &node->header;
}

std::optional<ForkChoice::BranchView> ForkChoice::branch(const Hash256& tip) const {
    const Node* node = find(tip);
    if (node == nullptr) {
        return std::nullopt;
    }
    return BranchView(*this, *node);
}

const BlockHeader* ForkChoice::BranchView::at_height(std::uint64_t height) const {
    const Node* node = m_tree->ancestor_of(m_tip, height);
    return node == nullptr ? nullptr : &node->header;
}

const Hash256& ForkChoice::BranchView::tip_hash() const {
    return m_tip->hash;
}

bool ForkChoice::on_active_chain(const Node* node) const {
    return node->height < m_chain.size() && m_chain[node->height] == node;
}

ForkChoice::Node* ForkChoice::ancestor_of(const Node* from, std::uint64_t height) const {
    if (from == nullptr || height > from->height) {
        return nullptr;
    }
    // The tree owns its nodes; a const tree only promises not to change them itself.
    Node* node = const_cast<Node*>(from);
    // Skip pointers jump to the ancestor at height & (height - 1), so any ancestor is
    // O(log² n) steps away; once on the active chain, the chain's index answers at once.
    while (node->height > height) {
        if (on_active_chain(node)) {
            return m_chain[height];
        }
        node = node->skip != nullptr && node->skip->height >= height ? node->skip : node->parent;
    }
    return node;
}

const ForkChoice::Node* ForkChoice::fork_point_within_depth(const Node* node) const {
    const std::uint64_t tip_height = height();
    const Node* fork = node;
    if (!on_active_chain(node)) {
        // The heights at which the branch and the active chain agree form a prefix
        // [0, fork height]: binary search for its end.
        std::uint64_t low = 0;  // genesis is common to all
        std::uint64_t high = std::min(node->height, tip_height);
        while (low < high) {
            const std::uint64_t middle = low + (high - low + 1) / 2;
            if (ancestor_of(node, middle) == m_chain[middle]) {
                low = middle;
            } else {
                high = middle - 1;
            }
        }
        fork = m_chain[low];
    }
    if (tip_height - std::min(tip_height, fork->height) > m_config.max_reorg_depth) {
        return nullptr;
    }
    return fork;
}

// --- inputs --------------------------------------------------------------------------------

void ForkChoice::reject(const Hash256& hash, ErrorCode reason) {
    m_events.emplace_back(Rejected{hash, reason});
}

void ForkChoice::add_block(Block block, std::uint64_t now_ms) {
    const Hash256 hash = block.hash();
    if (Node* node = find(hash)) {
        if (node->invalid) {
            reject(hash, ForkChoiceError::known_invalid);
            return;
        }
        if (node->has_body) {
            reject(hash, ForkChoiceError::already_known);
            return;
        }
        if (auto body = check_block_body(block, m_params); !body) {
            reject(hash, body.error());
            return;
        }
        m_events.emplace_back(BlockAccepted{std::move(block)});
        set_body(*node);
        choose_best();
        return;
    }
    if (m_orphans.contains(hash)) {
        reject(hash, ForkChoiceError::already_known);
        return;
    }
    if (auto body = check_block_body(block, m_params); !body) {
        reject(hash, body.error());
        return;
    }
    Node* parent = find(block.header.previous_hash);
    if (parent == nullptr) {
        add_orphan(std::move(block), hash);
        return;
    }
    Node* node = insert_header(block.header, hash, *parent, now_ms);
    if (node == nullptr) {
        return;
    }
    m_events.emplace_back(BlockAccepted{std::move(block)});
    set_body(*node);
    attach_orphans(hash, now_ms);
    choose_best();
}

void ForkChoice::add_header(const BlockHeader& header, std::uint64_t now_ms) {
    const Hash256 hash = header.hash();
    if (const Node* node = find(hash)) {
        reject(hash,
               node->invalid ? ForkChoiceError::known_invalid : ForkChoiceError::already_known);
        return;
    }
    Node* parent = find(header.previous_hash);
    if (parent == nullptr) {
        reject(hash, ForkChoiceError::unknown_parent);
        return;
    }
    if (insert_header(header, hash, *parent, now_ms) == nullptr) {
        return;
    }
    m_events.emplace_back(HeaderAccepted{hash, header.height});
    attach_orphans(hash, now_ms);
    choose_best();
}

void ForkChoice::mark_invalid(const Hash256& block, ErrorCode reason, const Hash256& state_tip) {
    (void)reason;  // the caller logs it; the tree only remembers that the block is invalid
    Node* node = find(block);
    Node* stopped = find(state_tip);
    CHAINMESH_CHAIN_REQUIRE(node != nullptr && node->parent != nullptr && !node->invalid);
    CHAINMESH_CHAIN_REQUIRE(stopped != nullptr && node->parent == stopped);
    CHAINMESH_CHAIN_REQUIRE(on_active_chain(stopped));
    // The state is at `stopped`: the active chain ends there until the next plan.
    m_chain.resize(stopped->height + 1);
    invalidate(*node);
    const std::size_t events_before = m_events.size();
    choose_best();
    const bool announced = std::any_of(
        m_events.begin() + static_cast<std::ptrdiff_t>(events_before), m_events.end(),
        [](const ForkChoiceEvent& event) { return std::holds_alternative<NewBestTip>(event); });
    if (!announced) {
        // The caller's state stopped short of the last plan's tip: say where the tip is now.
        NewBestTip stay;
        stay.previous_tip = stopped->hash;
        stay.tip = stopped->hash;
        stay.height = stopped->height;
        stay.fork_point = stopped->hash;
        m_events.emplace_back(std::move(stay));
    }
}

Result<void> ForkChoice::restore_applied(const BlockHeader& header) {
    Node& parent = *m_chain.back();
    if (header.previous_hash != parent.hash || header.height != parent.height + 1 ||
        !m_orphans.empty()) {
        return ChainError::wrong_parent;
    }
    auto owned = std::make_unique<Node>();
    Node& node = *owned;
    node.header = header;
    node.hash = header.hash();
    node.parent = &parent;
    node.height = header.height;
    node.skip = ancestor_of(&parent, node.height & (node.height - 1));
    node.chain_work = parent.chain_work + m_rules->weight(header);
    node.has_body = true;
    node.complete = true;
    node.candidate_order = m_next_candidate_order++;
    parent.children.push_back(&node);
    m_candidates.erase(&parent);
    m_candidates.insert(&node);
    m_chain.push_back(&node);
    m_nodes.emplace(node.hash, std::move(owned));
    return {};
}

ForkChoice::Node* ForkChoice::insert_header(const BlockHeader& header, const Hash256& hash,
                                            Node& parent, std::uint64_t now_ms) {
    if (parent.invalid) {
        reject(hash, ForkChoiceError::invalid_parent);
        return nullptr;
    }
    if (auto checked = check_header(header, parent.header, m_params, now_ms); !checked) {
        reject(hash, checked.error());
        return nullptr;
    }
    if (auto checked = m_rules->check_consensus(header, parent.header, BranchView(*this, parent));
        !checked) {
        reject(hash, checked.error());
        return nullptr;
    }
    if (fork_point_within_depth(&parent) == nullptr) {
        reject(hash, ForkChoiceError::fork_too_deep);
        return nullptr;
    }
    auto owned = std::make_unique<Node>();
    Node& node = *owned;
    node.header = header;
    node.hash = hash;
    node.parent = &parent;
    node.height = header.height;
    node.skip = ancestor_of(&parent, node.height & (node.height - 1));
    const Work weight = m_rules->weight(header);
    CHAINMESH_CHAIN_REQUIRE(weight != Work{});  // a chain's weight must grow with every block
    node.chain_work = parent.chain_work + weight;
    parent.children.push_back(&node);
    m_nodes.emplace(hash, std::move(owned));
    return &node;
}

void ForkChoice::set_body(Node& node) {
    node.has_body = true;
    if (node.parent->complete) {
        make_complete_from(node);
    }
}

void ForkChoice::make_complete_from(Node& first) {
    // Breadth first over descendants whose bodies are already here (headers-first sync: the
    // body that fills the gap completes everything above it).
    std::deque<Node*> queue{&first};
    while (!queue.empty()) {
        Node* node = queue.front();
        queue.pop_front();
        node->complete = true;
        node->candidate_order = m_next_candidate_order++;
        if (!node->invalid) {
            m_candidates.erase(node->parent);
            m_candidates.insert(node);
        }
        for (Node* child : node->children) {
            if (child->has_body && !child->complete) {
                queue.push_back(child);
            }
        }
    }
}

void ForkChoice::invalidate(Node& root) {
    std::vector<Node*> stack{&root};
    while (!stack.empty()) {
        Node* node = stack.back();
        stack.pop_back();
        if (node->complete && !node->invalid) {
            m_candidates.erase(node);
        }
        node->invalid = true;
        for (Node* child : node->children) {
            stack.push_back(child);
        }
    }
    Node* parent = root.parent;
    if (parent != nullptr && parent->complete && !parent->invalid &&
        std::none_of(parent->children.begin(), parent->children.end(),
                     [](const Node* child) { return child->complete && !child->invalid; })) {
        m_candidates.insert(parent);
    }
}

void ForkChoice::choose_best() {
    for (;;) {
        CHAINMESH_CHAIN_REQUIRE(!m_candidates.empty());
        Node* best = *m_candidates.begin();
        Node* old_tip = m_chain.back();
        if (best == old_tip) {
            return;
        }
        const Node* fork = fork_point_within_depth(best);
        if (fork == nullptr) {
            // Rule 4: the whole branch above its fork point forks too deep; it stays refused.
            Node* deepest = best;
            while (!on_active_chain(deepest->parent)) {
                deepest = deepest->parent;
            }
            reject(best->hash, ForkChoiceError::fork_too_deep);
            invalidate(*deepest);
            continue;
        }
        NewBestTip plan;
        plan.previous_tip = old_tip->hash;
        plan.tip = best->hash;
        plan.height = best->height;
        plan.fork_point = fork->hash;
        for (std::uint64_t h = old_tip->height; h > fork->height; --h) {
            plan.revert.push_back(m_chain[h]->hash);
        }
        std::vector<Node*> path;
        for (Node* node = best; node != fork; node = node->parent) {
            path.push_back(node);
        }
        std::reverse(path.begin(), path.end());
        m_chain.resize(fork->height + 1);
        plan.apply.reserve(path.size());
        for (Node* node : path) {
            m_chain.push_back(node);
            plan.apply.push_back(node->hash);
        }
        m_events.emplace_back(std::move(plan));
        return;
    }
}

// --- orphans -------------------------------------------------------------------------------

void ForkChoice::add_orphan(Block block, const Hash256& hash) {
    const std::uint64_t height = block.header.height;
    if (height == 0) {
        reject(hash, ChainError::wrong_height);
        return;
    }
    // Its fork point would be at most height - 1, more than max_reorg_depth below the tip.
    const std::uint64_t tip_height = this->height();
    if (tip_height >= m_config.max_reorg_depth && height <= tip_height - m_config.max_reorg_depth) {
        reject(hash, ForkChoiceError::fork_too_deep);
        return;
    }
    const std::size_t bytes = block.encoded_size();
    if (bytes > m_config.orphan_max_bytes) {
        reject(hash, ForkChoiceError::orphan_too_large);
        return;
    }
    const Hash256 parent = block.header.previous_hash;
    const std::uint64_t order = m_next_orphan_order++;
    m_orphans.emplace(hash, Orphan{std::move(block), bytes, order});
    m_orphans_by_age.emplace(order, hash);
    m_orphans_by_parent.emplace(parent, hash);
    m_orphan_bytes += bytes;

    Hash256 missing = parent;
    for (std::size_t steps = 0; steps < m_orphans.size(); ++steps) {
        const auto it = m_orphans.find(missing);
        if (it == m_orphans.end()) {
            break;
        }
        missing = it->second.block.header.previous_hash;
    }
    m_events.emplace_back(BlockOrphaned{hash, missing});

    while (!m_orphans.empty() && (m_orphans.size() > m_config.orphan_max_blocks ||
                                  m_orphan_bytes > m_config.orphan_max_bytes)) {
        erase_orphan(m_orphans_by_age.begin()->second);
    }
}

Block ForkChoice::erase_orphan(const Hash256& hash) {
    const auto it = m_orphans.find(hash);
    CHAINMESH_CHAIN_REQUIRE(it != m_orphans.end());
    const Hash256 parent = it->second.block.header.previous_hash;
    auto [first, last] = m_orphans_by_parent.equal_range(parent);
    for (auto entry = first; entry != last; ++entry) {
        if (entry->second == hash) {
            m_orphans_by_parent.erase(entry);
            break;
        }
    }
    m_orphans_by_age.erase(it->second.order);
    m_orphan_bytes -= it->second.bytes;
    Block block = std::move(it->second.block);
    m_orphans.erase(it);
    return block;
}

void ForkChoice::drop_orphans_waiting_for(const Hash256& hash) {
    std::vector<Hash256> stack{hash};
    while (!stack.empty()) {
        const Hash256 parent = stack.back();
        stack.pop_back();
        std::vector<Hash256> waiting;
        auto [first, last] = m_orphans_by_parent.equal_range(parent);
        for (auto entry = first; entry != last; ++entry) {
            waiting.push_back(entry->second);
        }
        for (const Hash256& child : waiting) {
            erase_orphan(child);
            reject(child, ForkChoiceError::invalid_parent);
            stack.push_back(child);
        }
    }
}

void ForkChoice::attach_orphans(const Hash256& parent_hash, std::uint64_t now_ms) {
    std::deque<Hash256> queue{parent_hash};
    while (!queue.empty()) {
        const Hash256 parent_of_next = queue.front();
        queue.pop_front();
        std::vector<Hash256> waiting;
        auto [first, last] = m_orphans_by_parent.equal_range(parent_of_next);
        for (auto entry = first; entry != last; ++entry) {
            waiting.push_back(entry->second);
        }
        if (waiting.empty()) {
            continue;
        }
        Node* parent = find(parent_of_next);
        CHAINMESH_CHAIN_REQUIRE(parent != nullptr);
        for (const Hash256& hash : waiting) {
            Block block = erase_orphan(hash);
            Node* node = insert_header(block.header, hash, *parent, now_ms);
            if (node == nullptr) {
                drop_orphans_waiting_for(hash);
                continue;
            }
            m_events.emplace_back(BlockAccepted{std::move(block)});
            set_body(*node);
            queue.push_back(hash);
        }
    }
}

// --- invariants ----------------------------------------------------------------------------

void ForkChoice::check_invariants() const {
    const Node* genesis = m_chain.front();
    CHAINMESH_CHAIN_REQUIRE(genesis->parent == nullptr && genesis->height == 0);
    CHAINMESH_CHAIN_REQUIRE(genesis->complete && !genesis->invalid);
    std::size_t expected_candidates = 0;
    for (const auto& [hash, owned] : m_nodes) {
        const Node* node = owned.get();
        CHAINMESH_CHAIN_REQUIRE(node->hash == hash && node->header.hash() == hash);
        CHAINMESH_CHAIN_REQUIRE(node->height == node->header.height);
        for (const Node* child : node->children) {
            CHAINMESH_CHAIN_REQUIRE(child->parent == node);
            CHAINMESH_CHAIN_REQUIRE(!node->invalid || child->invalid);
        }
        if (node != genesis) {
            const Node* parent = node->parent;
            CHAINMESH_CHAIN_REQUIRE(parent != nullptr && find(parent->hash) == parent);
            CHAINMESH_CHAIN_REQUIRE(node->height == parent->height + 1);
            CHAINMESH_CHAIN_REQUIRE(node->header.previous_hash == parent->hash);
            CHAINMESH_CHAIN_REQUIRE(
                std::count(parent->children.begin(), parent->children.end(), node) == 1);
            CHAINMESH_CHAIN_REQUIRE(node->chain_work ==
                                    parent->chain_work + m_rules->weight(node->header));
            CHAINMESH_CHAIN_REQUIRE(node->complete == (node->has_body && parent->complete));
            std::uint64_t skip_height = node->height & (node->height - 1);
            const Node* walk = node;
            while (walk->height > skip_height) {
                walk = walk->parent;
            }
            CHAINMESH_CHAIN_REQUIRE(node->skip == walk);
        }
        const bool candidate =
            node->complete && !node->invalid &&
            std::none_of(node->children.begin(), node->children.end(),
                         [](const Node* child) { return child->complete && !child->invalid; });
        CHAINMESH_CHAIN_REQUIRE(candidate == m_candidates.contains(const_cast<Node*>(node)));
        expected_candidates += candidate ? 1 : 0;
        CHAINMESH_CHAIN_REQUIRE(!m_orphans.contains(hash));
    }
    CHAINMESH_CHAIN_REQUIRE(m_candidates.size() == expected_candidates);
    CHAINMESH_CHAIN_REQUIRE(*m_candidates.begin() == m_chain.back());
    for (std::size_t h = 0; h < m_chain.size(); ++h) {
        const Node* node = m_chain[h];
        CHAINMESH_CHAIN_REQUIRE(node->height == h && node->complete && !node->invalid);
        CHAINMESH_CHAIN_REQUIRE(h == 0 || node->parent == m_chain[h - 1]);
    }

    std::size_t bytes = 0;
    CHAINMESH_CHAIN_REQUIRE(m_orphans.size() <= m_config.orphan_max_blocks);
    CHAINMESH_CHAIN_REQUIRE(m_orphans_by_age.size() == m_orphans.size());
    CHAINMESH_CHAIN_REQUIRE(m_orphans_by_parent.size() == m_orphans.size());
    for (const auto& entry : m_orphans) {
        const Hash256& hash = entry.first;  // named: lambdas cannot capture bindings in C++20
        const Orphan& orphan = entry.second;
        bytes += orphan.bytes;
        CHAINMESH_CHAIN_REQUIRE(orphan.block.hash() == hash);
        CHAINMESH_CHAIN_REQUIRE(orphan.bytes == orphan.block.encoded_size());
        CHAINMESH_CHAIN_REQUIRE(!m_nodes.contains(orphan.block.header.previous_hash));
        const auto age = m_orphans_by_age.find(orphan.order);
        CHAINMESH_CHAIN_REQUIRE(age != m_orphans_by_age.end() && age->second == hash);
        auto [first, last] = m_orphans_by_parent.equal_range(orphan.block.header.previous_hash);
        CHAINMESH_CHAIN_REQUIRE(std::count_if(first, last, [&](const auto& waiting) {
                                    return waiting.second == hash;
                                }) == 1);
    }
    CHAINMESH_CHAIN_REQUIRE(bytes == m_orphan_bytes && bytes <= m_config.orphan_max_bytes);
}

}  // namespace chainmesh::chain
