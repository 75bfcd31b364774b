#include <mqfleet/sim/run_stats.hpp>

#include <algorithm>
#include <bit>
#include <cmath>

namespace mqfleet::sim {

std::size_t LatencyHistogram::bucket_of(std::uint64_t value) noexcept {
  // Values below 2^k_sub_bits get one bucket each; above, each power of two is split in
  // 2^k_sub_bits equal sub-buckets.
  constexpr std::uint64_t k_sub = 1u << k_sub_bits;
  if (value < k_sub) return static_cast<std::size_t>(value);
  const int exponent = std::bit_width(value) - 1; // >= k_sub_bits
  const int shift = exponent - k_sub_bits;
  const std::uint64_t sub = (value >> shift) - k_sub; // 0 .. k_sub-1
  return static_cast<std::size_t>((static_cast<std::uint64_t>(shift + 1) << k_sub_bits) + sub);
}

std::uint64_t LatencyHistogram::bucket_high(std::size_t bucket) noexcept {
  constexpr std::uint64_t k_sub = 1u << k_sub_bits;
  if (bucket < k_sub) return bucket;
  const std::uint64_t shift = (bucket >> k_sub_bits) - 1;
  const std::uint64_t sub = bucket & (k_sub - 1);
  return ((k_sub + sub + 1) << shift) - 1;
}

void LatencyHistogram::record(std::chrono::microseconds value) noexcept {
  const auto v = static_cast<std::uint64_t>(std::max<std::int64_t>(value.count(), 0));
  ++m_counts[std::min(bucket_of(v), m_counts.size() - 1)];
  ++m_count;
  m_max = std::max(m_max, v);
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  for (std::size_t i = 0; i < m_counts.size(); ++i) m_counts[i] += other.m_counts[i];
  m_count += other.m_count;
  m_max = std::max(m_max, other.m_max);
}

std::chrono::microseconds LatencyHistogram::percentile(double quantile) const noexcept {
  if (m_count == 0) return std::chrono::microseconds(0);
  const double q = std::clamp(quantile, 0.0, 1.0);
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(m_count))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < m_counts.size(); ++i) {
    seen += m_counts[i];
    if (seen >= rank) return std::chrono::microseconds(static_cast<std::int64_t>(std::min(bucket_high(i), m_max)));
  }
  return max();
}

std::uint64_t FleetReport::errors() const noexcept {
  return connect_failures + publish_failures + subscribe_failures + lost;
}

std::uint64_t FleetReport::operations() const noexcept { return connect_attempts + published + subscribes; }

void FleetReport::add(const FleetReport& o) {
  devices += o.devices;
  online += o.online;
  connect_attempts += o.connect_attempts;
  connects += o.connects;
  connect_failures += o.connect_failures;
  for (const auto& [reason, n] : o.connect_failure_reasons) connect_failure_reasons[reason] += n;
  lost += o.lost;
  drops += o.drops;
  offline_cycles += o.offline_cycles;
  published += o.published;
  telemetry += o.telemetry;
  acknowledged += o.acknowledged;
  publish_failures += o.publish_failures;
  subscribes += o.subscribes;
  subscribe_failures += o.subscribe_failures;
  commands_received += o.commands_received;
  commands_answered += o.commands_answered;
  commands_dropped += o.commands_dropped;
  command_rtt.merge(o.command_rtt);
}

FleetReport snapshot(const FleetCounters& c) {
  constexpr auto r = std::memory_order_relaxed;
  FleetReport out;
  out.online = c.online.load(r);
  out.connect_attempts = c.connect_attempts.load(r);
  out.connects = c.connects.load(r);
  out.connect_failures = c.connect_failures.load(r);
  out.lost = c.lost.load(r);
  out.drops = c.drops.load(r);
  out.offline_cycles = c.offline_cycles.load(r);
  out.published = c.published.load(r);
  out.telemetry = c.telemetry.load(r);
  out.acknowledged = c.acknowledged.load(r);
  out.publish_failures = c.publish_failures.load(r);
  out.subscribes = c.subscribes.load(r);
  out.subscribe_failures = c.subscribe_failures.load(r);
  out.commands_received = c.commands_received.load(r);
  out.commands_answered = c.commands_answered.load(r);
  out.commands_dropped = c.commands_dropped.load(r);
  return out;
}

} // namespace mqfleet::sim
