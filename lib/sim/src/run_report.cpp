#include <mqfleet/sim/run_report.hpp>

#include <mqfleet/error.hpp>
#include <mqfleet/json_depth.hpp>
#include <mqfleet/scenario/units.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>

namespace mqfleet::sim {
namespace {

double ratio(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

double ms(std::uint64_t us) { return static_cast<double>(us) / 1000.0; }

nlohmann::json fleet_json(const FleetReport& f) {
  nlohmann::json reasons = nlohmann::json::object();
  for (const auto& [reason, n] : f.connect_failure_reasons) reasons[reason] = n;
  nlohmann::json rtt = {{"count", f.command_rtt.count()}};
  if (f.command_rtt.count() > 0) {
    rtt["p50_ms"] = ms(f.command_rtt.percentile(50));
    rtt["p90_ms"] = ms(f.command_rtt.percentile(90));
    rtt["p99_ms"] = ms(f.command_rtt.percentile(99));
    rtt["max_ms"] = ms(f.command_rtt.max());
  }
  rtt["histogram"] = f.command_rtt.to_json(); // what `sim merge` adds up exactly
  return {
      {"name", f.name},
      {"devices", f.devices},
      {"fleet_devices", f.fleet_devices},
      {"online_at_end", f.online},
      {"connect_attempts", f.connect_attempts},
      {"connects", f.connects},
      {"connect_failures", f.connect_failures},
      {"connect_failure_reasons", reasons},
      {"connections_lost", f.lost},
      {"drops", f.drops},
      {"offline_cycles", f.offline_cycles},
      {"published", f.published},
      {"telemetry", f.telemetry},
      {"acknowledged", f.acknowledged},
      {"publish_failures", f.publish_failures},
      {"subscribes", f.subscribes},
      {"subscribe_failures", f.subscribe_failures},
      {"commands_received", f.commands_received},
      {"commands_answered", f.commands_answered},
      {"commands_dropped", f.commands_dropped},
      {"command_rtt", rtt},
      {"errors", f.errors()},
      {"error_rate", ratio(f.errors(), f.operations())},
      {"delivered", ratio(f.acknowledged, f.published)},
  };
}

std::string percent(double fraction) { return fmt::format("{:.2f}%", fraction * 100.0); }

/// "shards 0/3 1/3 2/3 · 90 of 90 devices": which slices a (merged) report covers.
std::string shards_line(const RunReport& report) {
  const FleetReport total = report.totals();
  std::string list;
  constexpr std::size_t k_listed = 8;
  for (std::size_t i = 0; i < report.shards.size() && i < k_listed; ++i)
    list += (i ? " " : "") + report.shards[i].to_string();
  if (report.shards.size() > k_listed) list += fmt::format(" … ({} in all)", report.shards.size());
  return fmt::format("shard{} {} · {} of {} devices\n", report.shards.size() == 1 ? "" : "s", list, total.devices,
                     total.fleet_devices);
}

/// The `where` of errors about report files: the first two names, then how many more.
std::string files_named(const std::vector<std::string>& files) {
  std::string out;
  for (std::size_t i = 0; i < files.size() && i < 2; ++i) out += (i ? ", " : "") + files[i];
  if (files.size() > 2) out += fmt::format(" and {} more", files.size() - 2);
  return out;
}

StopReason stop_reason_of(const std::string& text, const std::string& where) {
  if (text == "duration") return StopReason::duration;
  if (text == "messages") return StopReason::messages;
  if (text == "interrupted") return StopReason::interrupted;
  throw ConfigError(fmt::format("unknown stopped_by \"{}\"", text), where,
                    "pass report files written by mqfleet sim --report");
}

FleetReport fleet_from_json(const nlohmann::json& j) {
  FleetReport f;
  const auto u = [&j](const char* key) { return j.at(key).get<std::uint64_t>(); };
  f.name = j.at("name").get<std::string>();
  f.devices = u("devices");
  f.fleet_devices = u("fleet_devices");
  f.online = u("online_at_end");
  f.connect_attempts = u("connect_attempts");
  f.connects = u("connects");
  f.connect_failures = u("connect_failures");
  for (const auto& [reason, n] : j.at("connect_failure_reasons").items())
    f.connect_failure_reasons[reason] = n.get<std::uint64_t>();
  f.lost = u("connections_lost");
  f.drops = u("drops");
  f.offline_cycles = u("offline_cycles");
  f.published = u("published");
  f.telemetry = u("telemetry");
  f.acknowledged = u("acknowledged");
  f.publish_failures = u("publish_failures");
  f.subscribes = u("subscribes");
  f.subscribe_failures = u("subscribe_failures");
  f.commands_received = u("commands_received");
  f.commands_answered = u("commands_answered");
  f.commands_dropped = u("commands_dropped");
  f.command_rtt = LatencyHistogram::from_json(j.at("command_rtt").at("histogram"));
  return f;
}

/// The `expect` block a report was judged against, from the limits it lists.
ExpectSpec expect_of(const RunReport& report) {
  ExpectSpec expect;
  for (const auto& e : report.expectations) {
    if (e.name == "max_error_rate") expect.max_error_rate = e.limit;
    else if (e.name == "min_delivered") expect.min_delivered = e.limit;
    else if (e.name == "max_command_rtt_p99") expect.max_command_rtt_p99 = Millis(std::llround(e.limit));
  }
  return expect;
}

/// What must be equal for two reports to be shards of one run, as text for the error.
std::string identity_of(const RunReport& r) {
  std::string fleets;
  for (const auto& f : r.fleets) fleets += fmt::format("{}{}×{}", fleets.empty() ? "" : ", ", f.name, f.fleet_devices);
  std::string limits;
  for (const auto& e : r.expectations) limits += fmt::format("{}{}={}", limits.empty() ? "" : ", ", e.name, e.limit);
  return fmt::format("scenario \"{}\" (digest {}, seed {}, fleets {}{}{})", r.scenario,
                     r.scenario_digest.empty() ? "-" : r.scenario_digest, r.seed, fleets,
                     limits.empty() ? "" : ", expect ", limits);
}

/// Throws when two of the reports' shards cover one device of some fleet.
void check_disjoint(const std::vector<NamedReport>& reports) {
  std::vector<bench::ShardSource> shards;
  for (const auto& [file, report] : reports)
    for (const auto& shard : report.shards) shards.push_back({shard, file});
  std::vector<bench::ShardedSet> fleets;
  for (const auto& fleet : reports.front().second.fleets)
    fleets.push_back({"device", "fleet " + fleet.name, fleet.fleet_devices});
  bench::check_disjoint(shards, fleets);
}

} // namespace

FleetReport RunReport::totals() const {
  FleetReport total;
  total.name = "total";
  for (const auto& fleet : fleets) total.add(fleet);
  return total;
}

bool RunReport::passed() const noexcept {
  for (const auto& e : expectations)
    if (!e.passed) return false;
  return true;
}

void evaluate_expectations(RunReport& report, const ExpectSpec& expect) {
  report.expectations.clear();
  const FleetReport total = report.totals();
  if (expect.max_error_rate) {
    ExpectResult r{"max_error_rate", *expect.max_error_rate, ratio(total.errors(), total.operations()), false, {}};
    r.passed = r.actual <= r.limit;
    report.expectations.push_back(r);
  }
  if (expect.min_delivered) {
    ExpectResult r{"min_delivered", *expect.min_delivered, ratio(total.acknowledged, total.published), false, {}};
    r.passed = total.published > 0 ? r.actual >= r.limit : r.limit <= 0;
    if (total.published == 0) r.note = "nothing was published";
    report.expectations.push_back(r);
  }
  if (expect.max_command_rtt_p99) {
    ExpectResult r{"max_command_rtt_p99", static_cast<double>(expect.max_command_rtt_p99->count()),
                   ms(total.command_rtt.percentile(99)), false, {}};
    r.passed = total.command_rtt.count() > 0 && r.actual <= r.limit;
    if (total.command_rtt.count() == 0) r.note = "no command was answered";
    report.expectations.push_back(r);
  }
}

std::string to_string(StopReason reason) {
  switch (reason) {
  case StopReason::duration: return "duration";
  case StopReason::messages: return "messages";
  case StopReason::interrupted: return "interrupted";
  }
  return "duration";
}

std::string report_to_json(const RunReport& report, int indent) {
  nlohmann::json fleets = nlohmann::json::array();
  for (const auto& f : report.fleets) fleets.push_back(fleet_json(f));
  nlohmann::json expectations = nlohmann::json::array();
  for (const auto& e : report.expectations) {
    nlohmann::json item = {{"name", e.name}, {"limit", e.limit}, {"actual", e.actual}, {"passed", e.passed}};
    if (!e.note.empty()) item["note"] = e.note;
    expectations.push_back(std::move(item));
  }
  nlohmann::json shards = nlohmann::json::array();
  for (const auto& shard : report.shards) shards.push_back(shard.to_string());
  const nlohmann::json doc = {
      {"format", RunReport::k_format_version},
      {"scenario", report.scenario},
      {"scenario_digest", report.scenario_digest},
      {"seed", report.seed},
      {"shards", shards},
      {"start_unix_ms", report.start_unix_ms},
      {"elapsed_ms", report.elapsed.count()},
      {"stopped_by", to_string(report.stop)},
      {"fleets", fleets},
      {"total", fleet_json(report.totals())},
      {"expectations", expectations},
      {"passed", report.passed()},
  };
  return doc.dump(indent);
}

RunReport report_from_json(const nlohmann::json& json, const std::string& where) {
  const std::string hint = "pass report files written by mqfleet sim --report";
  try {
    if (!json.is_object() || !json.contains("fleets") || !json.contains("shards"))
      throw ConfigError("not a report of mqfleet sim", where, hint + " (mqfleet 0.x wrote no shards: run it again)");
    const int format = json.value("format", 0);
    if (format != RunReport::k_format_version)
      throw ConfigError(fmt::format("report format {} is not {}", format, RunReport::k_format_version), where,
                        "merge reports written by the same mqfleet version");
    RunReport r;
    r.scenario = json.at("scenario").get<std::string>();
    r.scenario_digest = json.at("scenario_digest").get<std::string>();
    r.seed = json.at("seed").get<std::uint64_t>();
    r.shards.clear();
    for (const auto& shard : json.at("shards")) r.shards.push_back(bench::parse_shard(shard.get<std::string>()));
    if (r.shards.empty()) throw ConfigError("the report names no shard", where, hint);
    r.start_unix_ms = json.at("start_unix_ms").get<std::int64_t>();
    r.elapsed = Millis(json.at("elapsed_ms").get<std::int64_t>());
    r.stop = stop_reason_of(json.at("stopped_by").get<std::string>(), where);
    for (const auto& fleet : json.at("fleets")) r.fleets.push_back(fleet_from_json(fleet));
    for (const auto& e : json.at("expectations")) {
      ExpectResult result;
      result.name = e.at("name").get<std::string>();
      result.limit = e.at("limit").get<double>();
      result.actual = e.at("actual").get<double>();
      result.passed = e.at("passed").get<bool>();
      result.note = e.value("note", "");
      r.expectations.push_back(std::move(result));
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(std::string("malformed report: ") + e.what(), where, hint);
  } catch (const ConfigError& e) {
    // Errors of the parts (a shard, a histogram) name the file instead of themselves.
    if (e.where() == where) throw;
    throw ConfigError(e.what(), where, e.hint().empty() ? hint : e.hint());
  }
}

RunReport read_report(const std::filesystem::path& path) {
  const std::string where = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read the report", where, "check the path");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  if (const auto deep = json_nesting_error(text))
    throw ConfigError(fmt::format("JSON nested deeper than {} levels", k_max_json_depth),
                      fmt::format("{}:{}:{}", where, deep->line, deep->column),
                      "pass report files written by mqfleet sim --report");
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded())
    throw ConfigError("the report is not valid JSON", where, "pass report files written by mqfleet sim --report");
  return report_from_json(json, where);
}

RunReport merge_reports(const std::vector<NamedReport>& reports) {
  if (reports.empty()) throw ConfigError("nothing to merge", "sim merge", "pass the --report files of the shards");
  const RunReport& first = reports.front().second;
  const std::string identity = identity_of(first);
  for (const auto& [file, report] : reports) {
    const std::string other = identity_of(report);
    if (other != identity)
      throw ConfigError(fmt::format("reports of different scenarios: {} is {}, {} is {}", reports.front().first,
                                    identity, file, other),
                        files_named({reports.front().first, file}),
                        "merge the shards of one run only (same file, seed and --scale)");
  }
  check_disjoint(reports);

  RunReport out;
  out.scenario = first.scenario;
  out.scenario_digest = first.scenario_digest;
  out.seed = first.seed;
  out.shards.clear();
  out.start_unix_ms = first.start_unix_ms;
  std::int64_t end_unix_ms = first.start_unix_ms + first.elapsed.count();
  out.stop = first.stop;
  out.fleets = first.fleets;
  for (auto& fleet : out.fleets) {
    FleetReport empty;
    empty.name = fleet.name;
    empty.fleet_devices = fleet.fleet_devices;
    fleet = std::move(empty);
  }
  for (const auto& [file, report] : reports) {
    out.shards.insert(out.shards.end(), report.shards.begin(), report.shards.end());
    out.start_unix_ms = std::min(out.start_unix_ms, report.start_unix_ms);
    end_unix_ms = std::max(end_unix_ms, report.start_unix_ms + report.elapsed.count());
    if (report.stop == StopReason::interrupted) out.stop = StopReason::interrupted;
    for (std::size_t f = 0; f < out.fleets.size(); ++f) {
      const std::uint64_t whole = out.fleets[f].fleet_devices;
      out.fleets[f].add(report.fleets[f]);
      out.fleets[f].fleet_devices = whole; // the fleet's size, not a sum over shards
    }
  }
  std::sort(out.shards.begin(), out.shards.end(), [](const bench::Shard& a, const bench::Shard& b) {
    return std::pair(a.count, a.index) < std::pair(b.count, b.index);
  });
  out.elapsed = Millis(end_unix_ms - out.start_unix_ms);
  evaluate_expectations(out, expect_of(first));
  return out;
}

std::string format_summary(const RunReport& report) {
  std::string out = fmt::format("scenario {} · seed {} · {} · stopped by {}\n",
                                report.scenario.empty() ? "(unnamed)" : report.scenario, report.seed,
                                format_duration(report.elapsed), to_string(report.stop));
  if (report.shards.size() != 1 || report.shards.front().count != 1) out += shards_line(report);
  constexpr auto k_row = "{:<16} {:>7} {:>9} {:>8} {:>6} {:>10} {:>10} {:>8} {:>9} {:>9} {:>9}\n";
  out += fmt::format(k_row, "fleet", "devices", "connects", "failed", "drops", "published", "acked", "pub.err",
                     "commands", "answered", "rtt p99");
  const auto row = [&](const FleetReport& f) {
    const std::string rtt = f.command_rtt.count() ? fmt::format("{:.1f}ms", ms(f.command_rtt.percentile(99))) : "-";
    out += fmt::format(k_row, f.name, f.devices, f.connects, f.connect_failures, f.drops + f.lost, f.published,
                       f.acknowledged, f.publish_failures, f.commands_received, f.commands_answered, rtt);
  };
  for (const auto& fleet : report.fleets) row(fleet);
  const FleetReport total = report.totals();
  if (report.fleets.size() > 1) row(total);
  for (const auto& f : report.fleets)
    for (const auto& [reason, n] : f.connect_failure_reasons)
      out += fmt::format("  {}: {} connect failure(s): {}\n", f.name, n, reason);
  if (total.lost > 0) out += fmt::format("  {} connection(s) lost unexpectedly\n", total.lost);
  for (const auto& e : report.expectations) {
    const bool is_ms = e.name == "max_command_rtt_p99";
    const std::string actual = is_ms ? fmt::format("{:.1f}ms", e.actual) : percent(e.actual);
    const std::string limit = is_ms ? fmt::format("{:.0f}ms", e.limit) : percent(e.limit);
    out += fmt::format("expect {}: {} (limit {}) {}{}\n", e.name, actual, limit, e.passed ? "ok" : "FAILED",
                       e.note.empty() ? "" : " — " + e.note);
  }
  return out;
}

} // namespace mqfleet::sim
