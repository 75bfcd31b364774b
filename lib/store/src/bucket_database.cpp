#include <mqfleet/store/bucket_database.hpp>

#include <mqfleet/error.hpp>
#include <mqfleet/private_files.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <system_error>
#include <utility>

namespace mqfleet::store {
namespace {

constexpr const char* k_schema = R"sql(
CREATE TABLE IF NOT EXISTS buckets(
  key INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  rejected INTEGER NOT NULL DEFAULT 0,
  dropped INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS devices(
  key INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS points(
  bucket INTEGER NOT NULL,
  device INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  seq INTEGER NOT NULL DEFAULT 0,
  topic TEXT NOT NULL,
  payload TEXT NOT NULL,
  PRIMARY KEY(bucket, ts, device, seq)) WITHOUT ROWID;
)sql";

/// Databases written before `seq` existed: key (bucket, ts, device). Their points become
/// seq 0 (points that carried their own ts).
constexpr const char* k_add_seq = R"sql(
CREATE TABLE points_seq(
  bucket INTEGER NOT NULL,
  device INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  seq INTEGER NOT NULL DEFAULT 0,
  topic TEXT NOT NULL,
  payload TEXT NOT NULL,
  PRIMARY KEY(bucket, ts, device, seq)) WITHOUT ROWID;
INSERT INTO points_seq(bucket, device, ts, seq, topic, payload) SELECT bucket, device, ts, 0, topic, payload FROM points;
DROP TABLE points;
ALTER TABLE points_seq RENAME TO points;
)sql";

constexpr const char* k_hint = "check the --data-dir directory, its permissions and free disk space";

void bind_text(sqlite3_stmt* stmt, int index, std::string_view text) {
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

std::string column_text(sqlite3_stmt* stmt, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  return text == nullptr ? std::string() : std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, column)));
}

} // namespace

Statement::Statement(sqlite3* db, std::string_view sql) {
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &m_stmt, nullptr) !=
      SQLITE_OK)
    throw ConfigError(std::string("cannot prepare a bucket query: ") + sqlite3_errmsg(db), "buckets.sqlite", k_hint);
}

Statement::~Statement() { sqlite3_finalize(m_stmt); }

Statement::Statement(Statement&& other) noexcept : m_stmt(std::exchange(other.m_stmt, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(m_stmt);
    m_stmt = std::exchange(other.m_stmt, nullptr);
  }
  return *this;
}

bool PointCursor::next(Point& point) {
  sqlite3_stmt* stmt = m_statement.get();
  if (stmt == nullptr) return false;
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return false;
  if (rc != SQLITE_ROW)
    throw ConfigError(std::string("cannot read bucket points: ") + sqlite3_errstr(rc), "buckets.sqlite", k_hint);
  point.ts = sqlite3_column_int64(stmt, 0);
  point.device = column_text(stmt, 1);
  point.topic = column_text(stmt, 2);
  point.payload = column_text(stmt, 3);
  m_position = PointPosition{point.ts, sqlite3_column_int64(stmt, 4), sqlite3_column_int64(stmt, 5)};
  return true;
}

std::filesystem::path BucketDatabase::file_in(const std::filesystem::path& data_dir) {
  return data_dir / "buckets.sqlite";
}

BucketDatabase::BucketDatabase(const std::filesystem::path& data_dir, bool create) : m_path(file_in(data_dir)) {
  if (create) {
    if (auto ec = create_private_directory(data_dir))
      throw ConfigError("cannot create the data directory: " + ec.message(), data_dir.string(), k_hint);
    if (auto ec = prepare_private_file(m_path))
      throw ConfigError("cannot create the bucket database: " + ec.message(), m_path.string(), k_hint);
  } else if (!std::filesystem::exists(m_path)) {
    throw ConfigError("no bucket data in this data directory", m_path.string(),
                      "point --data-dir at the directory given to `mqfleet broker --data-dir`");
  }
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(m_path.c_str(), &m_db, flags, nullptr) != SQLITE_OK) {
    const std::string message = m_db != nullptr ? sqlite3_errmsg(m_db) : "out of memory";
    sqlite3_close(m_db);
    m_db = nullptr;
    throw ConfigError("cannot open the bucket database: " + message, m_path.string(), k_hint);
  }
  sqlite3_busy_timeout(m_db, 10000);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    if (create) {
      exec("PRAGMA cache_size=-16384"); // the writer: 16 MiB of pages for big batches
      exec(k_schema);
    } else {
      // Readers (REST API, export) scan whole buckets: pages mapped, not copied per read.
      exec("PRAGMA mmap_size=268435456"); // at most 256 MiB of address space
    }
    m_has_seq = has_seq_column();
    if (create && !m_has_seq) {
      exec("BEGIN IMMEDIATE");
      try {
        exec(k_add_seq);
        exec("COMMIT");
      } catch (...) {
        rollback();
        throw;
      }
      m_has_seq = true;
    }
    if (m_has_seq) {
      m_insert = Statement(m_db, "INSERT OR REPLACE INTO points(bucket, device, ts, seq, topic, payload) "
                                 "VALUES(?1, ?2, ?3, 0, ?4, ?5)");
      m_append = Statement(m_db, "INSERT OR IGNORE INTO points(bucket, device, ts, seq, topic, payload) "
                                 "VALUES(?1, ?2, ?3, ?6, ?4, ?5)");
    }
    m_counters = Statement(m_db, "UPDATE buckets SET rejected = rejected + ?2, dropped = dropped + ?3 WHERE key = ?1");
    m_device_insert = Statement(m_db, "INSERT OR IGNORE INTO devices(name) VALUES(?1)");
    m_device_select = Statement(m_db, "SELECT key FROM devices WHERE name = ?1");
  } catch (...) {
    m_insert = {};
    m_append = {};
    m_counters = {};
    m_device_insert = {};
    m_device_select = {};
    sqlite3_close(m_db);
    throw;
  }
}

