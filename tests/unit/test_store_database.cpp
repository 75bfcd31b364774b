// The bucket database and writer on real SQLite files in temp dirs, and the broker's
// BucketIngest routing: overwrite rule, rejected/dropped counts, clean-shutdown commit.

#include "support/temp_dir.hpp"

#include <mqfleet/broker/bucket_ingest.hpp>
#include <mqfleet/broker/device_registry.hpp>
#include <mqfleet/error.hpp>
#include <mqfleet/store/bucket_database.hpp>
#include <mqfleet/store/bucket_export.hpp>
#include <mqfleet/store/bucket_writer.hpp>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>
#include <sstream>

namespace mqfleet::store {
namespace {

std::vector<Point> all_points(BucketDatabase& db, const std::string& id, PointFilter filter = {}) {
  std::vector<Point> out;
  auto cursor = db.points(id, filter);
  Point p;
  while (cursor.next(p)) out.push_back(p);
  return out;
}

TEST(BucketDatabase, SameTsOfSameDeviceReplacesOtherDevicesKept) {
  test::TempDir dir;
  BucketDatabase db(dir.path(), true);
  const auto bucket = db.bucket_key("temps");
  db.begin();
  db.insert(bucket, db.device_key("d1"), 1000, "t", R"({"v":1})");
  db.insert(bucket, db.device_key("d1"), 1000, "t", R"({"v":2})");
  db.insert(bucket, db.device_key("d2"), 1000, "t", R"({"v":3})");
  db.insert(bucket, db.device_key("d1"), 500, "t", R"({"v":4})");
  db.commit();
  const auto points = all_points(db, "temps");
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0].ts, 500);
  EXPECT_EQ(points[1].payload, R"({"v":2})");
  EXPECT_EQ(points[2].device, "d2");
  const auto stats = db.stats("temps");
  EXPECT_EQ(stats.points, 3u);
  EXPECT_EQ(stats.devices, 2u);
  EXPECT_EQ(stats.first, 500);
  EXPECT_EQ(stats.last, 1000);
  EXPECT_EQ(all_points(db, "temps", PointFilter{600, 1000, "d1"}).size(), 1u);
  EXPECT_EQ(all_points(db, "other").size(), 0u);
  EXPECT_EQ(db.erase_bucket("temps"), 3u);
  EXPECT_EQ(db.stats("temps").points, 0u);
}

TEST(BucketDatabase, PointsWithoutTheirOwnTsAreNeverReplaced) {
  test::TempDir dir;
  BucketDatabase db(dir.path(), true);
  const auto bucket = db.bucket_key("temps");
  db.begin();
  for (int i = 0; i < 100; ++i) db.append(bucket, db.device_key("d1"), 1000, "t", R"({"v":)" + std::to_string(i) + "}");
  db.insert(bucket, db.device_key("d1"), 1000, "t", R"({"ts":1000,"v":"own"})");
  db.insert(bucket, db.device_key("d1"), 1000, "t", R"({"ts":1000,"v":"own2"})");
  db.commit();
  const auto points = all_points(db, "temps");
  ASSERT_EQ(points.size(), 101u);
  // In order of arrival after the point that carried its ts (seq 0).
  EXPECT_EQ(points[0].payload, R"({"ts":1000,"v":"own2"})");
  EXPECT_EQ(points[1].payload, R"({"v":0})");
  EXPECT_EQ(points[100].payload, R"({"v":99})");
}

TEST(BucketDatabase, AppendAfterReopenDoesNotOverwriteTheSameMillisecond) {
  test::TempDir dir;
  for (int round = 0; round < 2; ++round) {
    BucketDatabase db(dir.path(), true); // a restart: the in-memory sequence starts again
    const auto bucket = db.bucket_key("temps");
    db.begin();
    db.append(bucket, db.device_key("d1"), 1000, "t", R"({"round":)" + std::to_string(round) + "}");
    db.commit();
  }
  BucketDatabase db(dir.path(), false);
  EXPECT_EQ(all_points(db, "temps").size(), 2u);
}

