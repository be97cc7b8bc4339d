#include <chainmesh/chain/apply.hpp>
#include <chainmesh/chain/genesis.hpp>
#include <chainmesh/chain/memory_state.hpp>
#include <chainmesh/chain/validation.hpp>
#include <chainmesh/mempool/mempool.hpp>
#include <chainmesh/util/rng.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

namespace chainmesh::mempool {
namespace {

using chain::Account;
using chain::Address;
using chain::ChainError;
using chain::Transaction;
using crypto::Ed25519PrivateKey;

constexpr std::string_view NETWORK = "testnet";
constexpr std::size_t PLAIN_SIZE = chain::TRANSACTION_FIXED_BYTES + NETWORK.size();

const chain::ChainParams& params() {
    static const chain::ChainParams p = [] {
        chain::ChainParams out;
        out.network_id = std::string(NETWORK);
        return out;
    }();
    return p;
}

ErrorCode code(MempoolError e) {
    return e;
}
ErrorCode code(ChainError e) {
    return e;
}

// A plain map as the tip state: the mempool only reads it.
class MapState final : public chain::AccountState {
public:
    Account account(const Address& address) const override {
        const auto it = m_accounts.find(address);
        return it == m_accounts.end() ? Account{} : it->second;
    }
    Hash256 root() const override { return {}; }
    void apply(std::span<const chain::AccountUpdate> updates) override {
        for (const auto& update : updates) {
            set(update.address, update.account);
        }
    }
    void set(const Address& address, Account account) {
        if (account.is_empty()) {
            m_accounts.erase(address);
        } else {
            m_accounts[address] = account;
        }
    }
    // A transfer as apply_block makes it; false (and no change) when it is not valid here.
    bool transfer(const Transaction& tx, std::uint64_t& fees) {
        const Address from = tx.sender_address();
        Account sender = account(from);
        if (!chain::check_against_account(tx, sender)) {
            return false;
        }
        sender.balance -= tx.amount + tx.fee;
        sender.nonce += 1;
        set(from, sender);
        Account to = account(tx.recipient);
        to.balance += tx.amount;
        set(tx.recipient, to);
        fees += tx.fee;
        return true;
    }
    void credit(const Address& address, std::uint64_t amount) {
        Account to = account(address);
        to.balance += amount;
        set(address, to);
    }

private:
    std::map<Address, Account> m_accounts;
};

Ed25519PrivateKey key(std::uint8_t n) {
    crypto::Ed25519Seed seed{};
    seed.fill(n);
    return Ed25519PrivateKey::from_seed(seed);
}

Address address_of(const Ed25519PrivateKey& k) {
    return Address::from_public_key(k.public_key());
}

Address recipient(std::uint8_t n) {
    Address a;
    a.bytes.fill(n);
    return a;
}

Transaction transfer(const Ed25519PrivateKey& from, std::uint64_t nonce, std::uint64_t fee,
                     std::uint64_t amount = 1, std::size_t memo = 0, Address to = recipient(0xee)) {
    Transaction tx;
    tx.network_id = std::string(NETWORK);
    tx.recipient = to;
    tx.amount = amount;
    tx.fee = fee;
    tx.nonce = nonce;
    tx.memo.assign(memo, 0x6d);
    tx.sign(from);
    return tx;
}

VerifiedTransaction verified(const Transaction& tx) {
    auto v = VerifiedTransaction::verify(tx, params());
    EXPECT_TRUE(v) << v.error().message();
    return std::move(*v);
}

// A pool and its tip, with accounts for keys 1..6 (balance 1,000,000, nonce 0).
struct Fixture {
    explicit Fixture(MempoolConfig config = {}) : pool(config, params()) {
        for (std::uint8_t i = 1; i <= 6; ++i) {
            keys.push_back(key(i));
            tip.set(address_of(keys.back()), {.balance = 1'000'000, .nonce = 0});
        }
    }
    const Ed25519PrivateKey& k(std::size_t i) const { return keys.at(i - 1); }
    Result<Admitted> admit(const Transaction& tx) { return pool.admit(verified(tx), tip); }
    std::vector<Hash256> selected_ids(SelectionBudget budget) const {
        std::vector<Hash256> ids;
        for (const Transaction* tx : pool.select(budget)) {
            ids.push_back(tx->id());
        }
        return ids;
    }
    std::set<Hash256> contents(std::initializer_list<const Transaction*> txs) const {
        std::set<Hash256> ids;
        for (const Transaction* tx : txs) {
            ids.insert(tx->id());
        }
        return ids;
    }
    std::set<Hash256> pool_ids() const {
        std::set<Hash256> ids;
        for (const Transaction* tx : pool.select({SIZE_MAX, SIZE_MAX})) {
            ids.insert(tx->id());
        }
        EXPECT_EQ(ids.size(), pool.size());
        return ids;
    }

