#pragma once
// What a run counts: per-fleet counters (atomics, so the live status line can read them
// while shards update them), a latency histogram with bounded memory, and the plain
// snapshot that reports are made of.

#include <mqfleet/bench/histogram.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace mqfleet::sim {

/// Command round trips are kept in libbench's histogram (microseconds, ≤ 0.78 % bucket
/// width, exact merge and JSON round trip), so shard reports combine exactly.
using LatencyHistogram = bench::LatencyHistogram;

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
  std::uint64_t devices = 0;       ///< devices this report covers (its shard's slice of the fleet)
  std::uint64_t fleet_devices = 0; ///< devices of the whole fleet (the scenario's count)
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
  LatencyHistogram command_rtt{LatencyHistogram::k_default_precision}; ///< µs, receive → reply done

  /// Failed operations: connect, publish and subscribe failures plus lost connections.
  std::uint64_t errors() const noexcept;
  /// Attempted operations: connects, publishes and subscribes.
  std::uint64_t operations() const noexcept;
  /// Adds another report's numbers (for totals and merged shards).
  void add(const FleetReport& other);
};

/// Reads the counters into a report (name, devices, reasons and histogram not included).
FleetReport snapshot(const FleetCounters& counters);

} // namespace mqfleet::sim
