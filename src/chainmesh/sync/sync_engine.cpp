#include <algorithm>
#include <chainmesh/sync/sync_engine.hpp>
#include <cstdlib>
#include <limits>

namespace chainmesh::sync {
namespace {

// Aborts in every build type: a broken invariant is a bug, never a peer's doing.
void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

}  // namespace

SyncEngine::SyncEngine(SyncConfig config, HeaderValidator& validator, const Hash256& genesis_hash,
                       const chain::Work& genesis_work)
    : m_config(config), m_validator(&validator) {
    require(m_config.headers_per_request >= 1 &&
            m_config.headers_per_request <= MAX_HEADERS_PER_MESSAGE);
    require(m_config.blocks_per_request >= 1 &&
            m_config.blocks_per_request <= MAX_BLOCKS_PER_MESSAGE);
    require(m_config.max_requests_per_peer >= 1 && m_config.max_requests_total >= 1);
    require(m_config.window_blocks >= 1);
    m_chain.push_back(Entry{genesis_hash, genesis_work});
    m_index.emplace(genesis_hash, 0);
    m_node_chain.push_back(Entry{genesis_hash, genesis_work});
}

Status SyncEngine::local_status() const {
    Status status;
    status.genesis_hash = m_chain.front().hash;
    status.best_height = m_node_chain.size() - 1;
    status.best_hash = m_node_chain.back().hash;
    status.cumulative_work = m_node_chain.back().work;
    return status;
}

std::vector<Hash256> SyncEngine::locator() const {
    std::vector<Hash256> out;
    std::uint64_t height = header_height();
    std::uint64_t step = 1;
    while (height > 0 && out.size() + 1 < MAX_LOCATOR_HASHES) {
        out.push_back(m_chain[height].hash);
        if (out.size() >= 10) {
            step *= 2;
        }
        height = height > step ? height - step : 0;
    }
    out.push_back(m_chain.front().hash);
    return out;
}

void SyncEngine::penalize(const crypto::PeerId& peer, SyncError reason) {
    m_actions.push_back(Penalize{peer, reason});
}

bool SyncEngine::can_serve(const Peer& peer, std::uint64_t height, Instant now) const {
    if (peer.rest_until > now || height >= peer.lacks_from) {
        return false;
    }
    if (peer.proven_height && *peer.proven_height >= height) {
        return true;
    }
    // Rule 1: a claim may select a peer to ask, never make us believe a chain.
    return !peer.claim_disproven && peer.status.cumulative_work >= m_chain[height].work;
}

void SyncEngine::on_peer_status(const crypto::PeerId& id, const Status& status, Instant now) {
    m_now = now;
    if (status.genesis_hash != m_chain.front().hash) {
        penalize(id, SyncError::wrong_network);
        on_peer_disconnected(id, now);
        return;
    }
    auto it = m_peers.find(id);
    if (it == m_peers.end()) {
        if (m_peers.size() >= m_config.max_peers) {
            return;
        }
        it = m_peers.emplace(id, Peer{}).first;
    }
    Peer& peer = it->second;
    if (peer.claim_disproven && status.cumulative_work > peer.status.cumulative_work) {
        peer.claim_disproven = false;
    }
    if (status.best_height > peer.status.best_height) {
        peer.lacks_from = UINT64_MAX;  // it may have the blocks it lacked now
    }
    peer.status = status;
    if (auto known = m_index.find(status.best_hash); known != m_index.end()) {
        peer.proven_height = std::max(peer.proven_height.value_or(0), known->second);
    }
    if (!m_next_progress) {
        m_next_progress = now + m_config.progress_interval;
        m_progress_height = m_applied;
    }
    request_headers(now);
    schedule_blocks(now);
}

void SyncEngine::on_peer_disconnected(const crypto::PeerId& id, Instant now) {
    m_now = now;
    std::vector<RequestId> owned;
    for (const auto& [request_id, request] : m_requests) {
        if (request.peer == id) {
            owned.push_back(request_id);
        }
    }
    for (RequestId request_id : owned) {
        drop_request(request_id);
    }
    m_peers.erase(id);
    request_headers(now);
    schedule_blocks(now);
}

void SyncEngine::request_headers(Instant now) {
    if (m_headers_request) {
        return;
    }
    const crypto::PeerId* best = nullptr;
    const chain::Work* best_work = &header_work();
    for (const auto& [id, peer] : m_peers) {
        if (!peer.claim_disproven && peer.rest_until <= now &&
            peer.status.cumulative_work > *best_work) {
            best = &id;
            best_work = &peer.status.cumulative_work;
        }
    }
    if (best != nullptr) {
        send_headers_request(*best, m_peers.at(*best), now);
    }
}

void SyncEngine::send_headers_request(const crypto::PeerId& id, Peer& peer, Instant now) {
    GetHeaders request;
    request.locator = locator();
    request.max_count = static_cast<std::uint16_t>(m_config.headers_per_request);
    const RequestId request_id = m_next_request++;
    m_requests.emplace(request_id, InFlight{id, true, {}, now, now + m_config.request_timeout});
    m_headers_request = request_id;
    peer.headers_request = request_id;
    m_actions.push_back(SendRequest{id, request_id, std::move(request)});
}

void SyncEngine::on_headers(const crypto::PeerId& id, RequestId request_id,
                            const std::vector<chain::BlockHeader>& headers, Instant now) {
    m_now = now;
    const auto request = m_requests.find(request_id);
    if (request == m_requests.end() || request->second.peer != id || !request->second.headers) {
        penalize(id, SyncError::unsolicited);
        return;
    }
    drop_request(request_id);
    Peer& peer = m_peers.at(id);
    if (headers.size() > m_config.headers_per_request) {
        penalize(id, SyncError::too_many_items);
        peer.claim_disproven = true;
        request_headers(now);
        return;
    }
    const bool full = headers.size() == m_config.headers_per_request;

    // Linkage: the first header onto one we hold, each next onto the previous.
    std::vector<Hash256> hashes;
    hashes.reserve(headers.size());
    std::uint64_t fork_height = 0;  // the parent of the first new header
    bool adopted = false;           // the response extended or replaced our header chain
    std::size_t first_new = 0;
    for (std::size_t i = 0; i < headers.size(); ++i) {
        const chain::BlockHeader& header = headers[i];
        bool linked = false;
        if (i == 0) {
            const auto parent = m_index.find(header.previous_hash);
            linked = parent != m_index.end() && header.height == parent->second + 1;
        } else {
            linked =
                header.previous_hash == hashes.back() && header.height == headers[i - 1].height + 1;
        }
        if (!linked) {
            penalize(id, SyncError::bad_linkage);
            peer.claim_disproven = true;
            request_headers(now);
            return;
        }
        hashes.push_back(header.hash());
        // Headers we already hold at the same height are an overlap, not a fork.
        if (first_new == i && header.height < m_chain.size() &&
            m_chain[header.height].hash == hashes.back()) {
            first_new = i + 1;
        }
    }
    if (!headers.empty()) {
        peer.proven_height = std::max(peer.proven_height.value_or(0), headers.back().height);
    }
    if (first_new < headers.size()) {
        fork_height = headers[first_new].height - 1;
        chain::Work work = m_chain[fork_height].work;
        std::vector<Entry> branch;
        branch.reserve(headers.size() - first_new);
        for (std::size_t i = first_new; i < headers.size(); ++i) {
            auto weight = m_validator->check_header(headers[i]);
            if (!weight) {
                penalize(id, SyncError::invalid_header);
                peer.claim_disproven = true;
                peer.proven_height = fork_height;
                request_headers(now);
                return;
            }
            work = work + *weight;
            branch.push_back(Entry{hashes[i], work});
        }
        if (work > header_work()) {
            adopted = true;
            truncate_to(fork_height);
            for (const Entry& entry : branch) {
                m_index.emplace(entry.hash, m_chain.size());
                m_chain.push_back(entry);
            }
        }
    }
    if (full && adopted) {
        send_headers_request(id, peer, now);
    } else if (full) {
        // A full response that is not (yet) heavier: a long side branch, or an echo of what we
        // have. Asking again with the same locator would get the same answer, so stop asking
        // this peer until it announces more work; no penalty, it may be honest.
        peer.claim_disproven = true;
        request_headers(now);
    } else {
        if (peer.status.cumulative_work > header_work()) {
            // Rule 1: it claimed more than it could show.
            penalize(id, SyncError::claim_not_backed);
            peer.claim_disproven = true;
        }
        request_headers(now);
    }
    schedule_blocks(now);
}

void SyncEngine::truncate_to(std::uint64_t height) {
    while (m_chain.size() > height + 1) {
        m_index.erase(m_chain.back().hash);
        m_chain.pop_back();
    }
    m_received.erase(m_received.upper_bound(height), m_received.end());
    m_in_flight.erase(m_in_flight.upper_bound(height), m_in_flight.end());
    m_next_deliver = std::min(m_next_deliver, height + 1);
    m_applied = std::min(m_applied, height);
}

void SyncEngine::schedule_blocks(Instant now) {
    const std::uint64_t end = std::min(header_height(), m_applied + m_config.window_blocks);
    std::uint64_t height = m_next_deliver;
    while (height <= end) {
        if (m_received.contains(height) || m_in_flight.contains(height)) {
            ++height;
            continue;
        }
        // Rule 3: the eligible peer with the fewest requests in flight.
        const crypto::PeerId* chosen = nullptr;
        std::size_t chosen_load = std::numeric_limits<std::size_t>::max();
        for (const auto& [id, peer] : m_peers) {
            if (peer.block_requests < m_config.max_requests_per_peer &&
                peer.block_requests < chosen_load && can_serve(peer, height, now)) {
                chosen = &id;
                chosen_load = peer.block_requests;
            }
        }
        if (chosen == nullptr) {
            ++height;
            continue;
        }
        const std::size_t block_requests = m_requests.size() - (m_headers_request ? 1 : 0);
        if (block_requests >= m_config.max_requests_total) {
            return;
        }
        Peer& peer = m_peers.at(*chosen);
        const RequestId request_id = m_next_request++;
        InFlight request{*chosen, false, {}, now, now + m_config.request_timeout};
        GetBlocks message;
        while (height <= end && message.hashes.size() < m_config.blocks_per_request &&
               !m_received.contains(height) && !m_in_flight.contains(height) &&
               can_serve(peer, height, now)) {
            request.blocks.emplace_back(height, m_chain[height].hash);
            message.hashes.push_back(m_chain[height].hash);
            m_in_flight.emplace(height, request_id);
            ++height;
        }
        ++peer.block_requests;
        m_requests.emplace(request_id, std::move(request));
        m_actions.push_back(SendRequest{*chosen, request_id, std::move(message)});
    }
}

void SyncEngine::drop_request(RequestId request_id) {
    const auto it = m_requests.find(request_id);
    if (it == m_requests.end()) {
        return;
    }
    const InFlight& request = it->second;
    for (const auto& [height, hash] : request.blocks) {
        const auto held = m_in_flight.find(height);
        if (held != m_in_flight.end() && held->second == request_id) {
            m_in_flight.erase(held);
        }
    }
    if (const auto peer = m_peers.find(request.peer); peer != m_peers.end()) {
        if (request.headers) {
            peer->second.headers_request.reset();
        } else {
            --peer->second.block_requests;
        }
    }
    if (m_headers_request == request_id) {
        m_headers_request.reset();
    }
    m_requests.erase(it);
}

void SyncEngine::on_blocks(const crypto::PeerId& id, RequestId request_id,
                           std::vector<chain::Block> blocks, Instant now) {
    m_now = now;
    const auto it = m_requests.find(request_id);
    if (it == m_requests.end() || it->second.peer != id || it->second.headers) {
        penalize(id, SyncError::unsolicited);
        return;
    }
    const std::vector<std::pair<std::uint64_t, Hash256>> wanted = std::move(it->second.blocks);
    it->second.blocks.clear();
    // Free the heights this request held before dropping it.
    for (const auto& [height, hash] : wanted) {
        const auto held = m_in_flight.find(height);
        if (held != m_in_flight.end() && held->second == request_id) {
            m_in_flight.erase(held);
        }
    }
    drop_request(request_id);
    Peer& peer = m_peers.at(id);
    bool bad = false;
    std::vector<bool> got(wanted.size(), false);
    for (chain::Block& block : blocks) {
        const Hash256 hash = block.hash();
        const auto match = std::find_if(wanted.begin(), wanted.end(),
                                        [&hash](const auto& w) { return w.second == hash; });
        if (match == wanted.end()) {
            bad = true;
            continue;
        }
        const std::uint64_t height = match->first;
        got[static_cast<std::size_t>(match - wanted.begin())] = true;
        // Still on our header chain and not yet delivered (a reorg may have moved it).
        if (height >= m_next_deliver && height < m_chain.size() && m_chain[height].hash == hash &&
            !m_received.contains(height)) {
            m_received.emplace(height, std::make_pair(std::move(block), id));
        }
    }
    if (bad) {
        penalize(id, SyncError::wrong_block);
    }
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        if (!got[i]) {
            peer.lacks_from = std::min(peer.lacks_from, wanted[i].first);
            break;
        }
    }
    deliver();
    schedule_blocks(now);
}

