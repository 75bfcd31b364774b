#pragma once
// The outcome of a run: per-fleet numbers, totals and the verdict of the scenario's
// `expect` block, as the JSON of `--report` and as the human summary table.

#include <mqfleet/bench/shard.hpp>
#include <mqfleet/sim/run_stats.hpp>
#include <mqfleet/scenario/scenario.hpp>

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
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

/// Everything a run produced (one process, one `--shard`, or several merged).
struct RunReport {
  static constexpr int k_format_version = 2;
  std::string scenario;
  /// Identifies the scenario file (a digest of its bytes and of --scale); reports of
  /// different digests are of different scenarios and do not merge. Empty: unknown.
  std::string scenario_digest;
  std::uint64_t seed = 0;
  /// The `--shard` slices this report covers: {0/1} for a whole run, several once merged.
  std::vector<bench::Shard> shards{bench::Shard{}};
  std::int64_t start_unix_ms = 0;         ///< wall clock at elapsed 0 (the common start with --start-at)
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

/// Reads a report back from its JSON (exact: counters, histograms, expectation limits).
/// Throws ConfigError naming `where` when it is not a `sim --report` file.
RunReport report_from_json(const nlohmann::json& json, const std::string& where);

/// Reads the `--report` file at `path` (report_from_json). Throws ConfigError naming it.
RunReport read_report(const std::filesystem::path& path);

/// A report and the file it came from (named in merge errors).
using NamedReport = std::pair<std::string, RunReport>;

/// Combines the reports of shards of one run exactly: counters and round-trip histograms
/// summed per fleet, the window from the earliest start to the latest end, and the
/// scenario's `expect` limits (carried in each report) judged again on the merged totals.
/// Throws ConfigError naming the files when the reports are of different scenarios (name,
/// digest, seed, fleets or limits differ) or when their shards share a device.
RunReport merge_reports(const std::vector<NamedReport>& reports);

/// The human summary: one row per fleet plus totals, then the expectations.
std::string format_summary(const RunReport& report);

} // namespace mqfleet::sim
