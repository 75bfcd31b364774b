#pragma once
// The SQLite database of every bucket's points: `<data-dir>/buckets.sqlite` in WAL mode,
// so `mqfleet bucket export` reads while the broker writes. One BucketDatabase is one
// connection, used by one thread at a time. docs/buckets.md documents the schema and
// the rules (a point is keyed by bucket + device + ts: the same ts replaces).

#include <mqfleet/store/point.hpp>
#include <mqfleet/store/time_format.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace mqfleet::store {

/// What `mqfleet bucket stats` shows.
struct BucketStats {
  std::uint64_t points = 0;
  std::uint64_t devices = 0;
  std::optional<EpochMs> first; ///< oldest ts
  std::optional<EpochMs> last;  ///< newest ts
  std::uint64_t rejected = 0;   ///< payloads that were not JSON objects
  std::uint64_t dropped = 0;    ///< points dropped because the writer queue was full
};

/// Which points an export, a chart or a key pass reads. Bounds are inclusive.
struct PointFilter {
  std::optional<EpochMs> from;
  std::optional<EpochMs> to;
  std::string device; ///< empty = every device
  bool newest_first = false; ///< descending (ts, device) order
  std::size_t limit = 0;     ///< at most this many points (0 = all)
};

/// Where a paged read stands: the sort key of the last point read (ts, then the device's
/// internal key, then the point's sequence number).
struct PointPosition {
  EpochMs ts = 0;
  std::int64_t device = 0;
  std::int64_t seq = 0;
};

/// A prepared statement, finalized on destruction.
class Statement {
public:
  Statement() = default;
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  sqlite3_stmt* get() const noexcept { return m_stmt; }

private:
  sqlite3_stmt* m_stmt = nullptr;
};

/// Streams points in (ts, device) order with constant memory. Its statement holds a read
/// transaction until the cursor is destroyed.
class PointCursor {
public:
  PointCursor() = default;
  explicit PointCursor(Statement statement) : m_statement(std::move(statement)) {}
  /// Reads the next point into `point`; false at the end. Throws ConfigError on I/O errors.
  bool next(Point& point);
  /// The position of the last point next() read (to resume after it with points_page()).
  const PointPosition& position() const noexcept { return m_position; }

private:
  Statement m_statement;
  PointPosition m_position;
};

/// One connection to the bucket database.
class BucketDatabase {
public:
  /// The database file inside a data directory.
  static std::filesystem::path file_in(const std::filesystem::path& data_dir);

  /// Opens the database of `data_dir`. With `create`, makes the directory and the
  /// schema; otherwise a missing database is a ConfigError.
  BucketDatabase(const std::filesystem::path& data_dir, bool create);
  ~BucketDatabase();
  BucketDatabase(const BucketDatabase&) = delete;
  BucketDatabase& operator=(const BucketDatabase&) = delete;

  /// The internal key of a bucket id, created on first use.
  std::int64_t bucket_key(std::string_view id);
  /// The internal key of a bucket id, if it ever stored anything.
  std::optional<std::int64_t> find_bucket_key(std::string_view id);
  /// The internal key of a device id, created on first use (cached).
  std::int64_t device_key(std::string_view device);

  /// BEGIN IMMEDIATE.
  void begin();
  /// COMMIT.
  void commit();
  /// ROLLBACK (never throws).
  void rollback() noexcept;
  /// PRAGMA max_page_count: the file may not grow beyond `pages` pages (at least its
  /// current size; 0xFFFFFFFE = SQLite's maximum) — a full disk on demand, for tests.
  void set_page_limit(std::uint64_t pages);

  /// Inserts a point whose ts came with it (payload `ts`, import): a point with the same
  /// (bucket, device, ts) that also carried its own ts is replaced (the platform's rule).
  void insert(std::int64_t bucket, std::int64_t device, EpochMs ts, std::string_view topic, std::string_view payload);
  /// Inserts a point timed by its receive time: it never replaces another point, even one
  /// of the same device in the same millisecond.
  void append(std::int64_t bucket, std::int64_t device, EpochMs ts, std::string_view topic, std::string_view payload);
  /// Adds to a bucket's rejected and dropped counters.
  void add_counters(std::int64_t bucket, std::uint64_t rejected, std::uint64_t dropped);

  /// A bucket's statistics (zeros for a bucket that never stored anything).
  BucketStats stats(std::string_view id);
  /// The points of a bucket matching `filter`, ordered by ts then device.
  PointCursor points(std::string_view id, const PointFilter& filter);
  /// The ts and payload of the same points in the same order, without copies: `each`
  /// sees a payload valid only during the call (the aggregation's scan).
  void for_each_payload(std::string_view id, const PointFilter& filter,
                        const std::function<void(EpochMs, std::string_view)>& each);
  /// At most `limit` of those points, starting after `after` (from the first when empty):
  /// one page of a read that holds no transaction between pages (BucketExport).
  PointCursor points_page(std::string_view id, const PointFilter& filter, const std::optional<PointPosition>& after,
                          std::size_t limit);
  /// Deletes every point and counter of a bucket; returns the number of points.
  std::uint64_t erase_bucket(std::string_view id);
  /// Deletes the bucket's points with from <= ts <= to; returns how many.
  std::uint64_t erase_points(std::string_view id, EpochMs from, EpochMs to);

private:
  void exec(const char* sql);
  [[noreturn]] void fail(const std::string& what) const;
  bool has_seq_column();

  std::filesystem::path m_path;
  sqlite3* m_db = nullptr;
  Statement m_insert;
  Statement m_append;
  Statement m_counters;
  Statement m_device_insert;
  Statement m_device_select;
  std::unordered_map<std::string, std::int64_t> m_devices;
  /// append(): the last (ts, seq) per (bucket, device), so the next one usually fits first time.
  std::map<std::pair<std::int64_t, std::int64_t>, std::pair<EpochMs, std::int64_t>> m_last_append;
  bool m_has_seq = true; ///< false: a database from before `seq`, opened read-only
};

} // namespace mqfleet::store
