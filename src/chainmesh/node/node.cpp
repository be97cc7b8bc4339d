#include <chainmesh/node/node.hpp>

#include <chainmesh/chain/fork_choice.hpp>
#include <chainmesh/chain/validation.hpp>
#include <chainmesh/consensus/errors.hpp>
#include <chainmesh/consensus/pow/pow_engine.hpp>
#include <chainmesh/discovery/peer_book.hpp>
#include <chainmesh/discovery/peer_slots.hpp>
#include <chainmesh/discovery/peer_list.hpp>
#include <chainmesh/mempool/mempool.hpp>
#include <chainmesh/net/clock.hpp>
#include <chainmesh/net/timeout.hpp>
#include <chainmesh/node/gossip_service.hpp>
#include <chainmesh/node/miner.hpp>
#include <chainmesh/node/text_file.hpp>
#include <chainmesh/store/block_store.hpp>
#include <chainmesh/sync/fork_header_validator.hpp>
#include <chainmesh/sync/sync_engine.hpp>
#include <chainmesh/util/hex.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <deque>
#include <fstream>
#include <future>
#include <random>
#include <set>

namespace chainmesh::node {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using chain::Hash256;
using crypto::PeerId;

namespace {

constexpr std::string_view MEMPOOL_PROTOCOL_ID = "/chainmesh/mempool/1.0.0";
constexpr std::size_t MEMPOOL_SYNC_MAX_TRANSACTIONS = 5000;
// The whole /chainmesh/mempool/1.0.0 listing we fetch from a peer, not each frame.
constexpr Duration MEMPOOL_SYNC_DEADLINE = 60s;
constexpr std::size_t TRANSACTION_FRAME_MAX_BYTES = 4096;
constexpr std::size_t SYNC_REQUEST_MAX_BYTES = 64 * 1024;
constexpr Duration PROTOCOL_TIMEOUT = 15s;
// The sync engine's own request deadline (SyncConfig::request_timeout): a response later than
// that is one the engine already gave up on.
constexpr Duration SYNC_REQUEST_TIMEOUT = sync::SyncConfig{}.request_timeout;

// Ban scores (Bitcoin Core's misbehaviour points): a peer reaching BAN_THRESHOLD is
// disconnected and banned for BAN_DURATION. Bad data costs the whole budget at once, on the
// gossip and the sync path alike; slowness costs a share, so a flaky link is tolerated a
// while.
constexpr int BAN_THRESHOLD = 100;
constexpr int BAD_DATA_POINTS = 100;
constexpr int SLOW_POINTS = 20;
constexpr Duration BAN_DURATION = std::chrono::hours(24);
constexpr Duration OTHER_NETWORK_BAN = std::chrono::hours(1);

constexpr Duration DIAL_INTERVAL = 5s;
// Inbound connections the host takes past the inbound slots while PeerSlots decides.
constexpr std::size_t INBOUND_HEADROOM = 8;
constexpr Duration REPORT_INTERVAL = 10s;
constexpr Duration PEER_BOOK_SAVE_INTERVAL = 60s;
constexpr Duration TEMPLATE_REFRESH_DELAY = 500ms;
constexpr Duration STATUS_REQUEST_SPACING = 2s;
constexpr double REJECTED_TX_ANNOUNCEMENTS_PER_SECOND = 20;

std::uint64_t wall_ms() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

std::string hex(const Hash256& hash) { return util::to_hex(ByteView(hash.data(), hash.size())); }
std::string short_hex(const Hash256& hash) { return hex(hash).substr(0, 16); }

template <class Enum>
bool is_category(const ErrorCode& ec) {
    return ec.category() == make_error_code(Enum{}).category();
}

// The error's value name ("nonce_too_low"), for the API and announcements.
std::string error_name(const ErrorCode& ec) {
    if (is_category<chain::ChainError>(ec)) {
        return std::string(chain::name(static_cast<chain::ChainError>(ec.value())));
    }
    if (is_category<chain::ForkChoiceError>(ec)) {
        return std::string(chain::name(static_cast<chain::ForkChoiceError>(ec.value())));
    }
    if (is_category<mempool::MempoolError>(ec)) {
        return std::string(mempool::name(static_cast<mempool::MempoolError>(ec.value())));
    }
    if (is_category<consensus::ConsensusError>(ec)) {
        return std::string(consensus::name(static_cast<consensus::ConsensusError>(ec.value())));
    }
    if (is_category<sync::SyncError>(ec)) {
        return std::string(sync::name(static_cast<sync::SyncError>(ec.value())));
    }
    return std::string(ec.category().name()) + ":" + std::to_string(ec.value());
}

// Whether a refused block or header says the sender misbehaved, or only that it raced us,
// follows another fork, or has a clock ahead of ours (fork_choice.hpp, "Rejected").
bool is_store_failure(const ErrorCode& ec) {
    return ec == store::StoreError::io_error || ec == store::StoreError::corrupt;
}

Hash256 get_hash(ByteView in) {
    Hash256 hash{};
    std::copy_n(in.begin(), hash.size(), hash.begin());
    return hash;
}

// /bestblock: u64 height ‖ 32 hash ‖ 32 cumulative work. /mining_on: u64 height ‖ 32 parent.
// /rejected_tx: 32 id ‖ reason (ASCII, at most 64 bytes).
constexpr std::size_t BEST_BLOCK_BYTES = 8 + 32 + 32;
constexpr std::size_t MINING_ON_BYTES = 8 + 32;
constexpr std::size_t REJECTED_REASON_MAX_BYTES = 64;

// In an optional because co_spawn needs a default-constructible result.
asio::awaitable<std::optional<Result<mempool::VerifiedTransaction>>> verify_on_worker(
    chain::Transaction tx, chain::ChainParams params) {
    co_return mempool::VerifiedTransaction::verify(std::move(tx), params);
}

chain::Genesis parse_genesis_file(const std::filesystem::path& path) {
    auto parsed =
        chain::parse_genesis(read_text_file(path, chain::GENESIS_MAX_BYTES, "genesis file"));
    if (!parsed) {
        throw std::runtime_error("bad genesis file " + path.string() + ": " +
                                 parsed.error().message);
    }
    return *parsed;
}

}  // namespace

chain::Genesis load_node_genesis(const NodeConfig& config) {
    const auto kept = config.data_dir / "genesis.toml";
    const bool have_kept = std::filesystem::exists(kept);
    if (config.genesis_file.empty()) {
        if (!have_kept) {
            throw std::runtime_error(
                "no genesis: give --genesis-file (make one with `chainmesh genesis new`), or a "
                "--data-dir that already holds a chain");
        }
        return parse_genesis_file(kept);
    }
    chain::Genesis genesis = parse_genesis_file(config.genesis_file);
    if (have_kept) {
        const chain::Genesis existing = parse_genesis_file(kept);
        if (!(existing == genesis)) {
            throw std::runtime_error("the genesis file " + config.genesis_file.string() +
                                     " (network " + genesis.params.network_id +
                                     ") is not the one the data dir was made with (" +
                                     kept.string() + ", network " +
                                     existing.params.network_id +
                                     "); use another --data-dir for another network");
        }
    }
    return genesis;
}

struct Node::Impl {
    struct Topics {
        std::string block, tx, bestblock, mining_on, rejected_tx;
        explicit Topics(const std::string& network)
            : block("/chainmesh/" + network + "/block"),
              tx("/chainmesh/" + network + "/tx"),
              bestblock("/chainmesh/" + network + "/bestblock"),
              mining_on("/chainmesh/" + network + "/mining_on"),
              rejected_tx("/chainmesh/" + network + "/rejected_tx") {}
    };

    struct PeerState {
        int misbehaviour = 0;
        std::optional<sync::Status> status;
        std::optional<Instant> last_status_request;
        bool exchanged = false;  // status, mempool and peer list asked once
        std::string direction;    // of the current connection
        std::string remote_addr;  // of the current connection
    };

    // A block from sync waiting for its signature check (on the worker pool) before it goes
    // to the fork choice, in delivery order.
    struct PendingDelivery {
        chain::Block block;
        std::uint64_t height = 0;
        PeerId from;
        bool checked = false;
        bool signatures_ok = false;
    };

    // An address without a /p2p/ id (bootstrap or static): dialed as is until it answers.
    struct AnonymousTarget {
        wire::Multiaddr addr;
        bool is_static = false;
        bool dialing = false;
        std::uint32_t failures = 0;
        Instant next_attempt{};
    };

    enum class Verdict { accepted, known, orphan, ignored, invalid };

