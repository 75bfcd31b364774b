#include <mqfleet/scenario/overrides.hpp>

#include <mqfleet/error.hpp>

#include <algorithm>
#include <cmath>

namespace mqfleet::sim {

namespace {

constexpr std::uint64_t k_max_devices = 1'000'000;

std::uint64_t scaled(std::uint64_t value, double factor) {
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(static_cast<double>(value) * factor)));
}

} // namespace

void scale_fleets(Scenario& scenario, double factor) {
  if (!(factor > 0) || factor > 1000)
    throw ConfigError("bad scale factor", "--scale", "use a number greater than 0 and at most 1000, e.g. 0.1");
  std::uint64_t total = 0;
  for (FleetSpec& fleet : scenario.fleets) {
    fleet.count = scaled(fleet.count, factor);
    total += fleet.count;
  }
  if (total > k_max_devices)
    throw ConfigError("the scaled scenario has " + std::to_string(total) + " devices", "--scale",
                      "at most 1,000,000 devices in one run");
  if (scenario.run.messages) scenario.run.messages = scaled(*scenario.run.messages, factor);
}

void override_duration(Scenario& scenario, Millis duration) {
  if (duration <= Millis(0))
    throw ConfigError("the run duration must be greater than zero", "--duration", "e.g. --duration 10s");
  const auto old = scenario.run.duration;
  for (FleetSpec& fleet : scenario.fleets) {
    auto& storms = fleet.behaviour.storms;
    if (old && *old > Millis(0)) {
      const double ratio = static_cast<double>(duration.count()) / static_cast<double>(old->count());
      for (ReconnectStorm& storm : storms)
        storm.at = Millis(static_cast<std::int64_t>(std::llround(static_cast<double>(storm.at.count()) * ratio)));
    } else {
      std::erase_if(storms, [&](const ReconnectStorm& storm) { return storm.at >= duration; });
    }
  }
  scenario.run.duration = duration;
}

} // namespace mqfleet::sim