    std::vector<Ed25519PrivateKey> keys;
    MapState tip;
    Mempool pool;
};

constexpr SelectionBudget EVERYTHING{SIZE_MAX, SIZE_MAX};

// ---- Verification (rule 1) --------------------------------------------------------------

TEST(VerifiedTransaction, RejectsABadSignatureAndPrecomputesTheRest) {
    const auto alice = key(1);
    Transaction tx = transfer(alice, 0, 10);
    auto good = VerifiedTransaction::verify(tx, params());
    ASSERT_TRUE(good);
    EXPECT_EQ(good->id(), tx.id());
    EXPECT_EQ(good->sender(), address_of(alice));
    EXPECT_EQ(good->size(), PLAIN_SIZE);

    Transaction forged = tx;
    forged.amount = 2;  // signed over amount 1
    EXPECT_EQ(VerifiedTransaction::verify(forged, params()).error(),
              code(ChainError::bad_signature));
    // assume_signed skips only the signature, for transactions of validated blocks.
    EXPECT_TRUE(VerifiedTransaction::assume_signed(forged, params()));
}

TEST(VerifiedTransaction, RunsTheStatelessChecksFirst) {
    const auto alice = key(1);
    Transaction other_network = transfer(alice, 0, 10);
    other_network.network_id = "othernet";
    other_network.sign(alice);
    EXPECT_EQ(VerifiedTransaction::verify(other_network, params()).error(),
              code(ChainError::wrong_network));
    EXPECT_EQ(VerifiedTransaction::assume_signed(other_network, params()).error(),
              code(ChainError::wrong_network));
    EXPECT_EQ(VerifiedTransaction::verify(transfer(alice, 0, 10, 0), params()).error(),
              code(ChainError::zero_amount));
    EXPECT_EQ(VerifiedTransaction::verify(transfer(alice, 0, 10, 1, 0, address_of(alice)), params())
                  .error(),
              code(ChainError::self_transfer));
}

TEST(VerifiedTransaction, BatchKeepsTheInputOrder) {
    const auto alice = key(1);
    std::vector<Transaction> batch{transfer(alice, 0, 1), transfer(alice, 1, 1),
                                   transfer(alice, 2, 1)};
    batch[1].fee = 99;  // breaks its signature
    const auto ids = std::vector<Hash256>{batch[0].id(), batch[2].id()};
    const auto results = verify_transactions(batch, params());
    ASSERT_EQ(results.size(), 3u);
    ASSERT_TRUE(results[0]);
    EXPECT_EQ(results[0]->id(), ids[0]);
    EXPECT_EQ(results[1].error(), code(ChainError::bad_signature));
    ASSERT_TRUE(results[2]);
    EXPECT_EQ(results[2]->id(), ids[1]);
}

// ---- Admission (rules 2-5) ----------------------------------------------------------------

TEST(Mempool, DeduplicatesById) {
    Fixture f;
    const Transaction tx = transfer(f.k(1), 0, 10);
    ASSERT_TRUE(f.admit(tx));
    EXPECT_EQ(f.admit(tx).error(), code(MempoolError::already_known));
    EXPECT_EQ(f.pool.size(), 1u);
    EXPECT_EQ(f.pool.bytes(), PLAIN_SIZE);
    EXPECT_TRUE(f.pool.contains(tx.id()));
    ASSERT_NE(f.pool.find(tx.id()), nullptr);
    EXPECT_EQ(*f.pool.find(tx.id()), tx);
    f.pool.check_invariants(&f.tip);
}

TEST(Mempool, RejectsAUsedNonce) {
    Fixture f;
    f.tip.set(address_of(f.k(1)), {.balance = 1000, .nonce = 5});
    EXPECT_EQ(f.admit(transfer(f.k(1), 4, 10)).error(), code(ChainError::nonce_too_low));
    EXPECT_TRUE(f.admit(transfer(f.k(1), 5, 10)));
    EXPECT_EQ(f.pool.size(), 1u);
}

TEST(Mempool, RejectsANonceGapCountingPendingNonces) {
    Fixture f;
    const Address alice = address_of(f.k(1));
    EXPECT_EQ(f.pool.pending_nonce(alice), std::nullopt);
    EXPECT_EQ(f.admit(transfer(f.k(1), 1, 10)).error(), code(ChainError::nonce_gap));
    ASSERT_TRUE(f.admit(transfer(f.k(1), 0, 10)));
    EXPECT_EQ(f.pool.pending_nonce(alice), 1u);
    EXPECT_EQ(f.admit(transfer(f.k(1), 2, 10)).error(), code(ChainError::nonce_gap));
    ASSERT_TRUE(f.admit(transfer(f.k(1), 1, 10)));
    ASSERT_TRUE(f.admit(transfer(f.k(1), 2, 10)));
    EXPECT_EQ(f.pool.pending_nonce(alice), 3u);
    EXPECT_EQ(f.pool.size(), 3u);
    f.pool.check_invariants(&f.tip);
}

TEST(Mempool, BatchAdmitsASendersNoncesInOrder) {
    Fixture f;
    std::vector<VerifiedTransaction> batch;
    batch.push_back(verified(transfer(f.k(1), 2, 10)));
    batch.push_back(verified(transfer(f.k(2), 0, 10)));
    batch.push_back(verified(transfer(f.k(1), 0, 10)));
    batch.push_back(verified(transfer(f.k(1), 1, 10)));
    batch.push_back(verified(transfer(f.k(1), 1, 10)));  // the same again
    const auto results = f.pool.admit_batch(std::move(batch), f.tip);
    ASSERT_EQ(results.size(), 5u);
    EXPECT_TRUE(results[0]);
    EXPECT_TRUE(results[1]);
    EXPECT_TRUE(results[2]);
    EXPECT_TRUE(results[3]);
    EXPECT_EQ(results[4].error(), code(MempoolError::already_known));
    EXPECT_EQ(f.pool.size(), 4u);
    f.pool.check_invariants(&f.tip);
}

TEST(Mempool, BalanceMustCoverThePendingChain) {
    Fixture f;
    f.tip.set(address_of(f.k(1)), {.balance = 100, .nonce = 0});
    ASSERT_TRUE(f.admit(transfer(f.k(1), 0, 10, 50)));  // 60
    // 60 + 60 > 100, though 60 alone would fit the balance.
    EXPECT_EQ(f.admit(transfer(f.k(1), 1, 10, 50)).error(), code(ChainError::insufficient_balance));
    ASSERT_TRUE(f.admit(transfer(f.k(1), 1, 10, 30)));  // exactly 100
    EXPECT_EQ(f.admit(transfer(f.k(1), 2, 0, 1)).error(), code(ChainError::insufficient_balance));
    f.pool.check_invariants(&f.tip);
}

TEST(Mempool, AmountPlusFeeOverflowIsInsufficient) {
    Fixture f;
    const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    f.tip.set(address_of(f.k(1)), {.balance = max, .nonce = 0});
    EXPECT_EQ(f.admit(transfer(f.k(1), 0, 2, max - 1)).error(),
              code(ChainError::insufficient_balance));
    ASSERT_TRUE(f.admit(transfer(f.k(1), 0, 1, max - 1)));
    EXPECT_EQ(f.admit(transfer(f.k(1), 1, 1, 1)).error(), code(ChainError::insufficient_balance));
    // A replacement whose cost wraps is refused, not taken as cheap.
    EXPECT_EQ(f.admit(transfer(f.k(1), 0, max, 2)).error(), code(ChainError::insufficient_balance));
    f.pool.check_invariants(&f.tip);
}

TEST(Mempool, BoundsTransactionsPerSender) {
    Fixture f(MempoolConfig{.max_per_sender = 3});
    for (std::uint64_t n = 0; n < 3; ++n) {
        ASSERT_TRUE(f.admit(transfer(f.k(1), n, 10)));
    }
    EXPECT_EQ(f.admit(transfer(f.k(1), 3, 10)).error(), code(MempoolError::sender_limit));
    EXPECT_TRUE(f.admit(transfer(f.k(2), 0, 10)));  // others are not limited by it
    // Replacing inside the chain is still possible at the limit.
    EXPECT_TRUE(f.admit(transfer(f.k(1), 2, 20)));
    f.pool.check_invariants(&f.tip);
}

TEST(Mempool, ReplaceByFeeNeedsTheConfiguredBump) {
    Fixture f;
    const Transaction first = transfer(f.k(1), 0, 100);
    const Transaction second = transfer(f.k(1), 1, 100);
    ASSERT_TRUE(f.admit(first));
    ASSERT_TRUE(f.admit(second));
    EXPECT_EQ(f.admit(transfer(f.k(1), 0, 109, 2)).error(),
              code(MempoolError::replacement_underpriced));
    const Transaction bumped = transfer(f.k(1), 0, 110, 2);
    auto replaced = f.admit(bumped);
    ASSERT_TRUE(replaced);
    ASSERT_TRUE(replaced->replaced);
    EXPECT_EQ(*replaced->replaced, first.id());
    EXPECT_FALSE(f.pool.contains(first.id()));
    EXPECT_TRUE(f.pool.contains(bumped.id()));
    EXPECT_TRUE(f.pool.contains(second.id()));
    EXPECT_EQ(f.pool.size(), 2u);
    EXPECT_EQ(f.selected_ids(EVERYTHING), (std::vector<Hash256>{bumped.id(), second.id()}));
    f.pool.check_invariants(&f.tip);
}

TEST(Mempool, ReplacementMustPayStrictlyMoreEvenWithoutABump) {
    Fixture f(MempoolConfig{.replacement_fee_bump_percent = 0});
    ASSERT_TRUE(f.admit(transfer(f.k(1), 0, 100)));
    EXPECT_EQ(f.admit(transfer(f.k(1), 0, 100, 2)).error(),
              code(MempoolError::replacement_underpriced));
    EXPECT_TRUE(f.admit(transfer(f.k(1), 0, 101, 2)));
}

TEST(Mempool, ReplacementRechecksTheBalanceOfTheWholeChain) {
    Fixture f;
    f.tip.set(address_of(f.k(1)), {.balance = 1000, .nonce = 0});
    const Transaction first = transfer(f.k(1), 0, 100, 100);
    ASSERT_TRUE(f.admit(first));
    ASSERT_TRUE(f.admit(transfer(f.k(1), 1, 100, 500)));  // 800 pending
    // 200 + 600 + 300 > 1000: fits alone, not with the later nonce.
    EXPECT_EQ(f.admit(transfer(f.k(1), 0, 200, 300)).error(),
              code(ChainError::insufficient_balance));
    EXPECT_TRUE(f.pool.contains(first.id()));
    EXPECT_TRUE(f.admit(transfer(f.k(1), 0, 200, 200)));  // exactly 1000
    f.pool.check_invariants(&f.tip);
}

// ---- Bounds and eviction (rule 6) ----------------------------------------------------------

TEST(Mempool, ByteBoundEvictsTheLowestFeeRate) {
    Fixture f(MempoolConfig{.max_bytes = 3 * PLAIN_SIZE});
    const Transaction a = transfer(f.k(1), 0, 10);
    const Transaction b = transfer(f.k(2), 0, 20);
    const Transaction c = transfer(f.k(3), 0, 30);
    ASSERT_TRUE(f.admit(a));
    ASSERT_TRUE(f.admit(b));
    ASSERT_TRUE(f.admit(c));
    const Transaction d = transfer(f.k(4), 0, 40);
    auto admitted = f.admit(d);
    ASSERT_TRUE(admitted);
    EXPECT_EQ(admitted->evicted, 1u);
    EXPECT_EQ(f.pool_ids(), f.contents({&b, &c, &d}));

    // Worse than everything in a full pool: refused, the pool unchanged.
    EXPECT_EQ(f.admit(transfer(f.k(5), 0, 15)).error(), code(MempoolError::pool_full));
    EXPECT_EQ(f.pool_ids(), f.contents({&b, &c, &d}));
    f.pool.check_invariants(&f.tip);
}

TEST(Mempool, EvictionIsByFeePerByteNotByFee) {
    Fixture f(MempoolConfig{.max_bytes = 2 * PLAIN_SIZE + 200});
    // 30 over 351 bytes is a worse rate than 20 over 151.
    const Transaction big = transfer(f.k(1), 0, 30, 1, 200);
    const Transaction small = transfer(f.k(2), 0, 20);
    ASSERT_TRUE(f.admit(big));
    ASSERT_TRUE(f.admit(small));
    const Transaction third = transfer(f.k(3), 0, 25);
    ASSERT_TRUE(f.admit(third));
    EXPECT_EQ(f.pool_ids(), f.contents({&small, &third}));
}

TEST(Mempool, EvictingATransactionEvictsItsSendersLaterNonces) {
    Fixture f(MempoolConfig{.max_bytes = 3 * PLAIN_SIZE});
    const Transaction a0 = transfer(f.k(1), 0, 10);
    const Transaction a1 = transfer(f.k(1), 1, 100);
    const Transaction b0 = transfer(f.k(2), 0, 50);
    ASSERT_TRUE(f.admit(a0));
    ASSERT_TRUE(f.admit(a1));
    ASSERT_TRUE(f.admit(b0));
    const Transaction c0 = transfer(f.k(3), 0, 60);
    auto admitted = f.admit(c0);
    ASSERT_TRUE(admitted);
    EXPECT_EQ(admitted->evicted, 2u);  // a1 would be gapped without a0
    EXPECT_EQ(f.pool_ids(), f.contents({&b0, &c0}));
    EXPECT_EQ(f.pool.pending_nonce(address_of(f.k(1))), std::nullopt);
    f.pool.check_invariants(&f.tip);
}

TEST(Mempool, EqualFeeRatesEvictTheHigherNonceFirst) {
    Fixture f(MempoolConfig{.max_bytes = 3 * PLAIN_SIZE});
    const Transaction a0 = transfer(f.k(1), 0, 10);
    const Transaction a1 = transfer(f.k(1), 1, 10);
    const Transaction b0 = transfer(f.k(2), 0, 10);
    ASSERT_TRUE(f.admit(a0));
    ASSERT_TRUE(f.admit(a1));
    ASSERT_TRUE(f.admit(b0));
    const Transaction c0 = transfer(f.k(3), 0, 20);
    auto admitted = f.admit(c0);
    ASSERT_TRUE(admitted);
    EXPECT_EQ(admitted->evicted, 1u);  // only the chain's end
    EXPECT_EQ(f.pool_ids(), f.contents({&a0, &b0, &c0}));
}

TEST(Mempool, CountBoundEvictsTheLowestFeeRate) {
    Fixture f(MempoolConfig{.max_transactions = 2});
    const Transaction a = transfer(f.k(1), 0, 10);
    const Transaction b = transfer(f.k(2), 0, 30);
    ASSERT_TRUE(f.admit(a));
    ASSERT_TRUE(f.admit(b));
    const Transaction c = transfer(f.k(3), 0, 20);
    ASSERT_TRUE(f.admit(c));
    EXPECT_EQ(f.pool_ids(), f.contents({&b, &c}));
    EXPECT_EQ(f.admit(transfer(f.k(4), 0, 5)).error(), code(MempoolError::pool_full));
    f.pool.check_invariants(&f.tip);
}

TEST(Mempool, ALargerReplacementCanOverflowTheBoundAndEvict) {
    Fixture f(MempoolConfig{.max_bytes = 3 * PLAIN_SIZE});
    const Transaction a = transfer(f.k(1), 0, 10);
    const Transaction b = transfer(f.k(2), 0, 100);
    const Transaction c = transfer(f.k(3), 0, 100);
    ASSERT_TRUE(f.admit(a));
    ASSERT_TRUE(f.admit(b));
    ASSERT_TRUE(f.admit(c));
    const Transaction c_big = transfer(f.k(3), 0, 1000, 1, 100);
    auto admitted = f.admit(c_big);
    ASSERT_TRUE(admitted);
    EXPECT_EQ(admitted->evicted, 1u);
    EXPECT_EQ(f.pool_ids(), f.contents({&b, &c_big}));
    EXPECT_LE(f.pool.bytes(), 3 * PLAIN_SIZE);
    f.pool.check_invariants(&f.tip);
}

// ---- Selection (rule 7) ---------------------------------------------------------------------

TEST(Mempool, SelectsByFeeRateInNonceOrder) {
    Fixture f;
    const Transaction a0 = transfer(f.k(1), 0, 10);
    const Transaction a1 = transfer(f.k(1), 1, 1000);
    const Transaction b0 = transfer(f.k(2), 0, 50);
    const Transaction c0 = transfer(f.k(3), 0, 20);
    const Transaction c1 = transfer(f.k(3), 1, 5);
    for (const auto* tx : {&a0, &a1, &b0, &c0, &c1}) {
        ASSERT_TRUE(f.admit(*tx));
    }
    // a1 pays most but waits for a0; c1 comes after c0.
    EXPECT_EQ(f.selected_ids(EVERYTHING),
              (std::vector<Hash256>{b0.id(), c0.id(), a0.id(), a1.id(), c1.id()}));
    EXPECT_EQ(f.selected_ids({SIZE_MAX, 2}), (std::vector<Hash256>{b0.id(), c0.id()}));
    EXPECT_EQ(f.selected_ids({SIZE_MAX, 0}), std::vector<Hash256>{});
    EXPECT_EQ(f.pool.select_transactions({SIZE_MAX, 1}), std::vector<Transaction>{b0});
}

TEST(Mempool, SelectionRanksByFeePerByte) {
    Fixture f;
    const Transaction big = transfer(f.k(1), 0, 30, 1, 200);  // 30 / 351
    const Transaction small = transfer(f.k(2), 0, 20);        // 20 / 151
    ASSERT_TRUE(f.admit(big));
    ASSERT_TRUE(f.admit(small));
    EXPECT_EQ(f.selected_ids(EVERYTHING), (std::vector<Hash256>{small.id(), big.id()}));
}

TEST(Mempool, SelectionSkipsWhatDoesNotFitAndItsLaterNonces) {
    Fixture f;
    const Transaction big = transfer(f.k(1), 0, 1000, 1, 200);
    const Transaction big_next = transfer(f.k(1), 1, 1000);
    const Transaction b0 = transfer(f.k(2), 0, 10);
    const Transaction c0 = transfer(f.k(3), 0, 5);
    for (const auto* tx : {&big, &big_next, &b0, &c0}) {
        ASSERT_TRUE(f.admit(*tx));
    }
    EXPECT_EQ(f.selected_ids({2 * PLAIN_SIZE, SIZE_MAX}), (std::vector<Hash256>{b0.id(), c0.id()}));
    EXPECT_EQ(f.selected_ids({PLAIN_SIZE + 200 + PLAIN_SIZE, SIZE_MAX}),
              (std::vector<Hash256>{big.id(), big_next.id()}));
    EXPECT_EQ(f.selected_ids({PLAIN_SIZE - 1, SIZE_MAX}), std::vector<Hash256>{});
}

TEST(Mempool, SelectionMakesABlockTheChainAccepts) {
    // The full path: select, propose_block, apply_block, then the pool follows the tip.
    const auto alice = key(1);
    const auto bob = key(2);
    chain::Genesis genesis;
    genesis.params = params();
    genesis.params.max_block_transactions = 3;
    genesis.timestamp_ms = 1'700'000'000'000;
    genesis.allocations = {{address_of(alice), 1000}, {address_of(bob), 1000}};
    std::sort(genesis.allocations.begin(), genesis.allocations.end(),
              [](const auto& x, const auto& y) { return x.address < y.address; });
    chain::MemoryState state = genesis.initial_state();
    const chain::Block parent = genesis.block();

    Mempool pool(MempoolConfig{}, genesis.params);
    const std::vector<Transaction> txs{transfer(alice, 0, 5, 100), transfer(alice, 1, 50, 100),
                                       transfer(bob, 0, 20, 100), transfer(bob, 1, 1, 100)};
    for (const Transaction& tx : txs) {
        ASSERT_TRUE(pool.admit(verified(tx), state));
    }
    const auto candidates = pool.select_transactions(
        {genesis.params.max_block_bytes, genesis.params.max_block_transactions});
    ASSERT_EQ(candidates, (std::vector<Transaction>{txs[2], txs[0], txs[1]}));
    auto proposal = chain::propose_block(state, parent.header, candidates, recipient(0x77),
                                         genesis.timestamp_ms + 1, genesis.params);
    ASSERT_TRUE(proposal);
    EXPECT_TRUE(proposal->rejected.empty());
    auto effects = chain::apply_block(state, proposal->block, genesis.params,
                                      chain::SignatureCheck::already_verified);
    ASSERT_TRUE(effects) << effects.error().message();

    const TipReport report = pool.on_block_connected(proposal->block.transactions, state);
    EXPECT_EQ(report.removed, 3u);
    EXPECT_EQ(pool.size(), 1u);
    EXPECT_TRUE(pool.contains(txs[3].id()));
    pool.check_invariants(&state);
}

// ---- Tip changes (rule 8) -------------------------------------------------------------------

// Applies `txs` to the fixture's tip as a block paying `beneficiary`.
void apply_txs(MapState& tip, const std::vector<Transaction>& txs,
               const Address& beneficiary = recipient(0x77)) {
    std::uint64_t fees = 0;
    for (const Transaction& tx : txs) {
        ASSERT_TRUE(tip.transfer(tx, fees));
    }
    tip.credit(beneficiary, fees);
}

TEST(Mempool, InclusionRemovesTheBlocksTransactions) {
    Fixture f;
    const Transaction a0 = transfer(f.k(1), 0, 10);
    const Transaction a1 = transfer(f.k(1), 1, 10);
    const Transaction a2 = transfer(f.k(1), 2, 10);
    const Transaction b0 = transfer(f.k(2), 0, 10);
    for (const auto* tx : {&a0, &a1, &a2, &b0}) {
        ASSERT_TRUE(f.admit(*tx));
    }
    const std::vector<Transaction> block{a0, a1};
    apply_txs(f.tip, block);
    const TipReport report = f.pool.on_block_connected(block, f.tip);
    EXPECT_EQ(report.removed, 2u);
    EXPECT_EQ(f.pool_ids(), f.contents({&a2, &b0}));
    EXPECT_EQ(f.pool.pending_nonce(address_of(f.k(1))), 3u);
    f.pool.check_invariants(&f.tip);
}

TEST(Mempool, InclusionOfARivalRemovesTheStaleNonceAndWhatNoLongerFits) {
    Fixture f;
    f.tip.set(address_of(f.k(1)), {.balance = 1000, .nonce = 0});
    const Transaction a0 = transfer(f.k(1), 0, 10, 100);
    const Transaction a1 = transfer(f.k(1), 1, 10, 100);
    const Transaction a2 = transfer(f.k(1), 2, 10, 100);
    for (const auto* tx : {&a0, &a1, &a2}) {
        ASSERT_TRUE(f.admit(*tx));
    }
    // Another node mined a different nonce-0 transaction spending 790: 210 left, a1 fits,
    // a2 no longer does.
    const std::vector<Transaction> block{transfer(f.k(1), 0, 90, 700)};
    apply_txs(f.tip, block);
    const TipReport report = f.pool.on_block_connected(block, f.tip);
    EXPECT_EQ(report.removed, 2u);
    EXPECT_EQ(f.pool_ids(), f.contents({&a1}));
    f.pool.check_invariants(&f.tip);
}

TEST(Mempool, ReorgReadmitsUndoneTransactionsBeforeThePoolsLaterNonces) {
    Fixture f;
    const MapState before = f.tip;
    const Transaction a0 = transfer(f.k(1), 0, 10);
    const Transaction a1 = transfer(f.k(1), 1, 10);
    ASSERT_TRUE(f.admit(a0));
    ASSERT_TRUE(f.admit(a1));
    const std::vector<Transaction> block{a0, a1};
    apply_txs(f.tip, block);
    f.pool.on_block_connected(block, f.tip);
    const Transaction a2 = transfer(f.k(1), 2, 10);
    ASSERT_TRUE(f.admit(a2));
    EXPECT_EQ(f.pool.size(), 1u);

    // The block is undone; the new branch is empty so far.
    f.tip = before;
    const TipReport report = f.pool.on_tip_changed({.reverted = block}, f.tip);
    EXPECT_EQ(report.readmitted, 2u);
    EXPECT_EQ(report.dropped, 0u);
    EXPECT_EQ(f.selected_ids(EVERYTHING), (std::vector<Hash256>{a0.id(), a1.id(), a2.id()}));
    f.pool.check_invariants(&f.tip);
}

TEST(Mempool, ReorgDropsWhatTheNewBranchIncludedOrInvalidated) {
    Fixture f;
    f.tip.set(address_of(f.k(1)), {.balance = 1000, .nonce = 0});
    const MapState before = f.tip;
    const Transaction a0 = transfer(f.k(1), 0, 10, 100);
    const Transaction a1 = transfer(f.k(1), 1, 10, 100);
    const Transaction a2 = transfer(f.k(1), 2, 10, 100);
    const std::vector<Transaction> old_block{a0, a1, a2};
    apply_txs(f.tip, old_block);
    f.pool.on_block_connected(old_block, f.tip);

    // The new branch holds a0 too, then a rival nonce 1 that leaves 40: a1 is stale, a2 no
    // longer fits.
    f.tip = before;
    const std::vector<Transaction> new_block{a0, transfer(f.k(1), 1, 50, 800)};
    apply_txs(f.tip, new_block);
    const TipReport report =
        f.pool.on_tip_changed({.reverted = old_block, .connected = new_block}, f.tip);
    EXPECT_EQ(report.readmitted, 0u);
    EXPECT_EQ(report.dropped, 3u);
    EXPECT_EQ(f.pool.size(), 0u);

    // Without the rival, a1 and a2 come back and a0 stays out.
    f.tip = before;
    apply_txs(f.tip, {a0});
    Mempool pool(MempoolConfig{}, params());
    const std::vector<Transaction> a0_only{a0};
    const TipReport second =
        pool.on_tip_changed({.reverted = old_block, .connected = a0_only}, f.tip);
    EXPECT_EQ(second.readmitted, 2u);
    EXPECT_EQ(second.dropped, 1u);
    EXPECT_TRUE(pool.contains(a1.id()) && pool.contains(a2.id()));
    pool.check_invariants(&f.tip);
}

TEST(Mempool, ReorgRechecksTheUndoneBlocksRecipients) {
    Fixture f;
    const Address bob = address_of(f.k(2));
    f.tip.set(bob, {.balance = 0, .nonce = 0});
    const MapState before = f.tip;
    const std::vector<Transaction> block{transfer(f.k(1), 0, 10, 500, 0, bob)};
    apply_txs(f.tip, block);
    f.pool.on_block_connected(block, f.tip);
    // Bob spends what the block gave him.
    const Transaction b0 = transfer(f.k(2), 0, 10, 200);
    ASSERT_TRUE(f.admit(b0));
    ASSERT_TRUE(f.admit(transfer(f.k(2), 1, 10, 200)));

    f.tip = before;
    const TipReport report = f.pool.on_tip_changed({.reverted = block}, f.tip);
    EXPECT_EQ(report.readmitted, 1u);
    EXPECT_EQ(report.removed, 2u);  // Bob has nothing at the new tip
    EXPECT_EQ(f.pool.size(), 1u);
    EXPECT_FALSE(f.pool.contains(b0.id()));
    f.pool.check_invariants(&f.tip);
}

TEST(Mempool, ReorgRechecksTheLoweredBeneficiaries) {
    Fixture f;
    const Address miner = address_of(f.k(3));
    f.tip.set(miner, {.balance = 0, .nonce = 0});
    const MapState before = f.tip;
    const std::vector<Transaction> block{transfer(f.k(1), 0, 300)};
    apply_txs(f.tip, block, miner);
    f.pool.on_block_connected(block, f.tip);
    ASSERT_TRUE(f.admit(transfer(f.k(3), 0, 100, 100)));  // spends the fees it earned

    f.tip = before;
    const std::vector<Address> lowered{miner};
    f.pool.on_tip_changed({.reverted = block, .lowered = lowered}, f.tip);
    EXPECT_EQ(f.pool.pending_nonce(miner), std::nullopt);
    f.pool.check_invariants(&f.tip);
}

TEST(Mempool, ReadmissionRespectsTheBounds) {
    Fixture f(MempoolConfig{.max_bytes = 2 * PLAIN_SIZE});
    const MapState before = f.tip;
    const Transaction cheap = transfer(f.k(1), 0, 1);
    const std::vector<Transaction> block{cheap};
    apply_txs(f.tip, block);
    f.pool.on_block_connected(block, f.tip);
    ASSERT_TRUE(f.admit(transfer(f.k(2), 0, 50)));
    ASSERT_TRUE(f.admit(transfer(f.k(3), 0, 50)));

    f.tip = before;
    const TipReport report = f.pool.on_tip_changed({.reverted = block}, f.tip);
    EXPECT_EQ(report.readmitted, 0u);
    EXPECT_EQ(report.dropped, 1u);
    EXPECT_EQ(report.evicted, 1u);
    EXPECT_FALSE(f.pool.contains(cheap.id()));
    f.pool.check_invariants(&f.tip);
}

// ---- Randomized, against a naive model ------------------------------------------------------

// The rules of mempool.hpp written the slow, obvious way: a flat list, scans everywhere.
class Model {
public:
    Model(MempoolConfig config) : m_config(config) {}