    Impl(asio::io_context& io_, NodeConfig config_, chain::Genesis genesis_)
        : io(io_),
          config(std::move(config_)),
          genesis(std::move(genesis_)),
          params(genesis.params),
          genesis_header(genesis.block().header),
          genesis_hash(genesis_header.hash()),
          identity(crypto::load_or_create_key_file(config.key_file)),
          beneficiary(config.beneficiary.empty()
                          ? chain::Address::from_public_key(identity.key().public_key())
                          : chain::Address::parse(config.beneficiary).value()),
          store(store::BlockStore::open(config.data_dir / "chain", genesis,
                                        store::Options{.sync = config.sync_writes})),
          engine(params),
          fork(params,
               chain::ForkChoiceConfig{.max_reorg_depth = params.pow.max_reorg_depth},
               engine, genesis_header),
          pool(mempool::MempoolConfig{}, params),
          host(io, identity, host_config(config)),
          gossip(io, host, gossip_config(), Rng(std::random_device{}()), workers),
          validator(fork, params, engine, wall_ms),
          sync(sync::SyncConfig{}, validator, genesis_hash, engine.weight(genesis_header)),
          book(discovery::PeerBookConfig{}, Rng(std::random_device{}())),
          slots(slots_config(config)),
          topics(params.network_id),
          sync_timer(io),
          dial_timer(io),
          report_timer(io),
          template_timer(io),
          started_at(net::now_instant()) {
        restore_chain();
        book.set_self(host.peer_id());
    }

    // min-peers outbound slots, the rest of max-peers inbound (discovery/peer_slots.hpp).
    static discovery::PeerSlotsConfig slots_config(const NodeConfig& config) {
        discovery::PeerSlotsConfig slots;
        slots.max_outbound = config.min_peers;
        slots.max_inbound = config.max_peers - config.min_peers;
        slots.max_inbound_per_group = std::clamp<std::size_t>(slots.max_inbound / 8, 1, 8);
        return slots;
    }

    // The host admits a few inbound connections past the inbound slots, so that a newcomer
    // can finish its handshake and take an evictable peer's place (PeerSlots rule 4).
    static net::HostConfig host_config(const NodeConfig& config) {
        net::HostConfig host;
        host.listen_addrs = config.listen_addrs;
        host.max_connections = config.max_peers + INBOUND_HEADROOM;
        host.max_inbound_connections = config.max_peers - config.min_peers + INBOUND_HEADROOM;
        host.max_outbound_connections = config.max_peers;
        return host;
    }

    pubsub::GossipConfig gossip_config() const {
        pubsub::GossipConfig gossip_cfg;
        // A block and its framing must fit in one message.
        gossip_cfg.max_message_bytes =
            std::max<std::size_t>(gossip_cfg.max_message_bytes, params.max_block_bytes + 4096);
        gossip_cfg.max_rpc_bytes =
            std::max(gossip_cfg.max_rpc_bytes, gossip_cfg.max_message_bytes + 64 * 1024);
        return gossip_cfg;
    }

    // The fork choice and the sync engine learn the chain on disk (no re-validation: it passed
    // when it was stored).
    void restore_chain() {
        const std::uint64_t tip = store->tip().height;
        for (std::uint64_t height = 1; height <= tip; ++height) {
            const auto hash = store->hash_at(height);
            if (!hash) {
                throw std::runtime_error("the store at " + (config.data_dir / "chain").string() +
                                         " lacks block " + std::to_string(height) + ": " +
                                         hash.error().message());
            }
            const auto header = store->header(*hash);
            if (!header) {
                throw std::runtime_error("the store at " + (config.data_dir / "chain").string() +
                                         " lacks the header of block " + std::to_string(height) +
                                         ": " + header.error().message());
            }
            if (auto restored = fork.restore_applied(*header); !restored) {
                throw std::runtime_error("the store's block " + std::to_string(height) +
                                         " does not extend the one below it");
            }
            sync.on_block_applied(height, *hash, *fork.chain_work(*hash), net::now_instant());
        }
        sync.take_actions();
        if (tip > 0) {
            spdlog::info("chain: loaded {} blocks from the store, tip {} at height {}", tip,
                         short_hex(store->tip().hash), tip);
        }
    }

    // --- lifecycle -----------------------------------------------------------------------

    void start() {
        host.start();
        register_handlers();
        host.add_listener([this](const net::HostEvent& event) { on_host_event(event); });
        setup_gossip();
        // Peer exchange names peers; the book may know where they listen.
        gossip.on_peer_suggested([this](const PeerId& peer) {
            if (slots.outbound_wanted() > 0 && book.contains(peer) && !host.is_connected(peer)) {
                dial_timer.cancel();  // the dialer picks it from the book now
            }
        });
        gossip.start();

        const auto loaded = book.load_file(config.data_dir / "peers.json", net::now_instant());
        if (book.size() > 0) {
            spdlog::info("peers: {} known from the last run{}", book.size(),
                         loaded > 0 ? fmt::format(" ({} entries skipped)", loaded) : "");
        }
        for (const auto& addr : config.bootstrap_peers) {
            add_configured_peer(addr, false);
        }
        for (const auto& addr : config.static_peers) {
            add_configured_peer(addr, true);
        }

        if (config.mining) {
            miner = std::make_unique<Miner>(MinerConfig{.threads = config.miner_threads},
                                            io.get_executor(),
                                            [this](MinedBlock mined) { on_mined(std::move(mined)); });
        }
        spdlog::info("node {} on network {} (genesis {}), height {}, {}",
                     host.peer_id().to_string(), params.network_id, short_hex(genesis_hash),
                     fork.height(),
                     config.mining ? fmt::format("mining to {} on {} threads",
                                                 beneficiary.to_string(), config.miner_threads)
                                   : std::string("not mining"));
        for (const auto& addr : host.listen_addrs()) {
            spdlog::info("listening on {}", addr.with_peer_id(host.peer_id()).to_string());
        }
        running = true;
        asio::co_spawn(io, dial_loop(), asio::detached);
        asio::co_spawn(io, report_loop(), asio::detached);
        refresh_template();
    }

    void stop() {
        if (!running) {
            return;
        }
        running = false;
        stopping.store(true);
        miner.reset();
        sync_timer.cancel();
        dial_timer.cancel();
        report_timer.cancel();
        template_timer.cancel();
        gossip.stop();
        host.stop();
        save_peer_book();
        if (auto flushed = store->flush(); !flushed) {
            spdlog::warn("store: flush at shutdown failed: {}", flushed.error().message());
        }
        spdlog::info("node stopped at height {}", fork.height());
    }

    void add_configured_peer(const wire::Multiaddr& addr, bool is_static) {
        if (const auto id = addr.peer_id()) {
            const wire::Multiaddr bare = addr.without_peer_id();
            remember_configured_peer(*id, addr.without_peer_id(), is_static);
        } else {
            anonymous.push_back(
                std::make_shared<AnonymousTarget>(AnonymousTarget{.addr = addr, .is_static = is_static}));
        }
    }

    void remember_configured_peer(const PeerId& id, const wire::Multiaddr& addr, bool is_static) {
        if (is_static) {
            book.add_static(id, addr);
        } else {
            std::vector<wire::Multiaddr> addrs{addr};
            book.add_addresses(id, addrs, discovery::PeerSource::bootstrap, net::now_instant());
        }
    }

    // --- chain ---------------------------------------------------------------------------

    // A block from a peer (gossip or sync) or our miner. `signatures_checked`: its
    // transactions' signatures were verified (on the worker pool).
    Verdict handle_block(chain::Block block, const std::optional<PeerId>& from,
                         bool signatures_checked) {
        const Hash256 hash = block.hash();
        current_block = hash;
        current_source = from;
        current_rejection.reset();
        if (signatures_checked) {
            current_verified = hash;
        }
        fork.add_block(std::move(block), wall_ms());
        process_fork_events();
        current_verified.reset();
        current_source.reset();
        const auto rejection = current_rejection;
        current_rejection.reset();
        if (rejection) {
            if (*rejection == chain::ForkChoiceError::already_known) {
                return Verdict::known;
            }
            return chain::is_sender_fault(*rejection) ? Verdict::invalid : Verdict::ignored;
        }
        if (fork.is_orphan(hash)) {
            return Verdict::orphan;
        }
        if (fork.contains(hash) && !fork.is_invalid(hash)) {
            return Verdict::accepted;
        }
        return Verdict::invalid;
    }