void SyncEngine::on_request_failed(const crypto::PeerId& id, RequestId request_id, Instant now) {
    m_now = now;
    const auto it = m_requests.find(request_id);
    if (it == m_requests.end() || it->second.peer != id) {
        return;
    }
    drop_request(request_id);
    if (auto peer = m_peers.find(id); peer != m_peers.end()) {
        peer->second.rest_until = now + m_config.request_timeout;
    }
    request_headers(now);
    schedule_blocks(now);
}

void SyncEngine::deliver() {
    for (auto it = m_received.find(m_next_deliver); it != m_received.end();
         it = m_received.find(m_next_deliver)) {
        m_actions.push_back(DeliverBlock{std::move(it->second.first), m_next_deliver,
                                         std::move(it->second.second)});
        m_received.erase(it);
        ++m_next_deliver;
    }
}

void SyncEngine::on_block_applied(std::uint64_t height, const Hash256& hash,
                                  const chain::Work& work, Instant now) {
    m_now = now;
    if (height == 0 || height > m_node_chain.size()) {
        return;  // genesis is fixed; a gap means blocks were reported out of order
    }
    m_node_chain.resize(height);
    m_node_chain.push_back(Entry{hash, work});
    // m_chain[0..m_applied] is the common prefix of the header chain and the node's chain.
    const std::uint64_t common = std::min<std::uint64_t>(m_applied, height - 1);
    if (height < m_chain.size() && m_chain[height].hash == hash && common == height - 1) {
        m_applied = height;  // the node applied the header chain's next block
    } else if (work >= m_chain.back().work) {
        // The node's chain is now the heaviest we know (its own block, or gossip ahead of
        // sync; ties go to what the node applied, as its fork choice keeps first-seen):
        // the header chain follows it from where they part.
        truncate_to(common);
        for (std::uint64_t h = common + 1; h <= height; ++h) {
            m_index.emplace(m_node_chain[h].hash, m_chain.size());
            m_chain.push_back(m_node_chain[h]);
        }
        m_applied = height;
        m_next_deliver = height + 1;
    } else {
        // A lighter branch of the node's own (gossip blocks while a heavier branch
        // downloads): the header chain stays, and so does the download from where the two
        // part. Rationale: treating the block as on the header chain once left the engine
        // believing the node held the heavier branch's blocks below it, and sync stalled.
        m_applied = common;
    }
    m_next_deliver = std::max(m_next_deliver, m_applied + 1);
    m_received.erase(m_received.begin(), m_received.upper_bound(m_applied));
    deliver();
    request_headers(now);
    schedule_blocks(now);
}