    struct Outcome {
        ErrorCode error;
        std::optional<Hash256> replaced;
        std::size_t evicted = 0;
    };

    Outcome admit(const VerifiedTransaction& tx, const MapState& tip) {
        for (const auto& e : m_entries) {
            if (e.id() == tx.id()) {
                return {MempoolError::already_known, {}, 0};
            }
        }
        const Account account = tip.account(tx.sender());
        auto chain = chain_of(tx.sender());
        const std::uint64_t base = chain.empty() ? account.nonce : chain.front().nonce();
        const U128 chain_cost = cost_of(chain);
        const U128 new_cost = cost(tx);
        Outcome outcome;
        if (tx.nonce() < base) {
            return {ChainError::nonce_too_low, {}, 0};
        }
        if (tx.nonce() < base + chain.size()) {
            const VerifiedTransaction& old = chain[tx.nonce() - base];
            const U128 bumped = U128{old.fee()} * (100 + m_config.replacement_fee_bump_percent);
            if (!(tx.fee() > old.fee() && U128{tx.fee()} * 100 >= bumped)) {
                return {MempoolError::replacement_underpriced, {}, 0};
            }
            if (chain_cost - cost(old) + new_cost > account.balance) {
                return {ChainError::insufficient_balance, {}, 0};
            }
            outcome.replaced = old.id();
            erase(old.id());
        } else {
            if (tx.nonce() > base + chain.size()) {
                return {ChainError::nonce_gap, {}, 0};
            }
            if (chain_cost + new_cost > account.balance) {
                return {ChainError::insufficient_balance, {}, 0};
            }
            if (chain.size() >= m_config.max_per_sender) {
                return {MempoolError::sender_limit, {}, 0};
            }
        }
        m_entries.push_back(tx);
        outcome.evicted = evict();
        if (!contains(tx.id())) {
            return {MempoolError::pool_full, {}, 0};
        }
        return outcome;
    }

