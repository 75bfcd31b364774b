// Persistence: tracking of stored sessions (under BrokerState's lock) and the writer
// thread that commits their changes in batches.

#include "persistence.hpp"

#include <mqfleet/commit_retry.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <limits>

namespace mqfleet::broker {
namespace {

bool is_sys(std::string_view topic) { return topic.starts_with("$SYS"); }

/// Changes kept for a retry at most (beyond, they are given up: memory is bounded).
constexpr std::size_t k_max_retry_ops = 4 * 1024 * 1024;

StoreOp make_op(StoreOp::Kind kind) {
  StoreOp op;
  op.kind = kind;
  return op;
}

} // namespace

std::string BacklogMonitor::check(std::uint64_t pending, TimePoint now) {
  if (pending < m_threshold) {
    if (!m_reported) return {};
    m_reported = false;
    return nlohmann::json{{"event", "persistence_backlog_cleared"}, {"pending", pending}}.dump();
  }
  if (m_reported && now - m_last_log < std::chrono::seconds(1)) return {};
  m_reported = true;
  m_last_log = now;
  return nlohmann::json{{"event", "persistence_backlog"}, {"pending", pending}, {"threshold", m_threshold}}.dump();
}

Persistence::Persistence(const std::string& data_dir, bool full_sync, std::function<void(const std::string&)> log)
    : m_store(data_dir, full_sync), m_log(std::move(log)) {}

Persistence::~Persistence() {
  {
    std::lock_guard lock(m_queue_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  if (m_writer.joinable()) m_writer.join();
}

LoadedState Persistence::load() {
  auto state = m_store.load();
  m_next_entry_id = state.max_entry_id + 1;
  m_next_message_id = state.max_message_id + 1;
  for (const auto& session : state.sessions) {
    Track& track = m_tracks[session.key];
    for (const auto& entry : session.entries) {
      Record record{entry.id, entry.delivery.message};
      if (record.message) {
        auto [it, fresh] = m_messages.try_emplace(record.message.get(), entry.message_id, 0);
        ++it->second.second;
      }
      if (entry.state == EntryState::queued) track.queued.push_back(std::move(record));
      else track.inflight.emplace(entry.packet_id, std::move(record));
    }
  }
  m_writer = std::thread([this] { writer_loop(); });
  return state;
}

void Persistence::push(StoreOp op) {
  bool first = false;
  {
    std::lock_guard lock(m_queue_mutex);
    first = m_ops.empty() && m_callbacks.empty();
    m_ops.push_back(std::move(op));
  }
  m_pending.fetch_add(1, std::memory_order_relaxed);
  if (first) m_wake.notify_one();
}

void Persistence::session_saved(const std::string& key, const std::string& account, std::uint8_t protocol_version,
                                std::uint32_t expiry) {
  if (expiry == 0) {
    if (tracks(key)) session_removed(key);
    return;
  }
  m_tracks[key].account = account;
  auto op = make_op(StoreOp::Kind::put_session);
  op.key = key;
  op.text = account;
  op.qos = protocol_version;
  op.number = expiry;
  push(std::move(op));
}

void Persistence::session_expiry_changed(const std::string& key, std::uint8_t protocol_version,
                                         std::uint32_t expiry) {
  auto it = m_tracks.find(key);
  const std::string account = it == m_tracks.end() ? std::string() : it->second.account;
  session_saved(key, account, protocol_version, expiry);
}

void Persistence::session_removed(const std::string& key) {
  auto it = m_tracks.find(key);
  if (it == m_tracks.end()) return;
  for (auto& record : it->second.queued) drop_record(record);
  for (auto& [id, record] : it->second.inflight) drop_record(record);
  m_tracks.erase(it);
  auto op = make_op(StoreOp::Kind::delete_session);
  op.key = key;
  push(std::move(op));
}

bool Persistence::tracks(std::string_view key) const { return m_tracks.find(key) != m_tracks.end(); }

void Persistence::subscribed(const std::string& key, const std::string& filter, const SubscriptionOptions& options) {
  if (!tracks(key)) return;
  auto op = make_op(StoreOp::Kind::put_subscription);
  op.key = key;
  op.text = filter;
  op.options = options;
  push(std::move(op));
}

void Persistence::unsubscribed(const std::string& key, const std::string& filter) {
  if (!tracks(key)) return;
  auto op = make_op(StoreOp::Kind::delete_subscription);
  op.key = key;
  op.text = filter;
  push(std::move(op));
}

void Persistence::retained(const MessagePtr& message) {
  if (!message || is_sys(message->topic)) return;
  if (message->payload.empty()) {
    auto op = make_op(StoreOp::Kind::delete_retained);
    op.text = message->topic;
    push(std::move(op));
    return;
  }
  auto op = make_op(StoreOp::Kind::put_retained);
  op.message = message;
  push(std::move(op));
}

void Persistence::queued(const std::string& key, const Delivery& delivery) {
  if (delivery.qos == 0 || !delivery.message) return;
  auto track = m_tracks.find(key);
  if (track == m_tracks.end()) return;
  auto [it, fresh] = m_messages.try_emplace(delivery.message.get(), m_next_message_id, 0);
  if (fresh) {
    ++m_next_message_id;
    auto op = make_op(StoreOp::Kind::put_message);
    op.id = it->second.first;
    op.message = delivery.message;
    push(std::move(op));
  }
  ++it->second.second;
  auto op = make_op(StoreOp::Kind::put_entry);
  op.id = m_next_entry_id++;
  op.key = key;
  op.number = it->second.first;
  op.qos = delivery.qos;
  op.retain = delivery.retain;
  op.subscription_identifiers = delivery.subscription_identifiers;
  track->second.queued.push_back(Record{op.id, delivery.message});
  push(std::move(op));
}

void Persistence::sent(const std::string& key, const Message* message, std::uint16_t packet_id, std::uint8_t qos) {
  auto track = m_tracks.find(key);
  if (track == m_tracks.end()) return;
  auto& queue = track->second.queued;
  const auto at = std::find_if(queue.begin(), queue.end(), [message](const Record& r) { return r.message.get() == message; });
  if (at == queue.end()) return; // not a stored delivery (a retained message sent on SUBSCRIBE)
  // The session's queue is FIFO: records before the sent message were dropped (expired).
  while (queue.front().message.get() != message) {
    drop_record(queue.front());
    queue.pop_front();
  }
  Record record = std::move(queue.front());
  queue.pop_front();
  auto op = make_op(StoreOp::Kind::update_entry);
  op.id = record.id;
  op.entry_state = qos == 1 ? EntryState::awaiting_puback : EntryState::awaiting_pubrec;
  op.packet_id = packet_id;
  push(std::move(op));
  track->second.inflight.insert_or_assign(packet_id, std::move(record));
}

void Persistence::finished(const std::string& key, std::uint16_t packet_id) {
  auto track = m_tracks.find(key);
  if (track == m_tracks.end()) return;
  auto it = track->second.inflight.find(packet_id);
  if (it == track->second.inflight.end()) return;
  drop_record(it->second);
  track->second.inflight.erase(it);
}

void Persistence::released(const std::string& key, std::uint16_t packet_id) {
  auto track = m_tracks.find(key);
  if (track == m_tracks.end()) return;
  auto it = track->second.inflight.find(packet_id);
  if (it == track->second.inflight.end() || !it->second.message) return;
  Record& record = it->second;
  auto op = make_op(StoreOp::Kind::update_entry);
  op.id = record.id;
  op.entry_state = EntryState::awaiting_pubcomp;
  op.packet_id = packet_id;
  push(std::move(op));
  // The entry keeps only its packet id: release the message.
  Record message_only{0, std::move(record.message)};
  drop_record(message_only);
}

void Persistence::drop_record(Record& record) {
  if (record.id != 0) {
    auto op = make_op(StoreOp::Kind::delete_entry);
    op.id = record.id;
    push(std::move(op));
    record.id = 0;
  }
  if (!record.message) return;
  auto it = m_messages.find(record.message.get());
  if (it != m_messages.end() && --it->second.second == 0) {
    auto op = make_op(StoreOp::Kind::delete_message);
    op.id = it->second.first;
    push(std::move(op));
    m_messages.erase(it);
  }
  record.message.reset();
}

void Persistence::device_seen(const std::string& account, const std::string& device, std::int64_t epoch_ms) {
  auto op = make_op(StoreOp::Kind::put_device_seen);
  op.key = account;
  op.text = device;
  op.number = static_cast<std::uint64_t>(std::max<std::int64_t>(epoch_ms, 0));
  push(std::move(op));
}

void Persistence::device_forgotten(const std::string& account, const std::string& device) {
  auto op = make_op(StoreOp::Kind::delete_device_seen);
  op.key = account;
  op.text = device;
  push(std::move(op));
}

void Persistence::after_durable(std::function<void(bool)> callback) {
  bool first = false;
  {
    std::lock_guard lock(m_queue_mutex);
    first = m_ops.empty() && m_callbacks.empty();
    m_callbacks.push_back(std::move(callback));
  }
  if (first) m_wake.notify_one();
}

std::uint64_t Persistence::committed_ops() const {
  std::lock_guard lock(m_queue_mutex);
  return m_committed;
}

void Persistence::report_backlog(BacklogMonitor::TimePoint now) {
  auto line = m_backlog.check(pending_changes(), now);
  if (!line.empty() && m_log) m_log(line);
}

void Persistence::set_page_limit(std::uint64_t pages) {
  m_page_limit.store(pages == 0 ? std::numeric_limits<std::uint64_t>::max() : pages, std::memory_order_relaxed);
  m_wake.notify_one();
}

// A failed commit (disk full, I/O error) is not dropped: its changes stay in order ahead
// of newer ones and the whole lot is committed again after CommitRetry's back-off, so
// nothing acknowledged is lost once space returns. --durable-ack callbacks learn of each
// failure at once (their PUBLISH is refused, or the 3.x client disconnected, and sent
// again). Changes are given up (logged as lost_changes) only as CommitRetry decides: at
// a stop during which commits keep failing, or when more than k_max_retry_ops wait.
void Persistence::writer_loop() {
  std::vector<StoreOp> ops; ///< the batch; after a failed commit, kept for the retry
  std::vector<std::function<void(bool)>> callbacks;
  CommitRetry retry(k_max_retry_ops);
  for (;;) {
    {
      std::unique_lock lock(m_queue_mutex);
      if (ops.empty()) {
        m_wake.wait(lock, [this] { return m_stopping || !m_ops.empty() || !m_callbacks.empty(); });
        if (m_ops.empty() && m_callbacks.empty()) return; // stopping with nothing left
      } else {
        const auto until = std::chrono::steady_clock::now() + retry.delay(m_stopping);
        m_wake.wait_until(lock, until, [this, until] { return std::chrono::steady_clock::now() >= until; });
      }
      if (ops.empty()) {
        ops.swap(m_ops);
      } else {
        ops.insert(ops.end(), std::make_move_iterator(m_ops.begin()), std::make_move_iterator(m_ops.end()));
        m_ops.clear();
      }
      callbacks.swap(m_callbacks);
    }
    // Everything recorded before a callback was registered is in this batch or an
    // earlier one, so the callbacks may run once the batch is committed.
    bool durable = true;
    std::string error;
    try {
      const auto limit = m_page_limit.exchange(0, std::memory_order_relaxed);
      if (limit != 0) m_store.set_page_limit(limit);
      m_store.apply(ops);
    } catch (const std::exception& e) {
      durable = false;
      error = e.what();
    }
    bool stopping = false;
    {
      std::lock_guard lock(m_queue_mutex);
      if (durable) m_committed += ops.size();
      stopping = m_stopping;
    }
    if (durable) {
      if (const auto failures = retry.succeeded(); failures != 0 && m_log)
        m_log(nlohmann::json{{"event", "persistence_recovered"}, {"failed_commits", failures},
                             {"committed", ops.size()}}
                  .dump());
      m_pending.fetch_sub(ops.size(), std::memory_order_relaxed);
      ops.clear();
    } else {
      const auto verdict = retry.failed(ops.size(), stopping, std::chrono::steady_clock::now());
      if (m_log && verdict.log) {
        nlohmann::json line{{"event", "persistence_error"}, {"error", error}, {"failed_commits", verdict.failures}};
        if (verdict.give_up) line["lost_changes"] = ops.size();
        else line["retrying_changes"] = ops.size();
        m_log(line.dump());
      }
      if (verdict.give_up) {
        m_pending.fetch_sub(ops.size(), std::memory_order_relaxed);
        ops.clear();
      }
    }
    for (auto& callback : callbacks) callback(durable);
    callbacks.clear();
  }
}

} // namespace mqfleet::broker
