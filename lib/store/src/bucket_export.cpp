#include <mqfleet/store/bucket_export.hpp>

#include <algorithm>
#include <utility>

namespace mqfleet::store {
namespace {

/// CSV with --fields names its columns itself; ARFF needs the pass for the attribute
/// types, CSV without --fields for the union of the fields.
bool needs_column_pass(const ExportOptions& options) {
  return needs_columns(options.format) && !(options.format == ExportFormat::csv && !options.selected.empty());
}

std::vector<FieldInfo> columns_of(const ExportOptions& options, const FieldCollector& collector) {
  if (!needs_columns(options.format)) return {};
  if (options.selected.empty()) return collector.fields();
  std::vector<FieldInfo> columns;
  for (const auto& name : options.selected) {
    FieldInfo info{name, true};
    const auto& seen = collector.fields();
    const auto it = std::find_if(seen.begin(), seen.end(), [&name](const FieldInfo& f) { return f.name == name; });
    if (it != seen.end()) info = *it;
    columns.push_back(std::move(info));
  }
  return columns;
}

} // namespace

BucketExport::BucketExport(std::string id, PointFilter filter, ExportOptions options, std::ostream& out,
                           ExportPaging paging)
    : m_id(std::move(id)), m_filter(std::move(filter)), m_options(std::move(options)), m_paging(paging),
      m_writer(make_export_writer(m_options, out)),
      m_phase(needs_column_pass(m_options) ? Phase::columns : Phase::rows) {
  m_paging.points = std::max<std::size_t>(m_paging.points, 1);
  m_paging.bytes = std::max<std::size_t>(m_paging.bytes, 1);
}

BucketExport::~BucketExport() = default;

bool BucketExport::next_page(BucketDatabase& db) {
  if (m_phase == Phase::done) return false;
  if (m_phase == Phase::rows && !m_begun) {
    m_writer->begin(columns_of(m_options, m_collector));
    m_begun = true;
  }
  // The cursor (and its read transaction) ends with this call.
  auto cursor = db.points_page(m_id, m_filter, m_position, m_paging.points);
  Point point;
  std::size_t read = 0;
  std::size_t bytes = 0;
  while (cursor.next(point)) {
    m_position = cursor.position();
    ++read;
    bytes += point.payload.size() + point.topic.size() + point.device.size();
    if (m_phase == Phase::columns) {
      m_collector.add(stored_object(point.payload));
    } else {
      bool unreadable = false;
      const Json object = stored_object(point.payload, &unreadable);
      if (unreadable) ++m_unreadable;
      m_writer->write(point, object);
      ++m_points;
    }
    if (read == m_paging.points || bytes >= m_paging.bytes) return true; // a full page: more may follow
  }
  // This phase found its end.
  m_position.reset();
  if (m_phase == Phase::columns) {
    m_phase = Phase::rows;
    return true;
  }
  m_writer->end();
  m_phase = Phase::done;
  return false;
}

} // namespace mqfleet::store
