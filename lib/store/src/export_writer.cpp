#include <mqfleet/store/export_writer.hpp>

#include <algorithm>

namespace mqfleet::store {
namespace {

using Leaves = std::vector<std::pair<std::string, const Json*>>;

Json ts_value(EpochMs ts, TimeStyle style) {
  return style == TimeStyle::iso ? Json(format_iso8601(ts)) : Json(ts);
}

/// Looks leaves up by name for one row.
class RowIndex {
public:
  void reset(const Json& object) {
    m_leaves.clear();
    flatten(object, m_leaves);
    m_by_name.clear();
    for (const auto& [name, value] : m_leaves) m_by_name.emplace(name, value);
  }
  const Json* find(const std::string& name) const {
    auto it = m_by_name.find(name);
    return it == m_by_name.end() ? nullptr : it->second;
  }

private:
  Leaves m_leaves;
  std::unordered_map<std::string_view, const Json*> m_by_name;
};

class CsvWriter final : public ExportWriter {
public:
  CsvWriter(const ExportOptions& options, std::ostream& out) : m_options(options), m_out(out) {}
  void begin(const std::vector<FieldInfo>& fields) override {
    m_fields = fields;
    const char sep = m_options.separator;
    m_out << "ts" << sep << "device";
    for (const auto& field : m_fields) m_out << sep << csv_escape(field.name, sep);
    m_out << "\r\n";
  }
  void write(const Point& point, const Json& object) override {
    const char sep = m_options.separator;
    m_row.reset(object);
    m_out << cell_text(ts_value(point.ts, m_options.time)) << sep << csv_escape(point.device, sep);
    for (const auto& field : m_fields) {
      m_out << sep;
      if (const Json* value = m_row.find(field.name)) m_out << csv_escape(cell_text(*value), sep);
    }
    m_out << "\r\n";
  }
  void end() override { m_out.flush(); }

private:
  ExportOptions m_options;
  std::ostream& m_out;
  std::vector<FieldInfo> m_fields;
  RowIndex m_row;
};

/// json and ndjson: the same objects, as an array or one per line.
class JsonWriter final : public ExportWriter {
public:
  JsonWriter(const ExportOptions& options, std::ostream& out, bool lines)
      : m_options(options), m_out(out), m_lines(lines) {}
  void begin(const std::vector<FieldInfo>&) override {
    if (!m_lines) m_out << "[";
  }
  void write(const Point& point, const Json& object) override {
    Json record = Json::object();
    record["ts"] = ts_value(point.ts, m_options.time);
    record["device"] = point.device;
    record["topic"] = point.topic;
    if (m_options.selected.empty()) {
      record["data"] = object;
    } else {
      m_row.reset(object);
      Json data = Json::object();
      for (const auto& name : m_options.selected) {
        if (const Json* value = m_row.find(name)) data[name] = *value;
      }
      record["data"] = std::move(data);
    }
    // Device ids and topics are stored as given: invalid UTF-8 must not stop the export.
    const auto text = record.dump(-1, ' ', false, Json::error_handler_t::replace);
    if (m_lines) {
      m_out << text << '\n';
    } else {
      m_out << (m_first ? "\n" : ",\n") << text;
      m_first = false;
    }
  }
  void end() override {
    if (!m_lines) m_out << (m_first ? "]\n" : "\n]\n");
    m_out.flush();
  }

private:
  ExportOptions m_options;
  std::ostream& m_out;
  bool m_lines;
  bool m_first = true;
  RowIndex m_row;
};

std::string arff_quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '\r') {
      out += "\\r";
      continue;
    }
    out += c;
  }
  out += '\'';
  return out;
}

class ArffWriter final : public ExportWriter {
public:
  ArffWriter(const ExportOptions& options, std::ostream& out) : m_options(options), m_out(out) {}
  void begin(const std::vector<FieldInfo>& fields) override {
    m_fields = fields;
    m_out << "@relation " << arff_quote(m_options.relation.empty() ? "bucket" : m_options.relation) << "\n\n";
    if (m_options.time == TimeStyle::iso) m_out << "@attribute ts date \"yyyy-MM-dd'T'HH:mm:ss.SSS'Z'\"\n";
    else m_out << "@attribute ts numeric\n";
    m_out << "@attribute device string\n";
    for (const auto& field : m_fields)
      m_out << "@attribute " << arff_quote(field.name) << (field.numeric ? " numeric\n" : " string\n");
    m_out << "\n@data\n";
  }
  void write(const Point& point, const Json& object) override {
    m_row.reset(object);
    if (m_options.time == TimeStyle::iso) m_out << arff_quote(format_iso8601(point.ts));
    else m_out << point.ts;
    m_out << ',' << arff_quote(point.device);
    for (const auto& field : m_fields) {
      m_out << ',';
      const Json* value = m_row.find(field.name);
      if (value == nullptr || value->is_null()) m_out << '?';
      else if (field.numeric && value->is_number()) m_out << value->dump();
      else if (field.numeric) m_out << '?';
      else m_out << arff_quote(cell_text(*value));
    }
    m_out << '\n';
  }
  void end() override { m_out.flush(); }

private:
  ExportOptions m_options;
  std::ostream& m_out;
  std::vector<FieldInfo> m_fields;
  RowIndex m_row;
};

} // namespace

void FieldCollector::add(const Json& object) {
  Leaves leaves;
  flatten(object, leaves);
  for (const auto& [name, value] : leaves) {
    if (name == "ts" || name == "device") continue;
    const bool numeric = value->is_number() || value->is_null();
    auto it = m_index.find(name);
    if (it == m_index.end()) {
      m_index.emplace(name, m_fields.size());
      m_fields.push_back(FieldInfo{name, numeric});
    } else if (!numeric) {
      m_fields[it->second].numeric = false;
    }
  }
}

bool needs_columns(ExportFormat format) noexcept {
  return format == ExportFormat::csv || format == ExportFormat::arff;
}

std::unique_ptr<ExportWriter> make_export_writer(const ExportOptions& options, std::ostream& out) {
  switch (options.format) {
  case ExportFormat::csv: return std::make_unique<CsvWriter>(options, out);
  case ExportFormat::json: return std::make_unique<JsonWriter>(options, out, false);
  case ExportFormat::ndjson: return std::make_unique<JsonWriter>(options, out, true);
  case ExportFormat::arff: return std::make_unique<ArffWriter>(options, out);
  }
  return std::make_unique<CsvWriter>(options, out);
}

std::string csv_escape(std::string_view text, char separator) {
  const bool quote = std::any_of(text.begin(), text.end(),
                                 [separator](char c) { return c == separator || c == '"' || c == '\n' || c == '\r'; });
  if (!quote) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string cell_text(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return {};
  return value.dump();
}

} // namespace mqfleet::store
