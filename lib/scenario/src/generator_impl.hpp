#pragma once
// The concrete generators, built from JSON by generator_parse.cpp. Each one is small enough
// to read as a unit, so the rendering code sits in the class.

#include <mqfleet/scenario/generators.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <numbers>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mqfleet::sim::detail {

/// Appends `value` rounded to `decimals` places (an integer when 0), never "-0".
inline void append_number(std::string& out, double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  double rounded = std::round(value * scale) / scale;
  if (rounded == 0) rounded = 0; // no "-0.00"
  char buffer[64];
  const int n = std::snprintf(buffer, sizeof buffer, "%.*f", decimals, rounded);
  out.append(buffer, static_cast<std::size_t>(std::max(0, n)));
}

/// A number written as a constant or as {"ref": "field"} (a device field).
struct NumberParam {
  double constant = 0;
  int field = -1;
  double get(const DeviceState* device) const {
    if (field >= 0 && device && static_cast<std::size_t>(field) < device->fields.size()) {
      if (const auto& n = device->fields[static_cast<std::size_t>(field)].number) return *n;
    }
    return constant;
  }
};

class Counter final : public Generator {
public:
  double start = 0, step = 1;
  int decimals = 0;
  std::string_view type() const noexcept override { return "counter"; }
  void render(GeneratorState& s, const RenderContext&, std::string& out) const override {
    append_number(out, start + step * static_cast<double>(s.count++), decimals);
  }
};

class Uniform final : public Generator {
public:
  double min = 0, max = 1;
  int decimals = 2;
  std::string_view type() const noexcept override { return "uniform"; }
  void render(GeneratorState& s, const RenderContext&, std::string& out) const override {
    ++s.count;
    if (decimals == 0 && std::floor(min) == min && std::floor(max) == max) {
      const auto span = static_cast<std::uint64_t>(max - min) + 1;
      append_number(out, min + static_cast<double>(s.rng.below(span)), 0);
      return;
    }
    append_number(out, std::clamp(s.rng.uniform(min, max), min, max), decimals);
  }
};

class Normal final : public Generator {
public:
  NumberParam mean;
  double stddev = 1;
  std::optional<std::pair<double, double>> clamp;
  int decimals = 2;
  std::string_view type() const noexcept override { return "normal"; }
  void render(GeneratorState& s, const RenderContext& c, std::string& out) const override {
    ++s.count;
    double v = mean.get(c.device) + stddev * s.rng.normal();
    if (clamp) v = std::clamp(v, clamp->first, clamp->second);
    append_number(out, v, decimals);
  }
};

class RandomWalk final : public Generator {
public:
  double start = 0, step = 1, min = 0, max = 1, pull = 0;
  std::optional<NumberParam> target;
  int decimals = 2;
  std::string_view type() const noexcept override { return "random_walk"; }
  void init(GeneratorState& s, const DeviceState*) const override { s.value = start; }
  void render(GeneratorState& s, const RenderContext& c, std::string& out) const override {
    if (s.count++ > 0) {
      double v = s.value + s.rng.uniform(-step, step);
      if (target) v += pull * (target->get(c.device) - s.value);
      s.value = std::clamp(v, min, max);
    }
    append_number(out, s.value, decimals);
  }
};

class Sine final : public Generator {
public:
  double period_ms = 60'000, amplitude = 1, noise = 0, phase_ms = 0;
  bool random_phase = false;
  NumberParam offset;
  int decimals = 2;
  std::string_view type() const noexcept override { return "sine"; }
  void init(GeneratorState& s, const DeviceState*) const override {
    s.aux = random_phase ? s.rng.uniform(0, period_ms) : phase_ms;
  }
  void render(GeneratorState& s, const RenderContext& c, std::string& out) const override {
    ++s.count;
    const double t = static_cast<double>(c.elapsed.count()) + s.aux;
    double v = offset.get(c.device) + amplitude * std::sin(2 * std::numbers::pi * t / period_ms);
    if (noise > 0) v += noise * s.rng.normal();
    append_number(out, v, decimals);
  }
};

class Choice final : public Generator {
public:
  std::vector<std::string> values; ///< JSON texts
  std::vector<double> cumulative;  ///< running sums of the weights
  std::string_view type() const noexcept override { return "choice"; }
  void render(GeneratorState& s, const RenderContext&, std::string& out) const override {
    ++s.count;
    const double r = s.rng.uniform() * cumulative.back();
    const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), r);
    const auto i = std::min<std::size_t>(static_cast<std::size_t>(it - cumulative.begin()), values.size() - 1);
    out += values[i];
  }
};

class Bool final : public Generator {
public:
  double probability = 0.5;
  std::string_view type() const noexcept override { return "bool"; }
  void render(GeneratorState& s, const RenderContext&, std::string& out) const override {
    ++s.count;
    out += s.rng.chance(probability) ? "true" : "false";
  }
};

