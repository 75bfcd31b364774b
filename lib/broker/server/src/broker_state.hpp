#pragma once
// The routing state shared by every connection: sessions by key, the subscription tree,
// the retained store, the registry. One mutex guards all of it (see broker.hpp for the
// threading design); every member function marked "locked" expects the caller to hold
// lock() and never blocks on I/O.

#include <mqfleet/broker/account_quotas.hpp>
#include <mqfleet/broker/broker.hpp>
#include <mqfleet/broker/bucket_ingest.hpp>
#include <mqfleet/store/bucket_writer.hpp>
#include <mqfleet/broker/device_registry.hpp>
#include <mqfleet/broker/log_limiter.hpp>
#include <mqfleet/broker/login_guard.hpp>
#include <mqfleet/broker/message.hpp>
#include <mqfleet/broker/retained_store.hpp>
#include <mqfleet/broker/session.hpp>
#include <mqfleet/broker/subscription_tree.hpp>
#include <mqfleet/broker/tenancy.hpp>

#include "live_hub.hpp"
#include "ref_ptr.hpp"
#include "session_table.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mqfleet::broker {

class Connection;
class Persistence;
struct DeviceSeen;

/// One session and the connection that currently owns it; also the session table's
/// node (table_next), so a session costs one allocation.
struct SessionEntry : RefCounted {
  explicit SessionEntry(std::string key, SessionLimits limits) : session(std::move(key), limits) {}
  std::uint8_t protocol_version = 4; ///< fills the padding after the reference count
  Session session;
  /// The attached connection, if any. Set and cleared under the state lock; a
  /// connection clears it (detach, takeover, broker stop) before it can be destroyed.
  Connection* owner = nullptr;
  SessionEntry* table_next = nullptr; ///< IntrusiveTable's chain

  /// True when `connection` is the attached connection.
  bool owned_by(const Connection* connection) const noexcept { return owner == connection; }
  /// The table key: the session key.
  std::string_view table_key() const noexcept { return session.key(); }
};

/// A counted reference to a session entry.
using SessionPtr = RefPtr<SessionEntry>;
/// A counted reference to a connection.
using ConnectionPtr = RefPtr<Connection>;

/// Connections to wake up (post_flush) once the lock is released.
using WakeList = std::vector<ConnectionPtr>;

/// The shared routing state.
class BrokerState {
public:
  BrokerState(const BrokerConfig& config, BrokerStats& stats);
  ~BrokerState();

  /// The one lock over everything below.
  std::unique_lock<std::mutex> lock() { return std::unique_lock(m_mutex); }

  /// The registry snapshot (accounts, credentials, access rules); replaced by reload().
  /// Empty (no accounts, no rules) in anonymous mode without a registry file.
  RegistryPtr registry() const;
  /// Loads the registry (at start and on SIGHUP). Throws ConfigError; the old one stays.
  void reload();

  /// Opens the bucket store of `data_dir` (no-op without one). Throws ConfigError.
  void open_buckets();
  /// Commits everything queued for buckets and closes the store (broker stop).
  void close_buckets();
  /// The bucket ingest, or null without a data directory. Thread-safe, lock-free of lock().
  BucketIngest* bucket_ingest() noexcept { return m_ingest.get(); }
  /// A registry device's connection ended now (its "last seen"; thread-safe). With
  /// --data-dir it is also stored, so it survives a restart.
  void device_seen(std::string_view account, std::string_view device, std::int64_t epoch_ms);
  /// When a device's last connection ended (before a restart too, with --data-dir).
  std::optional<std::int64_t> last_seen(std::string_view account, std::string_view device) const;
  /// The live push of committed bucket points to dashboard sockets (thread-safe).
  LiveHub& live_hub() noexcept { return m_live; }

  /// Result of attach().
  struct Attached {
    SessionPtr entry;
    bool session_present = false;
    std::vector<Outgoing> resend; ///< retransmissions for a resumed session
    /// A new session was needed and the account holds max_sessions already: nothing
    /// was changed (entry is null); the CONNECT is refused (0x97 / 3).
    bool over_quota = false;
  };
  /// locked: binds `connection` to the session `key`, taking it over from a previous
  /// connection (which is told to close with 0x8E) and discarding it when `clean_start`.
  /// A new session beyond the account's session limit is refused (Attached::over_quota).
  Attached attach(Connection& connection, const std::string& key,
                  std::uint8_t protocol_version, bool clean_start, std::uint32_t expiry_interval,
                  std::uint16_t receive_maximum, WakeList& wake);
  /// locked: the connection attached to session `key`, if any.
  ConnectionPtr owner_of(std::string_view key);
  /// locked: the connection that owned `entry` closed. `graceful` = normal DISCONNECT
  /// (the will is dropped). Sessions with expiry 0 are removed (their will published).
  void detach(const SessionPtr& entry, const Connection* connection, bool graceful, WakeList& wake);

