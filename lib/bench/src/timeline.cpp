#include <mqfleet/bench/timeline.hpp>

#include <mqfleet/error.hpp>

#include <nlohmann/json.hpp>

namespace mqfleet::bench {

void TimelineSecond::merge(const TimelineSecond& other) {
  sent += other.sent;
  acked += other.acked;
  received += other.received;
  connects += other.connects;
  errors += other.errors;
  latency.merge(other.latency);
}

TimelineSecond& Timeline::at(std::int64_t second) {
  if (m_seconds.empty()) {
    m_seconds.emplace_back().second = second;
    return m_seconds.back();
  }
  while (second < m_seconds.front().second) {
    const std::int64_t before = m_seconds.front().second - 1;
    m_seconds.emplace_front().second = before;
  }
  while (second > m_seconds.back().second) {
    const std::int64_t after = m_seconds.back().second + 1;
    m_seconds.emplace_back().second = after;
  }
  return m_seconds[static_cast<std::size_t>(second - m_seconds.front().second)];
}

void Timeline::merge(const Timeline& other) {
  for (const TimelineSecond& s : other.m_seconds) {
    at(s.second).merge(s);
  }
}

nlohmann::json Timeline::to_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const TimelineSecond& s : m_seconds) {
    out.push_back({{"t", s.second},
                   {"sent", s.sent},
                   {"acked", s.acked},
                   {"received", s.received},
                   {"connects", s.connects},
                   {"errors", s.errors},
                   {"p50_us", s.latency.percentile(50)},
                   {"p99_us", s.latency.percentile(99)},
                   {"latency", s.latency.to_json()}});
  }
  return out;
}

Timeline Timeline::from_json(const nlohmann::json& json) {
  Timeline t;
  try {
    for (const auto& j : json) {
      TimelineSecond s;
      s.second = j.at("t").get<std::int64_t>();
      s.sent = j.at("sent").get<std::uint64_t>();
      s.acked = j.at("acked").get<std::uint64_t>();
      s.received = j.at("received").get<std::uint64_t>();
      s.connects = j.at("connects").get<std::uint64_t>();
      s.errors = j.at("errors").get<std::uint64_t>();
      s.latency = LatencyHistogram::from_json(j.at("latency"));
      t.at(s.second).merge(s);
    }
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(std::string("malformed timeline: ") + e.what(), "timeline",
                      "the report file must be written by mqfleet bench --report");
  }
  return t;
}

} // namespace mqfleet::bench
