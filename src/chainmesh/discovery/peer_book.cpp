#include <algorithm>
#include <cerrno>
#include <chainmesh/discovery/peer_book.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <system_error>

namespace chainmesh::discovery {

using nlohmann::json;

namespace {

// Aborts in every build type: a broken invariant is a bug, never a peer's doing.
void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

constexpr int PERSIST_VERSION = 1;
// The longest name a resolver accepts (RFC 1035 section 2.3.4, less the root's length bytes).
constexpr std::size_t MAX_HOST_NAME_CHARS = 253;
// A delay so long no run reaches it (about 146 years); keeps now + delay from overflowing.
constexpr Duration MAX_DELAY{std::int64_t{1} << 62};

int rank(PeerSource source) {
    switch (source) {
        case PeerSource::static_peer:
            return 3;
        case PeerSource::bootstrap:
        case PeerSource::identify:
        case PeerSource::inbound:
            return 2;
        case PeerSource::exchange:
        case PeerSource::peer_list:
            return 1;
    }
    return 0;
}

// Sources that may take the place of a peer we know works (rule 3): the operator's own.
bool may_evict_proven(PeerSource source) {
    return source == PeerSource::static_peer || source == PeerSource::bootstrap;
}

bool all_zero(const Bytes& value) {
    return std::all_of(value.begin(), value.end(), [](std::uint8_t b) { return b == 0; });
}

bool is_host_name(const Bytes& value) {
    if (value.empty() || value.size() > MAX_HOST_NAME_CHARS) {
        return false;
    }
    return std::all_of(value.begin(), value.end(), [](std::uint8_t c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
}

ErrorCode os_error(int value) {
    // Linux error codes are errno values, which is what the generic category names.
    return ErrorCode(value != 0 ? value : EIO, boost::system::generic_category());
}

}  // namespace

std::string_view name(PeerSource source) {
    switch (source) {
        case PeerSource::bootstrap:
            return "bootstrap";
        case PeerSource::static_peer:
            return "static_peer";
        case PeerSource::identify:
            return "identify";
        case PeerSource::exchange:
            return "exchange";
        case PeerSource::peer_list:
            return "peer_list";
        case PeerSource::inbound:
            return "inbound";
    }
    return "unknown";
}

std::optional<PeerSource> peer_source_from_name(std::string_view text) {
    for (const PeerSource source :
         {PeerSource::bootstrap, PeerSource::static_peer, PeerSource::identify,
          PeerSource::exchange, PeerSource::peer_list, PeerSource::inbound}) {
        if (name(source) == text) {
            return source;
        }
    }
    return std::nullopt;
}

std::optional<wire::Multiaddr> dialable_address(const wire::Multiaddr& addr,
                                                const crypto::PeerId& peer) {
    namespace code = wire::protocol_code;
    const auto& parts = addr.components();
    if (parts.size() < 2 || parts.size() > 3) {
        return std::nullopt;
    }
    if (parts.size() == 3) {
        if (parts[2].code != code::P2P) {
            return std::nullopt;
        }
        auto id = crypto::PeerId::from_bytes(parts[2].value);
        if (!id || *id != peer) {
            return std::nullopt;
        }
    }
    const auto& host = parts[0];
    switch (host.code) {
        case code::IP4:
            if (host.value.size() != 4 || all_zero(host.value)) {
                return std::nullopt;
            }
            break;
        case code::IP6:
            if (host.value.size() != 16 || all_zero(host.value)) {
                return std::nullopt;
            }
            break;
        case code::DNS4:
        case code::DNS6:
            if (!is_host_name(host.value)) {
                return std::nullopt;
            }
            break;
        default:
            return std::nullopt;
    }
    const auto& port = parts[1];
    if (port.code != code::TCP || port.value.size() != 2 || get_u16be(port.value.data()) == 0) {
        return std::nullopt;
    }
    return parts.size() == 2 ? addr : addr.without_peer_id();
}

PeerBook::PeerBook(PeerBookConfig config, Rng rng) : m_config(config), m_rng(rng) {
    require(m_config.max_peers >= 1 && m_config.max_addrs_per_peer >= 1);
    require(m_config.max_bans >= 1);
    require(m_config.initial_backoff > Duration::zero());
    require(m_config.max_backoff >= m_config.initial_backoff);
    require(m_config.jitter >= 0.0 && m_config.jitter < 1.0);
}

void PeerBook::set_self(const crypto::PeerId& self) {
    m_self = self;
    m_peers.erase(self);
}

void PeerBook::add_addresses(const crypto::PeerId& peer, std::span<const wire::Multiaddr> addrs,
                             PeerSource source, Instant now) {
    if (m_self == peer || is_banned(peer, now)) {
        return;
    }
    // Earlier addresses count as newer, so only the first max_addrs_per_peer dialable ones
    // could survive; looking no further bounds the work whatever the caller passes.
    std::vector<Address> kept;
    for (const wire::Multiaddr& addr : addrs) {
        if (kept.size() == m_config.max_addrs_per_peer) {
            break;
        }
        auto dialable = dialable_address(addr, peer);
        if (!dialable) {
            continue;
        }
        const bool seen = std::any_of(kept.begin(), kept.end(),
                                      [&](const Address& a) { return a.addr == *dialable; });
        if (!seen) {
            kept.push_back(Address{std::move(*dialable), source});
        }
    }
    std::reverse(kept.begin(), kept.end());  // newest last
    add_checked(peer, kept, source == PeerSource::static_peer, now);
}

bool PeerBook::add_static(const crypto::PeerId& peer, const wire::Multiaddr& addr) {
    if (m_self == peer) {
        return false;
    }
    auto dialable = dialable_address(addr, peer);
    if (!dialable) {
        return false;
    }
    const Address address{std::move(*dialable), PeerSource::static_peer};
    return add_checked(peer, std::span<const Address>(&address, 1), true, std::nullopt);
}

bool PeerBook::add_checked(const crypto::PeerId& peer, std::span<const Address> addrs,
                           bool make_static, std::optional<Instant> now) {
    if (addrs.empty()) {
        return false;
    }
    PeerSource best = make_static ? PeerSource::static_peer : addrs.front().source;
    for (const Address& a : addrs) {
        if (rank(a.source) > rank(best)) {
            best = a.source;
        }
    }
    const auto it = find_or_insert(peer, best, now);
    if (it == m_peers.end()) {
        return false;
    }
    Entry& entry = it->second;
    for (const Address& a : addrs) {
        insert_address(entry, a.addr, a.source);
    }
    if (make_static) {
        entry.is_static = true;
    }
    return true;
}

PeerBook::Peers::iterator PeerBook::find_or_insert(const crypto::PeerId& peer, PeerSource source,
                                                   std::optional<Instant> now) {
    if (const auto it = m_peers.find(peer); it != m_peers.end()) {
        return it;
    }
    if (m_peers.size() >= m_config.max_peers) {
        const auto banned = [&](const crypto::PeerId& id) {
            return now.has_value() && is_banned(id, *now);
        };
        // True when `a` should go before `b` (rule 3).
        const auto worse = [&](const Peers::value_type& a, const Peers::value_type& b) {
            const bool a_banned = banned(a.first);
            const bool b_banned = banned(b.first);
            if (a_banned != b_banned) {
                return a_banned;
            }
            if (a.second.failures != b.second.failures) {
                return a.second.failures > b.second.failures;
            }
            if (a.second.reached != b.second.reached) {
                return !a.second.reached;
            }
            if (a.second.reached && a.second.last_success != b.second.last_success) {
                return a.second.last_success < b.second.last_success;
            }
            return a.second.order < b.second.order;
        };
        auto victim = m_peers.end();
        for (auto it = m_peers.begin(); it != m_peers.end(); ++it) {
            const Entry& e = it->second;
            if (e.is_static || e.connected || e.dialing) {
                continue;
            }
            if (victim == m_peers.end() || worse(*it, *victim)) {
                victim = it;
            }
        }
        if (victim == m_peers.end()) {
            return m_peers.end();
        }
        const Entry& v = victim->second;
        const bool proven = v.reached && v.failures == 0 && !banned(victim->first);
        if (proven && !may_evict_proven(source)) {
            return m_peers.end();
        }
        m_peers.erase(victim);
    }
    Entry entry;
    entry.order = m_next_order++;
    return m_peers.emplace(peer, std::move(entry)).first;
}

void PeerBook::insert_address(Entry& entry, const wire::Multiaddr& addr, PeerSource source) {
    auto& addrs = entry.addrs;
    const auto found =
        std::find_if(addrs.begin(), addrs.end(), [&](const Address& a) { return a.addr == addr; });
    if (found != addrs.end()) {
        Address refreshed = std::move(*found);
        if (rank(source) >= rank(refreshed.source)) {
            refreshed.source = source;
        }
        addrs.erase(found);
        addrs.push_back(std::move(refreshed));
        return;
    }
    if (addrs.size() >= m_config.max_addrs_per_peer) {
        // The oldest of the lowest rank: strict comparison keeps the first (oldest) on ties.
        std::size_t victim = 0;
        for (std::size_t i = 1; i < addrs.size(); ++i) {
            if (rank(addrs[i].source) < rank(addrs[victim].source)) {
                victim = i;
            }
        }
        if (rank(source) < rank(addrs[victim].source)) {
            return;
        }
        addrs.erase(addrs.begin() + static_cast<std::ptrdiff_t>(victim));
    }
    addrs.push_back(Address{addr, source});
}

std::vector<wire::Multiaddr> PeerBook::dial_order(const Entry& entry, std::size_t max) const {
    std::vector<wire::Multiaddr> out;
    for (int r = 3; r >= 1 && out.size() < max; --r) {
        for (auto it = entry.addrs.rbegin(); it != entry.addrs.rend() && out.size() < max; ++it) {
            if (rank(it->source) == r) {
                out.push_back(it->addr);
            }
        }
    }
    return out;
}

void PeerBook::on_dial_started(const crypto::PeerId& peer, Instant /*now*/) {
    if (const auto it = m_peers.find(peer); it != m_peers.end()) {
        it->second.dialing = true;
    }
}

void PeerBook::on_connected(const crypto::PeerId& peer, Instant now) {
    if (m_self == peer) {
        return;
    }
    // An inbound peer not yet listed is listed without addresses, so that it is known to be
    // connected (and not evicted) when identify brings its addresses.
    const auto it = find_or_insert(peer, PeerSource::inbound, now);
    if (it == m_peers.end()) {
        return;
    }
    Entry& entry = it->second;
    entry.connected = true;
    entry.dialing = false;
    entry.failures = 0;
    entry.retry_at.reset();
    entry.reached = true;
    entry.last_success = now;
}

void PeerBook::on_dial_failed(const crypto::PeerId& peer, Instant now) {
    const auto it = m_peers.find(peer);
    if (it == m_peers.end()) {
        return;
    }
    Entry& entry = it->second;
    entry.dialing = false;
    if (entry.connected) {
        return;  // a redundant dial failed while a connection stands: the peer is reachable
    }
    if (entry.addrs.empty()) {
        m_peers.erase(it);  // an inbound peer, gone, that never told us where to reach it
        return;
    }
    if (entry.failures < std::numeric_limits<std::uint32_t>::max()) {
        ++entry.failures;
    }
    entry.retry_at = now + backoff(entry.failures);
}

void PeerBook::on_disconnected(const crypto::PeerId& peer, Instant now) {
    const auto it = m_peers.find(peer);
    if (it == m_peers.end()) {
        return;
    }
    Entry& entry = it->second;
    entry.connected = false;
    if (entry.addrs.empty() && !entry.dialing) {
        m_peers.erase(it);  // an inbound peer that never told us where to reach it
        return;
    }
    entry.retry_at = now + jittered(m_config.initial_backoff);
}

Duration PeerBook::jittered(Duration base) {
    if (m_config.jitter == 0.0) {
        return base;
    }
    const double factor = 1.0 + m_config.jitter * (2.0 * m_rng.uniform_real() - 1.0);
    const double nanos = std::min(static_cast<double>(base.count()) * factor,
                                  static_cast<double>(MAX_DELAY.count()));
    return Duration{static_cast<Duration::rep>(std::llround(nanos))};
}

Duration PeerBook::backoff(std::uint32_t failures) {
    // Doubling until the cap: at most ~62 steps, never an overflowing shift.
    Duration delay = m_config.initial_backoff;
    for (std::uint32_t i = 1; i < failures && delay < m_config.max_backoff; ++i) {
        delay = delay > m_config.max_backoff / 2 ? m_config.max_backoff : delay * 2;
    }
    return jittered(std::min({delay, m_config.max_backoff, MAX_DELAY}));
}

std::vector<DialCandidate> PeerBook::dial_candidates(
    std::size_t max, Instant now, const std::set<crypto::PeerId>& connected_or_dialing) const {
    std::vector<const Peers::value_type*> eligible;
    for (const auto& item : m_peers) {
        const auto& [peer, entry] = item;
        if (entry.addrs.empty() || entry.connected || entry.dialing ||
            (entry.retry_at && *entry.retry_at > now) || connected_or_dialing.contains(peer) ||
            is_banned(peer, now)) {
            continue;
        }
        eligible.push_back(&item);
    }
    const auto tier = [](const Entry& e) { return e.is_static ? 0 : (e.reached ? 1 : 2); };
    const auto before = [&](const Peers::value_type* a, const Peers::value_type* b) {
        const Entry& x = a->second;
        const Entry& y = b->second;
        if (tier(x) != tier(y)) {
            return tier(x) < tier(y);
        }
        if (x.failures != y.failures) {
            return x.failures < y.failures;
        }
        if (x.reached && y.reached && x.last_success != y.last_success) {
            return x.last_success > y.last_success;
        }
        return x.order < y.order;  // unique: a total order, so the result is deterministic
    };
    const std::size_t count = std::min(max, eligible.size());
    std::partial_sort(eligible.begin(), eligible.begin() + static_cast<std::ptrdiff_t>(count),
                      eligible.end(), before);
    std::vector<DialCandidate> out;
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        out.push_back(DialCandidate{eligible[i]->first,
                                    dial_order(eligible[i]->second, m_config.max_addrs_per_peer)});
    }
    return out;
}

std::optional<Instant> PeerBook::next_retry(Instant now) const {
    std::optional<Instant> earliest;
    for (const auto& [peer, entry] : m_peers) {
        if (entry.addrs.empty() || entry.connected || entry.dialing) {
            continue;
        }
        std::optional<Instant> at = entry.retry_at;
        if (const auto until = ban_until(peer); until && (!at || *until > *at)) {
            at = until;
        }
        if (at && *at > now && (!earliest || *at < *earliest)) {
            earliest = at;
        }
    }
    return earliest;
}

void PeerBook::ban(const crypto::PeerId& peer, Instant until) {
    if (const auto it = m_bans.find(peer); it != m_bans.end()) {
        it->second = std::max(it->second, until);
        return;
    }
    if (m_bans.size() >= m_config.max_bans) {
        const auto soonest =
            std::min_element(m_bans.begin(), m_bans.end(),
                             [](const auto& a, const auto& b) { return a.second < b.second; });
        if (soonest->second >= until) {
            return;  // this ban would be the first to go anyway
        }
        m_bans.erase(soonest);
    }
    m_bans.emplace(peer, until);
}

std::optional<Instant> PeerBook::ban_until(const crypto::PeerId& peer) const {
    const auto it = m_bans.find(peer);
    if (it == m_bans.end()) {
        return std::nullopt;
    }
    return it->second;
}

bool PeerBook::is_banned(const crypto::PeerId& peer, Instant now) const {
    const auto until = ban_until(peer);
    return until && *until > now;
}

std::vector<PeerRecord> PeerBook::sample(std::size_t max, Rng& rng, Instant now) const {
    std::vector<const Peers::value_type*> eligible;
    for (const auto& item : m_peers) {
        if (!item.second.addrs.empty() && !is_banned(item.first, now)) {
            eligible.push_back(&item);
        }
    }
    // A partial Fisher-Yates shuffle: the first `count` are a uniform sample.
    const std::size_t count = std::min(max, eligible.size());
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t j = i + static_cast<std::size_t>(rng.uniform(eligible.size() - i));
        std::swap(eligible[i], eligible[j]);
    }
    std::vector<PeerRecord> out;
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        out.push_back(
            PeerRecord{eligible[i]->first, dial_order(eligible[i]->second, MAX_PEER_LIST_ADDRS)});
    }
    return out;
}

