#include <mqfleet/store/csv_reader.hpp>

#include <mqfleet/error.hpp>
#include <mqfleet/json_depth.hpp>

#include <algorithm>
#include <charconv>
#include <set>

namespace mqfleet::store {

CsvReader::CsvReader(std::istream& in, char separator) : m_in(in), m_separator(separator) {}

bool CsvReader::read_line(std::string& line) {
  if (m_peeked) {
    line = std::move(*m_peeked);
    m_peeked.reset();
    return true;
  }
  if (!std::getline(m_in, line)) return false;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

bool CsvReader::next(CsvRecord& record) {
  record.cells.clear();
  record.error.clear();
  std::string line;
  // Skip blank lines between records.
  do {
    if (!read_line(line)) return false;
    ++m_line;
  } while (line.empty());
  if (m_separator == 0) {
    const auto semicolons = std::count(line.begin(), line.end(), ';');
    const auto commas = std::count(line.begin(), line.end(), ',');
    m_separator = semicolons > commas ? ';' : ',';
  }
  record.line = m_line;
  std::string cell;
  bool quoted = false;      // inside a quoted cell
  bool was_quoted = false;  // the current cell was quoted and is closed
  std::size_t i = 0;
  for (;;) {
    if (i == line.size()) {
      if (!quoted) break;
      // A line break inside quotes belongs to the cell.
      std::string more;
      if (!read_line(more)) {
        record.error = "unterminated quoted field";
        record.cells.push_back(std::move(cell));
        return true;
      }
      ++m_line;
      cell += '\n';
      line = std::move(more);
      i = 0;
      continue;
    }
    const char c = line[i++];
    if (quoted) {
      if (c == '"') {
        if (i < line.size() && line[i] == '"') {
          cell += '"';
          ++i;
        } else {
          quoted = false;
          was_quoted = true;
        }
      } else {
        cell += c;
      }
    } else if (c == m_separator) {
      record.cells.push_back(std::move(cell));
      cell.clear();
      was_quoted = false;
    } else if (was_quoted) {
      if (record.error.empty()) record.error = "unexpected character after a closing quote";
    } else if (c == '"' && cell.empty()) {
      quoted = true;
    } else {
      cell += c;
    }
  }
  record.cells.push_back(std::move(cell));
  return true;
}

// True when `text` is UTF-8 that JSON text can hold (nlohmann refuses to dump anything else).
bool is_utf8_text(const std::string& text) {
  try {
    (void)Json(text).dump();
    return true;
  } catch (const Json::type_error&) {
    return false;
  }
}

Json cell_value(const std::string& cell) {
  if (cell == "true") return true;
  if (cell == "false") return false;
  const char* begin = cell.data();
  const char* end = begin + cell.size();
  if (!cell.empty() && (cell.front() == '-' || (cell.front() >= '0' && cell.front() <= '9'))) {
    std::int64_t integer = 0;
    if (auto [p, ec] = std::from_chars(begin, end, integer); ec == std::errc() && p == end) return integer;
    double real = 0;
    if (auto [p, ec] = std::from_chars(begin, end, real); ec == std::errc() && p == end) return real;
  }
  if (!cell.empty() && (cell.front() == '[' || cell.front() == '{')) {
    auto parsed = Json::parse(cell, nullptr, false);
    if (!parsed.is_discarded()) return parsed;
  }
  return cell;
}

CsvImporter::CsvImporter(const CsvRecord& header, std::string default_device, const std::string& source)
    : m_columns(header.cells), m_default_device(std::move(default_device)) {
  const std::string where = source + ":" + std::to_string(header.line);
  if (!header.error.empty()) throw ConfigError("bad CSV header: " + header.error, where, "fix the header line");
  std::set<std::string> seen;
  std::optional<std::size_t> ts;
  for (std::size_t i = 0; i < m_columns.size(); ++i) {
    const auto& name = m_columns[i];
    if (name.empty()) throw ConfigError("empty column name in the CSV header", where, "name every column");
    if (!is_utf8_text(name))
      throw ConfigError("a column name in the CSV header is not valid UTF-8", where, "save the file as UTF-8");
    if (!seen.insert(name).second)
      throw ConfigError("duplicate column '" + name + "' in the CSV header", where, "name every column once");
    if (name == "ts") ts = i;
    else if (name == "device") m_device = i;
    else if (name == "topic") m_topic = i;
  }
  if (!ts) throw ConfigError("the CSV has no 'ts' column", where, "the first line must name the columns, one of them ts");
  m_ts = *ts;
}

std::optional<ImportRow> CsvImporter::convert(const CsvRecord& record, std::string& error) const {
  if (!record.error.empty()) {
    error = record.error;
    return std::nullopt;
  }
  if (record.cells.size() != m_columns.size()) {
    error = "expected " + std::to_string(m_columns.size()) + " fields, found " + std::to_string(record.cells.size());
    return std::nullopt;
  }
  // Every cell becomes JSON text or a column of the database: it must be UTF-8, and a
  // JSON cell may not nest deeper than the shared limit (json_depth.hpp).
  for (std::size_t i = 0; i < m_columns.size(); ++i) {
    const std::string& cell = record.cells[i];
    const bool text_column = i == m_ts || (m_device && i == *m_device) || (m_topic && i == *m_topic);
    if (text_column && !is_utf8_text(cell)) {
      error = "column '" + m_columns[i] + "' is not valid UTF-8 text; save the file as UTF-8";
      return std::nullopt;
    }
    if (!cell.empty() && (cell.front() == '[' || cell.front() == '{')) {
      if (const auto deep = json_nesting_error(cell)) {
        error = "column '" + m_columns[i] + "' holds JSON nested deeper than " + std::to_string(k_max_json_depth) +
                " levels (character " + std::to_string(deep->offset + 1) + " of the cell)";
        return std::nullopt;
      }
    }
  }
  ImportRow row;
  const auto& ts_text = record.cells[m_ts];
  std::optional<EpochMs> ts;
  std::int64_t integer = 0;
  const char* end = ts_text.data() + ts_text.size();
  if (auto [p, ec] = std::from_chars(ts_text.data(), end, integer); ec == std::errc() && p == end && integer >= 0)
    ts = integer;
  else
    ts = parse_iso8601(ts_text);
  if (!ts) {
    error = "ts '" + ts_text + "' is neither epoch milliseconds nor ISO-8601";
    return std::nullopt;
  }
  row.ts = *ts;
  row.device = m_device && !record.cells[*m_device].empty() ? record.cells[*m_device] : m_default_device;
  if (m_topic) row.topic = record.cells[*m_topic];
  Json object = Json::object();
  for (std::size_t i = 0; i < m_columns.size(); ++i) {
    if (i == m_ts || (m_device && i == *m_device) || (m_topic && i == *m_topic)) continue;
    if (record.cells[i].empty()) continue;
    if (!set_dotted(object, m_columns[i], cell_value(record.cells[i]))) {
      error = "column '" + m_columns[i] + "' collides with another column's nested field";
      return std::nullopt;
    }
  }
  try {
    row.payload = object.dump();
  } catch (const Json::type_error&) {
    // Only invalid UTF-8 makes dump() fail: name the first column that holds it.
    for (std::size_t i = 0; i < m_columns.size(); ++i) {
      if (!is_utf8_text(record.cells[i])) {
        error = "column '" + m_columns[i] + "' is not valid UTF-8 text; save the file as UTF-8";
        return std::nullopt;
      }
    }
    error = "a cell is not valid UTF-8 text; save the file as UTF-8";
    return std::nullopt;
  }
  return row;
}

} // namespace mqfleet::store
