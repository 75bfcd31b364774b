#include <mqfleet/store/bucket_writer.hpp>

#include <mqfleet/commit_retry.hpp>
#include <mqfleet/json_depth.hpp>
#include <mqfleet/store/bucket_database.hpp>
#include <mqfleet/store/point.hpp>

#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

namespace mqfleet::store {
namespace {

/// The broker's log line prefix: wall-clock seconds with milliseconds.
std::string log_ts() {
  char buffer[32];
  const auto n = std::snprintf(buffer, sizeof buffer, "%.3f", static_cast<double>(now_ms()) / 1000.0);
  return std::string(buffer, static_cast<std::size_t>(n));
}

std::string log_line(const char* event, nlohmann::json fields) {
  return "{\"ts\":" + log_ts() + ",\"event\":\"" + event + "\"," + fields.dump().substr(1);
}

} // namespace

BucketWriter::BucketWriter(const std::filesystem::path& data_dir, WriterOptions options)
    : m_options(std::move(options)), m_db(std::make_unique<BucketDatabase>(data_dir, true)) {
  m_queue.items.reserve(1024);
  m_thread = std::thread([this] { run(); });
}

BucketWriter::~BucketWriter() { stop(); }

std::int64_t BucketWriter::bucket_key(std::string_view id) {
  std::int64_t key = 0;
  {
    std::lock_guard db_lock(m_db_mutex);
    key = m_db->bucket_key(id);
  }
  std::lock_guard lock(m_mutex);
  m_bucket_ids[key] = std::string(id);
  return key;
}

bool BucketWriter::enqueue(std::int64_t bucket, std::string_view device, std::string_view topic,
                           std::string_view payload, EpochMs received_ms) {
  const std::size_t size = device.size() + topic.size() + payload.size();
  std::unique_lock lock(m_mutex);
  if (m_stopping) return false;
  if (m_queue.items.size() >= m_options.queue_capacity ||
      (!m_queue.items.empty() && m_queue.bytes.size() + size > m_options.queue_bytes)) {
    ++m_dropped[bucket];
    ++m_counters.dropped;
    const auto now = std::chrono::steady_clock::now();
    if (now - m_last_drop_log >= std::chrono::seconds(1)) {
      m_last_drop_log = now;
      const auto total = m_counters.dropped;
      lock.unlock();
      log(log_line("bucket_queue_full", {{"dropped_total", total},
                                         {"capacity", m_options.queue_capacity},
                                         {"capacity_bytes", m_options.queue_bytes}}));
    }
    return false;
  }
  auto& bytes = m_queue.bytes;
  const std::size_t offset = bytes.size();
  bytes.insert(bytes.end(), device.begin(), device.end());
  bytes.insert(bytes.end(), topic.begin(), topic.end());
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  m_queue.items.push_back(Item{bucket, received_ms, offset, static_cast<std::uint32_t>(device.size()),
                               static_cast<std::uint32_t>(topic.size()), static_cast<std::uint32_t>(payload.size())});
  const bool was_empty = m_queue.items.size() == 1;
  ++m_enqueued;
  const bool wake = was_empty || m_queue.items.size() == m_options.batch_size;
  lock.unlock();
  if (wake) m_wake.notify_one();
  return true;
}

void BucketWriter::flush() {
  std::unique_lock lock(m_mutex);
  const auto target = m_enqueued;
  if (m_done >= target && m_dropped.empty()) return;
  m_flush = true;
  m_wake.notify_one();
  m_idle.wait(lock, [&] { return m_done >= target; });
}

void BucketWriter::stop() {
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping) return;
    m_stopping = true;
  }
  m_wake.notify_one();
  if (m_thread.joinable()) m_thread.join();
  m_idle.notify_all();
}

WriterCounters BucketWriter::counters() const {
  std::lock_guard lock(m_mutex);
  return m_counters;
}

void BucketWriter::log(const std::string& line) const {
  if (m_options.log_sink) m_options.log_sink(line);
}

void BucketWriter::run() {
  if (m_options.writer_nice > 0) {
    // Only this thread: when the CPU is saturated, the io threads (delivery) go first.
    const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
    (void)::setpriority(PRIO_PROCESS, tid, m_options.writer_nice);
  }
  Batch batch; ///< after a failed commit: kept for the retry
  std::map<std::int64_t, std::uint64_t> dropped;
  std::uint64_t upto = 0;
  // No bound on what is kept: a batch is bounded by the queue's capacity, and newer
  // points wait in the (bounded) queue meanwhile.
  CommitRetry retry;
  std::unique_lock lock(m_mutex);
  for (;;) {
    if (retry.retrying()) {
      const bool was_stopping = m_stopping;
      const auto until = std::chrono::steady_clock::now() + retry.delay(m_stopping);
      m_wake.wait_until(lock, until, [&] { return m_stopping != was_stopping || std::chrono::steady_clock::now() >= until; });
    } else {
      m_wake.wait(lock, [&] { return m_stopping || m_flush || !m_queue.items.empty() || !m_dropped.empty(); });
      if (!m_stopping && !m_flush) {
        // The commit window: gather what arrives in it into one transaction.
        const auto deadline = std::chrono::steady_clock::now() + m_options.commit_window;
        m_wake.wait_until(lock, deadline,
                          [&] { return m_stopping || m_flush || m_queue.items.size() >= m_options.batch_size; });
      }
      m_flush = false;
      std::swap(batch, m_queue);
      dropped.swap(m_dropped);
      upto = m_enqueued;
      if (batch.items.empty() && dropped.empty()) {
        m_done = upto;
        m_idle.notify_all();
        if (m_stopping) break;
        continue;
      }
    }
    const bool stopping = m_stopping;
    lock.unlock();
    std::string error;
    const std::size_t points = batch.items.size();
    bool finished = write_batch(batch, dropped, error);
    if (finished) {
      if (const auto failures = retry.succeeded(); failures != 0)
        log(log_line("bucket_write_recovered", {{"failed_commits", failures}, {"committed", points}}));
    } else {
      const auto verdict = retry.failed(points, stopping, std::chrono::steady_clock::now());
      if (verdict.log)
        log(log_line("bucket_write_failed", {{"error", error},
                                             {"failed_commits", verdict.failures},
                                             {verdict.give_up ? "lost" : "retrying_points", points}}));
      finished = verdict.give_up;
    }
    if (finished) {
      batch.items.clear();
      batch.bytes.clear();
      dropped.clear();
    }
    lock.lock();
    if (finished) {
      m_done = upto;
      m_idle.notify_all();
    }
  }
}

