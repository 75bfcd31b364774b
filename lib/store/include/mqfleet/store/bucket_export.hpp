#pragma once
// One export of a bucket's points, the only one there is: `mqfleet bucket export` and the
// broker's `GET /v1/users/{account}/buckets/{bucket}/export` both run it, so their output
// is the same byte for byte (docs/buckets.md, docs/broker.md).
//
// It reads the bucket in pages: each page is its own short query that resumes after the
// last point of the one before (BucketDatabase::points_page), so whatever the bucket's
// size the memory is one page and no read transaction is held between pages (the WAL
// can be checkpointed meanwhile, and a slow HTTP client holds nothing in SQLite). The
// caller decides when the next page is read and where its bytes go. CSV and ARFF first
// need their columns: a first paged pass over the points gathers them (FieldCollector),
// writing nothing.

#include <mqfleet/store/bucket_database.hpp>
#include <mqfleet/store/export_writer.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

namespace mqfleet::store {

/// How much one page reads at most: whichever bound comes first.
struct ExportPaging {
  std::size_t points = 1000;       ///< points per page
  std::size_t bytes = 256 * 1024;  ///< stored bytes (payload, topic, device) per page
};

/// One export in progress: options, position and the writer on its output stream.
class BucketExport {
public:
  /// An export of bucket `id`'s points matching `filter`, written to `out`, which must
  /// outlive it. Nothing is read or written before the first next_page().
  BucketExport(std::string id, PointFilter filter, ExportOptions options, std::ostream& out,
               ExportPaging paging = {});
  ~BucketExport();
  BucketExport(const BucketExport&) = delete;
  BucketExport& operator=(const BucketExport&) = delete;

  /// Reads the next page from `db` and writes its part of the output (nothing during the
  /// column pass; the page that finds the end also writes the end of the output). True
  /// while more follows, false once the export is complete. Throws ConfigError when the
  /// database cannot be read.
  bool next_page(BucketDatabase& db);
  /// True once the whole output was written.
  bool done() const noexcept { return m_phase == Phase::done; }
  /// Rows written so far.
  std::uint64_t points() const noexcept { return m_points; }
  /// Rows whose stored payload was not a JSON object within the nesting limit (written
  /// without data, see stored_object()).
  std::uint64_t unreadable() const noexcept { return m_unreadable; }

private:
  enum class Phase : std::uint8_t { columns, rows, done };
  std::string m_id;
  PointFilter m_filter;
  ExportOptions m_options;
  ExportPaging m_paging;
  std::unique_ptr<ExportWriter> m_writer;
  FieldCollector m_collector;
  std::optional<PointPosition> m_position; ///< the last point read in this phase
  Phase m_phase = Phase::rows;
  bool m_begun = false; ///< the writer's begin() was called
  std::uint64_t m_points = 0;
  std::uint64_t m_unreadable = 0;
};

} // namespace mqfleet::store
