#include <mqfleet/bench/report.hpp>

#include <mqfleet/bench/shard.hpp>
#include <mqfleet/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

namespace mqfleet::bench {
namespace {

nlohmann::json counts_json(const QosCounters& c) {
  return {{"sent", c.sent},
          {"acked", c.acked},
          {"failed", c.failed},
          {"received", c.seen.received},
          {"unique", c.seen.unique},
          {"lost", c.seen.lost},
          {"duplicated", c.seen.duplicated},
          {"reordered", c.seen.reordered}};
}

QosCounters counts_from_json(const nlohmann::json& j) {
  QosCounters c;
  c.sent = j.at("sent").get<std::uint64_t>();
  c.acked = j.at("acked").get<std::uint64_t>();
  c.failed = j.at("failed").get<std::uint64_t>();
  c.seen.received = j.at("received").get<std::uint64_t>();
  c.seen.unique = j.at("unique").get<std::uint64_t>();
  c.seen.lost = j.at("lost").get<std::uint64_t>();
  c.seen.duplicated = j.at("duplicated").get<std::uint64_t>();
  c.seen.reordered = j.at("reordered").get<std::uint64_t>();
  return c;
}

} // namespace

QosCounters& QosCounters::operator+=(const QosCounters& other) noexcept {
  sent += other.sent;
  acked += other.acked;
  failed += other.failed;
  seen += other.seen;
  return *this;
}

std::uint64_t ConnectCounters::failed() const noexcept {
  std::uint64_t n = 0;
  for (const auto& [reason, count] : failures) {
    n += count;
  }
  return n;
}

ConnectCounters& ConnectCounters::operator+=(const ConnectCounters& other) {
  attempted += other.attempted;
  succeeded += other.succeeded;
  lost += other.lost;
  for (const auto& [reason, count] : other.failures) {
    failures[reason] += count;
  }
  return *this;
}

LatencyHistogram& Report::histogram(const std::string& name) {
  return histograms.try_emplace(name).first->second;
}

double Report::seconds() const noexcept {
  return std::max<double>(0.001, static_cast<double>(end_unix_ms - start_unix_ms) / 1000.0);
}

QosCounters Report::total() const noexcept {
  QosCounters t;
  for (const QosCounters& c : qos) {
    t += c;
  }
  return t;
}

nlohmann::json Report::to_json() const {
  nlohmann::json j;
  j["format"] = "mqfleet-bench-report";
  j["version"] = k_format_version;
  j["mode"] = mode;
  j["config"] = config;
  j["shards"] = shards;
  j["start_unix_ms"] = start_unix_ms;
  j["end_unix_ms"] = end_unix_ms;
  j["clients"] = clients;
  j["cpu_seconds"] = cpu_seconds;
  nlohmann::json q = nlohmann::json::object();
  for (std::size_t i = 0; i < qos.size(); ++i) {
    q[std::to_string(i)] = counts_json(qos[i]);
  }
  j["qos"] = std::move(q);
  j["connect"] = {{"attempted", connect.attempted},
                  {"succeeded", connect.succeeded},
                  {"lost", connect.lost},
                  {"failures", connect.failures}};
  nlohmann::json h = nlohmann::json::object();
  for (const auto& [name, histogram] : histograms) {
    nlohmann::json one = histogram.to_json();
    one["p50"] = histogram.percentile(50);
    one["p99"] = histogram.percentile(99);
    one["p999"] = histogram.percentile(99.9);
    h[name] = std::move(one);
  }
  j["histograms"] = std::move(h);
  j["timeline"] = timeline.to_json();
  return j;
}

Report Report::from_json(const nlohmann::json& j, const std::string& where) {
  try {
    if (j.value("format", "") != "mqfleet-bench-report") {
      throw ConfigError("not an mqfleet bench report", where, "pass files written by mqfleet bench --report");
    }
    if (j.at("version").get<int>() != k_format_version) {
      throw ConfigError("unsupported report version " + j.at("version").dump(), where,
                        "merge reports written by the same mqfleet version");
    }
    Report r;
    r.mode = j.at("mode").get<std::string>();
    r.config = j.at("config");
    r.shards = j.at("shards").get<std::vector<std::string>>();
    r.start_unix_ms = j.at("start_unix_ms").get<std::int64_t>();
    r.end_unix_ms = j.at("end_unix_ms").get<std::int64_t>();
    r.clients = j.at("clients").get<std::uint64_t>();
    r.cpu_seconds = j.at("cpu_seconds").get<double>();
    for (std::size_t i = 0; i < r.qos.size(); ++i) {
      r.qos[i] = counts_from_json(j.at("qos").at(std::to_string(i)));
    }
    const auto& c = j.at("connect");
    r.connect.attempted = c.at("attempted").get<std::uint64_t>();
    r.connect.succeeded = c.at("succeeded").get<std::uint64_t>();
    r.connect.lost = c.at("lost").get<std::uint64_t>();
    r.connect.failures = c.at("failures").get<std::map<std::string, std::uint64_t>>();
    for (const auto& [name, histogram] : j.at("histograms").items()) {
      r.histograms.emplace(name, LatencyHistogram::from_json(histogram));
    }
    r.timeline = Timeline::from_json(j.at("timeline"));
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(std::string("malformed report: ") + e.what(), where,
                      "pass files written by mqfleet bench --report");
  } catch (const ConfigError& e) {
    if (e.where() == where) {
      throw;
    }
    throw ConfigError(e.what(), where, e.hint());
  }
}

Report merge(const std::vector<Report>& reports) {
  if (reports.empty()) {
    throw ConfigError("nothing to merge", "bench merge", "pass two or more report files");
  }
  Report out;
  out.mode = reports.front().mode;
  out.config = reports.front().config;
  out.start_unix_ms = reports.front().start_unix_ms;
  out.end_unix_ms = reports.front().end_unix_ms;
  for (const Report& r : reports) {
    if (r.mode != out.mode) {
      throw ConfigError("cannot merge a \"" + r.mode + "\" report into \"" + out.mode + "\" reports", "bench merge",
                        "merge the shards of one run only");
    }
    out.shards.insert(out.shards.end(), r.shards.begin(), r.shards.end());
    out.start_unix_ms = std::min(out.start_unix_ms, r.start_unix_ms);
    out.end_unix_ms = std::max(out.end_unix_ms, r.end_unix_ms);
    out.clients += r.clients;
    out.cpu_seconds += r.cpu_seconds;
    for (std::size_t i = 0; i < out.qos.size(); ++i) {
      out.qos[i] += r.qos[i];
    }
    out.connect += r.connect;
    for (const auto& [name, histogram] : r.histograms) {
      out.histogram(name).merge(histogram);
    }
    out.timeline.merge(r.timeline);
  }
  return out;
}

Report merge_shards(const std::vector<NamedReport>& reports) {
  if (reports.empty()) {
    throw ConfigError("nothing to merge", "bench merge", "pass two or more report files");
  }
  std::vector<ShardSource> shards;
  for (const auto& [file, report] : reports) {
    for (const std::string& text : report.shards) {
      try {
        shards.push_back({parse_shard(text), file});
      } catch (const ConfigError&) {
        throw ConfigError("invalid shard \"" + text + "\" in the report", file,
                          "pass report files written by mqfleet bench --report");
      }
    }
  }
  // The index sets the shards split: -c clients (publishers, or subscribers in sub mode),
  // and pubsub's --subscribers.
  const nlohmann::json& config = reports.front().second.config;
  const auto count = [&](const char* key) -> std::uint64_t {
    const auto it = config.find(key);
    const std::int64_t n = it != config.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
    return n > 0 ? static_cast<std::uint64_t>(n) : 0;
  };
  std::vector<ShardedSet> sets{{"client", "", count("clients")}};
  if (reports.front().second.mode == "pubsub") {
    sets.push_back({"subscriber", "", count("subscribers")});
  }
  check_disjoint(shards, sets);
  std::vector<Report> plain;
  plain.reserve(reports.size());
  for (const auto& named : reports) {
    plain.push_back(named.second);
  }
  return merge(plain);
}

void write_report(const std::filesystem::path& path, const Report& report) {
  const std::filesystem::path temp = path.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << report.to_json().dump(1) << '\n';
    if (!out) {
      throw ConfigError("cannot write the report", path.string(), "check that the directory exists and is writable");
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    throw ConfigError("cannot write the report: " + ec.message(), path.string(), "");
  }
}

Report read_report(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    throw ConfigError("cannot read the report", path.string(), "check the path");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const nlohmann::json j = nlohmann::json::parse(buffer.str(), nullptr, false);
  if (j.is_discarded()) {
    throw ConfigError("the report is not valid JSON", path.string(), "pass files written by mqfleet bench --report");
  }
  return Report::from_json(j, path.string());
}

std::string format_summary(const Report& report) {
  std::string out;
  const double secs = report.seconds();
  out += fmt::format("mode {}  clients {}  window {:.1f} s{}\n", report.mode, report.clients, secs,
                     report.shards.size() > 1 ? fmt::format("  shards {}", report.shards.size()) : "");
  const std::uint64_t messages = report.total().sent + report.total().seen.received;
  if (report.cpu_seconds > 0) {
    out += fmt::format("generator cpu {:.2f} s{}\n", report.cpu_seconds,
                       messages ? fmt::format(" ({:.0f} messages per cpu-second)",
                                              static_cast<double>(messages) / report.cpu_seconds)
                                : "");
  }
  const ConnectCounters& c = report.connect;
  out += fmt::format("connections: {} attempted, {} connected, {} failed, {} lost\n", c.attempted, c.succeeded,
                     c.failed(), c.lost);
  for (const auto& [reason, count] : c.failures) {
    out += fmt::format("  failed {:>8}  {}\n", count, reason);
  }
  out += fmt::format("{:<4} {:>12} {:>12} {:>12} {:>12} {:>8} {:>8} {:>8} {:>8}\n", "qos", "sent", "sent/s", "acked",
                     "received", "recv/s", "lost", "dup", "reorder");
  for (std::size_t q = 0; q < report.qos.size(); ++q) {
    const QosCounters& k = report.qos[q];
    if (k.sent == 0 && k.seen.received == 0 && k.failed == 0) {
      continue;
    }
    out += fmt::format("{:<4} {:>12} {:>12.0f} {:>12} {:>12} {:>8.0f} {:>8} {:>8} {:>8}\n", q, k.sent,
                       static_cast<double>(k.sent) / secs, k.acked, k.seen.received,
                       static_cast<double>(k.seen.received) / secs, k.seen.lost, k.seen.duplicated,
                       k.seen.reordered);
  }
  out += fmt::format("{:<8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "latency", "count", "min", "p50",
                     "p99", "p99.9", "max", "mean");
  for (const auto& [name, h] : report.histograms) {
    if (h.count() == 0) {
      continue;
    }
    const auto ms = [](double us) { return fmt::format("{:.3f}ms", us / 1000.0); };
    out += fmt::format("{:<8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n", name, h.count(),
                       ms(static_cast<double>(h.min())), ms(static_cast<double>(h.percentile(50))),
                       ms(static_cast<double>(h.percentile(99))), ms(static_cast<double>(h.percentile(99.9))),
                       ms(static_cast<double>(h.max())), ms(h.mean()));
  }
  return out;
}

} // namespace mqfleet::bench