void SyncEngine::on_block_invalid(std::uint64_t height, const Hash256& hash, Instant now) {
    m_now = now;
    if (height == 0 || height >= m_chain.size() || m_chain[height].hash != hash) {
        return;  // not on our header chain (any more)
    }
    truncate_to(height - 1);
    for (auto& [id, peer] : m_peers) {
        if (peer.proven_height && *peer.proven_height >= height) {
            peer.proven_height = height - 1;
        }
    }
    request_headers(now);
    schedule_blocks(now);
}

void SyncEngine::on_tick(Instant now) {
    m_now = now;
    std::vector<RequestId> late;
    for (const auto& [request_id, request] : m_requests) {
        if (request.deadline <= now) {
            late.push_back(request_id);
        }
    }
    // Rule 6: the lowest missing block held too long while later ones wait.
    if (const auto lowest = m_in_flight.find(m_next_deliver);
        lowest != m_in_flight.end() && !m_received.empty()) {
        const InFlight& request = m_requests.at(lowest->second);
        if (request.sent_at + m_config.stall_timeout <= now && request.deadline > now) {
            penalize(request.peer, SyncError::stall);
            m_peers.at(request.peer).rest_until = now + m_config.request_timeout;
            drop_request(lowest->second);
        }
    }
    for (RequestId request_id : late) {
        if (!m_requests.contains(request_id)) {
            continue;  // taken away as a stall above
        }
        const crypto::PeerId peer = m_requests.at(request_id).peer;
        drop_request(request_id);
        penalize(peer, SyncError::timeout);
        m_peers.at(peer).rest_until = now + m_config.request_timeout;
    }
    if (m_next_progress && *m_next_progress <= now) {
        const double seconds = std::chrono::duration<double>(m_config.progress_interval).count();
        const std::uint64_t done =
            m_applied > m_progress_height ? m_applied - m_progress_height : 0;
        if (syncing() || done > 0) {
            Progress progress{m_applied, header_height(), static_cast<double>(done) / seconds,
                              std::nullopt};
            if (done > 0) {
                progress.seconds_left =
                    static_cast<double>(header_height() - m_applied) / progress.blocks_per_second;
            }
            m_actions.push_back(progress);
        }
        m_progress_height = m_applied;
        m_next_progress = now + m_config.progress_interval;
    }
    request_headers(now);
    schedule_blocks(now);
}