std::vector<wire::Multiaddr> PeerBook::addresses(const crypto::PeerId& peer) const {
    const auto it = m_peers.find(peer);
    if (it == m_peers.end()) {
        return {};
    }
    return dial_order(it->second, m_config.max_addrs_per_peer);
}

bool PeerBook::is_static(const crypto::PeerId& peer) const {
    const auto it = m_peers.find(peer);
    return it != m_peers.end() && it->second.is_static;
}

std::uint32_t PeerBook::failures(const crypto::PeerId& peer) const {
    const auto it = m_peers.find(peer);
    return it == m_peers.end() ? 0 : it->second.failures;
}

std::string PeerBook::to_json() const {
    json peers = json::array();
    for (const auto& [peer, entry] : m_peers) {
        if (entry.addrs.empty()) {
            continue;  // a connected inbound peer: nothing to dial after a restart
        }
        json addrs = json::array();
        for (const Address& a : entry.addrs) {  // oldest first, so loading keeps the recency
            addrs.push_back(json::object(
                {{"addr", a.addr.to_string()}, {"source", std::string(name(a.source))}}));
        }
        peers.push_back(json::object({{"id", peer.to_base58()},
                                      {"static", entry.is_static},
                                      {"reached", entry.reached},
                                      {"addrs", std::move(addrs)}}));
    }
    const json document = json::object({{"version", PERSIST_VERSION}, {"peers", std::move(peers)}});
    // Everything written is ASCII (rule 1); `replace` only makes sure dump can never throw.
    return document.dump(2, ' ', false, json::error_handler_t::replace);
}

