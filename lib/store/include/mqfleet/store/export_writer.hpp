#pragma once
// Export formats of `mqfleet bucket export` (docs/buckets.md), written row by row to a
// stream so a million points need no more memory than one:
// * csv:    ts, device, then one column per field (nested objects flattened with dots)
// * json:   one array of {"ts", "device", "topic", "data"} objects
// * ndjson: one such object per line
// * arff:   Weka's format; fields whose values are all numbers are `numeric`, others `string`
// CSV and ARFF need the columns before the first row: FieldCollector gathers them in a
// first pass over the points (its memory grows with the number of distinct fields only).

#include <mqfleet/store/point.hpp>

#include <memory>
#include <ostream>
#include <string>
#include <unordered_map>
#include <vector>

namespace mqfleet::store {

/// Output format.
enum class ExportFormat : std::uint8_t { csv, json, ndjson, arff };
/// How the ts column is written.
enum class TimeStyle : std::uint8_t { epoch, iso };

/// A CSV/ARFF column after ts and device.
struct FieldInfo {
  std::string name;    ///< dotted path
  bool numeric = true; ///< every value seen was a number
};

/// Collects the union of flattened fields in order of first appearance.
class FieldCollector {
public:
  /// Adds the fields of one payload object (`ts` and `device` are columns of their own).
  void add(const Json& object);
  /// The fields seen so far.
  const std::vector<FieldInfo>& fields() const noexcept { return m_fields; }

private:
  std::vector<FieldInfo> m_fields;
  std::unordered_map<std::string, std::size_t> m_index;
};

/// Formatting choices of an export.
struct ExportOptions {
  ExportFormat format = ExportFormat::csv;
  TimeStyle time = TimeStyle::epoch;
  char separator = ',';     ///< CSV only
  std::string relation;     ///< ARFF @relation (the bucket id)
  std::vector<std::string> selected; ///< --fields: only these (json/ndjson data too); empty = all
};

/// Writes one export, row by row.
class ExportWriter {
public:
  virtual ~ExportWriter() = default;
  /// Starts the output with the columns (CSV/ARFF; ignored by json/ndjson).
  virtual void begin(const std::vector<FieldInfo>& fields) = 0;
  /// Writes one point; `object` is its parsed payload.
  virtual void write(const Point& point, const Json& object) = 0;
  /// Ends the output.
  virtual void end() = 0;
};

/// True when the format needs the columns before the first row.
bool needs_columns(ExportFormat format) noexcept;

/// A writer for `options.format` on `out`.
std::unique_ptr<ExportWriter> make_export_writer(const ExportOptions& options, std::ostream& out);

/// One CSV field, quoted when it contains the separator, a quote or a line break.
std::string csv_escape(std::string_view text, char separator);

/// The text of a leaf value in CSV: strings raw, null empty, others as JSON.
std::string cell_text(const Json& value);

} // namespace mqfleet::store
