#pragma once
// Reading the platform's CSV for `mqfleet bucket import` (docs/buckets.md): RFC 4180
// quoting, `;` or `,` separators (detected from the header line), a `ts` column (epoch
// milliseconds or ISO-8601), optional `device` and `topic` columns, every other column a
// field (dotted names become nested objects, numbers and true/false become JSON values).

#include <mqfleet/store/point.hpp>

#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <vector>

namespace mqfleet::store {

/// One CSV record and where it starts.
struct CsvRecord {
  std::size_t line = 0;           ///< 1-based line of the record's first character
  std::vector<std::string> cells; ///< unquoted cells
  std::string error;              ///< non-empty when the record is malformed
};

/// Streams CSV records.
class CsvReader {
public:
  /// `separator` 0 = detect from the first line (`;` when it has more `;` than `,`).
  explicit CsvReader(std::istream& in, char separator = 0);
  /// Reads the next record; false at the end of the input.
  bool next(CsvRecord& record);
  /// The separator in use (after the first next() when detecting).
  char separator() const noexcept { return m_separator; }

private:
  bool read_line(std::string& line);

  std::istream& m_in;
  char m_separator;
  std::size_t m_line = 0;
  std::optional<std::string> m_peeked;
};

/// One row converted to a point.
struct ImportRow {
  EpochMs ts = 0;
  std::string device;
  std::string topic;
  std::string payload; ///< compact JSON object
};

/// Converts records to points given the header.
class CsvImporter {
public:
  /// Checks the header (a `ts` column is required; names are unique and non-empty).
  /// Throws ConfigError naming `source`:1 otherwise. `default_device` is used when
  /// there is no `device` column or its cell is empty.
  CsvImporter(const CsvRecord& header, std::string default_device, const std::string& source);
  /// Converts one record; on failure returns empty and sets `error`.
  std::optional<ImportRow> convert(const CsvRecord& record, std::string& error) const;

private:
  std::vector<std::string> m_columns;
  std::size_t m_ts = 0;
  std::optional<std::size_t> m_device;
  std::optional<std::size_t> m_topic;
  std::string m_default_device;
};

/// The JSON value of one CSV cell: number, true/false, a JSON array/object when the cell
/// is one, otherwise the text.
Json cell_value(const std::string& cell);

} // namespace mqfleet::store