std::vector<Action> SyncEngine::take_actions() {
    std::vector<Action> out;
    out.swap(m_actions);
    return out;
}

std::optional<Instant> SyncEngine::next_wakeup() const {
    std::optional<Instant> out = m_next_progress;
    const auto earlier = [&out](Instant t) {
        if (!out || t < *out) {
            out = t;
        }
    };
    for (const auto& [request_id, request] : m_requests) {
        earlier(request.deadline);
    }
    if (const auto lowest = m_in_flight.find(m_next_deliver); lowest != m_in_flight.end()) {
        earlier(m_requests.at(lowest->second).sent_at + m_config.stall_timeout);
    }
    for (const auto& [id, peer] : m_peers) {
        if (peer.rest_until > m_now) {
            earlier(peer.rest_until);
        }
    }
    return out;
}

void SyncEngine::check_invariants() const {
    require(!m_chain.empty() && m_index.size() == m_chain.size());
    for (std::uint64_t height = 0; height < m_chain.size(); ++height) {
        const auto it = m_index.find(m_chain[height].hash);
        require(it != m_index.end() && it->second == height);
    }
    require(m_applied < m_chain.size());
    require(m_next_deliver > m_applied);
    require(m_peers.size() <= m_config.max_peers);
    require(m_received.size() <= m_config.window_blocks);
    for (const auto& [height, entry] : m_received) {
        require(height >= m_next_deliver && height < m_chain.size());
    }
    for (const auto& [height, request_id] : m_in_flight) {
        const auto it = m_requests.find(request_id);
        require(it != m_requests.end() && !it->second.headers);
    }
    std::size_t headers_requests = 0;
    std::map<crypto::PeerId, std::size_t> block_requests;
    for (const auto& [request_id, request] : m_requests) {
        require(m_peers.contains(request.peer));
        if (request.headers) {
            ++headers_requests;
            require(m_headers_request == request_id);
        } else {
            ++block_requests[request.peer];
        }
    }
    require(headers_requests <= 1 && headers_requests == (m_headers_request ? 1U : 0U));
    require(m_requests.size() <= m_config.max_requests_total + 1);
    for (const auto& [id, peer] : m_peers) {
        const auto it = block_requests.find(id);
        require(peer.block_requests == (it == block_requests.end() ? 0 : it->second));
        require(peer.block_requests <= m_config.max_requests_per_peer);
    }
}

}  // namespace chainmesh::sync