    void process_fork_events() {
        for (auto events = fork.take_events(); !events.empty(); events = fork.take_events()) {
            for (auto& event : events) {
                std::visit([this](auto& e) { on_fork_event(e); }, event);
                if (failed) {
                    return;
                }
            }
        }
        // Blocks accepted but not applied (side branches): to disk, for a later reorg.
        for (auto& [hash, block] : bodies) {
            if (auto stored = store->put_block(block); !stored) {
                fail_store("storing a side-branch block", stored.error());
                return;
            }
        }
        bodies.clear();
    }

    void on_fork_event(chain::BlockAccepted& e) {
        const Hash256 hash = e.block.hash();
        bodies.emplace(hash, std::move(e.block));
    }
    void on_fork_event(chain::HeaderAccepted&) {}
    void on_fork_event(chain::BlockOrphaned& e) {
        spdlog::debug("chain: block {} waits for its ancestor {}", short_hex(e.hash),
                      short_hex(e.missing_parent));
        // We are behind the sender: its status starts headers-first sync.
        if (current_source && e.hash == current_block) {
            request_status(*current_source);
        }
    }
    void on_fork_event(chain::Rejected& e) {
        if (e.hash == current_block) {
            current_rejection = e.reason;
            if (current_source && chain::is_sender_fault(e.reason)) {
                penalize(*current_source, BAD_DATA_POINTS,
                         "sent block " + short_hex(e.hash) + ": " + error_name(e.reason));
            }
        }
        spdlog::log(chain::is_sender_fault(e.reason) ? spdlog::level::info : spdlog::level::debug,
                    "chain: refused block {}: {}", short_hex(e.hash), e.reason.message());
    }
    void on_fork_event(chain::NewBestTip& plan) {
        std::vector<chain::Transaction> reverted;
        std::vector<chain::Transaction> connected;
        std::vector<chain::Address> lowered;
        for (std::size_t i = 0; i < plan.revert.size(); ++i) {
            auto block = store->revert_tip();
            if (!block) {
                fail_store("reverting a block", block.error());
                return;
            }
            lowered.push_back(block->header.beneficiary);
            reverted.insert(reverted.end(), block->transactions.begin(), block->transactions.end());
        }
        std::size_t applied = 0;
        for (const Hash256& hash : plan.apply) {
            std::optional<chain::Block> block;
            if (auto it = bodies.find(hash); it != bodies.end()) {
                block = std::move(it->second);
                bodies.erase(it);
            } else {
                auto stored = store->block(hash);
                if (!stored) {
                    fail_store("reading a block to apply", stored.error());
                    return;
                }
                block = std::move(*stored);
            }
            const auto signatures = current_verified == hash
                                        ? chain::SignatureCheck::already_verified
                                        : chain::SignatureCheck::verify;
            auto effects = store->import_block(*block, signatures);
            if (!effects) {
                if (is_store_failure(effects.error())) {
                    fail_store("importing a block", effects.error());
                    return;
                }
                spdlog::warn("chain: block {} at height {} is invalid: {}", short_hex(hash),
                             block->header.height, effects.error().message());
                if (hash == current_block) {
                    current_rejection = effects.error();
                    if (current_source) {
                        penalize(*current_source, BAD_DATA_POINTS,
                                 "sent invalid block " + short_hex(hash) + ": " +
                                     error_name(effects.error()));
                    }
                }
                sync.on_block_invalid(block->header.height, hash, net::now_instant());
                fork.mark_invalid(hash, effects.error(), store->tip().hash);
                break;
            }
            connected.insert(connected.end(), block->transactions.begin(),
                             block->transactions.end());
            ++applied;
            ++blocks_applied;
            sync.on_block_applied(block->header.height, hash, *fork.chain_work(hash),
                                  net::now_instant());
            last_block_transactions = block->transactions.size();
            transactions_applied += block->transactions.size();
        }
        if (plan.revert.empty() && applied == 0) {
            return;
        }
        pool.on_tip_changed({.reverted = reverted, .connected = connected, .lowered = lowered},
                            store->state());
        announce_readmitted(reverted);
        validator.prune(store->tip().height);
        after_tip_change(plan.revert.size());
    }

    // Transactions of undone blocks that are back in the pool go out again: peers that only
    // saw them in those blocks (the other side of a healed partition) have never had them,
    // and a transaction only this node holds would otherwise wait for this node to mine.
    // Peers that have one already ignore it (a new message id, the same transaction).
    void announce_readmitted(const std::vector<chain::Transaction>& reverted) {
        for (const auto& tx : reverted) {
            if (pool.contains(tx.id())) {
                publish(topics.tx, tx.encode());
            }
        }
    }

    void after_tip_change(std::size_t reverted) {
        const TipChanged change{.height = store->tip().height,
                                .hash = store->tip().hash,
                                .mined_here = mined_tip && *mined_tip == store->tip().hash,
                                .transactions = last_block_transactions,
                                .reverted = reverted};
        if (reverted > 0) {
            // One or two blocks are the everyday race of two miners; deeper ones are news.
            spdlog::log(reverted > 2 ? spdlog::level::warn : spdlog::level::info,
                        "chain: reorg: {} blocks undone, new tip {} at height {}", reverted,
                        short_hex(change.hash), change.height);
        }
        spdlog::info("chain: new tip {} at height {} ({} txs{}), mempool {}",
                     short_hex(change.hash), change.height, change.transactions,
                     change.mined_here ? ", mined here" : "", pool.size());
        for (const auto& listener : tip_listeners) {
            listener(change);
        }
        drive_sync();
        announce_best_block();
        refresh_template();
    }

    void fail_store(const std::string& what, const ErrorCode& ec) {
        failed = true;
        spdlog::critical("store: {} failed: {} ({}); the node stops serving", what, ec.message(),
                         store->last_error_detail());
        miner.reset();
    }

    // --- mining --------------------------------------------------------------------------

    void refresh_template() {
        if (!miner || failed || !running) {
            return;
        }
        if (sync.syncing()) {
            miner->pause();
            return;
        }
        const auto branch = fork.branch(fork.tip_hash());
        const auto candidates = pool.select_transactions(
            {.max_bytes = params.max_block_bytes - 8 * 1024,
             .max_transactions = params.max_block_transactions});
        auto proposed = engine.make_template(store->state(), fork.tip(), *branch, candidates,
                                             beneficiary, wall_ms());
        store->state().discard();
        if (!proposed) {
            spdlog::warn("miner: cannot build a block on {}: {}", short_hex(fork.tip_hash()),
                         proposed.error().message());
            return;
        }
        template_dirty = false;
        const std::uint64_t height = proposed->block.header.height;
        miner->mine(std::move(proposed->block));
        Bytes announcement;
        put_u64be(announcement, height);
        append(announcement, fork.tip_hash());
        publish(topics.mining_on, std::move(announcement));
    }

    // New transactions in the pool: a new template soon (not per transaction).
    void schedule_template_refresh() {
        if (!miner || template_dirty) {
            return;
        }
        template_dirty = true;
        template_timer.expires_after(TEMPLATE_REFRESH_DELAY);
        template_timer.async_wait([this](const boost::system::error_code& ec) {
            if (!ec && template_dirty) {
                refresh_template();
            }
        });
    }

    void on_mined(MinedBlock mined) {
        if (!running) {
            return;
        }
        const Hash256 hash = mined.block.hash();
        if (sync.syncing()) {
            // Found for a job started before the download began (see drive_sync).
            spdlog::debug("miner: dropping block {} found while syncing", short_hex(hash));
            return;
        }
        Bytes encoded = mined.block.encode();
        mined_tip = hash;
        const Verdict verdict = handle_block(std::move(mined.block), std::nullopt, true);
        if (verdict == Verdict::accepted) {
            ++blocks_mined;
            publish(topics.block, std::move(encoded));
        } else {
            spdlog::warn("miner: own block {} was not accepted", short_hex(hash));
        }
    }

    // --- gossip --------------------------------------------------------------------------

    void publish(const std::string& topic, Bytes data) {
        if (!running) {
            return;
        }
        if (auto published = gossip.publish(topic, std::move(data)); !published) {
            spdlog::debug("gossip: publish on {} failed: {}", topic, published.error().message());
        }
    }

    void announce_best_block() {
        Bytes message;
        put_u64be(message, fork.height());
        append(message, fork.tip_hash());
        append(message, fork.tip_work().to_bytes());
        publish(topics.bestblock, std::move(message));
    }

