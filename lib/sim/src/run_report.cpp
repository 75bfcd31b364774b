#include <mqfleet/sim/run_report.hpp>

#include <mqfleet/scenario/units.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mqfleet::sim {
namespace {

double ratio(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

double ms(std::chrono::microseconds us) { return static_cast<double>(us.count()) / 1000.0; }

nlohmann::json fleet_json(const FleetReport& f) {
  nlohmann::json reasons = nlohmann::json::object();
  for (const auto& [reason, n] : f.connect_failure_reasons) reasons[reason] = n;
  nlohmann::json rtt = {{"count", f.command_rtt.count()}};
  if (f.command_rtt.count() > 0) {
    rtt["p50_ms"] = ms(f.command_rtt.percentile(0.50));
    rtt["p90_ms"] = ms(f.command_rtt.percentile(0.90));
    rtt["p99_ms"] = ms(f.command_rtt.percentile(0.99));
    rtt["max_ms"] = ms(f.command_rtt.max());
  }
  return {
      {"name", f.name},
      {"devices", f.devices},
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
                   ms(total.command_rtt.percentile(0.99)), false, {}};
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
  const nlohmann::json doc = {
      {"scenario", report.scenario},
      {"seed", report.seed},
      {"elapsed_ms", report.elapsed.count()},
      {"stopped_by", to_string(report.stop)},
      {"fleets", fleets},
      {"total", fleet_json(report.totals())},
      {"expectations", expectations},
      {"passed", report.passed()},
  };
  return doc.dump(indent);
}

std::string format_summary(const RunReport& report) {
  std::string out = fmt::format("scenario {} · seed {} · {} · stopped by {}\n",
                                report.scenario.empty() ? "(unnamed)" : report.scenario, report.seed,
                                format_duration(report.elapsed), to_string(report.stop));
  constexpr auto k_row = "{:<16} {:>7} {:>9} {:>8} {:>6} {:>10} {:>10} {:>8} {:>9} {:>9} {:>9}\n";
  out += fmt::format(k_row, "fleet", "devices", "connects", "failed", "drops", "published", "acked", "pub.err",
                     "commands", "answered", "rtt p99");
  const auto row = [&](const FleetReport& f) {
    const std::string rtt = f.command_rtt.count() ? fmt::format("{:.1f}ms", ms(f.command_rtt.percentile(0.99))) : "-";
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