    std::vector<Hash256> select(SelectionBudget budget) const {
        std::map<Address, std::vector<VerifiedTransaction>> chains;
        for (const auto& e : m_entries) {
            chains[e.sender()];
        }
        for (auto& [sender, chain] : chains) {
            chain = chain_of(sender);
        }
        std::map<Address, std::size_t> next;
        std::set<Address> blocked;
        std::vector<Hash256> out;
        std::size_t left = budget.max_bytes;
        std::size_t skips = 0;
        while (out.size() < budget.max_transactions && left >= PLAIN_SIZE &&
               skips < SELECTION_MAX_SKIPS) {
            const VerifiedTransaction* best = nullptr;
            for (const auto& [sender, chain] : chains) {
                const std::size_t i = next[sender];
                if (blocked.contains(sender) || i >= chain.size()) {
                    continue;
                }
                if (best == nullptr || ranks_better(chain[i], *best)) {
                    best = &chain[i];
                }
            }
            if (best == nullptr) {
                break;
            }
            if (best->size() > left) {
                blocked.insert(best->sender());
                ++skips;
                continue;
            }
            out.push_back(best->id());
            left -= best->size();
            ++next[best->sender()];
        }
        return out;
    }

    TipReport tip_changed(const std::vector<Transaction>& reverted, const MapState& tip) {
        TipReport report;
        std::vector<VerifiedTransaction> candidates = m_entries;
        const std::size_t pooled = candidates.size();
        for (const Transaction& tx : reverted) {
            candidates.push_back(*VerifiedTransaction::assume_signed(tx, params()));
        }
        std::set<Address> senders;
        for (const auto& c : candidates) {
            senders.insert(c.sender());
        }
        std::vector<VerifiedTransaction> kept;
        std::size_t pooled_kept = 0;
        for (const Address& sender : senders) {
            std::vector<std::pair<VerifiedTransaction, bool>> mine;
            for (std::size_t i = 0; i < candidates.size(); ++i) {
                if (candidates[i].sender() == sender) {
                    mine.emplace_back(candidates[i], i < pooled);
                }
            }
            std::stable_sort(mine.begin(), mine.end(), [](const auto& a, const auto& b) {
                return a.first.nonce() < b.first.nonce();
            });
            const Account account = tip.account(sender);
            std::uint64_t next = account.nonce;
            U128 spent = 0;
            std::size_t count = 0;
            for (const auto& [tx, was_pooled] : mine) {
                if (tx.nonce() < next) {
                    continue;
                }
                if (tx.nonce() > next || count == m_config.max_per_sender ||
                    spent + cost(tx) > account.balance) {
                    break;
                }
                kept.push_back(tx);
                spent += cost(tx);
                ++next;
                ++count;
                pooled_kept += was_pooled ? 1 : 0;
            }
        }
        report.removed = pooled - pooled_kept;
        m_entries = std::move(kept);
        report.evicted = evict();
        for (const Transaction& tx : reverted) {
            report.readmitted += contains(tx.id()) ? 1 : 0;
        }
        report.dropped = reverted.size() - report.readmitted;
        return report;
    }