    // Runs `work` on the I/O thread and waits for its answer on a worker thread; ignore when
    // the node stops first. Only workers call it: the I/O thread never waits on them.
    pubsub::ValidationResult on_io_thread(std::function<pubsub::ValidationResult()> work) {
        auto promise = std::make_shared<std::promise<pubsub::ValidationResult>>();
        auto answer = promise->get_future();
        asio::post(io, [this, weak = std::weak_ptr<bool>(alive), promise, work = std::move(work)] {
            const bool gone = weak.expired() || stopping.load();
            promise->set_value(gone ? pubsub::ValidationResult::ignore : work());
        });
        while (answer.wait_for(100ms) != std::future_status::ready) {
            if (stopping.load()) {
                return pubsub::ValidationResult::ignore;
            }
        }
        try {
            return answer.get();
        } catch (const std::future_error&) {
            return pubsub::ValidationResult::ignore;  // the I/O thread dropped the task
        }
    }

    void setup_gossip() {
        gossip.set_validator(topics.block, [this](const pubsub::ValidateMessage& m) {
            auto block = chain::Block::decode(m.data);
            if (!block || !chain::check_signatures(block->transactions)) {
                const std::string why = !block ? block.error().message() : "bad signature";
                asio::post(io, [this, peer = m.propagation_source, why] {
                    penalize(peer, BAD_DATA_POINTS, "gossiped a bad block: " + why);
                });
                return pubsub::ValidationResult::reject;
            }
            return on_io_thread([this, block = std::move(*block), from = m.propagation_source]() {
                switch (handle_block(block, from, true)) {
                    case Verdict::accepted:
                        slots.on_useful(from, net::now_instant());
                        return pubsub::ValidationResult::accept;
                    case Verdict::invalid:
                        return pubsub::ValidationResult::reject;
                    default:
                        return pubsub::ValidationResult::ignore;
                }
            });
        });
        gossip.set_validator(topics.tx, [this](const pubsub::ValidateMessage& m) {
            auto tx = chain::Transaction::decode(m.data);
            if (!tx) {
                asio::post(io, [this, peer = m.propagation_source] {
                    penalize(peer, BAD_DATA_POINTS, "gossiped a malformed transaction");
                });
                return pubsub::ValidationResult::reject;
            }
            auto verified = mempool::VerifiedTransaction::verify(std::move(*tx), params);
            if (!verified) {
                const ErrorCode why = verified.error();
                if (!mempool::is_sender_fault(why)) {
                    return pubsub::ValidationResult::ignore;
                }
                asio::post(io, [this, peer = m.propagation_source, why] {
                    penalize(peer, BAD_DATA_POINTS, "gossiped a bad transaction: " + error_name(why));
                });
                return pubsub::ValidationResult::reject;
            }
            return on_io_thread([this, vt = std::move(*verified),
                                 from = m.propagation_source]() mutable {
                if (!admit_transaction(std::move(vt))) {
                    return pubsub::ValidationResult::ignore;
                }
                slots.on_useful(from, net::now_instant());
                return pubsub::ValidationResult::accept;
            });
        });
        const auto fixed_size = [](std::size_t bytes) {
            return [bytes](const pubsub::ValidateMessage& m) {
                return m.data.size() == bytes ? pubsub::ValidationResult::accept
                                              : pubsub::ValidationResult::reject;
            };
        };
        gossip.set_validator(topics.bestblock, fixed_size(BEST_BLOCK_BYTES));
        gossip.set_validator(topics.mining_on, fixed_size(MINING_ON_BYTES));
        gossip.set_validator(topics.rejected_tx, [](const pubsub::ValidateMessage& m) {
            return m.data.size() > 32 && m.data.size() <= 32 + REJECTED_REASON_MAX_BYTES
                       ? pubsub::ValidationResult::accept
                       : pubsub::ValidationResult::reject;
        });

        // Blocks and transactions were handled during validation.
        gossip.subscribe(topics.block, [](const pubsub::DeliverMessage&) {});
        gossip.subscribe(topics.tx, [](const pubsub::DeliverMessage&) {});
        gossip.subscribe(topics.bestblock, [this](const pubsub::DeliverMessage& m) {
            if (!m.author || *m.author == host.peer_id() || m.data.size() != BEST_BLOCK_BYTES) {
                return;
            }
            const ByteView data(m.data);
            const auto work = chain::Work::from_bytes(get_hash(data.subspan(40)));
            if (work > fork.tip_work() && host.is_connected(*m.author)) {
                request_status(*m.author);
            }
        });
        gossip.subscribe(topics.mining_on, [](const pubsub::DeliverMessage& m) {
            if (m.author && m.data.size() == MINING_ON_BYTES) {
                spdlog::debug("gossip: {} mines on height {}", m.author->to_string(),
                              get_u64be(m.data.data()));
            }
        });
        gossip.subscribe(topics.rejected_tx, [](const pubsub::DeliverMessage& m) {
            if (m.data.size() > 32) {
                const ByteView data(m.data);
                spdlog::debug("gossip: transaction {} rejected by {}: {}",
                              short_hex(get_hash(data)),
                              m.author ? m.author->to_string() : std::string("?"),
                              std::string(data.begin() + 32, data.end()));
            }
        });
    }

    // A signature-checked transaction from a peer or the API into the mempool; a refusal
    // other than "already have it" is announced on rejected_tx.
    Result<mempool::Admitted> admit_transaction(mempool::VerifiedTransaction tx) {
        const Hash256 id = tx.id();
        auto admitted = pool.admit(std::move(tx), store->state());
        if (admitted) {
            ++transactions_received;
            schedule_template_refresh();
        } else if (admitted.error() != mempool::MempoolError::already_known) {
            announce_rejected(id, admitted.error());
        }
        return admitted;
    }

    void announce_rejected(const Hash256& id, const ErrorCode& reason) {
        const Instant now = net::now_instant();
        // A token bucket: a flood of bad transactions must not turn into a flood of ours.
        const double elapsed = std::chrono::duration<double>(now - rejected_bucket_time).count();
        rejected_bucket_time = now;
        rejected_tokens = std::min(REJECTED_TX_ANNOUNCEMENTS_PER_SECOND,
                                   rejected_tokens + elapsed * REJECTED_TX_ANNOUNCEMENTS_PER_SECOND);
        if (rejected_tokens < 1) {
            return;
        }
        rejected_tokens -= 1;
        std::string name = error_name(reason).substr(0, REJECTED_REASON_MAX_BYTES);
        Bytes message;
        append(message, id);
        append(message, name);
        publish(topics.rejected_tx, std::move(message));
    }

    // --- peers ---------------------------------------------------------------------------

    void penalize(const PeerId& peer, int points, const std::string& why) {
        if (!host.is_connected(peer) && !peer_states.contains(peer)) {
            return;
        }
        PeerState& state = peer_states[peer];
        state.misbehaviour += points;
        spdlog::info("peers: {} misbehaved (+{} = {}): {}", peer.to_string(), points,
                     state.misbehaviour, why);
        if (state.misbehaviour >= BAN_THRESHOLD) {
            book.ban(peer, net::now_instant() + BAN_DURATION);
            spdlog::warn("peers: banned {} for a day: {}", peer.to_string(), why);
            host.disconnect(peer, "banned: " + why);
        }
    }