TEST(BucketDatabase, DatabaseFromBeforeSeqIsReadAndMigrated) {
  test::TempDir dir;
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(BucketDatabase::file_in(dir.path()).c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, R"sql(
      CREATE TABLE buckets(key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
        rejected INTEGER NOT NULL DEFAULT 0, dropped INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE devices(key INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
      CREATE TABLE points(bucket INTEGER NOT NULL, device INTEGER NOT NULL, ts INTEGER NOT NULL,
        topic TEXT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY(bucket, ts, device)) WITHOUT ROWID;
      INSERT INTO buckets(key, id) VALUES(1, 'old');
      INSERT INTO devices(key, name) VALUES(1, 'd1');
      INSERT INTO points VALUES(1, 1, 1000, 't', '{"v":1}');
      INSERT INTO points VALUES(1, 1, 2000, 't', '{"v":2}');)sql",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
  }
  {
    BucketDatabase reader(dir.path(), false); // a reader leaves the old schema alone
    EXPECT_EQ(all_points(reader, "old").size(), 2u);
    // Pages resume by (ts, device) there.
    std::ostringstream out;
    ExportOptions options;
    options.format = ExportFormat::ndjson;
    BucketExport exporter("old", {}, options, out, ExportPaging{1, 1 << 20});
    int pages = 0;
    while (exporter.next_page(reader)) ++pages;
    EXPECT_EQ(exporter.points(), 2u);
    EXPECT_EQ(pages, 2);
    const std::string text = out.str();
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  }
  BucketDatabase db(dir.path(), true);
  const auto bucket = db.bucket_key("old");
  db.begin();
  db.append(bucket, db.device_key("d1"), 1000, "t", R"({"v":3})");
  db.insert(bucket, db.device_key("d1"), 2000, "t", R"({"ts":2000,"v":4})");
  db.commit();
  const auto points = all_points(db, "old");
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0].payload, R"({"v":1})");
  EXPECT_EQ(points[1].payload, R"({"v":3})");
  EXPECT_EQ(points[2].payload, R"({"ts":2000,"v":4})");
}

/// The whole output of one export, read in pages of `paging`; `pages` counts next_page() calls.
std::string paged_export(BucketDatabase& db, const std::string& id, ExportOptions options, ExportPaging paging,
                         PointFilter filter = {}, int* pages = nullptr) {
  std::ostringstream out;
  BucketExport exporter(id, std::move(filter), std::move(options), out, paging);
  int calls = 1;
  while (exporter.next_page(db))
    if (++calls > 100000) {
      ADD_FAILURE() << "no end after 100000 pages: a page does not resume after the last point";
      break;
    }
  EXPECT_TRUE(exporter.done());
  EXPECT_FALSE(exporter.next_page(db)); // complete stays complete
  if (pages != nullptr) *pages = calls;
  return out.str();
}