BucketDatabase::~BucketDatabase() {
  m_insert = {};
  m_append = {};
  m_counters = {};
  m_device_insert = {};
  m_device_select = {};
  sqlite3_close(m_db);
}

void BucketDatabase::fail(const std::string& what) const {
  throw ConfigError(what + ": " + sqlite3_errmsg(m_db), m_path.string(), k_hint);
}

void BucketDatabase::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(m_db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    throw ConfigError("bucket database error: " + message, m_path.string(), k_hint);
  }
}

std::int64_t BucketDatabase::bucket_key(std::string_view id) {
  if (auto key = find_bucket_key(id)) return *key;
  Statement insert(m_db, "INSERT INTO buckets(id) VALUES(?1)");
  bind_text(insert.get(), 1, id);
  if (sqlite3_step(insert.get()) != SQLITE_DONE) fail("cannot create a bucket");
  return sqlite3_last_insert_rowid(m_db);
}

std::optional<std::int64_t> BucketDatabase::find_bucket_key(std::string_view id) {
  Statement select(m_db, "SELECT key FROM buckets WHERE id = ?1");
  bind_text(select.get(), 1, id);
  const int rc = sqlite3_step(select.get());
  if (rc == SQLITE_ROW) return sqlite3_column_int64(select.get(), 0);
  if (rc != SQLITE_DONE) fail("cannot read the bucket list");
  return std::nullopt;
}

std::int64_t BucketDatabase::device_key(std::string_view device) {
  const std::string name(device);
  if (auto it = m_devices.find(name); it != m_devices.end()) return it->second;
  for (auto* stmt : {m_device_insert.get(), m_device_select.get()}) {
    sqlite3_reset(stmt);
    bind_text(stmt, 1, device);
  }
  if (sqlite3_step(m_device_insert.get()) != SQLITE_DONE) fail("cannot record a device");
  if (sqlite3_step(m_device_select.get()) != SQLITE_ROW) fail("cannot read a device");
  const auto key = sqlite3_column_int64(m_device_select.get(), 0);
  sqlite3_reset(m_device_select.get());
  m_devices.emplace(name, key);
  return key;
}

void BucketDatabase::begin() { exec("BEGIN IMMEDIATE"); }

void BucketDatabase::commit() { exec("COMMIT"); }

void BucketDatabase::rollback() noexcept {
  sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
  // Devices recorded and seqs used inside the rolled-back transaction are gone: a retried
  // batch must not refer to a device key that no longer exists.
  m_devices.clear();
  m_last_append.clear();
}

void BucketDatabase::set_page_limit(std::uint64_t pages) {
  const auto sql = "PRAGMA max_page_count=" + std::to_string(std::min<std::uint64_t>(pages, 0xFFFFFFFEull));
  exec(sql.c_str());
}

void BucketDatabase::insert(std::int64_t bucket, std::int64_t device, EpochMs ts, std::string_view topic,
                            std::string_view payload) {
  sqlite3_stmt* stmt = m_insert.get();
  sqlite3_reset(stmt);
  sqlite3_bind_int64(stmt, 1, bucket);
  sqlite3_bind_int64(stmt, 2, device);
  sqlite3_bind_int64(stmt, 3, ts);
  bind_text(stmt, 4, topic);
  bind_text(stmt, 5, payload);
  if (sqlite3_step(stmt) != SQLITE_DONE) fail("cannot store a point");
}

