// LatencyHistogram: accuracy against a known distribution, exact merge, JSON round trip.
#include <mqfleet/bench/histogram.hpp>
#include <mqfleet/error.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

using mqfleet::bench::LatencyHistogram;

namespace {

/// The exact percentile by the same rank rule as the histogram: the ceil(p/100·n)-th smallest.
std::uint64_t exact_percentile(std::vector<std::uint64_t> sorted, double p) {
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

std::vector<std::uint64_t> lognormal_sample(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> dist(std::log(2000.0), 1.5); // median 2 ms, long tail
  std::vector<std::uint64_t> values(n);
  for (auto& v : values) {
    v = static_cast<std::uint64_t>(dist(rng)) + 1;
  }
  return values;
}

} // namespace

TEST(BenchHistogram, EveryValueMapsToABucketThatHoldsIt) {
  LatencyHistogram h;
  const std::uint64_t values[] = {0, 1, 255, 256, 257, 511, 512, 1000, 123456789, LatencyHistogram::k_max_value};
  for (const std::uint64_t v : values) {
    const std::size_t i = h.index_of(v);
    EXPECT_LE(h.bucket_lowest(i), v) << v;
    EXPECT_GE(h.bucket_highest(i), v) << v;
    // Below 256 every bucket holds one value; above, a bucket is at most 1/128 of its values wide.
    const double spread = static_cast<double>(h.bucket_highest(i) - h.bucket_lowest(i));
    EXPECT_LE(spread / static_cast<double>(std::max<std::uint64_t>(v, 1)), 1.0 / 128) << v;
  }
  // Indexes are contiguous and increasing.
  for (std::size_t i = 1; i < 5000; ++i) {
    EXPECT_EQ(h.bucket_lowest(i), h.bucket_highest(i - 1) + 1) << i;
  }
}

TEST(BenchHistogram, PercentilesWithinOnePercentOfAKnownDistribution) {
  const auto values = lognormal_sample(200000, 42);
  LatencyHistogram h;
  for (auto v : values) {
    h.record(v);
  }
  auto sorted = values;
  std::sort(sorted.begin(), sorted.end());
  ASSERT_EQ(h.count(), values.size());
  EXPECT_EQ(h.min(), sorted.front());
  EXPECT_EQ(h.max(), sorted.back());
  long double sum = 0;
  for (auto v : values) {
    sum += static_cast<long double>(v);
  }
  EXPECT_NEAR(h.mean(), static_cast<double>(sum / static_cast<long double>(values.size())), 1e-6);
  for (double p : {0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    const auto exact = static_cast<double>(exact_percentile(sorted, p));
    const auto got = static_cast<double>(h.percentile(p));
    EXPECT_LE(std::abs(got - exact) / exact, 0.01) << "p" << p << " exact " << exact << " got " << got;
  }
}

TEST(BenchHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (std::uint64_t v = 0; v < 256; ++v) {
    h.record(v);
  }
  EXPECT_EQ(h.percentile(50), 127U);
  EXPECT_EQ(h.percentile(100), 255U);
}

TEST(BenchHistogram, MergeIsExact) {
  const auto values = lognormal_sample(50000, 7);
  LatencyHistogram whole, a, b, c;
  for (std::size_t i = 0; i < values.size(); ++i) {
    whole.record(values[i]);
    (i % 3 == 0 ? a : i % 3 == 1 ? b : c).record(values[i]);
  }
  LatencyHistogram merged;
  merged.merge(a);
  merged.merge(b);
  merged.merge(c);
  EXPECT_EQ(merged, whole);
  EXPECT_EQ(merged.mean(), whole.mean());
  for (double p : {50.0, 99.0, 99.9}) {
    EXPECT_EQ(merged.percentile(p), whole.percentile(p));
  }
}

TEST(BenchHistogram, MergeRefusesAnotherPrecision) {
  LatencyHistogram a(7), b(5);
  b.record(10);
  EXPECT_THROW(a.merge(b), mqfleet::ConfigError);
}

TEST(BenchHistogram, JsonRoundTrip) {
  LatencyHistogram h;
  for (auto v : lognormal_sample(10000, 3)) {
    h.record(v);
  }
  h.record(LatencyHistogram::k_max_value * 4); // clamped into the top bucket, max exact
  const auto back = LatencyHistogram::from_json(nlohmann::json::parse(h.to_json().dump()));
  EXPECT_EQ(back, h);
  EXPECT_EQ(back.max(), LatencyHistogram::k_max_value * 4);
  EXPECT_EQ(back.percentile(99.9), h.percentile(99.9));
  EXPECT_EQ(LatencyHistogram::from_json(LatencyHistogram().to_json()), LatencyHistogram());
}

TEST(BenchHistogram, MalformedJsonIsAConfigError) {
  auto j = LatencyHistogram().to_json();
  j["count"] = 3;
  EXPECT_THROW(LatencyHistogram::from_json(j), mqfleet::ConfigError);
  EXPECT_THROW(LatencyHistogram::from_json(nlohmann::json::object()), mqfleet::ConfigError);
}

TEST(BenchHistogram, EmptyHistogramReportsZeros) {
  LatencyHistogram h;
  EXPECT_EQ(h.percentile(99), 0U);
  EXPECT_EQ(h.min(), 0U);
  EXPECT_EQ(h.mean(), 0.0);
}
