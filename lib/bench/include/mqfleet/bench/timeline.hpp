#pragma once
// A per-second timeline keyed by wall-clock (Unix) seconds, so timelines recorded by
// different processes line up when merged. Each second keeps its counters and a
// coarse latency histogram (precision 5: ≤ 3.2 % bucket width) for p50/p99.

#include <mqfleet/bench/histogram.hpp>

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <deque>

namespace mqfleet::bench {

/// What happened during one wall-clock second.
struct TimelineSecond {
  static constexpr int k_precision = 5;
  std::int64_t second = 0;          ///< Unix time, seconds
  std::uint64_t sent = 0;           ///< PUBLISH written
  std::uint64_t acked = 0;          ///< QoS ≥ 1 acknowledgements received
  std::uint64_t received = 0;       ///< PUBLISH received by subscribers
  std::uint64_t connects = 0;       ///< CONNACK accepted
  std::uint64_t errors = 0;         ///< connect failures, lost connections, refusals
  LatencyHistogram latency{k_precision}; ///< end-to-end (or ack, or connect) latency

  /// Adds `other`'s counts (same second).
  void merge(const TimelineSecond& other);
};

/// Seconds in order, without holes between the first and the last one recorded.
class Timeline {
public:
  /// The entry for Unix second `second` (created, with the holes before it, if needed).
  TimelineSecond& at(std::int64_t second);
  /// Adds every second of `other`, aligned by wall-clock second. Exact.
  void merge(const Timeline& other);
  const std::deque<TimelineSecond>& seconds() const noexcept { return m_seconds; }
  bool empty() const noexcept { return m_seconds.empty(); }

  /// [{"t","sent","acked","received","connects","errors","p50_us","p99_us","latency":{...}}].
  nlohmann::json to_json() const;
  /// Inverse of to_json(); throws ConfigError on malformed input.
  static Timeline from_json(const nlohmann::json& json);

private:
  std::deque<TimelineSecond> m_seconds;
};

} // namespace mqfleet::bench