    void on_host_event(const net::HostEvent& event) {
        const Instant now = net::now_instant();
        if (const auto* c = std::get_if<net::PeerConnected>(&event)) {
            if (book.is_banned(c->peer, now)) {
                host.disconnect(c->peer, "banned");
                return;
            }
            const bool is_static = book.is_static(c->peer);
            if (c->direction == net::Direction::inbound) {
                const auto decision = slots.admit_inbound(c->peer, c->remote_addr, is_static, now);
                if (!decision.accept) {
                    spdlog::debug("peers: refused {} from {}: {}", c->peer.to_string(),
                                  c->remote_addr.to_string(), decision.reason);
                    host.disconnect(c->peer, std::string(decision.reason));
                    return;
                }
                if (decision.evict) {
                    spdlog::info("peers: {} for {}", decision.reason, c->peer.to_string());
                    host.disconnect(*decision.evict, std::string(decision.reason));
                }
            } else {
                slots.on_outbound_connected(c->peer, c->remote_addr, is_static, now);
            }
            auto& state = peer_states[c->peer];
            state.direction = c->direction == net::Direction::inbound ? "inbound" : "outbound";
            state.remote_addr = c->remote_addr.to_string();
            if (c->direction == net::Direction::outbound) {
                book.on_connected(c->peer, now);
            }
            spdlog::info("peers: connected {} ({} {}), {} peers", c->peer.to_string(),
                         c->direction == net::Direction::inbound ? "from" : "to",
                         c->remote_addr.to_string(), host.connected_peers().size());
        } else if (const auto* i = std::get_if<net::PeerIdentified>(&event)) {
            if (!i->info.listen_addrs.empty()) {
                book.add_addresses(i->peer, i->info.listen_addrs,
                                   discovery::PeerSource::identify, now);
            }
            const auto speaks = [&](std::string_view protocol) {
                return std::find(i->info.protocols.begin(), i->info.protocols.end(), protocol) !=
                       i->info.protocols.end();
            };
            auto& state = peer_states[i->peer];
            if (state.exchanged) {
                return;
            }
            state.exchanged = true;
            if (speaks(sync::PROTOCOL_ID)) {
                request_status(i->peer);
            }
            if (speaks(MEMPOOL_PROTOCOL_ID)) {
                asio::co_spawn(io, fetch_mempool(i->peer), asio::detached);
            }
            if (speaks(discovery::PEER_LIST_PROTOCOL_ID) && slots.outbound_wanted() > 0) {
                asio::co_spawn(io, fetch_peer_list(i->peer), asio::detached);
            }
        } else if (const auto* d = std::get_if<net::PeerDisconnected>(&event)) {
            if (host.is_connected(d->peer)) {
                return;  // another connection to the peer is still up
            }
            if (!peer_states.contains(d->peer)) {
                // Refused (slots, ban) before it became a peer: nothing to undo, and a flood
                // of refused connections must not wake the dialer at each one.
                return;
            }
            slots.release(d->peer);
            book.on_disconnected(d->peer, now);
            sync.on_peer_disconnected(d->peer, now);
            // Keep the ban score of a peer that reconnects soon; drop the rest.
            if (auto it = peer_states.find(d->peer);
                it != peer_states.end() && it->second.misbehaviour == 0) {
                peer_states.erase(it);
            } else if (it != peer_states.end()) {
                it->second.status.reset();
                it->second.exchanged = false;
            }
            spdlog::info("peers: disconnected {} ({}), {} peers", d->peer.to_string(), d->reason,
                         host.connected_peers().size());
            drive_sync();
            dial_timer.cancel();  // look for a replacement now
        }
    }