void BucketDatabase::append(std::int64_t bucket, std::int64_t device, EpochMs ts, std::string_view topic,
                            std::string_view payload) {
  // Points of one device within one millisecond: seq 1, 2, ... (seq 0 is the point that
  // carried its own ts). The cache makes this one insert in the common case; a point
  // already stored under the guess (a restart, a clock set back) moves it on.
  auto& last = m_last_append[{bucket, device}];
  std::int64_t seq = last.first == ts ? last.second + 1 : 1;
  sqlite3_stmt* stmt = m_append.get();
  for (;; ++seq) {
    sqlite3_reset(stmt);
    sqlite3_bind_int64(stmt, 1, bucket);
    sqlite3_bind_int64(stmt, 2, device);
    sqlite3_bind_int64(stmt, 3, ts);
    bind_text(stmt, 4, topic);
    bind_text(stmt, 5, payload);
    sqlite3_bind_int64(stmt, 6, seq);
    if (sqlite3_step(stmt) != SQLITE_DONE) fail("cannot store a point");
    if (sqlite3_changes(m_db) > 0) break;
  }
  last = {ts, seq};
}

bool BucketDatabase::has_seq_column() {
  Statement info(m_db, "SELECT COUNT(*) FROM pragma_table_info('points') WHERE name = 'seq'");
  return sqlite3_step(info.get()) == SQLITE_ROW && sqlite3_column_int64(info.get(), 0) > 0;
}

void BucketDatabase::add_counters(std::int64_t bucket, std::uint64_t rejected, std::uint64_t dropped) {
  sqlite3_stmt* stmt = m_counters.get();
  sqlite3_reset(stmt);
  sqlite3_bind_int64(stmt, 1, bucket);
  sqlite3_bind_int64(stmt, 2, static_cast<sqlite3_int64>(rejected));
  sqlite3_bind_int64(stmt, 3, static_cast<sqlite3_int64>(dropped));
  if (sqlite3_step(stmt) != SQLITE_DONE) fail("cannot update bucket counters");
}

BucketStats BucketDatabase::stats(std::string_view id) {
  BucketStats stats;
  Statement select(m_db, "SELECT b.rejected, b.dropped, "
                         "(SELECT COUNT(*) FROM points p WHERE p.bucket = b.key), "
                         "(SELECT COUNT(DISTINCT device) FROM points p WHERE p.bucket = b.key), "
                         "(SELECT MIN(ts) FROM points p WHERE p.bucket = b.key), "
                         "(SELECT MAX(ts) FROM points p WHERE p.bucket = b.key) "
                         "FROM buckets b WHERE b.id = ?1");
  bind_text(select.get(), 1, id);
  const int rc = sqlite3_step(select.get());
  if (rc == SQLITE_DONE) return stats;
  if (rc != SQLITE_ROW) fail("cannot read bucket statistics");
  sqlite3_stmt* s = select.get();
  stats.rejected = static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
  stats.dropped = static_cast<std::uint64_t>(sqlite3_column_int64(s, 1));
  stats.points = static_cast<std::uint64_t>(sqlite3_column_int64(s, 2));
  stats.devices = static_cast<std::uint64_t>(sqlite3_column_int64(s, 3));
  if (sqlite3_column_type(s, 4) != SQLITE_NULL) stats.first = sqlite3_column_int64(s, 4);
  if (sqlite3_column_type(s, 5) != SQLITE_NULL) stats.last = sqlite3_column_int64(s, 5);
  return stats;
}

namespace {

/// The SELECT of points() and for_each_payload(): `columns` of the points matching `filter`.
std::string point_query(std::string_view columns, bool join_devices, const PointFilter& filter, bool has_seq) {
  std::string sql = "SELECT ";
  sql += columns;
  sql += join_devices ? " FROM points p JOIN devices d ON d.key = p.device" : " FROM points p";
  sql += " WHERE p.bucket = (SELECT key FROM buckets WHERE id = ?1) AND p.ts >= ?2 AND p.ts <= ?3";
  if (!filter.device.empty()) sql += " AND p.device = (SELECT key FROM devices WHERE name = ?4)";
  // The primary key's order, so SQLite walks the index instead of sorting.
  const char* dir = filter.newest_first ? " DESC" : "";
  sql += " ORDER BY p.ts" + std::string(dir) + ", p.device" + dir;
  if (has_seq) sql += ", p.seq" + std::string(dir);
  if (filter.limit > 0) sql += " LIMIT " + std::to_string(filter.limit);
  return sql;
}

void bind_filter(sqlite3_stmt* stmt, std::string_view id, const PointFilter& filter) {
  bind_text(stmt, 1, id);
  sqlite3_bind_int64(stmt, 2, filter.from.value_or(std::numeric_limits<EpochMs>::min()));
  sqlite3_bind_int64(stmt, 3, filter.to.value_or(std::numeric_limits<EpochMs>::max()));
  if (!filter.device.empty()) bind_text(stmt, 4, filter.device);
}

} // namespace

