#pragma once
// The routing state shared by every connection: sessions by key, the subscription tree,
// the retained store, the registry. One mutex guards all of it (see broker.hpp for the
// threading design); every member function marked "locked" expects the caller to hold
// lock() and never blocks on I/O.

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

#include "ref_ptr.hpp"
#include "session_table.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mqfleet::broker {

class Connection;
class Persistence;

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

  /// Result of attach().
  struct Attached {
    SessionPtr entry;
    bool session_present = false;
    std::vector<Outgoing> resend; ///< retransmissions for a resumed session
  };
  /// locked: binds `connection` to the session `key`, taking it over from a previous
  /// connection (which is told to close with 0x8E) and discarding it when `clean_start`.
  Attached attach(Connection& connection, const std::string& key,
                  std::uint8_t protocol_version, bool clean_start, std::uint32_t expiry_interval,
                  std::uint16_t receive_maximum, WakeList& wake);
  /// locked: the connection attached to session `key`, if any.
  ConnectionPtr owner_of(std::string_view key);
  /// locked: the connection that owned `entry` closed. `graceful` = normal DISCONNECT
  /// (the will is dropped). Sessions with expiry 0 are removed (their will published).
  void detach(const SessionPtr& entry, const Connection* connection, bool graceful, WakeList& wake);

  /// locked: routes a message to every matching subscription and stores it when retained.
  /// False when no subscription matched (v5 reason 0x10, no matching subscribers).
  bool publish(const MessagePtr& message, std::string_view publisher_key, WakeList& wake);
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
  /// Opens data_dir/state.db (when configured) and loads its retained messages and
  /// sessions; from then on their changes are written there. Throws ConfigError.
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

  const BrokerConfig& m_config;
  BrokerStats& m_stats;
  std::mutex m_mutex;
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
  LoginGuard m_login_guard;
  mutable LogLimiter m_auth_log_limiter;
};

} // namespace mqfleet::broker
