#include <mqfleet/broker/login_guard.hpp>

#include <algorithm>

namespace mqfleet::broker {
namespace {

/// A key without a failure for this long has an empty bucket (k_peer_burst at 1/s,
/// k_id_burst at 0.1/s) and no lock: it can be forgotten.
constexpr auto k_forget_after = std::chrono::minutes(2);

std::string peer_key(std::string_view peer) { return "p:" + std::string(peer); }
std::string id_key(std::string_view client_id) { return "c:" + std::string(client_id); }

} // namespace

bool LoginGuard::is_locked(const std::string& key, Clock::time_point now) const {
  const auto it = m_entries.find(key);
  return it != m_entries.end() && now < it->second.locked_until;
}

bool LoginGuard::locked(std::string_view peer, std::string_view client_id, Clock::time_point now) {
  std::lock_guard lock(m_mutex);
  if (m_entries.empty()) return false;
  return is_locked(peer_key(peer), now) || is_locked(id_key(client_id), now);
}

void LoginGuard::fail_one(const std::string& key, double burst, double per_second, Clock::time_point now) {
  auto it = m_entries.find(key);
  if (it == m_entries.end()) {
    if (m_entries.size() >= k_max_keys) prune(now);
    if (m_entries.size() >= k_max_keys) return; // still full of live locks: track no new key
    it = m_entries.emplace(key, Entry{}).first;
  }
  Entry& entry = it->second;
  const double drained = std::chrono::duration<double>(now - entry.last_failure).count() * per_second;
  if (entry.last_failure != Clock::time_point{}) entry.level = std::max(0.0, entry.level - drained);
  if (entry.level == 0) entry.locks = 0;
  entry.last_failure = now;
  entry.level += 1;
  if (entry.level <= burst) return;
  const auto doublings = std::min<std::uint32_t>(entry.locks, 6);
  ++entry.locks;
  entry.locked_until = now + std::min<Clock::duration>(std::chrono::seconds(1) * (1u << doublings), k_max_lock);
  entry.level = burst; // the next failure after the lock locks again, for longer
}

void LoginGuard::failed(std::string_view peer, std::string_view client_id, Clock::time_point now) {
  std::lock_guard lock(m_mutex);
  fail_one(peer_key(peer), k_peer_burst, 1.0, now);
  fail_one(id_key(client_id), k_id_burst, 0.1, now);
}

void LoginGuard::succeeded(std::string_view client_id) {
  std::lock_guard lock(m_mutex);
  if (!m_entries.empty()) m_entries.erase(id_key(client_id));
}

std::size_t LoginGuard::size() const {
  std::lock_guard lock(m_mutex);
  return m_entries.size();
}

void LoginGuard::prune(Clock::time_point now) {
  std::erase_if(m_entries, [now](const auto& item) {
    return now >= item.second.locked_until && now - item.second.last_failure > k_forget_after;
  });
  if (m_entries.size() < k_max_keys) return;
  // Under a flood of distinct keys: forget those not locked now.
  std::erase_if(m_entries, [now](const auto& item) { return now >= item.second.locked_until; });
}

} // namespace mqfleet::broker