// Pages resume exactly after the last point read: points that share a ts (several devices,
// or one device's points without their own ts in the same millisecond) are neither lost
// nor repeated at a page boundary, whatever the page size.
TEST(BucketExport, PagesOfAnySizeGiveTheSameOutputAsOnePage) {
  test::TempDir dir;
  BucketDatabase db(dir.path(), true);
  const auto bucket = db.bucket_key("temps");
  db.begin();
  for (int i = 0; i < 30; ++i) {
    const EpochMs ts = 1000 + (i / 3) * 10; // three points per ts
    db.insert(bucket, db.device_key("d" + std::to_string(i % 3)), ts, "t/" + std::to_string(i % 3),
              R"({"ts":)" + std::to_string(ts) + R"(,"v":)" + std::to_string(i) + (i == 7 ? R"(,"s":"x,y"})" : "}"));
  }
  for (int i = 0; i < 7; ++i) db.append(bucket, db.device_key("d1"), 1050, "t/1", R"({"n":)" + std::to_string(i) + "}");
  db.insert(bucket, db.device_key("d4"), 1200, "t/4", "not json");
  db.commit();
  const std::size_t total = all_points(db, "temps").size();
  ASSERT_EQ(total, 38u);
  for (auto format : {ExportFormat::csv, ExportFormat::json, ExportFormat::ndjson, ExportFormat::arff}) {
    ExportOptions options;
    options.format = format;
    options.relation = "temps";
    const std::string whole = paged_export(db, "temps", options, ExportPaging{100000, 1 << 30});
    for (std::size_t points : {1u, 2u, 3u, 7u, 37u, 38u, 39u}) {
      int pages = 0;
      EXPECT_EQ(paged_export(db, "temps", options, ExportPaging{points, 1 << 30}, {}, &pages), whole)
          << "format " << static_cast<int>(format) << ", " << points << " points per page";
      // One page per `points` (a last empty one when it divides), twice for CSV/ARFF (columns).
      const int per_pass = static_cast<int>(total / points) + 1;
      EXPECT_EQ(pages, needs_columns(format) ? 2 * per_pass : per_pass) << points << " points per page";
    }
    EXPECT_EQ(paged_export(db, "temps", options, ExportPaging{1000, 1}), whole) << "one byte per page";
  }
  ExportOptions csv;
  const std::string whole = paged_export(db, "temps", csv, ExportPaging{});
  EXPECT_EQ(whole.substr(0, whole.find("\r\n")), "ts,device,v,s,n");
  EXPECT_NE(whole.find("\r\n1020,d1,7,\"x,y\",\r\n"), std::string::npos) << whole;
  // Filters hold on every page.
  csv.selected = {"n"};
  EXPECT_EQ(paged_export(db, "temps", csv, ExportPaging{2, 1 << 30}, PointFilter{1040, 1050, "d1"}),
            "ts,device,n\r\n1040,d1,\r\n1050,d1,\r\n1050,d1,0\r\n1050,d1,1\r\n1050,d1,2\r\n1050,d1,3\r\n"
            "1050,d1,4\r\n1050,d1,5\r\n1050,d1,6\r\n");
  std::ostringstream out;
  ExportOptions ndjson;
  ndjson.format = ExportFormat::ndjson;
  BucketExport exporter("temps", {}, ndjson, out);
  while (exporter.next_page(db)) {
  }
  EXPECT_EQ(exporter.points(), total);
  EXPECT_EQ(exporter.unreadable(), 1u); // "not json": written without data
  EXPECT_EQ(paged_export(db, "nobody", ndjson, ExportPaging{}), "");
}

// Each page is its own query: nothing is held between pages, so a writer's commit (and
// a checkpoint) goes through, and points committed after the position are exported.
TEST(BucketExport, NoReadTransactionIsHeldBetweenPages) {
  test::TempDir dir;
  BucketDatabase db(dir.path(), true);
  const auto bucket = db.bucket_key("temps");
  db.begin();
  for (int i = 0; i < 10; ++i) db.insert(bucket, db.device_key("d1"), 1000 + i, "t", R"({"v":1})");
  db.commit();
  BucketDatabase reader(dir.path(), false);
  std::ostringstream out;
  ExportOptions ndjson;
  ndjson.format = ExportFormat::ndjson;
  BucketExport exporter("temps", {}, ndjson, out, ExportPaging{4, 1 << 20});
  ASSERT_TRUE(exporter.next_page(reader));
  db.begin();
  db.insert(bucket, db.device_key("d1"), 5000, "t", R"({"v":2})");
  db.commit();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(BucketDatabase::file_in(dir.path()).c_str(), &raw), SQLITE_OK);
  int log = -1;
  int checkpointed = -1;
  // TRUNCATE needs every reader gone: it fails (SQLITE_BUSY) while a read transaction is open.
  ASSERT_EQ(sqlite3_exec(raw, "SELECT COUNT(*) FROM points", nullptr, nullptr, nullptr), SQLITE_OK); // opens the WAL
  EXPECT_EQ(sqlite3_wal_checkpoint_v2(raw, "main", SQLITE_CHECKPOINT_TRUNCATE, &log, &checkpointed), SQLITE_OK)
      << "a reader still holds a snapshot: " << checkpointed << " of " << log << " WAL frames checkpointed";
  EXPECT_EQ(log, 0); // truncated
  sqlite3_close(raw);
  while (exporter.next_page(reader)) {
  }
  EXPECT_EQ(exporter.points(), 11u);
}

TEST(BucketWriter, DeepPayloadIsRejectedAndLoggedOnce) {
  test::TempDir dir;
  std::vector<std::string> logs;
  std::mutex mutex;
  const std::string deep = R"({"a":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  {
    WriterOptions options;
    options.log_sink = [&](std::string_view line) {
      std::lock_guard lock(mutex);
      logs.emplace_back(line);
    };
    BucketWriter writer(dir.path(), options);
    const auto key = writer.bucket_key("temps");
    EXPECT_TRUE(writer.enqueue(key, "d1", "t", deep, 5));
    EXPECT_TRUE(writer.enqueue(key, "d1", "t", deep, 5));
    EXPECT_TRUE(writer.enqueue(key, "d1", "t", R"({"v":1})", 5));
    writer.stop();
    EXPECT_EQ(writer.counters().stored, 1u);
    EXPECT_EQ(writer.counters().rejected, 2u);
  }
  BucketDatabase db(dir.path(), false);
  EXPECT_EQ(db.stats("temps").rejected, 2u);
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_NE(logs[0].find("nests deeper than 64 levels"), std::string::npos) << logs[0];
}