    std::set<Hash256> ids() const {
        std::set<Hash256> out;
        for (const auto& e : m_entries) {
            out.insert(e.id());
        }
        return out;
    }
    std::size_t bytes() const {
        std::size_t total = 0;
        for (const auto& e : m_entries) {
            total += e.size();
        }
        return total;
    }
    std::optional<std::uint64_t> pending_nonce(const Address& sender) const {
        const auto chain = chain_of(sender);
        if (chain.empty()) {
            return std::nullopt;
        }
        return chain.back().nonce() + 1;
    }
    const std::vector<VerifiedTransaction>& entries() const { return m_entries; }

private:
    __extension__ using U128 = unsigned __int128;

    static U128 cost(const VerifiedTransaction& tx) {
        return U128{tx.transaction().amount} + tx.fee();
    }
    static U128 cost_of(const std::vector<VerifiedTransaction>& chain) {
        U128 total = 0;
        for (const auto& e : chain) {
            total += cost(e);
        }
        return total;
    }
    static bool ranks_better(const VerifiedTransaction& a, const VerifiedTransaction& b) {
        const U128 left = U128{a.fee()} * b.size();
        const U128 right = U128{b.fee()} * a.size();
        if (left != right) {
            return left > right;
        }
        if (a.nonce() != b.nonce()) {
            return a.nonce() < b.nonce();
        }
        return a.id() < b.id();
    }
    std::vector<VerifiedTransaction> chain_of(const Address& sender) const {
        std::vector<VerifiedTransaction> chain;
        for (const auto& e : m_entries) {
            if (e.sender() == sender) {
                chain.push_back(e);
            }
        }
        std::sort(chain.begin(), chain.end(),
                  [](const auto& a, const auto& b) { return a.nonce() < b.nonce(); });
        return chain;
    }
    bool contains(const Hash256& id) const {
        return std::any_of(m_entries.begin(), m_entries.end(),
                           [&](const auto& e) { return e.id() == id; });
    }
    void erase(const Hash256& id) {
        std::erase_if(m_entries, [&](const auto& e) { return e.id() == id; });
    }
    std::size_t evict() {
        std::size_t evicted = 0;
        while (bytes() > m_config.max_bytes || m_entries.size() > m_config.max_transactions) {
            const VerifiedTransaction* worst = &m_entries.front();
            for (const auto& e : m_entries) {
                if (ranks_better(*worst, e)) {
                    worst = &e;
                }
            }
            const Address sender = worst->sender();
            const std::uint64_t nonce = worst->nonce();
            const std::size_t before = m_entries.size();
            std::erase_if(m_entries, [&](const auto& e) {
                return e.sender() == sender && e.nonce() >= nonce;
            });
            evicted += before - m_entries.size();
        }
        return evicted;
    }

