#pragma once
// An HDR-style log-linear latency histogram: exact below 2^(precision+1) µs, then
// 2^precision linear sub-buckets per power of two, so any recorded value is known to
// within 1 / 2^precision of itself (precision 7: 0.78 %). Fixed memory (grown up to the
// highest bucket touched, never beyond k_max_value), exact merge, JSON round trip.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <vector>

namespace mqfleet::bench {

/// Latency histogram in microseconds.
class LatencyHistogram {
public:
  /// Largest value kept apart; larger values are counted in the top bucket (max stays exact).
  static constexpr std::uint64_t k_max_value = (std::uint64_t{1} << 36) - 1; // ≈ 19 h
  /// Default precision: 128 sub-buckets per power of two, ≤ 0.78 % bucket width.
  static constexpr int k_default_precision = 7;

  /// `precision` is the number of sub-bucket bits (1..10); histograms merge only with
  /// histograms of the same precision.
  explicit LatencyHistogram(int precision = k_default_precision);

  /// Records one value (µs), `count` times.
  void record(std::uint64_t value_us, std::uint64_t count = 1);
  /// Adds every count of `other` (same precision, else ConfigError). Exact.
  void merge(const LatencyHistogram& other);
  /// Forgets everything.
  void clear();

  std::uint64_t count() const noexcept { return m_count; }
  /// Smallest / largest recorded value (exact); 0 when empty.
  std::uint64_t min() const noexcept { return m_count ? m_min : 0; }
  std::uint64_t max() const noexcept { return m_max; }
  /// Exact mean (sum / count); 0 when empty.
  double mean() const noexcept;
  int precision() const noexcept { return m_precision; }

  /// The value at percentile `p` (0..100): the midpoint of the bucket holding the
  /// ceil(p/100·count)-th smallest value, clamped to [min, max]. 0 when empty.
  std::uint64_t percentile(double p) const noexcept;

  /// Bucket index of a value, and the [lowest, highest] values a bucket holds.
  std::size_t index_of(std::uint64_t value) const noexcept;
  std::uint64_t bucket_lowest(std::size_t index) const noexcept;
  std::uint64_t bucket_highest(std::size_t index) const noexcept;

  /// Sparse JSON: {"unit":"us","precision","count","min","max","sum","buckets":[[i,n],...]}.
  nlohmann::json to_json() const;
  /// Inverse of to_json(); throws ConfigError on malformed input.
  static LatencyHistogram from_json(const nlohmann::json& json);

  bool operator==(const LatencyHistogram& other) const;

private:
  int m_precision;
  std::vector<std::uint64_t> m_counts;
  std::uint64_t m_count = 0;
  std::uint64_t m_min = 0;
  std::uint64_t m_max = 0;
  std::uint64_t m_sum = 0; ///< exact (overflows after ≈ 584,000 years of latency)
};

} // namespace mqfleet::bench
