// `mqfleet bucket export|import|stats|chart`: the point data in --data-dir.

#include "bucket/atomic_output.hpp"
#include "bucket/bucket.hpp"
#include "exit_codes.hpp"
#include "signals.hpp"

#include <mqfleet/broker/device_registry.hpp>
#include <mqfleet/error.hpp>
#include <mqfleet/json_depth.hpp>
#include <mqfleet/store/bucket_database.hpp>
#include <mqfleet/store/bucket_export.hpp>
#include <mqfleet/store/chart.hpp>
#include <mqfleet/store/csv_reader.hpp>
#include <mqfleet/store/export_writer.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sys/ioctl.h>
#include <unistd.h>

namespace mqfleet::cli {
namespace {

using store::Json;

std::optional<store::EpochMs> time_option(const std::string& text, const char* flag) {
  if (text.empty()) return std::nullopt;
  auto value = store::parse_time(text, store::now_ms());
  if (!value)
    throw ConfigError(fmt::format("cannot read the time '{}'", text), flag,
                      "use ISO-8601 (2026-11-25T10:00:00Z), epoch milliseconds or a relative time such as -1h");
  return value;
}

store::PointFilter make_filter(const BucketOptions& o) {
  store::PointFilter filter;
  filter.from = time_option(o.from, "--from");
  filter.to = time_option(o.to, "--to");
  filter.device = o.device;
  return filter;
}

// A bucket is defined when the registry (--registry, if given) defines it or the data
// directory already holds points of it.
bool bucket_defined(const BucketOptions& o) {
  std::error_code ec;
  if (!o.registry.empty() && std::filesystem::exists(o.registry, ec) &&
      broker::Registry::load(o.registry).find_bucket(o.id).first != nullptr)
    return true;
  try {
    store::BucketDatabase db(o.data_dir, false);
    return db.find_bucket_key(o.id).has_value();
  } catch (const ConfigError&) {
    return false; // no bucket database there yet
  }
}

void require_stored(store::BucketDatabase& db, const BucketOptions& o) {
  if (!db.find_bucket_key(o.id))
    throw ConfigError(fmt::format("bucket '{}' has no data in this data directory", o.id), o.data_dir,
                      "check the id (`mqfleet bucket list`) and that the broker ran with this --data-dir");
}

std::vector<std::string> split_fields(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    auto part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(std::move(part));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

store::ExportFormat parse_format(const std::string& name) {
  if (name == "json") return store::ExportFormat::json;
  if (name == "ndjson") return store::ExportFormat::ndjson;
  if (name == "arff") return store::ExportFormat::arff;
  return store::ExportFormat::csv;
}

/// Stored payloads that could not be read as an object (counted once per command and
/// reported on stderr): export and chart go on without their data.
std::size_t g_unreadable = 0;

Json parse_stored(const store::Point& point) {
  bool unreadable = false;
  auto object = store::stored_object(point.payload, &unreadable);
  if (unreadable) ++g_unreadable;
  return object;
}

void report_unreadable(const std::string& id) {
  if (g_unreadable == 0) return;
  std::cerr << fmt::format("mqfleet: warning: {} stored value{} of bucket '{}' {} not a JSON object within {} "
                           "levels of nesting; {} without {} data\n",
                           g_unreadable, g_unreadable == 1 ? "" : "s", id, g_unreadable == 1 ? "is" : "are",
                           k_max_json_depth, g_unreadable == 1 ? "it is shown" : "they are shown",
                           g_unreadable == 1 ? "its" : "their");
  g_unreadable = 0;
}

/// The export itself is lib/store's BucketExport (the broker's REST export runs the same
/// one); this only maps the flags and checks for Ctrl-C between pages.
std::size_t export_points(store::BucketDatabase& db, const BucketOptions& o, std::ostream& out) {
  store::ExportOptions options;
  options.format = parse_format(o.format);
  options.time = o.time == "iso" ? store::TimeStyle::iso : store::TimeStyle::epoch;
  options.separator = o.separator.empty() ? ',' : o.separator.front();
  options.relation = o.id;
  options.selected = split_fields(o.fields);
  store::BucketExport exporter(o.id, make_filter(o), std::move(options), out);
  const auto token = stop_token();
  while (exporter.next_page(db))
    if (token.stop_requested()) throw InterruptedError("export interrupted");
  g_unreadable += exporter.unreadable();
  if (!out) throw ConfigError("cannot write the export", o.output.empty() ? "stdout" : o.output);
  return exporter.points();
}

const Json* find_dotted(const Json& object, std::string_view dotted) {
  const Json* node = &object;
  for (;;) {
    if (!node->is_object()) return nullptr;
    const auto dot = dotted.find('.');
    auto it = node->find(std::string(dotted.substr(0, dot)));
    if (it == node->end()) return nullptr;
    if (dot == std::string_view::npos) return &*it;
    node = &*it;
    dotted.remove_prefix(dot + 1);
  }
}

std::pair<std::size_t, std::size_t> terminal_size() {
  winsize size{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 && size.ws_row > 0)
    return {size.ws_col, size.ws_row};
  return {80, 24};
}

} // namespace

int run_bucket_export(const BucketOptions& o) {
  store::BucketDatabase db(o.data_dir, false);
  require_stored(db, o);
  std::size_t count = 0;
  if (o.output.empty()) {
    count = export_points(db, o, std::cout);
  } else {
    AtomicOutput output(o.output);
    count = export_points(db, o, output.stream());
    output.commit();
  }
  std::cerr << fmt::format("mqfleet: exported {} points of bucket '{}'\n", count, o.id);
  report_unreadable(o.id);
  return exit_code::k_success;
}

int run_bucket_import(const BucketOptions& o) {
  if (!broker::valid_bucket_id(o.id))
    throw ConfigError(fmt::format("invalid bucket id '{}'", o.id), "ID", "bucket ids are 1..64 letters, digits, _ - .");
  std::ifstream in(o.file, std::ios::binary);
  if (!in) throw ConfigError("cannot read the CSV file", o.file, "check the path and its permissions");
  if (!o.create && !bucket_defined(o))
    throw ConfigError(fmt::format("bucket '{}' is not defined: no registry defines it and it holds no data", o.id),
                      o.id, "check the id, define it with `mqfleet bucket add` (and --registry), or add --create");
  store::CsvReader reader(in, o.separator.empty() ? 0 : o.separator.front());
  store::CsvRecord record;
  if (!reader.next(record)) throw ConfigError("the CSV file is empty", o.file, "the first line must name the columns");
  const store::CsvImporter importer(record, o.device.empty() ? "import" : o.device, o.file);
  store::BucketDatabase db(o.data_dir, true);
  const auto bucket = db.bucket_key(o.id);
  constexpr std::size_t k_max_listed = 20;
  std::size_t imported = 0;
  std::size_t bad = 0;
  db.begin();
  try {
    while (reader.next(record)) {
      std::string error;
      auto row = importer.convert(record, error);
      if (!row) {
        if (bad++ < k_max_listed) std::cerr << fmt::format("{}:{}: {}\n", o.file, record.line, error);
        continue;
      }
      if (bad == 0) {
        db.insert(bucket, db.device_key(row->device), row->ts, row->topic, row->payload);
        ++imported;
      }
    }
  } catch (...) {
    db.rollback();
    throw;
  }
  if (bad > 0) {
    db.rollback();
    if (bad > k_max_listed) std::cerr << fmt::format("{}: ... and {} more bad rows\n", o.file, bad - k_max_listed);
    throw ConfigError(fmt::format("{} bad row{} in the CSV; nothing was imported", bad, bad == 1 ? "" : "s"), o.file,
                      "fix the rows listed above and import again");
  }
  db.commit();
  std::cerr << fmt::format("mqfleet: imported {} points into bucket '{}'\n", imported, o.id);
  return exit_code::k_success;
}

int run_bucket_stats(const BucketOptions& o) {
  store::BucketDatabase db(o.data_dir, false);
  require_stored(db, o);
  const auto stats = db.stats(o.id);
  auto time_json = [](const std::optional<store::EpochMs>& ts) {
    return ts ? Json(store::format_iso8601(*ts)) : Json(nullptr);
  };
  Json row{{"bucket", o.id},           {"points", stats.points},         {"devices", stats.devices},
           {"first", time_json(stats.first)}, {"last", time_json(stats.last)}, {"rejected", stats.rejected},
           {"dropped", stats.dropped}};
  if (o.format == "json") {
    std::cout << row.dump(2) << '\n';
    return exit_code::k_success;
  }
  for (const auto& [key, value] : row.items())
    std::cout << fmt::format("{:<9} {}\n", key,
                             value.is_string() ? value.get<std::string>() : value.is_null() ? "-" : value.dump());
  return exit_code::k_success;
}

int run_bucket_chart(const BucketOptions& o) {
  store::BucketDatabase db(o.data_dir, false);
  require_stored(db, o);
  auto filter = make_filter(o);
  const auto stats = db.stats(o.id);
  const auto from = filter.from ? *filter.from : stats.first.value_or(0);
  const auto to = filter.to ? *filter.to : stats.last.value_or(from);
  const bool svg = !o.svg.empty();
  auto [columns, rows] = terminal_size();
  const std::size_t width = o.width != 0 ? o.width : svg ? 800 : columns;
  const std::size_t height = o.height != 0 ? o.height : svg ? 300 : std::min<std::size_t>(rows - 1, 20);
  store::ChartSeries series(from, to, svg ? width / 2 : width * 2);
  auto cursor = db.points(o.id, filter);
  store::Point point;
  while (cursor.next(point)) {
    const auto object = parse_stored(point);
    const Json* value = find_dotted(object, o.field);
    if (value != nullptr && value->is_number()) series.add(point.ts, value->get<double>());
  }
  std::string title = o.id + ": " + o.field + (o.device.empty() ? "" : " (" + o.device + ")");
  if (svg) {
    AtomicOutput output(o.svg);
    output.stream() << store::render_svg_chart(series, title, width, height);
    output.commit();
    std::cerr << fmt::format("mqfleet: wrote a chart of {} points to {}\n", series.samples(), o.svg);
  } else {
    std::cout << store::render_terminal_chart(series, title, width, height) << std::flush;
  }
  report_unreadable(o.id);
  return exit_code::k_success;
}

} // namespace mqfleet::cli