    asio::awaitable<void> dial_loop() {
        while (running) {
            dial_some();
            ask_for_peers();
            Instant wake = net::now_instant() + DIAL_INTERVAL;
            if (const auto retry = book.next_retry(net::now_instant())) {
                wake = std::min(wake, *retry);
            }
            dial_timer.expires_at(net::to_steady(wake));
            co_await dial_timer.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    }

    void dial_some() {
        const Instant now = net::now_instant();
        std::set<PeerId> busy(dialing.begin(), dialing.end());
        for (const auto& peer : host.connected_peers()) {
            busy.insert(peer);
        }
        std::size_t wanted = slots.outbound_wanted();
        for (auto& candidate : book.dial_candidates(config.max_peers, now, busy)) {
            const bool is_static = book.is_static(candidate.peer);
            if (!is_static) {
                // One outbound peer per network group (PeerSlots rule 2).
                std::erase_if(candidate.addrs,
                              [&](const wire::Multiaddr& a) { return !slots.may_dial(a); });
                if (wanted == 0 || candidate.addrs.empty()) {
                    continue;
                }
                --wanted;
            }
            slots.reserve_outbound(candidate.peer, candidate.addrs.front(), is_static, now);
            dialing.insert(candidate.peer);
            book.on_dial_started(candidate.peer, now);
            asio::co_spawn(io, dial(std::move(candidate)), asio::detached);
        }
        for (const auto& target : anonymous) {
            if (target->dialing || now < target->next_attempt ||
                (!target->is_static && slots.outbound_wanted() == 0)) {
                continue;
            }
            target->dialing = true;
            asio::co_spawn(io, dial_anonymous(target), asio::detached);
        }
    }

    // Short of connections with nobody left to dial: ask a connected peer (each in turn)
    // whom it knows. Rationale: what a peer knew when we connected is stale by now; a node
    // bootstrapped from one peer learns the rest of the network this way.
    void ask_for_peers() {
        const auto connected = host.connected_peers();
        const Instant now = net::now_instant();
        // At most once per dial interval: a small network may never reach min-peers, and
        // asking again at every wake-up would be a busy loop.
        if (connected.empty() || slots.outbound_wanted() == 0 || !dialing.empty() ||
            (last_peer_list_ask && now - *last_peer_list_ask < DIAL_INTERVAL)) {
            return;
        }
        last_peer_list_ask = now;
        const PeerId& peer = connected[peer_list_turn++ % connected.size()];
        const auto info = host.peer_info(peer);
        if (info && std::find(info->protocols.begin(), info->protocols.end(),
                              discovery::PEER_LIST_PROTOCOL_ID) != info->protocols.end()) {
            asio::co_spawn(io, fetch_peer_list(peer), asio::detached);
        }
    }

    asio::awaitable<void> dial(discovery::DialCandidate candidate) {
        bool connected = false;
        for (const auto& addr : candidate.addrs) {
            auto dialed = co_await host.dial(addr.with_peer_id(candidate.peer));
            if (!running) {
                co_return;
            }
            if (dialed) {
                connected = true;
                break;
            }
            spdlog::debug("peers: dialing {} at {} failed: {}", candidate.peer.to_string(),
                          addr.to_string(), dialed.error().message());
        }
        dialing.erase(candidate.peer);
        if (connected) {
            book.on_connected(candidate.peer, net::now_instant());
        } else {
            if (!host.is_connected(candidate.peer)) {
                slots.release(candidate.peer);
            }
            book.on_dial_failed(candidate.peer, net::now_instant());
        }
    }

    // Held by pointer: other dials may finish (and leave `anonymous`) while this one waits.
    asio::awaitable<void> dial_anonymous(std::shared_ptr<AnonymousTarget> target) {
        auto dialed = co_await host.dial(target->addr);
        if (!running) {
            co_return;
        }
        target->dialing = false;
        if (dialed) {
            // Its id is known now: the book takes over.
            remember_configured_peer(*dialed, target->addr, target->is_static);
            book.on_connected(*dialed, net::now_instant());
            std::erase(anonymous, target);
            co_return;
        }
        ++target->failures;
        const auto backoff = std::min<Duration>(
            std::chrono::minutes(5), 1s * (1LL << std::min<std::uint32_t>(target->failures, 9)));
        target->next_attempt = net::now_instant() + backoff;
        spdlog::info("peers: cannot reach {}: {}; next try in {} s", target->addr.to_string(),
                     dialed.error().message(),
                     std::chrono::duration_cast<std::chrono::seconds>(backoff).count());
    }

    void save_peer_book() {
        if (auto saved = book.save_file(config.data_dir / "peers.json"); !saved) {
            spdlog::warn("peers: cannot save the peer book: {}", saved.error().message());
        }
    }

    asio::awaitable<Result<Bytes>> exchange(PeerId peer, std::string protocol, Bytes request,
                                            std::size_t max_response,
                                            Duration limit = PROTOCOL_TIMEOUT) {
        std::vector<std::string> protocols{std::move(protocol)};
        auto stream = co_await net::with_timeout(host.new_stream(peer, protocols), limit);
        if (!stream) {
            co_return stream.error();
        }
        if (!request.empty()) {
            auto written = co_await stream->write_length_prefixed(request);
            if (!written) {
                co_return written.error();
            }
        }
        stream->close_write();
        auto response =
            co_await net::with_timeout(stream->read_length_prefixed(max_response), limit);
        co_return response;
    }

    asio::awaitable<void> fetch_peer_list(PeerId peer) {
        auto response = co_await exchange(peer, std::string(discovery::PEER_LIST_PROTOCOL_ID), {},
                                          discovery::MAX_PEER_LIST_BYTES);
        if (!running || !response) {
            co_return;
        }
        auto records = discovery::decode_peer_list(*response);
        if (!records) {
            penalize(peer, BAD_DATA_POINTS, "malformed peer list: " + records.error().message());
            co_return;
        }
        const std::size_t known_before = book.size();
        for (const auto& record : *records) {
            book.add_addresses(record.peer, record.addrs, discovery::PeerSource::peer_list,
                               net::now_instant());
        }
        spdlog::debug("peers: {} told us of {} peers", peer.to_string(), records->size());
        if (book.size() > known_before) {
            dial_timer.cancel();  // someone new to dial: now, not at the next tick
        }
    }

    asio::awaitable<void> fetch_mempool(PeerId peer) {
        std::vector<std::string> protocols{std::string(MEMPOOL_PROTOCOL_ID)};
        auto stream = co_await net::with_timeout(host.new_stream(peer, protocols),
                                                 PROTOCOL_TIMEOUT);
        if (!stream) {
            co_return;
        }
        stream->close_write();
        std::vector<chain::Transaction> txs;
        // Each frame within PROTOCOL_TIMEOUT, the whole list within MEMPOOL_SYNC_DEADLINE: a
        // peer that drips one frame per timeout cannot hold the fetch open for hours.
        const Instant deadline = net::now_instant() + MEMPOOL_SYNC_DEADLINE;
        while (txs.size() < MEMPOOL_SYNC_MAX_TRANSACTIONS) {
            const Duration left = deadline - net::now_instant();
            if (left <= Duration{0}) {
                spdlog::debug("mempool: {} took too long to list its pool; keeping {} of it",
                              peer.to_string(), txs.size());
                break;
            }
            auto frame = co_await net::with_timeout(
                stream->read_length_prefixed(TRANSACTION_FRAME_MAX_BYTES),
                std::min(PROTOCOL_TIMEOUT, left));
            if (!frame) {
                break;  // EOF ends the list
            }
            auto tx = chain::Transaction::decode(*frame);
            if (!tx) {
                penalize(peer, BAD_DATA_POINTS, "malformed transaction in its mempool");
                co_return;
            }
            txs.push_back(std::move(*tx));
        }
        if (!running || txs.empty()) {
            co_return;
        }
        const std::size_t count = txs.size();
        auto verified = co_await asio::co_spawn(
            workers, verify_batch(std::move(txs), params), asio::use_awaitable);
        if (!running) {
            co_return;
        }
        std::vector<mempool::VerifiedTransaction> good;
        for (auto& result : verified) {
            if (result) {
                good.push_back(std::move(*result));
            }
        }
        const auto results = pool.admit_batch(std::move(good), store->state());
        const auto admitted =
            std::count_if(results.begin(), results.end(), [](const auto& r) { return r.has_value(); });
        spdlog::info("mempool: {} of {} transactions from {}'s pool admitted", admitted, count,
                     peer.to_string());
        if (admitted > 0) {
            schedule_template_refresh();
        }
    }

    static asio::awaitable<std::vector<Result<mempool::VerifiedTransaction>>> verify_batch(
        std::vector<chain::Transaction> txs, chain::ChainParams params) {
        co_return mempool::verify_transactions(std::move(txs), params);
    }

    void register_handlers() {
        host.set_handler(std::string(sync::PROTOCOL_ID),
                         [this](net::Stream stream) { return serve_sync(std::move(stream)); });
        host.set_handler(std::string(discovery::PEER_LIST_PROTOCOL_ID),
                         [this](net::Stream stream) { return serve_peer_list(std::move(stream)); });
        host.set_handler(std::string(MEMPOOL_PROTOCOL_ID),
                         [this](net::Stream stream) { return serve_mempool(std::move(stream)); });
    }

    asio::awaitable<void> serve_peer_list(net::Stream stream) {
        Rng& rng = sample_rng;
        auto records = book.sample(discovery::MAX_PEER_LIST_PEERS, rng, net::now_instant());
        std::erase_if(records, [&](const auto& r) { return r.peer == stream.remote_peer(); });
        const Bytes encoded = discovery::encode_peer_list(records);
        co_await stream.write_length_prefixed(encoded);
        stream.close_write();
    }

    asio::awaitable<void> serve_mempool(net::Stream stream) {
        const auto selected = pool.select_transactions(
            {.max_bytes = 8 * 1024 * 1024, .max_transactions = MEMPOOL_SYNC_MAX_TRANSACTIONS});
        for (const auto& tx : selected) {
            const Bytes encoded = tx.encode();
            auto written = co_await stream.write_length_prefixed(encoded);
            if (!written) {
                co_return;
            }
        }
        stream.close_write();
    }

    // --- sync ----------------------------------------------------------------------------

    void request_status(const PeerId& peer) {
        auto& state = peer_states[peer];
        const Instant now = net::now_instant();
        if (state.last_status_request && now - *state.last_status_request < STATUS_REQUEST_SPACING) {
            return;
        }
        state.last_status_request = now;
        asio::co_spawn(io, status_exchange(peer), asio::detached);
    }

    asio::awaitable<void> status_exchange(PeerId peer) {
        const sync::Request request = sync.local_status();
        auto response = co_await exchange(peer, std::string(sync::PROTOCOL_ID),
                                          sync::encode(request), SYNC_REQUEST_MAX_BYTES);
        if (!running || !response) {
            co_return;
        }
        auto message = sync::decode(*response);
        if (!message || !std::holds_alternative<sync::Status>(*message)) {
            penalize(peer, BAD_DATA_POINTS, "answered a status with something else");
            co_return;
        }
        on_peer_status(peer, std::get<sync::Status>(*message));
    }

    // False when the peer is of another network (it is disconnected).
    bool on_peer_status(const PeerId& peer, const sync::Status& status) {
        if (status.genesis_hash != genesis_hash) {
            spdlog::warn("peers: disconnecting {}: another network (genesis {}, ours {})",
                         peer.to_string(), short_hex(status.genesis_hash),
                         short_hex(genesis_hash));
            book.ban(peer, net::now_instant() + OTHER_NETWORK_BAN);
            host.disconnect(peer, "another network: genesis " + short_hex(status.genesis_hash));
            return false;
        }
        peer_states[peer].status = status;
        sync.on_peer_status(peer, status, net::now_instant());
        drive_sync();
        return true;
    }

    void drive_sync() {
        if (!running || failed) {
            return;
        }
        for (auto actions = sync.take_actions(); !actions.empty(); actions = sync.take_actions()) {
            for (auto& action : actions) {
                std::visit([this](auto& a) { on_sync_action(a); }, action);
            }
        }
        arm_sync_timer();
        // No mining while a heavier verified branch downloads: a block of ours on the lighter
        // branch would take the sync engine's header chain back to our branch and restart the
        // download (sync_engine.hpp, on_block_applied), so with fast blocks a node could mine
        // its own branch forever instead of joining the heavier one.
        const bool syncing = sync.syncing();
        if (syncing && !was_syncing) {
            sync_started_at = net::now_instant();
            sync_started_height = sync.applied_height();
            spdlog::info("sync: behind by {} blocks, downloading from height {} to {}",
                         sync.header_height() - sync.applied_height(), sync.applied_height(),
                         sync.header_height());
        } else if (!syncing && was_syncing) {
            const double seconds =
                std::chrono::duration<double>(net::now_instant() - sync_started_at).count();
            const std::uint64_t blocks = sync.applied_height() - std::min(sync.applied_height(),
                                                                          sync_started_height);
            spdlog::info("sync: caught up at height {}: {} blocks in {:.1f} s ({:.1f} blocks/s)",
                         sync.applied_height(), blocks, seconds,
                         seconds > 0 ? static_cast<double>(blocks) / seconds : 0.0);
        }
        if (miner && syncing != was_syncing) {
            if (syncing) {
                miner->pause();
            } else {
                was_syncing = false;
                refresh_template();
            }
        }
        was_syncing = syncing;
    }

    void arm_sync_timer() {
        const auto wake = sync.next_wakeup();
        if (!wake) {
            return;
        }
        sync_timer.expires_at(net::to_steady(*wake));
        sync_timer.async_wait([this](const boost::system::error_code& ec) {
            if (!ec && running) {
                sync.on_tick(net::now_instant());
                drive_sync();
            }
        });
    }

    void on_sync_action(sync::SendRequest& a) {
        asio::co_spawn(io, sync_request(a.peer, a.id, std::move(a.request)), asio::detached);
    }
    void on_sync_action(sync::DeliverBlock& a) {
        auto pending = std::make_shared<PendingDelivery>(
            PendingDelivery{.block = std::move(a.block), .height = a.height, .from = a.from});
        deliveries.push_back(pending);
        std::weak_ptr<bool> weak = alive;
        asio::post(workers, [this, weak, pending] {
            pending->signatures_ok = chain::check_signatures(pending->block.transactions).has_value();
            asio::post(io, [this, weak, pending] {
                if (weak.expired()) {
                    return;
                }
                pending->checked = true;
                drain_deliveries();
            });
        });
    }
    void on_sync_action(sync::Penalize& a) {
        if (a.reason == sync::SyncError::wrong_network) {
            host.disconnect(a.peer, "another network");
            return;
        }
        if (a.reason == sync::SyncError::unsolicited) {
            // Every response comes on a stream we opened for its request, so "unsolicited"
            // here only means it came after the engine gave up on it (a timeout, already
            // charged): late, not malicious.
            spdlog::debug("sync: a late response from {}", a.peer.to_string());
            return;
        }
        const bool slow = a.reason == sync::SyncError::timeout ||
                          a.reason == sync::SyncError::stall ||
                          a.reason == sync::SyncError::claim_not_backed;
        penalize(a.peer, slow ? SLOW_POINTS : BAD_DATA_POINTS, "sync: " + a.reason.message());
    }
    void on_sync_action(sync::Progress& a) {
        last_progress = a;
        if (a.target_height > a.height) {
            spdlog::info("sync: height {} of {}, {:.1f} blocks/s{}", a.height, a.target_height,
                         a.blocks_per_second,
                         a.seconds_left ? fmt::format(", about {:.0f} s left", *a.seconds_left)
                                        : std::string());
        }
    }

    void drain_deliveries() {
        if (!running) {
            return;
        }
        while (!deliveries.empty() && deliveries.front()->checked) {
            const auto pending = deliveries.front();
            deliveries.pop_front();
            if (!pending->signatures_ok) {
                penalize(pending->from, BAD_DATA_POINTS,
                         "sync: block " + short_hex(pending->block.hash()) + " has a bad signature");
                sync.on_block_invalid(pending->height, pending->block.hash(), net::now_instant());
                continue;
            }
            handle_block(std::move(pending->block), pending->from, true);
        }
        drive_sync();
    }

    asio::awaitable<void> sync_request(PeerId peer, sync::RequestId id, sync::Request request) {
        const Bytes encoded = sync::encode(request);
        auto response = co_await exchange(peer, std::string(sync::PROTOCOL_ID), encoded,
                                          sync::MAX_MESSAGE_BYTES, SYNC_REQUEST_TIMEOUT);
        if (!running) {
            co_return;
        }
        const Instant now = net::now_instant();
        if (!response) {
            sync.on_request_failed(peer, id, now);
            drive_sync();
            co_return;
        }
        auto message = sync::decode(*response);
        if (!message) {
            penalize(peer, BAD_DATA_POINTS, "sync: " + message.error().message());
            sync.on_request_failed(peer, id, now);
        } else if (auto* headers = std::get_if<sync::Headers>(&*message);
                   headers && std::holds_alternative<sync::GetHeaders>(request)) {
            sync.on_headers(peer, id, headers->headers, now);
        } else if (auto* blocks = std::get_if<sync::Blocks>(&*message);
                   blocks && std::holds_alternative<sync::GetBlocks>(request)) {
            sync.on_blocks(peer, id, std::move(blocks->blocks), now);
        } else {
            penalize(peer, BAD_DATA_POINTS, "sync: a response of the wrong kind");
            sync.on_request_failed(peer, id, now);
        }
        drive_sync();
    }

    asio::awaitable<void> serve_sync(net::Stream stream) {
        const PeerId peer = stream.remote_peer();
        auto frame = co_await net::with_timeout(stream.read_length_prefixed(SYNC_REQUEST_MAX_BYTES),
                                                PROTOCOL_TIMEOUT);
        if (!frame || !running) {
            co_return;
        }
        auto message = sync::decode(*frame);
        if (!message) {
            penalize(peer, BAD_DATA_POINTS, "sync request: " + message.error().message());
            co_return;
        }
        Bytes answer;
        if (auto* status = std::get_if<sync::Status>(&*message)) {
            if (!on_peer_status(peer, *status)) {
                co_return;
            }
            answer = sync::encode(sync::Message{sync.local_status()});
        } else if (auto* get_headers = std::get_if<sync::GetHeaders>(&*message)) {
            answer = sync::encode(sync::Message{sync::headers_for(fork, *get_headers)});
        } else if (auto* get_blocks = std::get_if<sync::GetBlocks>(&*message)) {
            auto blocks = blocks_for(*get_blocks);
            if (!blocks) {
                co_return;
            }
            answer = sync::encode(sync::Message{std::move(*blocks)});
        } else {
            penalize(peer, BAD_DATA_POINTS, "sync: a response sent as a request");
            co_return;
        }
        co_await stream.write_length_prefixed(answer);
        stream.close_write();
    }

    std::optional<sync::Blocks> blocks_for(const sync::GetBlocks& request) {
        sync::Blocks response;
        std::size_t bytes = 16;
        for (const Hash256& hash : request.hashes) {
            auto block = store->block(hash);
            if (!block) {
                if (is_store_failure(block.error())) {
                    fail_store("reading a block for a peer", block.error());
                    return std::nullopt;
                }
                continue;  // not ours: left out, as the protocol says
            }
            bytes += 4 + block->encoded_size();
            if (bytes > sync::MAX_MESSAGE_BYTES) {
                break;
            }
            response.blocks.push_back(std::move(*block));
        }
        return response;
    }

    // --- reports -------------------------------------------------------------------------

    asio::awaitable<void> report_loop() {
        Instant last_save = net::now_instant();
        Instant last_rebroadcast = net::now_instant();
        std::uint64_t last_applied = blocks_applied;
        while (running) {
            report_timer.expires_after(REPORT_INTERVAL);
            co_await report_timer.async_wait(asio::as_tuple(asio::use_awaitable));
            if (!running) {
                co_return;
            }
            const double rate = static_cast<double>(blocks_applied - last_applied) /
                                std::chrono::duration<double>(REPORT_INTERVAL).count();
            last_applied = blocks_applied;
            spdlog::info("status: height {} ({}), {} peers, mempool {} txs, {:.2f} blocks/s{}",
                         fork.height(), short_hex(fork.tip_hash()), host.connected_peers().size(),
                         pool.size(), rate, sync.syncing() ? ", syncing" : "");
            if (net::now_instant() - last_rebroadcast >= mempool::REBROADCAST_INTERVAL) {
                for (const chain::Transaction* tx : pool.local_transactions()) {
                    publish(topics.tx, tx->encode());  // mempool rule 9
                }
                last_rebroadcast = net::now_instant();
            }
            if (net::now_instant() - last_save >= PEER_BOOK_SAVE_INTERVAL) {
                save_peer_book();
                last_save = net::now_instant();
            }
        }
    }

    // --- the API -------------------------------------------------------------------------

    NodeStatus status() const {
        NodeStatus s;
        s.peer_id = host.peer_id().to_string();
        s.network = params.network_id;
        s.genesis_hash = hex(genesis_hash);
        s.consensus = std::string(chain::to_string(params.consensus));
        s.height = fork.height();
        s.best_hash = hex(fork.tip_hash());
        s.cumulative_work = hex(fork.tip_work().to_bytes());
        s.best_timestamp_ms = fork.tip().timestamp_ms;
        s.peer_count = host.connected_peers().size();
        s.mempool_size = pool.size();
        s.mempool_bytes = pool.bytes();
        s.mining = miner != nullptr;
        s.sync.syncing = sync.syncing();
        s.sync.target_height = sync.header_height();
        if (last_progress) {
            s.sync.blocks_per_second = last_progress->blocks_per_second;
            s.sync.seconds_left = s.sync.syncing ? last_progress->seconds_left : std::nullopt;
        }
        for (const auto& addr : host.listen_addrs()) {
            s.listen_addrs.push_back(addr.with_peer_id(host.peer_id()).to_string());
        }
        s.agent_version = std::string(net::CHAINMESH_AGENT_VERSION);
        s.uptime_seconds = std::chrono::duration<double>(net::now_instant() - started_at).count();
        s.blocks_applied = blocks_applied;
        s.blocks_mined = blocks_mined;
        s.transactions_received = transactions_received;
        s.transactions_applied = transactions_applied;
        s.inbound_refused = slots.refusals();
        s.inbound_evicted = slots.evictions();
        return s;
    }

    std::vector<PeerStatus> peers() const {
        std::vector<PeerStatus> out;
        for (const auto& peer : host.connected_peers()) {
            PeerStatus p;
            p.peer_id = peer.to_string();
            if (const auto info = host.peer_info(peer)) {
                p.agent_version = info->agent_version.value_or("");
            }
            if (const auto it = peer_states.find(peer); it != peer_states.end()) {
                p.misbehaviour = it->second.misbehaviour;
                p.direction = it->second.direction;
                p.remote_addr = it->second.remote_addr;
                if (it->second.status) {
                    p.height = it->second.status->best_height;
                }
            }
            p.gossip_score = gossip.router().peer_score().score(peer);
            out.push_back(std::move(p));
        }
        return out;
    }

    static std::optional<Hash256> parse_hash(std::string_view text) {
        if (text.size() != 64) {
            return std::nullopt;
        }
        auto bytes = util::from_hex(text);
        if (!bytes || bytes->size() != 32) {
            return std::nullopt;
        }
        Hash256 hash{};
        std::copy(bytes->begin(), bytes->end(), hash.begin());
        return hash;
    }

    std::optional<BlockInfo> block_info(std::string_view which) const {
        std::optional<Hash256> hash;
        if (!which.empty() && which.size() <= 20 &&
            std::all_of(which.begin(), which.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            std::uint64_t height = 0;
            for (char c : which) {
                if (height > (UINT64_MAX - 9) / 10) {
                    return std::nullopt;
                }
                height = height * 10 + static_cast<std::uint64_t>(c - '0');
            }
            if (const Hash256* active = fork.active_at(height)) {
                hash = *active;
            }
        } else {
            hash = parse_hash(which);
        }
        if (!hash) {
            return std::nullopt;
        }
        auto block = store->block(*hash);
        if (!block) {
            return std::nullopt;
        }
        BlockInfo info;
        info.height = block->header.height;
        info.hash = hex(*hash);
        info.previous_hash = hex(block->header.previous_hash);
        info.state_root = hex(block->header.state_root);
        info.timestamp_ms = block->header.timestamp_ms;
        info.beneficiary = block->header.beneficiary.to_string();
        info.size_bytes = block->encoded_size();
        const Hash256* active = fork.active_at(info.height);
        info.on_best_chain = active != nullptr && *active == *hash;
        for (const auto& tx : block->transactions) {
            info.transactions.push_back(hex(tx.id()));
        }
        return info;
    }

    static TransactionInfo describe(const chain::Transaction& tx) {
        TransactionInfo info;
        info.id = hex(tx.id());
        info.sender = chain::Address::from_public_key(tx.sender).to_string();
        info.recipient = tx.recipient.to_string();
        info.amount = tx.amount;
        info.fee = tx.fee;
        info.nonce = tx.nonce;
        return info;
    }

    std::optional<TransactionInfo> transaction_info(std::string_view text) const {
        const auto id = parse_hash(text);
        if (!id) {
            return std::nullopt;
        }
        if (const chain::Transaction* pending = pool.find(*id)) {
            TransactionInfo info = describe(*pending);
            info.status = "pending";
            return info;
        }
        const auto location = store->transaction_location(*id);
        const auto tx = location ? store->transaction(*id) : Result<chain::Transaction>(location.error());
        if (!tx) {
            return std::nullopt;
        }
        TransactionInfo info = describe(*tx);
        info.status = "confirmed";
        info.block_hash = hex(location->block_hash);
        if (const chain::BlockHeader* header = fork.header(location->block_hash)) {
            info.height = header->height;
        }
        return info;
    }

    std::optional<AccountStatus> account_status(std::string_view text) const {
        const auto address = chain::Address::parse(text);
        if (!address) {
            return std::nullopt;
        }
        const chain::Account account = store->state().account(*address);
        AccountStatus status;
        status.address = address->to_string();
        status.balance = account.balance;
        status.nonce = account.nonce;
        status.next_nonce = pool.pending_nonce(*address).value_or(account.nonce);
        return status;
    }

    asio::awaitable<SubmitResult> submit(Bytes encoded) {
        SubmitResult result;
        auto tx = chain::Transaction::decode(encoded);
        if (!tx) {
            result.reason = error_name(tx.error());
            result.detail = tx.error().message();
            co_return result;
        }
        result.id = hex(tx->id());
        auto checked = co_await asio::co_spawn(workers, verify_on_worker(std::move(*tx), params),
                                               asio::use_awaitable);
        auto& verified = *checked;
        if (!verified) {
            result.reason = error_name(verified.error());
            result.detail = verified.error().message();
            co_return result;
        }
        if (!running || failed) {
            result.reason = "unavailable";
            result.detail = "the node is not running";
            co_return result;
        }
        Bytes relay = verified->transaction().encode();
        const Hash256 id = verified->id();
        const auto admitted = admit_transaction(std::move(*verified));
        if (!admitted) {
            result.reason = error_name(admitted.error());
            result.detail = admitted.error().message();
            co_return result;
        }
        result.accepted = true;
        pool.mark_local(id);
        publish(topics.tx, std::move(relay));
        co_return result;
    }

    // Members, in construction order.
    asio::io_context& io;
    NodeConfig config;
    chain::Genesis genesis;
    chain::ChainParams params;
    chain::BlockHeader genesis_header;
    Hash256 genesis_hash;
    crypto::Identity identity;
    chain::Address beneficiary;
    std::unique_ptr<store::BlockStore> store;
    consensus::pow::PowEngine engine;
    chain::ForkChoice fork;
    mempool::Mempool pool;
    asio::thread_pool workers{2};
    net::Host host;
    GossipService gossip;
    sync::ForkChoiceHeaderValidator validator;
    sync::SyncEngine sync;
    discovery::PeerBook book;
    discovery::PeerSlots slots;
    Topics topics;
    asio::steady_timer sync_timer;
    asio::steady_timer dial_timer;
    asio::steady_timer report_timer;
    asio::steady_timer template_timer;
    Instant started_at;
    std::unique_ptr<Miner> miner;
    Rng sample_rng{std::random_device{}()};

    bool running = false;
    bool failed = false;
    std::atomic<bool> stopping{false};
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);

    // Per handle_block call.
    Hash256 current_block{};
    std::optional<PeerId> current_source;
    std::optional<Hash256> current_verified;
    std::optional<ErrorCode> current_rejection;
    std::map<Hash256, chain::Block> bodies;  // accepted this call, not yet applied or stored
    std::size_t last_block_transactions = 0;
    std::optional<Hash256> mined_tip;

    std::map<PeerId, PeerState> peer_states;
    std::set<PeerId> dialing;
    std::size_t peer_list_turn = 0;
    std::optional<Instant> last_peer_list_ask;
    std::vector<std::shared_ptr<AnonymousTarget>> anonymous;
    std::deque<std::shared_ptr<PendingDelivery>> deliveries;
    std::optional<sync::Progress> last_progress;
    bool was_syncing = false;
    Instant sync_started_at{};
    std::uint64_t sync_started_height = 0;
    bool template_dirty = false;
    double rejected_tokens = REJECTED_TX_ANNOUNCEMENTS_PER_SECOND;
    Instant rejected_bucket_time{};

    std::uint64_t blocks_applied = 0;
    std::uint64_t blocks_mined = 0;
    std::uint64_t transactions_received = 0;
    std::uint64_t transactions_applied = 0;
    std::vector<std::function<void(const TipChanged&)>> tip_listeners;
};

Node::Node(asio::io_context& io, NodeConfig config) {
    std::error_code ec;
    std::filesystem::create_directories(config.data_dir, ec);
    if (ec) {
        throw std::runtime_error("cannot create the data dir " + config.data_dir.string() + ": " +
                                 ec.message());
    }
    chain::Genesis genesis = load_node_genesis(config);
    const auto kept = config.data_dir / "genesis.toml";
    if (!std::filesystem::exists(kept)) {
        std::ofstream out(kept, std::ios::binary | std::ios::trunc);
        out << chain::write_genesis(genesis);
        if (!out) {
            throw std::runtime_error("cannot write " + kept.string());
        }
    }
    m_impl = std::make_unique<Impl>(io, std::move(config), std::move(genesis));
}

Node::~Node() {
    if (m_impl) {
        m_impl->stop();
        m_impl->alive.reset();
        m_impl->workers.join();
    }
}

void Node::start() { m_impl->start(); }
void Node::stop() { m_impl->stop(); }
net::Host& Node::host() { return m_impl->host; }
const chain::Genesis& Node::genesis() const { return m_impl->genesis; }
void Node::on_tip_changed(std::function<void(const TipChanged&)> listener) {
    m_impl->tip_listeners.push_back(std::move(listener));
}
NodeStatus Node::status() const { return m_impl->status(); }
std::vector<PeerStatus> Node::peers() const { return m_impl->peers(); }
asio::awaitable<SubmitResult> Node::submit_transaction(Bytes encoded) {
    return m_impl->submit(std::move(encoded));
}
bool Node::healthy() const { return m_impl->running && !m_impl->failed; }
std::optional<BlockInfo> Node::block(std::string_view height_or_hash) const {
    return m_impl->block_info(height_or_hash);
}
std::optional<TransactionInfo> Node::transaction(std::string_view id) const {
    return m_impl->transaction_info(id);
}
std::optional<AccountStatus> Node::account(std::string_view address) const {
    return m_impl->account_status(address);
}

}  // namespace chainmesh::node