PointCursor BucketDatabase::points(std::string_view id, const PointFilter& filter) {
  Statement select(m_db, point_query(m_has_seq ? "p.ts, d.name, p.topic, p.payload, p.device, p.seq"
                                               : "p.ts, d.name, p.topic, p.payload, p.device, 0",
                                     true, filter, m_has_seq));
  bind_filter(select.get(), id, filter);
  return PointCursor(std::move(select));
}

PointCursor BucketDatabase::points_page(std::string_view id, const PointFilter& filter,
                                        const std::optional<PointPosition>& after, std::size_t limit) {
  std::string sql = m_has_seq ? "SELECT p.ts, d.name, p.topic, p.payload, p.device, p.seq "
                              : "SELECT p.ts, d.name, p.topic, p.payload, p.device, 0 ";
  sql += "FROM points p JOIN devices d ON d.key = p.device "
         "WHERE p.bucket = (SELECT key FROM buckets WHERE id = ?1) AND p.ts <= ?3";
  // Resuming: the row value is the whole lower bound (it is past `from`), so SQLite seeks
  // the primary key to it instead of scanning the pages before.
  if (!after) sql += " AND p.ts >= ?2";
  else if (m_has_seq) sql += " AND (p.ts, p.device, p.seq) > (?5, ?6, ?7)";
  else sql += " AND (p.ts, p.device) > (?5, ?6)";
  if (!filter.device.empty()) sql += " AND p.device = (SELECT key FROM devices WHERE name = ?4)";
  sql += m_has_seq ? " ORDER BY p.ts, p.device, p.seq" : " ORDER BY p.ts, p.device";
  if (limit != 0) sql += " LIMIT ?8";
  Statement select(m_db, sql);
  bind_text(select.get(), 1, id);
  sqlite3_bind_int64(select.get(), 2, filter.from.value_or(std::numeric_limits<EpochMs>::min()));
  sqlite3_bind_int64(select.get(), 3, filter.to.value_or(std::numeric_limits<EpochMs>::max()));
  if (!filter.device.empty()) bind_text(select.get(), 4, filter.device);
  if (after) {
    sqlite3_bind_int64(select.get(), 5, after->ts);
    sqlite3_bind_int64(select.get(), 6, after->device);
    sqlite3_bind_int64(select.get(), 7, after->seq);
  }
  if (limit != 0)
    sqlite3_bind_int64(select.get(), 8,
                       static_cast<sqlite3_int64>(std::min<std::size_t>(limit, std::numeric_limits<std::int32_t>::max())));
  return PointCursor(std::move(select));
}

void BucketDatabase::for_each_payload(std::string_view id, const PointFilter& filter,
                                      const std::function<void(EpochMs, std::string_view)>& each) {
  Statement select(m_db, point_query("p.ts, p.payload", false, filter, m_has_seq));
  sqlite3_stmt* stmt = select.get();
  bind_filter(stmt, id, filter);
  for (;;) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) return;
    if (rc != SQLITE_ROW)
      throw ConfigError(std::string("cannot read bucket points: ") + sqlite3_errstr(rc), "buckets.sqlite", k_hint);
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
    const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt, 1));
    each(sqlite3_column_int64(stmt, 0), text == nullptr ? std::string_view() : std::string_view(text, size));
  }
}

std::uint64_t BucketDatabase::erase_bucket(std::string_view id) {
  const auto key = find_bucket_key(id);
  if (!key) return 0;
  begin();
  try {
    Statement erase_points(m_db, "DELETE FROM points WHERE bucket = ?1");
    sqlite3_bind_int64(erase_points.get(), 1, *key);
    if (sqlite3_step(erase_points.get()) != SQLITE_DONE) fail("cannot delete the bucket's points");
    const auto erased = static_cast<std::uint64_t>(sqlite3_changes(m_db));
    // The row stays (a running broker may hold its key); its counters restart.
    Statement reset(m_db, "UPDATE buckets SET rejected = 0, dropped = 0 WHERE key = ?1");
    sqlite3_bind_int64(reset.get(), 1, *key);
    if (sqlite3_step(reset.get()) != SQLITE_DONE) fail("cannot reset the bucket's counters");
    commit();
    return erased;
  } catch (...) {
    rollback();
    throw;
  }
}

std::uint64_t BucketDatabase::erase_points(std::string_view id, EpochMs from, EpochMs to) {
  const auto key = find_bucket_key(id);
  if (!key) return 0;
  Statement erase(m_db, "DELETE FROM points WHERE bucket = ?1 AND ts >= ?2 AND ts <= ?3");
  sqlite3_bind_int64(erase.get(), 1, *key);
  sqlite3_bind_int64(erase.get(), 2, from);
  sqlite3_bind_int64(erase.get(), 3, to);
  if (sqlite3_step(erase.get()) != SQLITE_DONE) fail("cannot delete the bucket's points");
  return static_cast<std::uint64_t>(sqlite3_changes(m_db));
}

} // namespace mqfleet::store
