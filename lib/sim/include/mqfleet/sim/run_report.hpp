#pragma once
// The outcome of a run: per-fleet numbers, totals and the verdict of the scenario's
// `expect` block, as the JSON of `--report` and as the human summary table.

#include <mqfleet/sim/run_stats.hpp>
#include <mqfleet/scenario/scenario.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace mqfleet::sim {

/// Why the run ended.
enum class StopReason { duration, messages, interrupted };

/// One line of the `expect` verdict.
struct ExpectResult {
  std::string name;   ///< "max_error_rate", "min_delivered", "max_command_rtt_p99"
  double limit = 0;   ///< fraction, or milliseconds for the round trip
  double actual = 0;  ///< same unit as limit
  bool passed = false;
  std::string note;   ///< why it could not be measured, if so
};

/// Everything a run produced.
struct RunReport {
  std::string scenario;
  std::uint64_t seed = 0;
  std::chrono::milliseconds elapsed{0};
  StopReason stop = StopReason::duration;
  std::vector<FleetReport> fleets;
  std::vector<ExpectResult> expectations;

  /// The sum over fleets.
  FleetReport totals() const;
  /// True when every expectation passed (and trivially without any).
  bool passed() const noexcept;
};

/// Judges `report` against `expect` and stores the verdict in report.expectations.
void evaluate_expectations(RunReport& report, const ExpectSpec& expect);

/// "duration", "messages" or "interrupted".
std::string to_string(StopReason reason);

/// The report as JSON (the `--report` file format, documented in scenarios/README.md).
std::string report_to_json(const RunReport& report, int indent = 2);

/// The human summary: one row per fleet plus totals, then the expectations.
std::string format_summary(const RunReport& report);

} // namespace mqfleet::sim