void BucketWriter::set_page_limit(std::uint64_t pages) {
  std::lock_guard db_lock(m_db_mutex);
  m_db->set_page_limit(pages == 0 ? 0xFFFFFFFEull : pages);
}

bool BucketWriter::write_batch(const Batch& batch, const std::map<std::int64_t, std::uint64_t>& dropped,
                               std::string& error) {
  std::map<std::int64_t, std::uint64_t> rejected;
  std::vector<std::string> reject_logs;
  std::uint64_t stored = 0;
  // (item index, ts) of the stored points, for on_committed.
  std::vector<std::pair<std::size_t, EpochMs>> committed;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard db_lock(m_db_mutex);
  try {
    m_db->begin();
    for (const auto& item : batch.items) {
      const char* base = batch.bytes.data() + item.offset;
      const std::string_view device(base, item.device_size);
      const std::string_view topic(base + item.device_size, item.topic_size);
      const std::string_view payload(base + item.device_size + item.topic_size, item.payload_size);
      // Deeper than the shared limit: refused here, so no reader of the bucket (export,
      // chart) ever meets it.
      const bool too_deep = json_nesting_error(payload).has_value();
      bool own_ts = false;
      const auto ts = too_deep ? std::nullopt : payload_timestamp(payload, item.received_ms, &own_ts);
      if (!ts) {
        ++rejected[item.bucket];
        auto& logged = m_reject_logged[std::string(device)];
        if (logged == std::chrono::steady_clock::time_point{} || now - logged >= std::chrono::minutes(1)) {
          logged = now;
          std::string bucket_id;
          {
            std::lock_guard lock(m_mutex);
            bucket_id = m_bucket_ids[item.bucket];
          }
          reject_logs.push_back(log_line("bucket_rejected", {{"bucket", bucket_id},
                                                             {"device", device},
                                                             {"topic", topic},
                                                             {"reason", too_deep ? "payload nests deeper than "
                                                                                   + std::to_string(k_max_json_depth)
                                                                                   + " levels"
                                                                             : "payload is not a JSON object"}}));
        }
        continue;
      }
      if (own_ts) m_db->insert(item.bucket, m_db->device_key(device), *ts, topic, payload);
      else m_db->append(item.bucket, m_db->device_key(device), *ts, topic, payload);
      ++stored;
      if (m_options.on_committed) committed.emplace_back(static_cast<std::size_t>(&item - batch.items.data()), *ts);
    }
    std::map<std::int64_t, std::pair<std::uint64_t, std::uint64_t>> counters;
    for (const auto& [bucket, n] : rejected) counters[bucket].first += n;
    for (const auto& [bucket, n] : dropped) counters[bucket].second += n;
    for (const auto& [bucket, c] : counters) m_db->add_counters(bucket, c.first, c.second);
    m_db->commit();
  } catch (const std::exception& e) {
    m_db->rollback();
    error = e.what();
    return false;
  }
  for (const auto& line : reject_logs) log(line);
  {
    std::lock_guard lock(m_mutex);
    m_counters.stored += stored;
    for (const auto& [bucket, n] : rejected) m_counters.rejected += n;
    ++m_counters.commits;
  }
  if (!committed.empty()) notify_committed(batch, committed);
  return true;
}

void BucketWriter::notify_committed(const Batch& batch, const std::vector<std::pair<std::size_t, EpochMs>>& committed) {
  std::vector<CommittedPoint> points;
  std::map<std::int64_t, std::string> ids; // copied once per batch: m_bucket_ids may grow meanwhile
  try {
    points.reserve(committed.size());
    {
      std::lock_guard lock(m_mutex);
      for (const auto& [index, ts] : committed) ids.try_emplace(batch.items[index].bucket, m_bucket_ids[batch.items[index].bucket]);
    }
    for (const auto& [index, ts] : committed) {
      const Item& item = batch.items[index];
      const char* base = batch.bytes.data() + item.offset;
      points.push_back(CommittedPoint{ids[item.bucket], ts, std::string_view(base, item.device_size),
                                      std::string_view(base + item.device_size + item.topic_size, item.payload_size)});
    }
    m_options.on_committed(points);
  } catch (...) {
    // Out of memory: the points are stored; only their live notification is lost.
  }
}

} // namespace mqfleet::store
