#include <chainmesh/chain/apply.hpp>
#include <chainmesh/chain/detail/formats.hpp>
#include <chainmesh/chain/detail/reader.hpp>
#include <chainmesh/chain/detail/require.hpp>
#include <chainmesh/chain/merkle.hpp>
#include <chainmesh/chain/validation.hpp>

#include <algorithm>
#include <limits>
#include <set>

namespace chainmesh::chain {

namespace {

constexpr std::uint64_t U64_MAX = std::numeric_limits<std::uint64_t>::max();
constexpr std::size_t UNDO_ENTRY_BYTES = ADDRESS_BYTES + 8 + 8;
constexpr std::size_t UNDO_FIXED_BYTES = 1 + 32 + 32 + 4;

// The accounts a block may touch, read once up front and kept in a sorted array: lookups are
// binary searches (no hashing a peer could aim collisions at) and the changes come out sorted.
class WorkingSet {
public:
    WorkingSet(const AccountState& state, std::vector<Address> addresses)
        : m_addresses(std::move(addresses)) {
        std::sort(m_addresses.begin(), m_addresses.end());
        m_addresses.erase(std::unique(m_addresses.begin(), m_addresses.end()), m_addresses.end());
        m_before.resize(m_addresses.size());
        state.accounts(m_addresses, m_before);
        m_after = m_before;
    }

    Account& at(const Address& address) {
        const auto it = std::lower_bound(m_addresses.begin(), m_addresses.end(), address);
        CHAINMESH_CHAIN_REQUIRE(it != m_addresses.end() && *it == address);
        return m_after[static_cast<std::size_t>(it - m_addresses.begin())];
    }

    // Applies one transaction that passed check_transaction, or changes nothing and says why.
    Result<void> transfer(const Transaction& tx, const Address& sender, std::uint64_t& fees) {
        Account& from = at(sender);
        auto checked = check_against_account(tx, from);
        if (!checked) {
            return checked.error();
        }
        Account& to = at(tx.recipient);
        if (to.balance > U64_MAX - tx.amount || fees > U64_MAX - tx.fee) {
            return ChainError::balance_overflow;
        }
        from.balance -= tx.amount + tx.fee;
        from.nonce += 1;
        to.balance += tx.amount;
        fees += tx.fee;
        return {};
    }

    Result<void> credit(const Address& beneficiary, std::uint64_t fees, std::uint64_t reward) {
        Account& account = at(beneficiary);
        if (fees > U64_MAX - reward || account.balance > U64_MAX - (fees + reward)) {
            return ChainError::balance_overflow;
        }
        account.balance += fees + reward;
        return {};
    }

