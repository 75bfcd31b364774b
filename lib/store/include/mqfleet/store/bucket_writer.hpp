#pragma once
// The broker's side of the bucket store: a bounded queue filled by io threads and one
// writer thread that validates payloads and commits them in batched transactions, so
// disk never blocks network I/O. Rules (docs/buckets.md):
// * Commit window: the writer commits at most `commit_window` after the first queued
//   point (sooner when `batch_size` points are waiting). A crash loses at most what was
//   queued or committed less than one window ago.
// * Back-pressure: enqueue() never blocks. When the queue holds `queue_capacity` points
//   or `queue_bytes` bytes of device ids, topics and payloads, the new point is dropped, counted per bucket (`dropped` in stats) and logged at most
//   once per second.
// * Rejected payloads (not a JSON object) are counted per bucket and logged at most once
//   per device per minute.
// * A failed commit (disk full, I/O error) is retried, not dropped (mqfleet::CommitRetry,
//   the policy of the broker's state.db): the batch is kept and committed again after a
//   back-off, before anything newer; meanwhile new points wait in the queue (bounded as
//   above). Points are given up (logged with `lost`) only at a stop during which commits
//   keep failing.
// * stop() (and the destructor) commits everything queued before returning.

#include <mqfleet/store/time_format.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace mqfleet::store {

class BucketDatabase;

/// One point as committed, for WriterOptions::on_committed (views valid during the call).
struct CommittedPoint {
  std::string_view bucket;  ///< the bucket id
  EpochMs ts = 0;           ///< the point's timestamp
  std::string_view device;  ///< the publisher's client id
  std::string_view payload; ///< the JSON object as stored
};

/// Tuning of the writer.
struct WriterOptions {
  std::size_t queue_capacity = 200'000;                ///< points waiting before drops
  std::size_t queue_bytes = 64u << 20;                 ///< bytes waiting before drops
  std::size_t batch_size = 20'000;                     ///< commit early at this many waiting
  std::chrono::milliseconds commit_window{100};        ///< longest a point waits for its commit
  int writer_nice = 0;                                 ///< the writer thread's nice value (0 = the process's)
  std::function<void(std::string_view line)> log_sink; ///< JSON log lines (any thread)
  /// Called on the writer thread after each commit with the points it stored (the
  /// broker's live push to dashboards). Must be quick and must not throw.
  std::function<void(std::span<const CommittedPoint> points)> on_committed;
};

/// Live counters of the writer (all buckets).
struct WriterCounters {
  std::uint64_t stored = 0;   ///< points committed
  std::uint64_t rejected = 0; ///< payloads that were not JSON objects
  std::uint64_t dropped = 0;  ///< points dropped on a full queue
  std::uint64_t commits = 0;  ///< transactions
};

/// The queue and the writer thread over `<data_dir>/buckets.sqlite`.
class BucketWriter {
public:
  /// Opens (creating) the database and starts the writer thread. Throws ConfigError.
  BucketWriter(const std::filesystem::path& data_dir, WriterOptions options = {});
  ~BucketWriter();
  BucketWriter(const BucketWriter&) = delete;
  BucketWriter& operator=(const BucketWriter&) = delete;

  /// The key for a bucket id, for enqueue() (creates the bucket's row; not for io threads).
  std::int64_t bucket_key(std::string_view id);
  /// Queues one payload for a bucket; never blocks. False when it was dropped.
  bool enqueue(std::int64_t bucket, std::string_view device, std::string_view topic, std::string_view payload,
               EpochMs received_ms);
  /// Bounds buckets.sqlite to `pages` pages from now on (SQLite max_page_count; 0 = no
  /// bound): a full disk on demand, for tests of the retry path.
  void set_page_limit(std::uint64_t pages);
  /// Waits until everything queued so far is committed (tests, shutdown).
  void flush();
  /// Commits everything queued and stops the thread. Idempotent.
  void stop();
  /// A snapshot of the counters.
  WriterCounters counters() const;

private:
  /// One queued point; its device id, topic and payload follow each other in Batch::bytes.
  struct Item {
    std::int64_t bucket;
    EpochMs received_ms;
    std::size_t offset;
    std::uint32_t device_size;
    std::uint32_t topic_size;
    std::uint32_t payload_size;
  };
  /// Queued points in two flat buffers, so queueing a point allocates nothing per point
  /// and the writer thread frees nothing the io threads allocated.
  struct Batch {
    std::vector<Item> items;
    std::vector<char> bytes;
  };

  void run();
  /// One transaction; false (with `error`) when it failed and was rolled back.
  bool write_batch(const Batch& batch, const std::map<std::int64_t, std::uint64_t>& dropped, std::string& error);
  /// Hands the points a commit stored to `WriterOptions::on_committed` (the dashboards' push).
  void notify_committed(const Batch& batch, const std::vector<std::pair<std::size_t, EpochMs>>& committed);
  void log(const std::string& line) const;

  WriterOptions m_options;
  std::unique_ptr<BucketDatabase> m_db;
  std::mutex m_db_mutex; ///< bucket_key() vs. the writer thread
  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  std::condition_variable m_idle;
  Batch m_queue;
  std::map<std::int64_t, std::uint64_t> m_dropped; ///< per bucket, not yet written
  std::uint64_t m_enqueued = 0;                    ///< sequence of the last queued point
  std::uint64_t m_done = 0;                        ///< sequence of the last committed point
  bool m_stopping = false;
  bool m_flush = false; ///< a flush() waits: skip the commit window
  std::map<std::int64_t, std::string> m_bucket_ids; ///< key -> id, for log lines
  WriterCounters m_counters;
  std::chrono::steady_clock::time_point m_last_drop_log{};
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> m_reject_logged;
  std::thread m_thread;
};

} // namespace mqfleet::store
