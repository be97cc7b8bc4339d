#include <chainmesh/chain/validation.hpp>
#include <chainmesh/mempool/verified_transaction.hpp>

namespace chainmesh::mempool {

bool is_sender_fault(const ErrorCode& reason) {
    using chain::ChainError;
    return reason == ChainError::malformed || reason == ChainError::bad_signature ||
           reason == ChainError::wrong_network || reason == ChainError::bad_address ||
           reason == ChainError::memo_too_long || reason == ChainError::zero_amount ||
           reason == ChainError::self_transfer;
}

VerifiedTransaction::VerifiedTransaction(chain::Transaction tx)
    : m_tx(std::move(tx)),
      m_id(m_tx.id()),
      m_sender(m_tx.sender_address()),
      m_size(m_tx.encoded_size()) {}

Result<VerifiedTransaction> VerifiedTransaction::verify(chain::Transaction tx,
                                                        const chain::ChainParams& params) {
    // The cheap checks first: a transaction for another network costs no Ed25519 verify.
    if (auto checked = chain::check_transaction(tx, params); !checked) {
        return checked.error();
    }
    if (auto signed_ok = chain::check_signature(tx); !signed_ok) {
        return signed_ok.error();
    }
    return VerifiedTransaction(std::move(tx));
}

Result<VerifiedTransaction> VerifiedTransaction::assume_signed(chain::Transaction tx,
                                                               const chain::ChainParams& params) {
    if (auto checked = chain::check_transaction(tx, params); !checked) {
        return checked.error();
    }
    return VerifiedTransaction(std::move(tx));
}

std::vector<Result<VerifiedTransaction>> verify_transactions(std::vector<chain::Transaction> txs,
                                                             const chain::ChainParams& params) {
    std::vector<Result<VerifiedTransaction>> results;
    results.reserve(txs.size());
    for (chain::Transaction& tx : txs) {
        results.push_back(VerifiedTransaction::verify(std::move(tx), params));
    }
    return results;
}

}  // namespace chainmesh::mempool