std::size_t PeerBook::load_json(std::string_view text, Instant now) {
    try {
        // nlohmann's parser is iterative: deep nesting cannot exhaust the stack.
        const json document = json::parse(text, nullptr, false);
        if (document.is_discarded() || !document.is_object()) {
            return 1;
        }
        const auto version = document.find("version");
        if (version == document.end() || !version->is_number_integer() ||
            version->get<std::int64_t>() != PERSIST_VERSION) {
            return 1;
        }
        const auto peers = document.find("peers");
        if (peers == document.end() || !peers->is_array()) {
            return 1;
        }
        std::size_t skipped = 0;
        std::size_t read = 0;
        for (const json& peer : *peers) {
            if (read == m_config.max_peers) {
                ++skipped;
                continue;
            }
            ++read;
            skipped += load_peer(peer, now);
        }
        return skipped;
    } catch (const json::exception&) {
        return 1;  // unreachable with the checks above; a file must never stop the node
    }
}

std::size_t PeerBook::load_peer(const json& item, Instant now) {
    if (!item.is_object()) {
        return 1;
    }
    const auto id_field = item.find("id");
    if (id_field == item.end() || !id_field->is_string()) {
        return 1;
    }
    auto peer = crypto::PeerId::parse(id_field->get_ref<const std::string&>());
    if (!peer || m_self == *peer || is_banned(*peer, now)) {
        return 1;
    }
    const auto flag = [&](const char* key) {
        const auto it = item.find(key);
        return it != item.end() && it->is_boolean() && it->get<bool>();
    };
    const bool make_static = flag("static");
    const bool reached = flag("reached");
    const auto addrs_field = item.find("addrs");
    if (addrs_field == item.end() || !addrs_field->is_array()) {
        return 1;
    }

    std::size_t skipped = 0;
    std::vector<Address> kept;  // oldest first, as written
    for (const json& a : *addrs_field) {
        if (kept.size() == m_config.max_addrs_per_peer || !a.is_object()) {
            ++skipped;
            continue;
        }
        const auto addr_field = a.find("addr");
        const auto source_field = a.find("source");
        if (addr_field == a.end() || !addr_field->is_string() || source_field == a.end() ||
            !source_field->is_string()) {
            ++skipped;
            continue;
        }
        auto parsed = wire::Multiaddr::parse(addr_field->get_ref<const std::string&>());
        auto source = peer_source_from_name(source_field->get_ref<const std::string&>());
        std::optional<wire::Multiaddr> dialable;
        if (parsed) {
            dialable = dialable_address(*parsed, *peer);
        }
        if (!dialable || !source) {
            ++skipped;
            continue;
        }
        const bool seen = std::any_of(kept.begin(), kept.end(),
                                      [&](const Address& k) { return k.addr == *dialable; });
        if (seen) {
            ++skipped;
            continue;
        }
        // Only a static peer's addresses are pinned; a hand-edited file cannot pin others.
        if (*source == PeerSource::static_peer && !make_static) {
            source = PeerSource::bootstrap;
        }
        kept.push_back(Address{std::move(*dialable), *source});
    }
    if (!add_checked(*peer, kept, make_static, now)) {
        return skipped + 1;
    }
    Entry& entry = m_peers.at(*peer);
    if (reached && !entry.reached) {
        // Its success happened before this run: now is an upper bound, and every success seen
        // from here on is later, which is all the eviction and dial orders need.
        entry.reached = true;
        entry.last_success = now;
    }
    return skipped;
}

