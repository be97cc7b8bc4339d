#include <chainmesh/chain/validation.hpp>
#include <chainmesh/mempool/mempool.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <numeric>
#include <queue>

namespace chainmesh::mempool {

namespace {

__extension__ using U128 = unsigned __int128;

constexpr std::uint64_t U64_MAX = std::numeric_limits<std::uint64_t>::max();

[[noreturn]] void invariant_failed(const char* what, int line) {
    std::fprintf(stderr, "mempool.cpp:%d: invariant broken: %s\n", line, what);
    std::abort();
}

#define MEMPOOL_REQUIRE(condition)                  \
    do {                                            \
        if (!(condition)) {                         \
            invariant_failed(#condition, __LINE__); \
        }                                           \
    } while (false)

// Rules 6 and 7 share one total order: fee per byte, then nonce (lower first), then id.
// The rates compare as fractions, exactly: fee_a / size_a > fee_b / size_b.
bool better(const VerifiedTransaction& a, const VerifiedTransaction& b) {
    const U128 rate_a = U128{a.fee()} * b.size();
    const U128 rate_b = U128{b.fee()} * a.size();
    if (rate_a != rate_b) {
        return rate_a > rate_b;
    }
    if (a.nonce() != b.nonce()) {
        return a.nonce() < b.nonce();
    }
    return a.id() < b.id();
}

bool fee_bump_enough(std::uint64_t old_fee, std::uint64_t new_fee, std::uint32_t bump_percent) {
    return new_fee > old_fee && U128{new_fee} * 100 >= U128{old_fee} * (100 + U128{bump_percent});
}

}  // namespace

bool Mempool::WorseFirst::operator()(const Entry* a, const Entry* b) const {
    return better(b->tx, a->tx);
}

bool Mempool::BetterHeadFirst::operator()(const Sender* a, const Sender* b) const {
    return better(a->chain.front()->tx, b->chain.front()->tx);
}

Mempool::Mempool(MempoolConfig config, chain::ChainParams params)
    : m_config(config), m_params(std::move(params)) {
    MEMPOOL_REQUIRE(m_config.max_per_sender >= 1);
}

const chain::Transaction* Mempool::find(const Hash256& id) const {
    const auto it = m_entries.find(id);
    return it == m_entries.end() ? nullptr : &it->second.tx.transaction();
}

void Mempool::mark_local(const Hash256& id) {
    if (m_entries.contains(id) && m_local.size() < MAX_LOCAL_TRANSACTIONS) {
        m_local.insert(id);
    }
}

std::vector<const chain::Transaction*> Mempool::local_transactions() {
    std::vector<const chain::Transaction*> pooled;
    for (auto it = m_local.begin(); it != m_local.end();) {
        if (const chain::Transaction* tx = find(*it)) {
            pooled.push_back(tx);
            ++it;
        } else {
            it = m_local.erase(it);
        }
    }
    return pooled;
}

std::optional<std::uint64_t> Mempool::pending_nonce(const chain::Address& sender) const {
    const auto it = m_senders.find(sender);
    if (it == m_senders.end()) {
        return std::nullopt;
    }
    return it->second.chain.front()->tx.nonce() + it->second.chain.size();
}

Mempool::Entry& Mempool::insert_entry(VerifiedTransaction tx, std::uint64_t cost, Sender& sender) {
    const Hash256 id = tx.id();
    const std::size_t size = tx.size();
    auto [it, added] = m_entries.try_emplace(id, Entry{std::move(tx), cost, &sender});
    MEMPOOL_REQUIRE(added);
    Entry& entry = it->second;
    sender.chain.push_back(&entry);
    sender.cost += cost;
    m_bytes += size;
    m_by_fee_rate.insert(&entry);
    if (sender.chain.size() == 1) {
        m_heads.insert(&sender);
    }
    return entry;
}

VerifiedTransaction Mempool::pop_back(Sender& sender) {
    Entry* entry = sender.chain.back();
    if (sender.chain.size() == 1) {
        m_heads.erase(&sender);  // before the head it is ordered by goes
    }
    m_by_fee_rate.erase(entry);
    sender.chain.pop_back();
    sender.cost -= entry->cost;
    m_bytes -= entry->tx.size();
    const Hash256 id = entry->tx.id();  // not a reference into the node extracted
    auto node = m_entries.extract(id);
    return std::move(node.mapped().tx);
}

void Mempool::remove_sender_if_empty(Sender& sender) {
    if (sender.chain.empty()) {
        const chain::Address address = sender.address;  // not a reference into the node
        m_senders.erase(address);
    }
}

std::size_t Mempool::remove_with_successors(const Entry& entry) {
    Sender& sender = *entry.sender;
    std::size_t removed = 0;
    for (;;) {
        const bool last = sender.chain.back() == &entry;
        pop_back(sender);
        ++removed;
        if (last) {
            break;
        }
    }
    remove_sender_if_empty(sender);
    return removed;
}

std::size_t Mempool::enforce_bounds() {
    std::size_t evicted = 0;
    while (m_bytes > m_config.max_bytes || m_entries.size() > m_config.max_transactions) {
        evicted += remove_with_successors(**m_by_fee_rate.begin());
    }
    return evicted;
}

Result<Admitted> Mempool::admit(VerifiedTransaction tx, const chain::AccountState& tip) {
    if (m_entries.contains(tx.id())) {
        return MempoolError::already_known;
    }
    const chain::Account account = tip.account(tx.sender());
    const auto found = m_senders.find(tx.sender());
    Sender* sender = found == m_senders.end() ? nullptr : &found->second;
    const std::uint64_t base = sender ? sender->chain.front()->tx.nonce() : account.nonce;
    const std::size_t pending = sender ? sender->chain.size() : 0;
    const chain::Transaction& body = tx.transaction();
    if (tx.nonce() < base) {
        return chain::ChainError::nonce_too_low;
    }

    Admitted admitted;
    if (tx.nonce() - base < pending) {
        // Rule 5: replace-by-fee.
        const std::size_t index = static_cast<std::size_t>(tx.nonce() - base);
        Entry* old = sender->chain[index];
        if (!fee_bump_enough(old->tx.fee(), tx.fee(), m_config.replacement_fee_bump_percent)) {
            return MempoolError::replacement_underpriced;
        }
        const std::uint64_t others = sender->cost - old->cost;
        if (body.amount > U64_MAX - body.fee || others > U64_MAX - (body.amount + body.fee) ||
            others + body.amount + body.fee > account.balance) {
            return chain::ChainError::insufficient_balance;
        }
        const std::uint64_t cost = body.amount + body.fee;
        admitted.replaced = old->tx.id();
        if (index == 0) {
            m_heads.erase(sender);
        }
        m_by_fee_rate.erase(old);
        sender->cost -= old->cost;
        m_bytes -= old->tx.size();
        const Hash256 old_id = old->tx.id();  // not a reference into the node erased
        m_entries.erase(old_id);
        const Hash256 id = tx.id();
        const std::size_t size = tx.size();
        Entry& entry = m_entries.try_emplace(id, Entry{std::move(tx), cost, sender}).first->second;
        sender->chain[index] = &entry;
        sender->cost += cost;
        m_bytes += size;
        m_by_fee_rate.insert(&entry);
        if (index == 0) {
            m_heads.insert(sender);
        }
        admitted.evicted = enforce_bounds();
        if (!m_entries.contains(id)) {
            return MempoolError::pool_full;
        }
        return admitted;
    }

    // Rules 3 and 4 for a new last nonce: the account as the pending chain leaves it.
    const chain::Account after{
        .balance = account.balance - std::min(account.balance, sender ? sender->cost : 0),
        .nonce = base + pending,
    };
    if (auto checked = chain::check_against_account(body, after); !checked) {
        return checked.error();
    }
    if (pending >= m_config.max_per_sender) {
        return MempoolError::sender_limit;
    }
    const std::uint64_t cost = body.amount + body.fee;  // no overflow: checked above
    if (!sender) {
        sender = &m_senders.try_emplace(tx.sender()).first->second;
        sender->address = tx.sender();
    }
    const Hash256 id = tx.id();
    insert_entry(std::move(tx), cost, *sender);
    admitted.evicted = enforce_bounds();
    if (!m_entries.contains(id)) {
        return MempoolError::pool_full;
    }
    return admitted;
}

std::vector<Result<Admitted>> Mempool::admit_batch(std::vector<VerifiedTransaction> txs,
                                                   const chain::AccountState& tip) {
    std::vector<std::size_t> order(txs.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (txs[a].sender() != txs[b].sender()) {
            return txs[a].sender() < txs[b].sender();
        }
        return txs[a].nonce() < txs[b].nonce();
    });
    std::vector<Result<Admitted>> results(txs.size());
    for (const std::size_t i : order) {
        results[i] = admit(std::move(txs[i]), tip);
    }
    return results;
}

std::vector<const chain::Transaction*> Mempool::select(SelectionBudget budget) const {
    struct Candidate {
        const Entry* entry;
        std::size_t index;  // in its sender's chain
    };
    // The heap's top is the best candidate: "less" means worse.
    const auto worse = [](const Candidate& a, const Candidate& b) {
        return better(b.entry->tx, a.entry->tx);
    };
    std::priority_queue<Candidate, std::vector<Candidate>, decltype(worse)> next(worse);

    // Every pooled transaction carries this network's id, so none is smaller than this.
    const std::size_t smallest = chain::TRANSACTION_FIXED_BYTES + m_params.network_id.size();
    std::vector<const chain::Transaction*> selected;
    selected.reserve(std::min(budget.max_transactions, m_entries.size()));
    std::size_t bytes_left = budget.max_bytes;
    std::size_t skips = 0;
    // Senders not yet started are read from m_heads in order; only started senders' next
    // transactions are in the heap, so the work is O(selected + skipped), not O(senders).
    auto head = m_heads.begin();
    while (selected.size() < budget.max_transactions && bytes_left >= smallest &&
           skips < SELECTION_MAX_SKIPS) {
        Candidate pick{};
        if (head != m_heads.end() &&
            (next.empty() || better((*head)->chain.front()->tx, next.top().entry->tx))) {
            pick = {(*head)->chain.front(), 0};
            ++head;
        } else if (!next.empty()) {
            pick = next.top();
            next.pop();
        } else {
            break;
        }
        const VerifiedTransaction& tx = pick.entry->tx;
        if (tx.size() > bytes_left) {
            ++skips;  // and its sender's later nonces are out of reach
            continue;
        }
        selected.push_back(&tx.transaction());
        bytes_left -= tx.size();
        const Sender& sender = *pick.entry->sender;
        if (pick.index + 1 < sender.chain.size()) {
            next.push({sender.chain[pick.index + 1], pick.index + 1});
        }
    }
    return selected;
}

std::vector<chain::Transaction> Mempool::select_transactions(SelectionBudget budget) const {
    std::vector<chain::Transaction> copies;
    const auto selected = select(budget);
    copies.reserve(selected.size());
    for (const chain::Transaction* tx : selected) {
        copies.push_back(*tx);
    }
    return copies;
}

TipReport Mempool::on_tip_changed(const TipChange& change, const chain::AccountState& tip) {
    TipReport report;
    // The undone blocks' transactions, by sender; they already passed these checks in a block
    // this node validated, signatures included.
    std::map<chain::Address, std::vector<VerifiedTransaction>> returning;
    std::vector<Hash256> returning_ids;
    std::set<chain::Address> affected;
    for (const chain::Transaction& tx : change.reverted) {
        affected.insert(tx.recipient);
        auto verified = VerifiedTransaction::assume_signed(tx, m_params);
        if (!verified) {
            continue;
        }
        affected.insert(verified->sender());
        if (m_entries.contains(verified->id())) {
            ++report.readmitted;  // already back (cannot happen with a consistent caller)
            continue;
        }
        returning_ids.push_back(verified->id());
        returning[verified->sender()].push_back(std::move(*verified));
    }
    for (const chain::Transaction& tx : change.connected) {
        affected.insert(tx.sender_address());
    }
    affected.insert(change.lowered.begin(), change.lowered.end());

    // One batched read of the accounts that matter (a disk-backed state can multi-get).
    std::vector<chain::Address> addresses;
    for (const chain::Address& address : affected) {
        if (returning.contains(address) || m_senders.contains(address)) {
            addresses.push_back(address);
        }
    }
    std::vector<chain::Account> accounts(addresses.size());
    tip.accounts(addresses, accounts);
    for (std::size_t i = 0; i < addresses.size(); ++i) {
        std::vector<VerifiedTransaction> back;
        if (auto it = returning.find(addresses[i]); it != returning.end()) {
            back = std::move(it->second);
        }
        rebuild(addresses[i], accounts[i], std::move(back), report);
    }
    report.evicted = enforce_bounds();
    for (const Hash256& id : returning_ids) {
        if (m_entries.contains(id)) {
            ++report.readmitted;
        }
    }
    report.dropped = change.reverted.size() - report.readmitted;
    return report;
}

void Mempool::rebuild(const chain::Address& address, const chain::Account& account,
                      std::vector<VerifiedTransaction> returning, TipReport& report) {
    Sender& sender = m_senders.try_emplace(address).first->second;
    sender.address = address;

    if (returning.empty()) {
        // The common case, a block applied: drop the stale front, then cut the chain where
        // it stops starting at the tip's nonce or fitting the balance. No entry moves.
        const bool head_leaves =
            !sender.chain.empty() && sender.chain.front()->tx.nonce() < account.nonce;
        if (head_leaves) {
            m_heads.erase(&sender);  // while the head it is ordered by is still there
        }
        while (!sender.chain.empty() && sender.chain.front()->tx.nonce() < account.nonce) {
            Entry* entry = sender.chain.front();
            m_by_fee_rate.erase(entry);
            sender.chain.pop_front();
            sender.cost -= entry->cost;
            m_bytes -= entry->tx.size();
            const Hash256 id = entry->tx.id();
            m_entries.erase(id);
            ++report.removed;
        }
        if (head_leaves && !sender.chain.empty()) {
            m_heads.insert(&sender);
        }
        std::size_t keep = 0;
        std::uint64_t spent = 0;
        if (!sender.chain.empty() && sender.chain.front()->tx.nonce() == account.nonce) {
            while (keep < sender.chain.size() &&
                   sender.chain[keep]->cost <= account.balance - spent) {
                spent += sender.chain[keep]->cost;
                ++keep;
            }
        }
        while (sender.chain.size() > keep) {
            pop_back(sender);
            ++report.removed;
        }
        remove_sender_if_empty(sender);
        return;
    }

    // A reorg gave some back: take the chain out, merge, and put back what fits, in order.
    struct Candidate {
        VerifiedTransaction tx;
        bool was_pooled;
    };
    std::vector<Candidate> candidates;
    candidates.reserve(sender.chain.size() + returning.size());
    const std::size_t pooled = sender.chain.size();
    std::size_t pooled_kept = 0;
    while (!sender.chain.empty()) {
        candidates.push_back({pop_back(sender), true});
    }
    std::reverse(candidates.begin(), candidates.end());
    for (VerifiedTransaction& tx : returning) {
        candidates.push_back({std::move(tx), false});
    }
    // Stable: for one nonce twice, the pooled transaction (first) stays.
    std::stable_sort(
        candidates.begin(), candidates.end(),
        [](const Candidate& a, const Candidate& b) { return a.tx.nonce() < b.tx.nonce(); });
    std::uint64_t spent = 0;
    std::uint64_t next_nonce = account.nonce;
    for (Candidate& candidate : candidates) {
        const chain::Transaction& body = candidate.tx.transaction();
        if (body.nonce < next_nonce) {
            continue;  // stale, or a second transaction for a nonce already filled
        }
        if (sender.chain.size() == m_config.max_per_sender) {
            break;
        }
        const chain::Account left{.balance = account.balance - spent, .nonce = next_nonce};
        if (!chain::check_against_account(body, left)) {
            break;  // a gap, or the balance runs out
        }
        const std::uint64_t cost = body.amount + body.fee;
        pooled_kept += candidate.was_pooled ? 1 : 0;
        insert_entry(std::move(candidate.tx), cost, sender);
        spent += cost;
        ++next_nonce;
    }
    report.removed += pooled - pooled_kept;
    remove_sender_if_empty(sender);
}

void Mempool::check_invariants(const chain::AccountState* tip) const {
    MEMPOOL_REQUIRE(m_by_fee_rate.size() == m_entries.size());
    MEMPOOL_REQUIRE(m_heads.size() == m_senders.size());
    MEMPOOL_REQUIRE(m_bytes <= m_config.max_bytes);
    MEMPOOL_REQUIRE(m_entries.size() <= m_config.max_transactions);
    MEMPOOL_REQUIRE(m_local.size() <= MAX_LOCAL_TRANSACTIONS);
    std::size_t bytes = 0;
    for (const auto& [id, entry] : m_entries) {
        MEMPOOL_REQUIRE(id == entry.tx.id());
        MEMPOOL_REQUIRE(entry.tx.id() == entry.tx.transaction().id());
        MEMPOOL_REQUIRE(entry.tx.sender() == entry.tx.transaction().sender_address());
        MEMPOOL_REQUIRE(entry.cost == entry.tx.transaction().amount + entry.tx.fee());
        MEMPOOL_REQUIRE(entry.cost >= entry.tx.fee());  // the sum did not wrap
        MEMPOOL_REQUIRE(m_by_fee_rate.contains(&entry));
        MEMPOOL_REQUIRE(entry.sender != nullptr && entry.sender->address == entry.tx.sender());
        bytes += entry.tx.size();
    }
    MEMPOOL_REQUIRE(bytes == m_bytes);
    std::size_t chained = 0;
    for (const auto& [address, sender] : m_senders) {
        MEMPOOL_REQUIRE(sender.address == address);
        MEMPOOL_REQUIRE(!sender.chain.empty());
        MEMPOOL_REQUIRE(sender.chain.size() <= m_config.max_per_sender);
        MEMPOOL_REQUIRE(m_heads.contains(&sender));
        std::uint64_t cost = 0;
        const std::uint64_t first = sender.chain.front()->tx.nonce();
        for (std::size_t i = 0; i < sender.chain.size(); ++i) {
            const Entry* entry = sender.chain[i];
            MEMPOOL_REQUIRE(entry->sender == &sender);
            MEMPOOL_REQUIRE(entry->tx.nonce() == first + i);
            const auto it = m_entries.find(entry->tx.id());
            MEMPOOL_REQUIRE(it != m_entries.end() && &it->second == entry);
            MEMPOOL_REQUIRE(cost <= U64_MAX - entry->cost);
            cost += entry->cost;
        }
        MEMPOOL_REQUIRE(cost == sender.cost);
        chained += sender.chain.size();
        if (tip != nullptr) {
            const chain::Account account = tip->account(address);
            MEMPOOL_REQUIRE(first == account.nonce);
            MEMPOOL_REQUIRE(cost <= account.balance);
        }
    }
    MEMPOOL_REQUIRE(chained == m_entries.size());
}

}  // namespace chainmesh::mempool
