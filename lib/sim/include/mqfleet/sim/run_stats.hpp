#pragma once
// What a run counts: per-fleet counters (atomics, so the live status line can read them
// while shards update them), a latency histogram with bounded memory, and the plain
// snapshot that reports are made of.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace mqfleet::sim {

/// A log-linear histogram of durations in microseconds: 32 sub-buckets per power of two
/// (about 3 % relative error), fixed size whatever the number of samples.
class LatencyHistogram {
public:
  /// Adds one sample.
  void record(std::chrono::microseconds value) noexcept;
  /// Adds every sample of `other`.
  void merge(const LatencyHistogram& other) noexcept;
  /// Samples recorded.
  std::uint64_t count() const noexcept { return m_count; }
  /// The value below which `quantile` (0..1) of the samples fall; 0 without samples.
  std::chrono::microseconds percentile(double quantile) const noexcept;
  /// The largest sample.
  std::chrono::microseconds max() const noexcept { return std::chrono::microseconds(m_max); }

private:
  static constexpr int k_sub_bits = 5;
  static constexpr int k_buckets = (64 - k_sub_bits + 1) << k_sub_bits;
  static std::size_t bucket_of(std::uint64_t value) noexcept;
  static std::uint64_t bucket_high(std::size_t bucket) noexcept;

  std::array<std::uint64_t, k_buckets> m_counts{};
  std::uint64_t m_count = 0;
  std::uint64_t m_max = 0;
};

/// Counters of one fleet, updated by the shard threads.
struct FleetCounters {
  std::atomic<std::uint64_t> online{0};            ///< devices connected right now
  std::atomic<std::uint64_t> connect_attempts{0};
  std::atomic<std::uint64_t> connects{0};          ///< accepted CONNACKs
  std::atomic<std::uint64_t> connect_failures{0};
  std::atomic<std::uint64_t> lost{0};              ///< connections closed without being asked to
  std::atomic<std::uint64_t> drops{0};             ///< abrupt closes the scenario asked for (drops, storms)
  std::atomic<std::uint64_t> offline_cycles{0};    ///< clean offline periods
  std::atomic<std::uint64_t> published{0};         ///< every PUBLISH handed to the engine
  std::atomic<std::uint64_t> telemetry{0};         ///< of which telemetry
  std::atomic<std::uint64_t> acknowledged{0};      ///< completed (QoS 0: written)
  std::atomic<std::uint64_t> publish_failures{0};  ///< refused, or unacknowledged when the connection closed
  std::atomic<std::uint64_t> subscribes{0};
  std::atomic<std::uint64_t> subscribe_failures{0};
  std::atomic<std::uint64_t> commands_received{0};
  std::atomic<std::uint64_t> commands_answered{0};
  std::atomic<std::uint64_t> commands_dropped{0};  ///< arrived while too many were pending, or unanswered at the end
};

/// Plain copy of one fleet's results.
struct FleetReport {
  std::string name;
  std::uint64_t devices = 0;
  std::uint64_t online = 0;
  std::uint64_t connect_attempts = 0;
  std::uint64_t connects = 0;
  std::uint64_t connect_failures = 0;
  std::map<std::string, std::uint64_t> connect_failure_reasons;
  std::uint64_t lost = 0;
  std::uint64_t drops = 0;
  std::uint64_t offline_cycles = 0;
  std::uint64_t published = 0;
  std::uint64_t telemetry = 0;
  std::uint64_t acknowledged = 0;
  std::uint64_t publish_failures = 0;
  std::uint64_t subscribes = 0;
  std::uint64_t subscribe_failures = 0;
  std::uint64_t commands_received = 0;
  std::uint64_t commands_answered = 0;
  std::uint64_t commands_dropped = 0;
  LatencyHistogram command_rtt;

  /// Failed operations: connect, publish and subscribe failures plus lost connections.
  std::uint64_t errors() const noexcept;
  /// Attempted operations: connects, publishes and subscribes.
  std::uint64_t operations() const noexcept;
  /// Adds another report's numbers (for totals).
  void add(const FleetReport& other);
};

/// Reads the counters into a report (name, devices, reasons and histogram not included).
FleetReport snapshot(const FleetCounters& counters);

} // namespace mqfleet::sim
