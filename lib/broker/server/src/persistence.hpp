#pragma once
// Durable broker state (`mqfleet broker --data-dir DIR`): retained messages, persistent
// sessions (subscriptions, queued and in-flight QoS 1/2 messages, outgoing QoS 2 PUBREL
// state) and the devices' last-seen times in DIR/state.db, SQLite in WAL mode.
//
// Two parts:
// * StateStore: the SQLite file. Single-threaded: load() at start-up, apply() of one
//   batch of changes as one transaction.
// * Persistence: the broker-side half. Its tracking calls run under BrokerState's lock
//   and only append changes to an in-memory queue; a writer thread takes the whole
//   queue, commits it as one transaction (group commit) and then runs the callbacks
//   registered meanwhile (after_durable, used by --durable-ack). The io threads never
//   touch the disk. docs/broker.md states the durability rules.
// * BacklogMonitor: the queue is never bounded (a durable change is never dropped), so
//   its length is counted (pending_changes(), $SYS/broker/persistence/pending) and
//   logged at most once a second while it is past a threshold.

#include <mqfleet/broker/message.hpp>
#include <mqfleet/broker/session.hpp>
#include <mqfleet/broker/subscription_tree.hpp>

#include <mqfleet/broker/string_hash.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

struct sqlite3;

namespace mqfleet::broker {

/// Where a stored session message stands.
enum class EntryState : std::uint8_t { queued = 0, awaiting_puback = 1, awaiting_pubrec = 2, awaiting_pubcomp = 3 };

/// One change to the stored state.
struct StoreOp {
  enum class Kind : std::uint8_t {
    put_session,         ///< key, text = account, number = expiry, state = protocol version
    delete_session,      ///< key (with its subscriptions and entries)
    put_subscription,    ///< key, text = filter, options
    delete_subscription, ///< key, text = filter
    put_retained,        ///< message
    delete_retained,     ///< text = topic
    put_message,         ///< id, message
    delete_message,      ///< id
    put_entry,           ///< id, key, number = message id, delivery fields
    update_entry,        ///< id, entry_state, packet_id (awaiting_pubcomp also drops the message)
    delete_entry,        ///< id
    put_device_seen,     ///< key = account, text = device, number = epoch ms
    delete_device_seen,  ///< key = account, text = device
  };
  Kind kind;
  std::uint64_t id = 0;
  std::string key;
  std::string text;
  std::uint64_t number = 0;
  MessagePtr message;
  SubscriptionOptions options;
  std::uint8_t qos = 0;
  bool retain = false;
  std::vector<std::uint32_t> subscription_identifiers;
  EntryState entry_state = EntryState::queued;
  std::uint16_t packet_id = 0;
};

/// A stored session message as loaded.
struct LoadedEntry {
  std::uint64_t id = 0;
  EntryState state = EntryState::queued;
  std::uint16_t packet_id = 0;
  std::uint64_t message_id = 0;
  Delivery delivery; ///< empty message for awaiting_pubcomp
};

/// A stored persistent session as loaded.
struct LoadedSession {
  std::string key;
  std::string account;
  std::uint8_t protocol_version = 4;
  std::uint32_t expiry_interval = 0;
  std::vector<std::pair<std::string, SubscriptionOptions>> subscriptions;
  std::vector<LoadedEntry> entries; ///< in queue order
};

/// When a registry device's last connection ended, as stored.
struct DeviceSeen {
  std::string account;
  std::string device;
  std::int64_t epoch_ms = 0;
};

/// Everything in state.db.
struct LoadedState {
  std::vector<MessagePtr> retained;
  std::vector<LoadedSession> sessions;
  std::vector<DeviceSeen> devices_seen;
  std::uint64_t max_entry_id = 0;
  std::uint64_t max_message_id = 0;
};

/// The SQLite file DIR/state.db. Not thread-safe.
class StateStore {
public:
  /// Opens (creating DIR and the schema when missing). `full_sync`: fsync every commit
  /// (survives power loss) instead of only the WAL write (survives a killed process).
  /// Throws ConfigError when the directory or the file cannot be used.
  StateStore(const std::string& data_dir, bool full_sync);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  /// Reads everything; drops messages whose v5 expiry passed and unreferenced messages.
  LoadedState load();
  /// Applies `ops` in order as one transaction. Throws Error on a database failure
  /// (the transaction is rolled back).
  void apply(const std::vector<StoreOp>& ops);
  /// PRAGMA max_page_count (the largest the file may grow; UINT64_MAX = SQLite's maximum).
  void set_page_limit(std::uint64_t pages);
  /// The database file.
  const std::string& path() const noexcept { return m_path; }

private:
  void exec(const char* sql);
  std::string m_path;
  sqlite3* m_db = nullptr;
};

/// Pending changes from which the backlog is logged (docs/broker.md "Durable state").
inline constexpr std::uint64_t k_backlog_log_threshold = 100'000;

/// Decides when the writer's backlog is worth a log line: at most once a second while
/// it is at or above the threshold, and once when it falls back below after that.
class BacklogMonitor {
public:
  using TimePoint = std::chrono::steady_clock::time_point;
  /// Logs from `threshold` pending changes.
  explicit BacklogMonitor(std::uint64_t threshold = k_backlog_log_threshold) : m_threshold(threshold) {}
  /// The JSON log line due for `pending` changes at `now`, or an empty string.
  std::string check(std::uint64_t pending, TimePoint now);

private:
  std::uint64_t m_threshold;
  bool m_reported = false; ///< a backlog line was logged and the backlog did not clear since
  TimePoint m_last_log{};
};

/// The broker side: tracking of persistent sessions and the writer thread.
class Persistence {
public:
  /// Opens DIR/state.db; `log` receives one JSON line per write failure.
  Persistence(const std::string& data_dir, bool full_sync, std::function<void(const std::string&)> log);
  /// Commits what is queued, then stops the writer.
  ~Persistence();
  Persistence(const Persistence&) = delete;
  Persistence& operator=(const Persistence&) = delete;