  /// locked: routes a message to every matching subscription and stores it when retained.
  /// False when no subscription matched (v5 reason 0x10, no matching subscribers). A
  /// retained message over its account's retained limits is routed but not stored
  /// (counted and logged, quota_refused).
  bool publish(const MessagePtr& message, std::string_view publisher_key, WakeList& wake);
  /// locked: true when storing `payload_size` bytes as the retained message of the
  /// internal `topic` keeps its account within its retained limits (always true for an
  /// empty payload, which deletes).
  bool retained_fits(std::string_view topic, std::size_t payload_size) const;
  /// locked: true when the session may add (or replace) the subscription `filter`
  /// within its account's subscription limit.
  bool subscription_fits(const SessionPtr& entry, std::string_view filter) const;
  /// locked: counts a refusal by the per-account limit `quota` ("retained", "sessions",
  /// "subscriptions") of `account` and logs it (rate limited).
  void quota_refused(std::string_view account, std::string_view quota);
  /// Takes the lock: counts a refused CONNECT against `account` when it is in the
  /// registry (per-tenant `$SYS` figures; unknown names are not tracked).
  void count_auth_failure(std::string_view account, bool throttled);
  /// locked: what each account holds (the per-tenant `$SYS` figures).
  const AccountQuotas& quotas() const noexcept { return m_quotas; }
  /// locked: connected clients per account.
  std::map<std::string, std::size_t, std::less<>> connected_per_account() const;
  /// 0 in anonymous mode (one account ""), else 1: what account_of() needs.
  std::size_t mount_levels() const noexcept { return m_mount_levels; }
  /// Holds back repeated quota_exceeded log lines (thread-safe).
  LogLimiter& quota_log_limiter() const noexcept { return m_quota_log_limiter; }
  /// locked: adds a subscription (filter already mounted); true when it is new.
  bool subscribe(const SessionPtr& entry, const std::string& filter, const SubscriptionOptions& options);
  /// locked: removes a subscription; false when it did not exist.
  bool unsubscribe(const SessionPtr& entry, const std::string& filter);
  /// locked: the retained messages matching a (mounted, non-shared) filter.
  std::vector<MessagePtr> retained(std::string_view filter);

  /// locked: publishes due wills and removes expired sessions.
  void tick(Clock::time_point now, WakeList& wake);
  /// Forgets every connection (broker stop).
  void drop_all_connections();
  /// The connections attached to a session now (to tell them the server shuts down).
  std::vector<ConnectionPtr> attached_connections();

  /// locked: true when the session `key` has a connection attached now.
  bool is_attached(std::string_view key) const;
  /// The bucket writer, or null without a data directory (its counters are thread-safe).
  store::BucketWriter* bucket_writer() noexcept { return m_bucket_writer.get(); }

  /// Number of sessions (connected or not).
  std::size_t session_count();
  /// Number of retained messages.
  std::size_t retained_count();

  BrokerStats& stats() noexcept { return m_stats; }
  const BrokerConfig& config() const noexcept { return m_config; }
  /// The session limits derived from the broker limits.
  SessionLimits session_limits() const;
  /// Opens data_dir/state.db (when configured) and loads its retained messages, sessions
  /// and last-seen times; from then on their changes are written there. Call after
  /// reload() (the registry decides which last-seen times are kept). Throws ConfigError.
  void open_persistence();
  /// Commits what is queued for the disk and closes state.db (broker stop).
  void close_persistence();
  /// The durable state, or null without a data directory (thread-safe to read).
  Persistence* persistence() noexcept { return m_persistence.get(); }
  /// Emits one JSON log line (thread-safe; no-op without a sink).
  void log(const std::string& line) const;
  /// Failed-login back-off per peer and client id (thread-safe).
  LoginGuard& login_guard() noexcept { return m_login_guard; }
  /// Holds back repeated auth_failed log lines (thread-safe).
  LogLimiter& auth_log_limiter() const noexcept { return m_auth_log_limiter; }

private:
  void deliver(SessionEntry& entry, Delivery delivery, WakeList& wake);
  void remove_session(std::string_view key);
  void publish_will(SessionEntry& entry, WakeList& wake);
  /// The stored last-seen times of the registry's devices into m_last_seen; those of
  /// devices no longer in the registry are deleted from state.db.
  void load_devices_seen(const std::vector<DeviceSeen>& stored, Persistence& persistence);

  const BrokerConfig& m_config;
  BrokerStats& m_stats;
  std::mutex m_mutex;
  std::size_t m_mount_levels;
  AccountQuotas m_quotas; ///< before m_retained, which reports to it
  SubscriptionTree m_tree;
  RetainedStore m_retained;
  /// Keyed by a view of the session's own key (the key is stored once, in the Session).
  IntrusiveTable<SessionEntry> m_sessions;
  MatchResult m_match;
  mutable std::mutex m_auth_mutex;
  RegistryPtr m_registry = std::make_shared<const Registry>();
  std::unique_ptr<Persistence> m_persistence;
  std::unique_ptr<store::BucketWriter> m_bucket_writer;
  std::unique_ptr<BucketIngest> m_ingest;
  LiveHub m_live;
  mutable std::mutex m_seen_mutex;
  /// "account\0device" -> epoch ms; registry devices only, so bounded by the registry
  /// (stored ones of devices no longer in it are dropped at start-up).
  std::map<std::string, std::int64_t, std::less<>> m_last_seen;
  LoginGuard m_login_guard;
  mutable LogLimiter m_auth_log_limiter;
  mutable LogLimiter m_quota_log_limiter{10, std::chrono::seconds(1)};
};

} // namespace mqfleet::broker
