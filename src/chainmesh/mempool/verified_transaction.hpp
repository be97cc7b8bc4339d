#pragma once
// Transactions that passed every check that needs no state, with what admission needs of
// them computed once: the part of admission that can run on any thread.
//
// VerifiedTransaction::verify runs chain::check_transaction (network, memo, amount, self
// transfer), chain::check_signature (one Ed25519 verify, about 50 µs) and computes the id and
// the sender's address (two SHA-256). That is nearly all of admission's CPU, so a driver runs
// it on its worker pool, both cores, and posts the results to the engine thread, which only
// does Mempool::admit (map lookups and one state read). Mempool::admit takes nothing else:
// the type is the proof that the signature was checked.
//
// Rationale for a type rather than a flag: admission cannot be handed an unchecked
// transaction by mistake, and the id and address, computed off the engine thread, travel
// with it.
//
// Thread safety: verify, assume_signed and verify_transactions touch no shared state; call
// them from as many threads as there are cores.

#include <chainmesh/chain/address.hpp>
#include <chainmesh/chain/params.hpp>
#include <chainmesh/chain/transaction.hpp>
#include <chainmesh/crypto/sha256.hpp>
#include <chainmesh/util/result.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace chainmesh::mempool {

using crypto::Hash256;

// Whether a refusal by verify() (or by admission's stateless part) says the transaction is
// bad in itself, not for the state it met: its sender, or whoever relayed it, sent something
// no honest node would. Drivers penalise the relaying peer for these.
bool is_sender_fault(const ErrorCode& reason);

class VerifiedTransaction {
public:
    // Stateless checks, then the signature: the first failure (a chain::ChainError) or the
    // transaction with its id, sender address and size.
    static Result<VerifiedTransaction> verify(chain::Transaction tx,
                                              const chain::ChainParams& params);
    // The same without the Ed25519 check, ONLY for transactions whose signature this node
    // has already checked: those of blocks it validated, coming back after a reorg
    // (Mempool::on_tip_changed uses it), or a test's.
    static Result<VerifiedTransaction> assume_signed(chain::Transaction tx,
                                                     const chain::ChainParams& params);

    const chain::Transaction& transaction() const { return m_tx; }
    const Hash256& id() const { return m_id; }
    const chain::Address& sender() const { return m_sender; }
    std::uint64_t nonce() const { return m_tx.nonce; }
    std::uint64_t fee() const { return m_tx.fee; }
    std::size_t size() const { return m_size; }  // encoded bytes, what the pool bound counts

private:
    explicit VerifiedTransaction(chain::Transaction tx);

    chain::Transaction m_tx;
    Hash256 m_id{};
    chain::Address m_sender;
    std::size_t m_size = 0;
};

// VerifiedTransaction::verify over a batch, one result per transaction in the same order: a
// worker's share of what arrived. Moves the transactions in.
std::vector<Result<VerifiedTransaction>> verify_transactions(std::vector<chain::Transaction> txs,
                                                             const chain::ChainParams& params);

}  // namespace chainmesh::mempool