  /// Reads the stored state and starts tracking its sessions. Call once, before the
  /// writer gets any change.
  LoadedState load();

  // ---- locked (BrokerState's mutex): record changes; never block on disk ----
  /// A session was (re)attached or detached with `expiry`: stored when > 0, else
  /// forgotten.
  void session_saved(const std::string& key, const std::string& account, std::uint8_t protocol_version,
                     std::uint32_t expiry);
  /// A stored session's expiry changed at detach (a v5 DISCONNECT may set it); 0 forgets it.
  void session_expiry_changed(const std::string& key, std::uint8_t protocol_version, std::uint32_t expiry);
  /// The session is gone.
  void session_removed(const std::string& key);
  /// True when the session `key` is stored.
  bool tracks(std::string_view key) const;
  /// Subscription changes of a stored session.
  void subscribed(const std::string& key, const std::string& filter, const SubscriptionOptions& options);
  void unsubscribed(const std::string& key, const std::string& filter);
  /// A retained message was set (empty payload: deleted). `$SYS` topics are not stored.
  void retained(const MessagePtr& message);
  /// A QoS 1/2 delivery entered a stored session's queue.
  void queued(const std::string& key, const Delivery& delivery);
  /// The queue head was sent as `packet_id`; queued messages before it (expired) are gone.
  void sent(const std::string& key, const Message* message, std::uint16_t packet_id, std::uint8_t qos);
  /// The in-flight message `packet_id` is finished (PUBACK, PUBCOMP, refused PUBREC,
  /// dropped as too large).
  void finished(const std::string& key, std::uint16_t packet_id);
  /// PUBREC accepted: only the PUBREL remains.
  void released(const std::string& key, std::uint16_t packet_id);

  // ---- any thread ----
  /// A device's connection ended at `epoch_ms` (GET …/devices `last_seen`): one change
  /// per ended connection, never per packet.
  void device_seen(const std::string& account, const std::string& device, std::int64_t epoch_ms);
  /// Forgets the last-seen time of a device that left the registry.
  void device_forgotten(const std::string& account, const std::string& device);
  /// Runs `callback(true)` on the writer thread once every change recorded so far is
  /// committed (`false` when that commit failed).
  void after_durable(std::function<void(bool durable)> callback);
  /// Changes committed so far (for tests and logs).
  std::uint64_t committed_ops() const;
  /// Changes recorded and not yet committed (queued plus the batch being written).
  std::uint64_t pending_changes() const noexcept { return m_pending.load(std::memory_order_relaxed); }
  /// Logs the backlog when due (BacklogMonitor); called once a second by one thread.
  void report_backlog(BacklogMonitor::TimePoint now);
  /// Bounds state.db to `pages` pages (SQLite max_page_count; 0 = no bound) from the next
  /// commit on: a full disk on demand, for tests of the retry path.
  void set_page_limit(std::uint64_t pages);

private:
  struct Record {
    std::uint64_t id = 0;
    MessagePtr message;
  };
  struct Track {
    std::string account;
    std::deque<Record> queued;
    std::unordered_map<std::uint16_t, Record> inflight;
  };
  void push(StoreOp op);
  void drop_record(Record& record);
  void writer_loop();

  StateStore m_store;
  std::function<void(const std::string&)> m_log;
  std::unordered_map<std::string, Track, detail::StringHash, std::equal_to<>> m_tracks;
  std::unordered_map<const Message*, std::pair<std::uint64_t, std::uint32_t>> m_messages; ///< id, refs
  std::uint64_t m_next_entry_id = 1;
  std::uint64_t m_next_message_id = 1;

  mutable std::mutex m_queue_mutex;
  std::condition_variable m_wake;
  std::vector<StoreOp> m_ops;
  std::vector<std::function<void(bool)>> m_callbacks;
  std::uint64_t m_committed = 0;
  std::atomic<std::uint64_t> m_pending{0};
  BacklogMonitor m_backlog;
  std::atomic<std::uint64_t> m_page_limit{0}; ///< requested by set_page_limit(), 0 = none pending
  bool m_stopping = false;
  std::thread m_writer;
};

} // namespace mqfleet::broker
