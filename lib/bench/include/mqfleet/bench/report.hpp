#pragma once
// The report of one bench run (or of several merged): configuration, counters per QoS,
// connect outcomes by reason, latency histograms and the per-second timeline. JSON
// write/read is lossless, and merge() is exact, so shards run on different machines
// combine into the report one big run would have produced.

#include <mqfleet/bench/histogram.hpp>
#include <mqfleet/bench/sequence.hpp>
#include <mqfleet/bench/timeline.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mqfleet::bench {

/// Message counters for one QoS level.
struct QosCounters {
  std::uint64_t sent = 0;       ///< PUBLISH written by publishers
  std::uint64_t acked = 0;      ///< PUBACK/PUBCOMP received (QoS ≥ 1)
  std::uint64_t failed = 0;     ///< negative acknowledgements, unacknowledged at the end
  SequenceCounts seen;          ///< what subscribers received, lost, duplicated, reordered
  QosCounters& operator+=(const QosCounters& other) noexcept;
  bool operator==(const QosCounters&) const = default;
};

/// Connection outcomes.
struct ConnectCounters {
  std::uint64_t attempted = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t lost = 0;                          ///< dropped after CONNACK
  std::map<std::string, std::uint64_t> failures;   ///< reason ("0x87 not authorized", "tcp: ...") → count
  std::uint64_t failed() const noexcept;
  ConnectCounters& operator+=(const ConnectCounters& other);
  bool operator==(const ConnectCounters&) const = default;
};

/// Names of the histograms a report may hold.
namespace histogram_name {
inline constexpr const char* k_latency = "latency";  ///< pubsub end-to-end, from intended send time
inline constexpr const char* k_ack = "ack";          ///< publish → PUBACK/PUBCOMP
inline constexpr const char* k_connect = "connect";  ///< TCP/TLS + CONNECT → CONNACK
} // namespace histogram_name

/// A bench report.
struct Report {
  static constexpr int k_format_version = 1;
  std::string mode;                         ///< conn, pub, sub, pubsub
  nlohmann::json config = nlohmann::json::object(); ///< the options, secrets removed
  std::vector<std::string> shards;          ///< "K/N" of every shard merged in
  std::int64_t start_unix_ms = 0;           ///< measurement window (after warmup)
  std::int64_t end_unix_ms = 0;
  std::uint64_t clients = 0;                ///< clients this report covers
  double cpu_seconds = 0;                   ///< generator CPU (user + system) over the whole run
  std::array<QosCounters, 3> qos{};         ///< by QoS 0, 1, 2
  ConnectCounters connect;
  std::map<std::string, LatencyHistogram> histograms;
  Timeline timeline;

  /// The histogram `name`, created empty if missing.
  LatencyHistogram& histogram(const std::string& name);
  /// Measurement window in seconds (≥ 0.001 to keep rates finite).
  double seconds() const noexcept;
  /// Sums over the QoS levels.
  QosCounters total() const noexcept;

  nlohmann::json to_json() const;
  /// Inverse of to_json(); throws ConfigError (with `where`) on malformed input.
  static Report from_json(const nlohmann::json& json, const std::string& where = "report");
};

/// Merges shard reports exactly: counters and histograms summed, timelines aligned by
/// wall-clock second, the window from the earliest start to the latest end. Throws
/// ConfigError when the reports are of different modes or empty.
Report merge(const std::vector<Report>& reports);

/// A report and the file it was read from.
using NamedReport = std::pair<std::string, Report>;

/// `bench merge`: merge() of the reports of shards read from files, after refusing (ConfigError
/// naming both files) reports whose shards overlap — the same K/N twice, or slices of
/// different N sharing a client (check_disjoint over the run's clients and subscribers).
Report merge_shards(const std::vector<NamedReport>& reports);

/// Writes `report` as JSON (atomically: temp file + rename). Throws ConfigError.
void write_report(const std::filesystem::path& path, const Report& report);
/// Reads a report written by write_report(). Throws ConfigError naming the file.
Report read_report(const std::filesystem::path& path);

/// The human summary table printed at the end of a run.
std::string format_summary(const Report& report);

} // namespace mqfleet::bench