TEST(BucketWriter, OnCommittedGetsTheStoredPointsOnly) {
  test::TempDir dir;
  struct Seen {
    std::string bucket, device, payload;
    EpochMs ts;
  };
  std::vector<Seen> seen;
  std::mutex mutex;
  WriterOptions options;
  options.on_committed = [&](std::span<const CommittedPoint> points) {
    std::lock_guard lock(mutex);
    for (const auto& p : points) seen.push_back({std::string(p.bucket), std::string(p.device), std::string(p.payload), p.ts});
  };
  BucketWriter writer(dir.path(), options);
  const auto temps = writer.bucket_key("temps");
  const auto other = writer.bucket_key("other");
  EXPECT_TRUE(writer.enqueue(temps, "d1", "t", R"({"ts":42,"v":1})", 5));
  EXPECT_TRUE(writer.enqueue(temps, "d1", "t", "not json", 5));
  EXPECT_TRUE(writer.enqueue(other, "d2", "u", R"({"v":2})", 7));
  writer.flush();
  std::lock_guard lock(mutex);
  ASSERT_EQ(seen.size(), 2u); // the rejected payload is not announced
  EXPECT_EQ(seen[0].bucket, "temps");
  EXPECT_EQ(seen[0].device, "d1");
  EXPECT_EQ(seen[0].payload, R"({"ts":42,"v":1})");
  EXPECT_EQ(seen[0].ts, 42);
  EXPECT_EQ(seen[1].bucket, "other");
  EXPECT_EQ(seen[1].ts, 7);
}

// Issue 11 item 13: a commit of bucket points that fails (here: the file may not grow,
// as on a full disk) is retried with the state store's policy, not dropped: every point
// (from new devices too, whose rows the failed transaction had recorded) is stored once
// space returns, and the failure is logged once while it lasts.
TEST(BucketWriter, AFailedCommitIsRetriedUntilSpaceReturns) {
  test::TempDir dir;
  std::vector<std::string> logs;
  std::mutex mutex;
  auto logged = [&](const std::string& needle) {
    std::lock_guard lock(mutex);
    return std::count_if(logs.begin(), logs.end(), [&](const std::string& l) { return l.find(needle) != l.npos; });
  };
  constexpr int k_points = 40;
  {
    WriterOptions options;
    options.commit_window = std::chrono::milliseconds(1);
    options.log_sink = [&](std::string_view line) {
      std::lock_guard lock(mutex);
      logs.emplace_back(line);
    };
    BucketWriter writer(dir.path(), options);
    const auto key = writer.bucket_key("temps");
    writer.set_page_limit(1); // the file's current size: no new page
    for (int i = 0; i < k_points; ++i)
      ASSERT_TRUE(writer.enqueue(key, "d" + std::to_string(i % 4), "t",
                                 R"({"v":")" + std::string(8000, 'x') + "\"}", 1000 + i));
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (logged("bucket_write_failed") == 0 && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(logged("bucket_write_failed"), 1) << "the commit did not fail: no full disk simulated";
    std::this_thread::sleep_for(std::chrono::milliseconds(400)); // a few retries fail too
    EXPECT_EQ(writer.counters().stored, 0u);
    EXPECT_EQ(logged("\"lost\""), 0) << "nothing is given up while the broker runs";
    EXPECT_EQ(logged("bucket_write_failed"), 1) << "one line per 10 s while commits keep failing";
    writer.set_page_limit(0); // space returns
    writer.flush();
    EXPECT_EQ(writer.counters().stored, static_cast<std::uint64_t>(k_points));
    EXPECT_EQ(logged("bucket_write_recovered"), 1);
    writer.stop();
  }
  BucketDatabase db(dir.path(), false);
  const auto points = all_points(db, "temps");
  ASSERT_EQ(points.size(), static_cast<std::size_t>(k_points));
  std::set<std::string> devices;
  for (const auto& p : points) devices.insert(p.device);
  EXPECT_EQ(devices, (std::set<std::string>{"d0", "d1", "d2", "d3"}));
}

