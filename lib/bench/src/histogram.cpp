#include <mqfleet/bench/histogram.hpp>

#include <mqfleet/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>

namespace mqfleet::bench {

LatencyHistogram::LatencyHistogram(int precision) : m_precision(precision) {
  if (precision < 1 || precision > 10) {
    throw ConfigError("histogram precision " + std::to_string(precision) + " is out of range",
                      "histogram", "use 1..10 sub-bucket bits");
  }
}

std::size_t LatencyHistogram::index_of(std::uint64_t value) const noexcept {
  value = std::min(value, k_max_value);
  const auto b = static_cast<unsigned>(m_precision);
  const std::uint64_t exact_limit = std::uint64_t{2} << b;
  if (value < exact_limit) {
    return static_cast<std::size_t>(value);
  }
  const unsigned e = 63U - static_cast<unsigned>(std::countl_zero(value));
  const unsigned shift = e - b;
  const std::uint64_t mantissa = value >> shift; // in [2^b, 2^(b+1))
  return static_cast<std::size_t>(exact_limit + (std::uint64_t{e} - b - 1) * (std::uint64_t{1} << b) +
                                  (mantissa - (std::uint64_t{1} << b)));
}

std::uint64_t LatencyHistogram::bucket_lowest(std::size_t index) const noexcept {
  const auto b = static_cast<unsigned>(m_precision);
  const std::uint64_t exact_limit = std::uint64_t{2} << b;
  if (index < exact_limit) {
    return index;
  }
  const std::uint64_t rest = index - exact_limit;
  const std::uint64_t octave = rest >> b; // e - b - 1
  const std::uint64_t mantissa = (std::uint64_t{1} << b) + (rest & ((std::uint64_t{1} << b) - 1));
  return mantissa << (octave + 1);
}

std::uint64_t LatencyHistogram::bucket_highest(std::size_t index) const noexcept {
  const auto b = static_cast<unsigned>(m_precision);
  const std::uint64_t exact_limit = std::uint64_t{2} << b;
  if (index < exact_limit) {
    return index;
  }
  const std::uint64_t octave = (index - exact_limit) >> b;
  return bucket_lowest(index) + (std::uint64_t{1} << (octave + 1)) - 1;
}

void LatencyHistogram::record(std::uint64_t value_us, std::uint64_t count) {
  if (count == 0) {
    return;
  }
  const std::size_t index = index_of(value_us);
  if (index >= m_counts.size()) {
    // Grow in octaves so the vector is resized a few dozen times at most.
    m_counts.resize(std::max(index + 1, m_counts.size() + (std::size_t{1} << m_precision)), 0);
  }
  m_counts[index] += count;
  m_min = m_count == 0 ? value_us : std::min(m_min, value_us);
  m_max = std::max(m_max, value_us);
  m_count += count;
  m_sum += value_us * count;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.m_precision != m_precision) {
    throw ConfigError("cannot merge histograms of precision " + std::to_string(m_precision) + " and " +
                          std::to_string(other.m_precision),
                      "histogram", "merge reports written by the same mqfleet version");
  }
  if (other.m_count == 0) {
    return;
  }
  if (other.m_counts.size() > m_counts.size()) {
    m_counts.resize(other.m_counts.size(), 0);
  }
  for (std::size_t i = 0; i < other.m_counts.size(); ++i) {
    m_counts[i] += other.m_counts[i];
  }
  m_min = m_count == 0 ? other.m_min : std::min(m_min, other.m_min);
  m_max = std::max(m_max, other.m_max);
  m_count += other.m_count;
  m_sum += other.m_sum;
}

void LatencyHistogram::clear() {
  m_counts.clear();
  m_count = 0;
  m_min = 0;
  m_max = 0;
  m_sum = 0;
}

double LatencyHistogram::mean() const noexcept {
  return m_count ? static_cast<double>(m_sum) / static_cast<double>(m_count) : 0.0;
}

std::uint64_t LatencyHistogram::percentile(double p) const noexcept {
  if (m_count == 0) {
    return 0;
  }
  p = std::clamp(p, 0.0, 100.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(m_count)));
  rank = std::clamp<std::uint64_t>(rank, 1, m_count);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < m_counts.size(); ++i) {
    seen += m_counts[i];
    if (seen >= rank) {
      const std::uint64_t mid = bucket_lowest(i) + (bucket_highest(i) - bucket_lowest(i)) / 2;
      return std::clamp(mid, min(), m_max);
    }
  }
  return m_max;
}

nlohmann::json LatencyHistogram::to_json() const {
  nlohmann::json buckets = nlohmann::json::array();
  for (std::size_t i = 0; i < m_counts.size(); ++i) {
    if (m_counts[i] != 0) {
      buckets.push_back(nlohmann::json::array({i, m_counts[i]}));
    }
  }
  return {{"unit", "us"},           {"precision", m_precision}, {"count", m_count},
          {"min", min()},           {"max", m_max},             {"sum", m_sum},
          {"buckets", std::move(buckets)}};
}

LatencyHistogram LatencyHistogram::from_json(const nlohmann::json& json) {
  try {
    LatencyHistogram h(json.at("precision").get<int>());
    if (json.value("unit", "us") != "us") {
      throw ConfigError("histogram unit is not \"us\"", "histogram", "");
    }
    for (const auto& pair : json.at("buckets")) {
      const auto index = pair.at(0).get<std::size_t>();
      const auto n = pair.at(1).get<std::uint64_t>();
      if (index > h.index_of(k_max_value)) {
        throw ConfigError("histogram bucket index " + std::to_string(index) + " is out of range", "histogram", "");
      }
      if (index >= h.m_counts.size()) {
        h.m_counts.resize(index + 1, 0);
      }
      h.m_counts[index] += n;
      h.m_count += n;
    }
    if (h.m_count != json.at("count").get<std::uint64_t>()) {
      throw ConfigError("histogram count does not match its buckets", "histogram", "");
    }
    h.m_min = json.at("min").get<std::uint64_t>();
    h.m_max = json.at("max").get<std::uint64_t>();
    h.m_sum = json.at("sum").get<std::uint64_t>();
    return h;
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(std::string("malformed histogram: ") + e.what(), "histogram",
                      "the report file must be written by mqfleet bench --report");
  }
}

bool LatencyHistogram::operator==(const LatencyHistogram& other) const {
  if (m_precision != other.m_precision || m_count != other.m_count || min() != other.min() ||
      m_max != other.m_max || m_sum != other.m_sum) {
    return false;
  }
  const std::size_t n = std::max(m_counts.size(), other.m_counts.size());
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t a = i < m_counts.size() ? m_counts[i] : 0;
    const std::uint64_t c = i < other.m_counts.size() ? other.m_counts[i] : 0;
    if (a != c) {
      return false;
    }
  }
  return true;
}

} // namespace mqfleet::bench