Result<void> PeerBook::save_file(const std::filesystem::path& path) const {
    const std::string text = to_json();
    std::filesystem::path temporary = path;
    temporary += ".tmp";
    std::error_code ignored;
    {
        errno = 0;
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out) {
            return os_error(errno);
        }
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        out.close();
        if (!out) {
            const int error = errno;
            std::filesystem::remove(temporary, ignored);
            return os_error(error);
        }
    }
    std::error_code ec;
    std::filesystem::rename(temporary, path, ec);
    if (ec) {
        std::filesystem::remove(temporary, ignored);
        return os_error(ec.value());
    }
    return {};
}

std::size_t PeerBook::load_file(const std::filesystem::path& path, Instant now) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) {
        return ec == std::errc::no_such_file_or_directory ? 0 : 1;
    }
    if (size > max_file_bytes()) {
        return 1;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return 1;
    }
    std::string text(static_cast<std::size_t>(size), '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (static_cast<std::uintmax_t>(in.gcount()) != size) {
        return 1;
    }
    return load_json(text, now);
}

std::size_t PeerBook::max_file_bytes() const {
    // A dialable address and its source take under 300 bytes of JSON, a peer's other fields
    // under 200: a quarter of this bound would do.
    constexpr std::size_t PER_ENTRY_BYTES = 1024;
    constexpr std::size_t LIMIT = std::numeric_limits<std::size_t>::max();
    const std::size_t addrs = std::min(m_config.max_addrs_per_peer, LIMIT / PER_ENTRY_BYTES - 1);
    const std::size_t per_peer = (addrs + 1) * PER_ENTRY_BYTES;
    return m_config.max_peers > LIMIT / per_peer ? LIMIT : m_config.max_peers * per_peer;
}

void PeerBook::check_invariants() const {
    require(m_peers.size() <= m_config.max_peers);
    require(m_bans.size() <= m_config.max_bans);
    require(!m_self || !m_peers.contains(*m_self));
    std::set<std::uint64_t> orders;
    for (const auto& [peer, entry] : m_peers) {
        require(entry.addrs.size() <= m_config.max_addrs_per_peer);
        // Only a connected (or still dialing) inbound peer is listed without an address.
        require(!entry.addrs.empty() || ((entry.connected || entry.dialing) && !entry.is_static));
        for (std::size_t i = 0; i < entry.addrs.size(); ++i) {
            const auto dialable = dialable_address(entry.addrs[i].addr, peer);
            require(dialable.has_value() && *dialable == entry.addrs[i].addr);
            require(entry.addrs[i].source != PeerSource::static_peer || entry.is_static);
            for (std::size_t j = i + 1; j < entry.addrs.size(); ++j) {
                require(!(entry.addrs[i].addr == entry.addrs[j].addr));
            }
        }
        require(entry.order < m_next_order && orders.insert(entry.order).second);
        require(!entry.connected || entry.failures == 0);
    }
}

}  // namespace chainmesh::discovery