TEST(BucketDatabase, CreatesItsFilesForTheOwnerOnly) {
  test::TempDir dir;
  const auto data_dir = dir.path() / "a" / "b";
  {
    BucketDatabase db(data_dir, true);
    db.bucket_key("x");
  }
  auto mode = [](const std::filesystem::path& p) {
    return std::filesystem::status(p).permissions() & std::filesystem::perms::all;
  };
  using P = std::filesystem::perms;
  EXPECT_EQ(mode(data_dir), P::owner_all);
  EXPECT_EQ(mode(dir.path() / "a"), P::owner_all);
  EXPECT_EQ(mode(BucketDatabase::file_in(data_dir)), P::owner_read | P::owner_write);
}

TEST(BucketDatabase, MissingDatabaseIsAConfigError) {
  test::TempDir dir;
  EXPECT_THROW(BucketDatabase(dir.path() / "nothing", false), ConfigError);
}

TEST(BucketWriter, StopCommitsEverythingQueuedAndCountsRejects) {
  test::TempDir dir;
  std::vector<std::string> logs;
  std::mutex mutex;
  {
    WriterOptions options;
    options.commit_window = std::chrono::milliseconds(10'000); // only stop() commits
    options.log_sink = [&](std::string_view line) {
      std::lock_guard lock(mutex);
      logs.emplace_back(line);
    };
    BucketWriter writer(dir.path(), options);
    const auto key = writer.bucket_key("temps");
    for (int i = 0; i < 1000; ++i)
      EXPECT_TRUE(writer.enqueue(key, "d1", "t", R"({"ts":)" + std::to_string(i) + "}", 5));
    EXPECT_TRUE(writer.enqueue(key, "d2", "t", "not json", 5));
    EXPECT_TRUE(writer.enqueue(key, "d2", "t", "[1]", 5));
    writer.stop();
    EXPECT_EQ(writer.counters().stored, 1000u);
    EXPECT_EQ(writer.counters().rejected, 2u);
    EXPECT_FALSE(writer.enqueue(key, "d1", "t", "{}", 5));
  }
  BucketDatabase db(dir.path(), false);
  const auto stats = db.stats("temps");
  EXPECT_EQ(stats.points, 1000u);
  EXPECT_EQ(stats.rejected, 2u);
  // Logged once per device per minute: one line for d2's two rejects.
  std::size_t rejected_lines = 0;
  for (const auto& line : logs) rejected_lines += line.find("bucket_rejected") != std::string::npos ? 1 : 0;
  EXPECT_EQ(rejected_lines, 1u);
}

TEST(BucketWriter, FullQueueDropsCountsAndLogs) {
  test::TempDir dir;
  std::vector<std::string> logs;
  std::mutex mutex;
  WriterOptions options;
  options.queue_capacity = 10;
  options.batch_size = 1'000'000;
  options.commit_window = std::chrono::milliseconds(60'000);
  options.log_sink = [&](std::string_view line) {
    std::lock_guard lock(mutex);
    logs.emplace_back(line);
  };
  BucketWriter writer(dir.path(), options);
  const auto key = writer.bucket_key("b");
  std::size_t accepted = 0;
  for (int i = 0; i < 25; ++i) accepted += writer.enqueue(key, "d", "t", "{\"ts\":" + std::to_string(i) + "}", 1) ? 1 : 0;
  writer.flush();
  // The writer may have taken the first points before the queue filled up.
  EXPECT_GE(accepted, 10u);
  EXPECT_EQ(writer.counters().dropped, 25u - accepted);
  EXPECT_EQ(writer.counters().stored, accepted);
  writer.stop();
  BucketDatabase db(dir.path(), false);
  EXPECT_EQ(db.stats("b").dropped, 25u - accepted);
  if (accepted < 25) {
    std::lock_guard lock(mutex);
    ASSERT_FALSE(logs.empty());
    EXPECT_NE(logs.front().find("bucket_queue_full"), std::string::npos);
  }
}

TEST(BucketWriter, ByteBoundDropsBigPayloadsButKeepsThePointsBefore) {
  test::TempDir dir;
  WriterOptions options;
  options.queue_bytes = 1000; // device + topic + payload bytes waiting
  options.batch_size = 1'000'000;
  options.commit_window = std::chrono::milliseconds(60'000);
  BucketWriter writer(dir.path(), options);
  const auto key = writer.bucket_key("b");
  const std::string padding(300, 'x');
  std::size_t accepted = 0;
  for (int i = 0; i < 10; ++i) {
    const std::string payload = "{\"ts\":" + std::to_string(i) + ",\"p\":\"" + padding + "\"}";
    accepted += writer.enqueue(key, "dev", "t/x", payload, 1) ? 1 : 0;
  }
  writer.flush();
  // 3 points of ~320 bytes fit in 1000 bytes; the writer may have emptied the queue early.
  EXPECT_GE(accepted, 3u);
  EXPECT_EQ(writer.counters().dropped, 10u - accepted);
  writer.stop();
  BucketDatabase db(dir.path(), false);
  const auto points = all_points(db, "b");
  ASSERT_EQ(points.size(), accepted);
  for (std::size_t i = 0; i < points.size(); ++i) {
    EXPECT_EQ(points[i].device, "dev");
    EXPECT_EQ(points[i].topic, "t/x");
    EXPECT_EQ(points[i].ts, static_cast<EpochMs>(i));
    EXPECT_NE(points[i].payload.find(padding), std::string::npos);
  }
}

namespace {

/// Nice values of this process's threads, from /proc/self/task/*/stat (field 19).
std::vector<int> thread_nice_values() {
  std::vector<int> values;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = stat.rfind(')'); // the thread name may contain spaces
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 19 && fields >> field; ++i)
      if (i == 19) values.push_back(std::stoi(field));
  }
  return values;
}

} // namespace

TEST(BucketWriter, WriterThreadRunsAtTheRequestedNiceValue) {
  test::TempDir dir;
  WriterOptions options;
  options.writer_nice = 7;
  BucketWriter writer(dir.path(), options);
  const auto key = writer.bucket_key("b");
  ASSERT_TRUE(writer.enqueue(key, "d", "t", "{\"ts\":1}", 1));
  writer.flush(); // the writer thread has committed the point, so it set its priority first
  const auto values = thread_nice_values();
  EXPECT_EQ(std::count(values.begin(), values.end(), 7), 1) << "exactly the writer thread";
  EXPECT_GE(std::count(values.begin(), values.end(), 0), 1) << "the test's own thread is unchanged";
}

TEST(BucketIngest, RoutesByAccountFilterAndEnabledFlag) {
  test::TempDir dir;
  broker::Registry registry;
  registry.add_bucket("acme", broker::Bucket{"acme-temp", "t", "", true, "sensors/+/temp"});
  registry.add_bucket("acme", broker::Bucket{"acme-all", "a", "", false, "#"});
  registry.add_bucket("globex", broker::Bucket{"globex-temp", "t", "", true, "sensors/#"});
  {
    BucketWriter writer(dir.path());
    broker::BucketIngest ingest(writer);
    ingest.set_buckets(registry);
    EXPECT_EQ(ingest.bucket_count(), 2u);
    ingest.on_publish("acme", "d1", "sensors/d1/temp", R"({"ts":1,"v":1})");
    ingest.on_publish("acme", "d1", "sensors/d1/hum", R"({"ts":2,"v":2})");
    ingest.on_publish("globex", "g1", "sensors/g1/temp", R"({"ts":3,"v":3})");
    ingest.on_publish("initech", "x", "sensors/x/temp", R"({"ts":4})");
    registry.set_bucket_enabled("acme-all", true);
    ingest.set_buckets(registry);
    ingest.on_publish("acme", "d2", "other", R"({"ts":5})");
    writer.stop();
  }
  BucketDatabase db(dir.path(), false);
  EXPECT_EQ(db.stats("acme-temp").points, 1u);
  EXPECT_EQ(db.stats("globex-temp").points, 1u);
  EXPECT_EQ(db.stats("acme-all").points, 1u);
  Point p;
  auto cursor = db.points("globex-temp", {});
  ASSERT_TRUE(cursor.next(p));
  EXPECT_EQ(p.device, "g1");
  EXPECT_EQ(p.topic, "sensors/g1/temp");
  EXPECT_EQ(p.ts, 3);
}

} // namespace
} // namespace mqfleet::store