class Timestamp final : public Generator {
public:
  enum class Format { ms, s, iso } format = Format::ms;
  std::string_view type() const noexcept override { return "timestamp"; }
  void render(GeneratorState& s, const RenderContext& c, std::string& out) const override {
    ++s.count;
    if (format == Format::ms) {
      out += std::to_string(c.unix_ms);
    } else if (format == Format::s) {
      out += std::to_string(c.unix_ms / 1000);
    } else {
      const std::int64_t ms = ((c.unix_ms % 1000) + 1000) % 1000;
      const std::time_t seconds = static_cast<std::time_t>((c.unix_ms - ms) / 1000);
      std::tm tm{};
      gmtime_r(&seconds, &tm);
      char buffer[48];
      const std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
      char millis[8];
      std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(ms));
      out += '"';
      out.append(buffer, n);
      out += millis;
      out += '"';
    }
  }
};

class GpsTrack final : public Generator {
public:
  std::vector<std::pair<double, double>> points; ///< lat, lon; closed when looping
  std::vector<double> cumulative_m;              ///< distance from points[0] to points[i]
  double speed_mps = 10, wander_m = 0;
  bool loop = true, random_start = false;
  int decimals = 6;

  void finish() {
    if (loop && points.front() != points.back()) points.push_back(points.front());
    cumulative_m.assign(1, 0.0);
    for (std::size_t i = 1; i < points.size(); ++i)
      cumulative_m.push_back(cumulative_m.back() + haversine_m(points[i - 1].first, points[i - 1].second,
                                                               points[i].first, points[i].second));
  }
  std::string_view type() const noexcept override { return "gps_track"; }
  void init(GeneratorState& s, const DeviceState*) const override {
    s.value = random_start ? s.rng.uniform(0, cumulative_m.back()) : 0;
  }
  std::pair<double, double> position_at(double distance_m) const {
    const double length = cumulative_m.back();
    if (length <= 0) return points.front();
    if (loop) {
      distance_m = std::fmod(distance_m, length);
    } else {
      distance_m = std::fmod(distance_m, 2 * length); // there and back again
      if (distance_m > length) distance_m = 2 * length - distance_m;
    }
    const auto it = std::upper_bound(cumulative_m.begin(), cumulative_m.end(), distance_m);
    const std::size_t i = std::min<std::size_t>(static_cast<std::size_t>(it - cumulative_m.begin()), points.size() - 1);
    const double segment = cumulative_m[i] - cumulative_m[i - 1];
    const double f = segment > 0 ? (distance_m - cumulative_m[i - 1]) / segment : 0;
    return {points[i - 1].first + f * (points[i].first - points[i - 1].first),
            points[i - 1].second + f * (points[i].second - points[i - 1].second)};
  }
  void render(GeneratorState& s, const RenderContext& c, std::string& out) const override {
    ++s.count;
    auto [lat, lon] = position_at(s.value + speed_mps * static_cast<double>(c.elapsed.count()) / 1000.0);
    if (wander_m > 0) {
      constexpr double k_m_per_degree = 111'320.0;
      lat += wander_m * s.rng.normal() / k_m_per_degree;
      lon += wander_m * s.rng.normal() / (k_m_per_degree * std::max(0.01, std::cos(lat * std::numbers::pi / 180)));
    }
    out += "{\"lat\":";
    append_number(out, lat, decimals);
    out += ",\"lon\":";
    append_number(out, lon, decimals);
    out += '}';
  }
};

class Battery final : public Generator {
public:
  double capacity = 100, start = 100, drain_per_hour = 10, recharge_below = 10, recharge_per_hour = 100;
  bool random_start = false;
  int decimals = 1;
  std::string_view type() const noexcept override { return "battery"; }
  void init(GeneratorState& s, const DeviceState*) const override {
    s.value = random_start ? s.rng.uniform(recharge_below, capacity) : start;
    s.aux = 0;
  }
  void render(GeneratorState& s, const RenderContext& c, std::string& out) const override {
    const double hours = s.count++ == 0 ? 0 : static_cast<double>(c.elapsed.count() - s.last_ms) / 3'600'000.0;
    s.last_ms = c.elapsed.count();
    if (hours > 0) {
      if (s.aux != 0) {
        s.value += recharge_per_hour * hours;
        if (s.value >= capacity) {
          s.value = capacity;
          s.aux = 0;
        }
      } else {
        s.value = std::max(0.0, s.value - drain_per_hour * hours);
        if (s.value < recharge_below) s.aux = 1;
      }
    }
    append_number(out, s.value, decimals);
  }
};

class FieldRef final : public Generator {
public:
  std::size_t slot = 0;
  std::string_view type() const noexcept override { return "ref"; }
  void render(GeneratorState& s, const RenderContext& c, std::string& out) const override {
    ++s.count;
    out += c.device && slot < c.device->fields.size() ? c.device->fields[slot].json : std::string("null");
  }
};

class Constant final : public Generator {
public:
  std::string json;
  std::string_view type() const noexcept override { return "const"; }
  void render(GeneratorState& s, const RenderContext&, std::string& out) const override {
    ++s.count;
    out += json;
  }
};

} // namespace mqfleet::sim::detail