    void collect(std::vector<AccountUpdate>& updates, std::vector<AccountUpdate>& previous) const {
        for (std::size_t i = 0; i < m_addresses.size(); ++i) {
            if (m_after[i] != m_before[i]) {
                updates.push_back({m_addresses[i], m_after[i]});
                previous.push_back({m_addresses[i], m_before[i]});
            }
        }
    }

private:
    std::vector<Address> m_addresses;
    std::vector<Account> m_before;
    std::vector<Account> m_after;
};

std::uint64_t reward_at(std::uint64_t height, const ChainParams& params) {
    return height == 0 ? 0 : params.block_reward;
}

}  // namespace

Bytes BlockUndo::encode() const {
    CHAINMESH_CHAIN_REQUIRE(previous.size() <= UNDO_MAX_ENTRIES);
    Bytes out;
    out.reserve(UNDO_FIXED_BYTES + previous.size() * UNDO_ENTRY_BYTES);
    out.push_back(detail::UNDO_FORMAT);
    append(out, block_hash);
    append(out, previous_state_root);
    put_u32be(out, static_cast<std::uint32_t>(previous.size()));
    for (const AccountUpdate& entry : previous) {
        append(out, entry.address.bytes);
        put_u64be(out, entry.account.balance);
        put_u64be(out, entry.account.nonce);
    }
    return out;
}

Result<BlockUndo> BlockUndo::decode(ByteView encoded) {
    detail::Reader reader(encoded);
    BlockUndo undo;
    if (reader.u8() != detail::UNDO_FORMAT) {
        return ChainError::malformed;
    }
    reader.array(undo.block_hash);
    reader.array(undo.previous_state_root);
    const std::uint32_t count = reader.u32();
    if (!reader.ok() || count > UNDO_MAX_ENTRIES ||
        reader.remaining() != std::size_t{count} * UNDO_ENTRY_BYTES) {
        return ChainError::malformed;
    }
    undo.previous.resize(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        AccountUpdate& entry = undo.previous[i];
        reader.array(entry.address.bytes);
        entry.account.balance = reader.u64();
        entry.account.nonce = reader.u64();
        if (i > 0 && !(undo.previous[i - 1].address < entry.address)) {
            return ChainError::malformed;
        }
    }
    if (!reader.at_end()) {
        return ChainError::malformed;
    }
    return undo;
}

Result<BlockEffects> apply_block(AccountState& state, const Block& block, const ChainParams& params,
                                 SignatureCheck signatures) {
    auto ids = check_block_body(block, params);
    if (!ids) {
        return ids.error();
    }
    if (signatures == SignatureCheck::verify) {
        auto verified = check_signatures(block.transactions);
        if (!verified) {
            return verified.error();
        }
    }
    const auto& txs = block.transactions;
    std::vector<Address> senders;
    senders.reserve(txs.size());
    std::vector<Address> touched;
    touched.reserve(2 * txs.size() + 1);
    for (const Transaction& tx : txs) {
        senders.push_back(tx.sender_address());
        touched.push_back(senders.back());
        touched.push_back(tx.recipient);
    }
    touched.push_back(block.header.beneficiary);
    WorkingSet working(state, std::move(touched));

    std::uint64_t fees = 0;
    for (std::size_t i = 0; i < txs.size(); ++i) {
        auto moved = working.transfer(txs[i], senders[i], fees);
        if (!moved) {
            return moved.error();
        }
    }
    auto credited =
        working.credit(block.header.beneficiary, fees, reward_at(block.header.height, params));
    if (!credited) {
        return credited.error();
    }

    BlockEffects effects;
    working.collect(effects.updates, effects.undo.previous);
    effects.undo.block_hash = block.hash();
    effects.undo.previous_state_root = state.root();
    state.apply(effects.updates);
    if (state.root() != block.header.state_root) {
        state.apply(effects.undo.previous);
        return ChainError::bad_state_root;
    }
    return effects;
}

Result<void> revert_block(AccountState& state, const BlockHeader& header, const BlockUndo& undo) {
    if (undo.block_hash != header.hash() || state.root() != header.state_root) {
        return ChainError::bad_undo;
    }
    state.apply(undo.previous);
    if (state.root() != undo.previous_state_root) {
        return ChainError::bad_undo;
    }
    return {};
}

Result<ProposedBlock> propose_block(AccountState& state, const BlockHeader& parent,
                                    std::span<const Transaction> candidates,
                                    const Address& beneficiary, std::uint64_t timestamp_ms,
                                    const ChainParams& params) {
    ProposedBlock proposal;
    BlockHeader& header = proposal.block.header;
    header.network_id = params.network_id;
    header.height = parent.height + 1;
    header.previous_hash = parent.hash();
    header.timestamp_ms = timestamp_ms;
    header.beneficiary = beneficiary;

    std::vector<Address> senders;
    senders.reserve(candidates.size());
    std::vector<Address> touched;
    touched.reserve(2 * candidates.size() + 1);
    for (const Transaction& tx : candidates) {
        senders.push_back(tx.sender_address());
        touched.push_back(senders.back());
        touched.push_back(tx.recipient);
    }
    touched.push_back(beneficiary);
    WorkingSet working(state, std::move(touched));

    std::vector<Hash256> ids;
    std::set<Hash256> seen;
    std::size_t size = header.encoded_size() + 4;
    std::uint64_t fees = 0;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const Transaction& tx = candidates[i];
        const Hash256 id = tx.id();
        auto reject = [&](ChainError reason) { proposal.rejected.push_back({id, reason}); };
        if (proposal.block.transactions.size() >= params.max_block_transactions) {
            reject(ChainError::too_many_transactions);
            continue;
        }
        if (size + tx.encoded_size() > params.max_block_bytes) {
            reject(ChainError::block_too_large);
            continue;
        }
        if (seen.contains(id)) {
            reject(ChainError::duplicate_transaction);
            continue;
        }
        auto checked = check_transaction(tx, params);
        if (checked) {
            checked = working.transfer(tx, senders[i], fees);
        }
        if (!checked) {
            reject(static_cast<ChainError>(checked.error().value()));
            continue;
        }
        seen.insert(id);
        ids.push_back(id);
        size += tx.encoded_size();
        proposal.block.transactions.push_back(tx);
    }
    auto credited = working.credit(beneficiary, fees, reward_at(header.height, params));
    if (!credited) {
        return credited.error();
    }
    header.transactions_root = merkle_root(ids);

    std::vector<AccountUpdate> updates;
    std::vector<AccountUpdate> previous;
    working.collect(updates, previous);
    const Hash256 before = state.root();
    state.apply(updates);
    header.state_root = state.root();
    state.apply(previous);
    CHAINMESH_CHAIN_REQUIRE(state.root() == before);
    return proposal;
}

}  // namespace chainmesh::chain