    MempoolConfig m_config;
    std::vector<VerifiedTransaction> m_entries;
};

// A chain of blocks over a MapState, with the pool and the model following it, and random
// admissions, replacements, blocks and reorgs. Senders' keys are random bytes: signatures are
// not checked here (assume_signed), only the pool's bookkeeping.
class Simulation {
public:
    Simulation(std::uint64_t seed, MempoolConfig config)
        : m_rng(seed), m_pool(config, params()), m_model(config) {
        for (int i = 0; i < SENDERS; ++i) {
            crypto::Ed25519PublicKey sender_key;
            m_rng.fill(sender_key);
            m_keys.push_back(sender_key);
            m_tip.set(sender_of(i), {.balance = 1000 + m_rng.uniform(20'000), .nonce = 0});
        }
        m_history.push_back({{}, {}, m_tip});
    }

    void run(int steps) {
        for (int step = 0; step < steps; ++step) {
            SCOPED_TRACE("step " + std::to_string(step));
            const std::uint64_t roll = m_rng.uniform(100);
            if (roll < 55) {
                admit_one();
            } else if (roll < 65) {
                admit_batch();
            } else if (roll < 80) {
                mine(true);
            } else if (roll < 88) {
                mine(false);
            } else if (roll < 95) {
                reorg();
            } else {
                compare_selection({m_rng.uniform(8 * PLAIN_SIZE), m_rng.uniform(10)});
            }
            compare();
            if (::testing::Test::HasFatalFailure()) {
                return;
            }
        }
    }

    std::size_t evictions = 0;
    std::size_t replacements = 0;
    std::size_t readmissions = 0;
    std::size_t admitted = 0;
    std::size_t max_size = 0;

private:
    static constexpr int SENDERS = 10;

    struct Height {
        std::vector<Transaction> txs;  // of the block that led here
        Address beneficiary;
        MapState state;  // after it
    };

    Address sender_of(int i) const { return Address::from_public_key(m_keys.at(i)); }

    Transaction random_tx(int sender, std::uint64_t nonce) {
        Transaction tx;
        tx.network_id = std::string(NETWORK);
        tx.sender = m_keys.at(sender);
        tx.recipient = m_rng.uniform(3) == 0 ? sender_of(static_cast<int>(m_rng.uniform(SENDERS)))
                                             : recipient(0xaa);
        if (tx.recipient == sender_of(sender)) {
            tx.recipient = recipient(0xab);
        }
        tx.amount = 1 + m_rng.uniform(m_rng.uniform(4) == 0 ? 8000 : 500);
        // Few distinct fees and sizes, so that equal fee rates (the tie-breaks) happen.
        tx.fee = m_rng.uniform(4) == 0 ? 0 : 10 * m_rng.uniform(12);
        tx.nonce = nonce;
        tx.memo.assign(m_rng.uniform(3) == 0 ? 50 * m_rng.uniform(3) : 0, 0x21);
        m_rng.fill(tx.signature);  // unique ids even for equal fields
        return tx;
    }

    // Mostly the next nonce; sometimes a replacement, a used nonce, a gap, or a copy.
    VerifiedTransaction random_candidate() {
        if (!m_model.entries().empty() && m_rng.uniform(12) == 0) {
            const auto& entries = m_model.entries();
            return entries[m_rng.uniform(entries.size())];  // already_known
        }
        const int sender = static_cast<int>(m_rng.uniform(SENDERS));
        const std::uint64_t tip_nonce = m_tip.account(sender_of(sender)).nonce;
        const std::uint64_t next = m_pool.pending_nonce(sender_of(sender)).value_or(tip_nonce);
        std::uint64_t nonce = next;
        const std::uint64_t roll = m_rng.uniform(10);
        if (roll < 3 && next > tip_nonce) {
            nonce = tip_nonce + m_rng.uniform(next - tip_nonce);
        } else if (roll == 3 && tip_nonce > 0) {
            nonce = tip_nonce - 1;
        } else if (roll == 4) {
            nonce = next + 1;
        }
        return *VerifiedTransaction::assume_signed(random_tx(sender, nonce), params());
    }

    void admit_one() {
        VerifiedTransaction tx = random_candidate();
        const auto expected = m_model.admit(tx, m_tip);
        const auto got = m_pool.admit(std::move(tx), m_tip);
        check_outcome(got, expected);
    }

    void admit_batch() {
        std::vector<VerifiedTransaction> batch;
        const std::size_t n = 1 + m_rng.uniform(5);
        for (std::size_t i = 0; i < n; ++i) {
            batch.push_back(random_candidate());
        }
        std::shuffle(batch.begin(), batch.end(), m_rng);
        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            if (batch[a].sender() != batch[b].sender()) {
                return batch[a].sender() < batch[b].sender();
            }
            return batch[a].nonce() < batch[b].nonce();
        });
        std::vector<Model::Outcome> expected(n);
        for (const std::size_t i : order) {
            expected[i] = m_model.admit(batch[i], m_tip);
        }
        const auto got = m_pool.admit_batch(std::move(batch), m_tip);
        ASSERT_EQ(got.size(), n);
        for (std::size_t i = 0; i < n; ++i) {
            check_outcome(got[i], expected[i]);
        }
    }

    void check_outcome(const Result<Admitted>& got, const Model::Outcome& expected) {
        if (expected.error) {
            ASSERT_FALSE(got) << "expected " << expected.error.message();
            ASSERT_EQ(got.error(), expected.error);
            return;
        }
        ASSERT_TRUE(got) << got.error().message();
        ASSERT_EQ(got->replaced, expected.replaced);
        ASSERT_EQ(got->evicted, expected.evicted);
        ++admitted;
        evictions += got->evicted;
        replacements += got->replaced ? 1 : 0;
    }

    // A block on the tip: the pool's selection (from_pool), or other miners' transactions,
    // some of them rivals of pooled ones for the same nonce.
    void mine(bool from_pool) {
        std::vector<Transaction> txs;
        MapState next = m_tip;
        std::uint64_t fees = 0;
        if (from_pool) {
            const SelectionBudget budget{PLAIN_SIZE * (1 + m_rng.uniform(10)) + m_rng.uniform(200),
                                         1 + m_rng.uniform(8)};
            compare_selection(budget);
            for (const Transaction* tx : m_pool.select(budget)) {
                ASSERT_TRUE(next.transfer(*tx, fees)) << "selection is not a valid block";
                txs.push_back(*tx);
            }
        }
        external(next, txs, fees, m_rng.uniform(from_pool ? 2 : 5));
        connect(std::move(txs), std::move(next), fees);
        const TipReport expected = m_model.tip_changed({}, m_tip);
        const TipReport got = m_pool.on_block_connected(m_history.back().txs, m_tip);
        check_report(got, expected);
    }

    void external(MapState& state, std::vector<Transaction>& txs, std::uint64_t& fees,
                  std::uint64_t count) {
        for (std::uint64_t i = 0; i < count; ++i) {
            const int sender = static_cast<int>(m_rng.uniform(SENDERS));
            const Account account = state.account(sender_of(sender));
            Transaction tx = random_tx(sender, account.nonce);
            if (state.transfer(tx, fees)) {
                txs.push_back(std::move(tx));
            }
        }
    }

    void connect(std::vector<Transaction> txs, MapState next, std::uint64_t fees) {
        const Address beneficiary = m_rng.uniform(2) == 0
                                        ? sender_of(static_cast<int>(m_rng.uniform(SENDERS)))
                                        : recipient(0xbb);
        next.credit(beneficiary, fees + m_rng.uniform(300));  // fees and a reward
        m_tip = next;
        m_history.push_back({std::move(txs), beneficiary, std::move(next)});
    }

    void reorg() {
        if (m_history.size() < 2) {
            return;
        }
        const std::size_t depth = 1 + m_rng.uniform(std::min<std::size_t>(4, m_history.size() - 1));
        std::vector<Transaction> reverted;
        std::vector<Address> lowered;
        for (std::size_t i = m_history.size() - depth; i < m_history.size(); ++i) {
            reverted.insert(reverted.end(), m_history[i].txs.begin(), m_history[i].txs.end());
            lowered.push_back(m_history[i].beneficiary);
        }
        m_history.resize(m_history.size() - depth);
        m_tip = m_history.back().state;
        // The new branch: some of the undone transactions again, and others'.
        std::vector<Transaction> connected;
        const std::size_t new_blocks = m_rng.uniform(depth + 2);
        for (std::size_t b = 0; b < new_blocks; ++b) {
            std::vector<Transaction> txs;
            MapState next = m_tip;
            std::uint64_t fees = 0;
            for (const Transaction& tx : reverted) {
                if (m_rng.uniform(3) == 0 && next.transfer(tx, fees)) {
                    txs.push_back(tx);
                }
            }
            external(next, txs, fees, m_rng.uniform(4));
            connected.insert(connected.end(), txs.begin(), txs.end());
            connect(std::move(txs), std::move(next), fees);
        }
        const TipReport expected = m_model.tip_changed(reverted, m_tip);
        const TipReport got = m_pool.on_tip_changed(
            {.reverted = reverted, .connected = connected, .lowered = lowered}, m_tip);
        check_report(got, expected);
        readmissions += got.readmitted;
    }

    void check_report(const TipReport& got, const TipReport& expected) {
        EXPECT_EQ(got.removed, expected.removed);
        EXPECT_EQ(got.readmitted, expected.readmitted);
        EXPECT_EQ(got.dropped, expected.dropped);
        EXPECT_EQ(got.evicted, expected.evicted);
        evictions += got.evicted;
    }

    void compare_selection(SelectionBudget budget) {
        std::vector<Hash256> got;
        for (const Transaction* tx : m_pool.select(budget)) {
            got.push_back(tx->id());
        }
        ASSERT_EQ(got, m_model.select(budget));
    }

    void compare() {
        m_pool.check_invariants(&m_tip);
        std::set<Hash256> got;
        for (const Transaction* tx : m_pool.select(EVERYTHING)) {
            got.insert(tx->id());
        }
        ASSERT_EQ(got, m_model.ids());
        ASSERT_EQ(m_pool.size(), got.size());
        ASSERT_EQ(m_pool.bytes(), m_model.bytes());
        for (int i = 0; i < SENDERS; ++i) {
            ASSERT_EQ(m_pool.pending_nonce(sender_of(i)), m_model.pending_nonce(sender_of(i)));
        }
        max_size = std::max(max_size, m_pool.size());
    }

    Rng m_rng;
    std::vector<crypto::Ed25519PublicKey> m_keys;
    MapState m_tip;
    std::vector<Height> m_history;
    Mempool m_pool;
    Model m_model;
};

TEST(MempoolRandomized, AgreesWithTheNaiveModel) {
    const MempoolConfig configs[] = {
        {.max_bytes = 12 * PLAIN_SIZE,
         .max_transactions = 100,
         .max_per_sender = 4,
         .replacement_fee_bump_percent = 10},
        {.max_bytes = 100'000,
         .max_transactions = 15,
         .max_per_sender = 3,
         .replacement_fee_bump_percent = 0},
        {.max_bytes = 100'000,
         .max_transactions = 1'000,
         .max_per_sender = 8,
         .replacement_fee_bump_percent = 25},
    };
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
        const MempoolConfig& config = configs[seed % 3];
        SCOPED_TRACE("seed " + std::to_string(seed));
        Simulation sim(seed, config);
        sim.run(2'500);
        if (HasFatalFailure()) {
            return;
        }
        // The run reached the interesting paths, not just empty pools.
        EXPECT_GT(sim.admitted, 300u);
        EXPECT_GT(sim.replacements, 10u);
        EXPECT_GT(sim.readmissions, 10u);
        if (config.max_transactions < 1'000) {
            EXPECT_GT(sim.evictions, 10u);
        }
        EXPECT_GT(sim.max_size, 8u);
    }
}

}  // namespace
// ---- Local transactions (rule 9) --------------------------------------------------------

TEST(Mempool, LocalMarksFollowTheirTransactionsOutOfThePool) {
    Fixture f;
    const Transaction mine = transfer(f.k(1), 0, 10);
    const Transaction relayed = transfer(f.k(2), 0, 10);
    const Transaction later = transfer(f.k(3), 0, 10);
    ASSERT_TRUE(f.admit(mine));
    ASSERT_TRUE(f.admit(relayed));
    f.pool.mark_local(mine.id());
    f.pool.mark_local(later.id());  // not pooled: ignored
    auto local = f.pool.local_transactions();
    ASSERT_EQ(local.size(), 1u);
    EXPECT_EQ(*local.front(), mine);

    // A block takes it: the mark goes with it.
    f.tip.set(address_of(f.k(1)), {.balance = 1'000'000 - 11, .nonce = 1});
    const std::vector<Transaction> block{mine};
    f.pool.on_block_connected(block, f.tip);
    EXPECT_TRUE(f.pool.local_transactions().empty());
    // Admitted later, it is not local unless marked again.
    ASSERT_TRUE(f.admit(later));
    EXPECT_TRUE(f.pool.local_transactions().empty());
    f.pool.check_invariants(&f.tip);
}

TEST(Mempool, LocalMarksAreBounded) {
    Fixture f({.max_per_sender = 2'000});
    f.tip.set(address_of(f.k(1)), {.balance = 1'000'000'000, .nonce = 0});
    for (std::uint64_t nonce = 0; nonce < MAX_LOCAL_TRANSACTIONS + 5; ++nonce) {
        const Transaction tx = transfer(f.k(1), nonce, 1);
        ASSERT_TRUE(f.admit(tx)) << nonce;
        f.pool.mark_local(tx.id());
    }
    EXPECT_EQ(f.pool.local_transactions().size(), MAX_LOCAL_TRANSACTIONS);
    f.pool.check_invariants(&f.tip);
}

}  // namespace chainmesh::mempool
