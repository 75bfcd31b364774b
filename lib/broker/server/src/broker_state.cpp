#include "broker_state.hpp"

#include "connection.hpp"
#include "log.hpp"
#include "persistence.hpp"

#include <algorithm>

namespace mqfleet::broker {
namespace {

/// The bucket writer's nice value: with the CPU saturated, delivery gets the larger share
/// and the writer the rest (its queue absorbs bursts; beyond it points are dropped and
/// counted), yet the writer is not starved (docs/buckets.md).
constexpr int k_bucket_writer_nice = 5;

} // namespace

BrokerState::BrokerState(const BrokerConfig& config, BrokerStats& stats)
    : m_config(config), m_stats(stats), m_mount_levels(config.allow_anonymous ? 0 : 1),
      m_quotas(config.limits.account), m_tree(m_mount_levels), m_retained(m_mount_levels) {
  m_retained.set_ledger(&m_quotas);
}

BrokerState::~BrokerState() = default;

RegistryPtr BrokerState::registry() const {
  std::lock_guard lock(m_auth_mutex);
  return m_registry;
}

void BrokerState::open_buckets() {
  if (m_config.data_dir.empty() || m_bucket_writer) return;
  store::WriterOptions options;
  options.log_sink = m_config.log_sink;
  options.writer_nice = k_bucket_writer_nice;
  options.on_committed = [this](std::span<const store::CommittedPoint> points) {
    if (m_live.active()) m_live.on_committed(points, *registry());
  };
  m_bucket_writer = std::make_unique<store::BucketWriter>(m_config.data_dir, std::move(options));
  m_ingest = std::make_unique<BucketIngest>(*m_bucket_writer);
}

void BrokerState::close_buckets() {
  if (m_bucket_writer) m_bucket_writer->stop();
}

void BrokerState::reload() {
  if (m_config.registry_path.empty()) return;
  auto fresh = std::make_shared<const Registry>(Registry::load(m_config.registry_path));
  if (m_ingest) m_ingest->set_buckets(*fresh);
  std::lock_guard lock(m_auth_mutex);
  m_registry = std::move(fresh);
}

void BrokerState::device_seen(std::string_view account, std::string_view device, std::int64_t epoch_ms) {
  std::string key;
  key.reserve(account.size() + 1 + device.size());
  key.append(account).append(1, '\0').append(device);
  {
    std::lock_guard lock(m_seen_mutex);
    m_last_seen[std::move(key)] = epoch_ms;
  }
  // Set before the listeners open and reset after the io threads stopped: no lock needed.
  if (m_persistence) m_persistence->device_seen(std::string(account), std::string(device), epoch_ms);
}

std::optional<std::int64_t> BrokerState::last_seen(std::string_view account, std::string_view device) const {
  std::string key;
  key.append(account).append(1, '\0').append(device);
  std::lock_guard lock(m_seen_mutex);
  if (auto it = m_last_seen.find(key); it != m_last_seen.end()) return it->second;
  return std::nullopt;
}

SessionLimits BrokerState::session_limits() const {
  SessionLimits limits;
  limits.max_inflight = m_config.limits.max_inflight;
  // The queue bound is applied in deliver(): QoS 0 to a connected client is not limited
  // by max_queued (mosquitto's policy), so it cannot be a per-session constant.
  limits.max_queued_messages = 0;
  return limits;
}

void BrokerState::log(const std::string& line) const {
  if (m_config.log_sink) m_config.log_sink(line);
}

BrokerState::Attached BrokerState::attach(Connection& connection, const std::string& key,
                                          std::uint8_t protocol_version,
                                          bool clean_start, std::uint32_t expiry_interval,
                                          std::uint16_t receive_maximum, WakeList& wake) {
  Attached result;
  SessionEntry* found = m_sessions.find(key);
  if (found != nullptr) {
    SessionEntry& old = *found;
    // A session with expiry 0 (3.1.1 CleanSession=1) ends with its connection, so a
    // takeover ends it too, whatever the new Clean Start says (MQTT-3.1.2-6, v5
    // 3.1.2.11.2): it must not come back with session present.
    const bool session_ends = clean_start || old.session.expiry_interval() == 0;
    if (auto previous = ConnectionPtr::try_acquire(old.owner)) {
      // Session takeover (MQTT-3.1.4-3): the old connection goes, its will with it
      // unless the session continues and the will was delayed.
      previous->post_close(0x8E, "session taken over");
      const auto now = Clock::now();
      old.session.detach(now);
      old.owner = nullptr;
      if (old.session.has_will()) {
        auto due = old.session.will_due_at();
        if (session_ends || !due || *due <= now) publish_will(old, wake);
        else old.session.clear_will(); // delayed will of a session that continues
      }
    }
    if (session_ends) {
      if (old.session.has_will()) publish_will(old, wake);
      remove_session(key);
      found = nullptr;
    }
  }
  if (found == nullptr) {
    // Only a session that does not exist yet can be over the limit: a takeover or a
    // clean start of an existing one removed it above, so nothing has changed here.
    const auto account = account_of(key, m_mount_levels);
    if (!m_quotas.session_fits(account)) {
      quota_refused(account, "sessions");
      result.over_quota = true;
      return result;
    }
    found = m_sessions.insert(make_ref<SessionEntry>(key, session_limits()));
    m_quotas.session_added(account);
  } else {
    result.session_present = true;
  }
  SessionEntry& entry = *found;
  entry.owner = &connection;
  entry.protocol_version = protocol_version;
  entry.session.set_expiry_interval(expiry_interval);
  if (m_persistence) m_persistence->session_saved(entry.session.key(), std::string(connection.client().account()), protocol_version,
                                 expiry_interval);
  entry.session.clear_will();
  result.resend = entry.session.attach(receive_maximum);
  result.entry = SessionPtr(found);
  return result;
}

ConnectionPtr BrokerState::owner_of(std::string_view key) {
  SessionEntry* entry = m_sessions.find(key);
  return entry != nullptr ? ConnectionPtr::try_acquire(entry->owner) : ConnectionPtr();
}

void BrokerState::detach(const SessionPtr& entry, const Connection* connection, bool graceful, WakeList& wake) {
  if (!entry || !entry->owned_by(connection)) return; // taken over meanwhile
  entry->owner = nullptr;
  if (graceful) entry->session.clear_will();
  const auto now = Clock::now();
  entry->session.detach(now);
  if (entry->session.has_will()) {
    auto due = entry->session.will_due_at();
    if (!due || *due <= now) publish_will(*entry, wake);
  }
  if (m_persistence && entry->session.expiry_interval() != 0) // a v5 DISCONNECT may have changed it
    m_persistence->session_expiry_changed(entry->session.key(), entry->protocol_version,
                                          entry->session.expiry_interval());
  if (entry->session.expiry_interval() == 0) {
    if (entry->session.has_will()) publish_will(*entry, wake);
    remove_session(entry->session.key());
  }
}

void BrokerState::publish_will(SessionEntry& entry, WakeList& wake) {
  auto will = entry.session.take_due_will(Clock::time_point::max());
  entry.session.clear_will();
  if (will && will->message) {
    m_stats.messages_received.fetch_add(1, std::memory_order_relaxed);
    publish(will->message_at(Clock::now()), entry.session.key(), wake);
  }
}

void BrokerState::remove_session(std::string_view key) {
  // `key` may view the session's own key: erase the entry last.
  SessionEntry* entry = m_sessions.find(key);
  if (entry == nullptr) return;
  const SessionPtr keep(entry);
  if (m_persistence) m_persistence->session_removed(std::string(keep->session.key()));
  m_quotas.session_removed(account_of(keep->session.key(), m_mount_levels), keep->session.subscriptions().size());
  m_tree.remove_all(keep->session.key());
  m_sessions.erase(keep->session.key());
}

void BrokerState::deliver(SessionEntry& entry, Delivery delivery, WakeList& wake) {
  // max_queued bounds QoS 1/2 messages waiting (window full or offline). QoS 0 for a
  // connected client only waits for the next flush of its connection; a hard cap
  // protects memory from a subscriber that stopped reading.
  const std::size_t max_queued = m_config.limits.max_queued;
  const std::size_t qos0_cap = std::max<std::size_t>(max_queued * 100, 100000);
  const std::size_t queued = entry.session.queued_count();
  const bool online_qos0 = delivery.qos == 0 && entry.session.connected();
  if ((!online_qos0 && max_queued != 0 && queued >= max_queued) || (online_qos0 && queued >= qos0_cap)) {
    m_stats.messages_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Recorded before push(), which accepts every QoS 1/2 delivery that passed the bound
  // above (the session itself has no queue limit, see session_limits()).
  if (m_persistence && delivery.qos > 0) m_persistence->queued(entry.session.key(), delivery);
  const auto result = entry.session.push(std::move(delivery));
  if (result != PushResult::accepted) {
    m_stats.messages_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (auto connection = ConnectionPtr::try_acquire(entry.owner)) wake.push_back(std::move(connection));
}

bool BrokerState::publish(const MessagePtr& message, std::string_view publisher_key, WakeList& wake) {
  if (message->retain) {
    std::string_view account;
    std::size_t bytes = 0;
    const bool counted = m_retained.counted(message->topic, message->payload.size(), account, bytes);
    if (counted && !retained_fits(message->topic, message->payload.size())) {
      quota_refused(account, "retained"); // delivered below, not stored
    } else {
      m_retained.set(message);
      if (m_persistence && counted) m_persistence->retained(message);
    }
  }
  m_match.clear();
  m_tree.match(message->topic, publisher_key, m_match, [this](std::string_view subscriber) {
    const SessionEntry* entry = m_sessions.find(subscriber);
    return entry != nullptr && entry->session.connected();
  });
  for (const auto& match : m_match.subscribers) {
    SessionEntry* entry = m_sessions.find(match.subscriber);
    if (entry == nullptr) continue;
    Delivery delivery;
    delivery.message = message;
    delivery.qos = std::min(match.qos, message->qos);
    delivery.retain = match.retain_as_published && message->retain;
    delivery.subscription_identifiers.assign(
        m_match.identifiers.begin() + match.identifiers_begin,
        m_match.identifiers.begin() + match.identifiers_begin + match.identifiers_count);
    deliver(*entry, std::move(delivery), wake);
  }
  return !m_match.subscribers.empty();
}

bool BrokerState::retained_fits(std::string_view topic, std::size_t payload_size) const {
  if (payload_size == 0) return true;
  std::string_view account;
  std::size_t bytes = 0;
  if (!m_retained.counted(topic, payload_size, account, bytes)) return true;
  std::size_t replaced_bytes = 0;
  const MessagePtr current = m_retained.find(topic);
  if (current) {
    std::string_view unused;
    m_retained.counted(current->topic, current->payload.size(), unused, replaced_bytes);
  }
  return m_quotas.retained_fits(account, current != nullptr, replaced_bytes, bytes);
}

bool BrokerState::subscription_fits(const SessionPtr& entry, std::string_view filter) const {
  if (entry->session.subscriptions().contains(filter)) return true; // a replacement adds nothing
  return m_quotas.subscription_fits(account_of(entry->session.key(), m_mount_levels));
}

void BrokerState::quota_refused(std::string_view account, std::string_view quota) {
  m_quotas.quota_refused(account);
  m_stats.quota_refused.fetch_add(1, std::memory_order_relaxed);
  const auto& limits = m_config.limits.account;
  const std::size_t limit = quota == "sessions"        ? limits.max_sessions
                            : quota == "subscriptions" ? limits.max_subscriptions
                                                       : limits.max_retained;
  log_quota(*this, account, quota, limit, quota == "retained" ? limits.max_retained_bytes : 0);
}

void BrokerState::count_auth_failure(std::string_view account, bool throttled) {
  if (account.empty() || registry()->find_account(account) == nullptr) return;
  auto guard = lock();
  m_quotas.auth_failed(account, throttled);
}

std::map<std::string, std::size_t, std::less<>> BrokerState::connected_per_account() const {
  std::map<std::string, std::size_t, std::less<>> out;
  m_sessions.for_each([&](const SessionEntry& entry) {
    if (entry.owner == nullptr) return;
    const auto account = account_of(entry.session.key(), m_mount_levels);
    auto it = out.find(account);
    if (it == out.end()) it = out.emplace(std::string(account), 0).first;
    ++it->second;
  });
  return out;
}

bool BrokerState::subscribe(const SessionPtr& entry, const std::string& filter, const SubscriptionOptions& options) {
  entry->session.set_subscription(filter, options);
  if (m_persistence) m_persistence->subscribed(entry->session.key(), filter, options);
  const bool is_new = m_tree.add(entry->session.key(), filter, options);
  if (is_new) m_quotas.subscription_added(account_of(entry->session.key(), m_mount_levels));
  return is_new;
}

bool BrokerState::unsubscribe(const SessionPtr& entry, const std::string& filter) {
  entry->session.remove_subscription(filter);
  if (m_persistence) m_persistence->unsubscribed(entry->session.key(), filter);
  const bool existed = m_tree.remove(entry->session.key(), filter);
  if (existed) m_quotas.subscription_removed(account_of(entry->session.key(), m_mount_levels));
  return existed;
}

std::vector<MessagePtr> BrokerState::retained(std::string_view filter) {
  std::vector<MessagePtr> out;
  m_retained.match(filter, out);
  return out;
}

void BrokerState::tick(Clock::time_point now, WakeList& wake) {
  // publish() does not change the table; removals wait until the walk is done.
  std::vector<SessionPtr> expired;
  m_sessions.for_each([&](SessionEntry& entry) {
    if (entry.session.connected()) return;
    if (auto will = entry.session.take_due_will(now); will && will->message) {
      m_stats.messages_received.fetch_add(1, std::memory_order_relaxed);
      publish(will->message_at(now), entry.session.key(), wake);
    }
    if (entry.session.expired(now)) expired.emplace_back(&entry);
  });
  for (const auto& entry : expired) remove_session(entry->session.key());
}

void BrokerState::drop_all_connections() {
  auto guard = lock();
  m_sessions.for_each([](SessionEntry& entry) { entry.owner = nullptr; });
}

std::vector<ConnectionPtr> BrokerState::attached_connections() {
  auto guard = lock();
  std::vector<ConnectionPtr> out;
  m_sessions.for_each([&](SessionEntry& entry) {
    if (auto connection = ConnectionPtr::try_acquire(entry.owner)) out.push_back(std::move(connection));
  });
  return out;
}

bool BrokerState::is_attached(std::string_view key) const {
  const SessionEntry* entry = m_sessions.find(key);
  return entry != nullptr && entry->owner != nullptr;
}

std::size_t BrokerState::session_count() { return m_sessions.size(); }

std::size_t BrokerState::retained_count() { return m_retained.count(); }

} // namespace mqfleet::broker
