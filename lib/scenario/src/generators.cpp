#include <mqfleet/scenario/generators.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace mqfleet::sim {

void Generator::init(GeneratorState&, const DeviceState*) const {}

const std::vector<std::string>& generator_types() {
  static const std::vector<std::string> types = {"counter", "uniform",   "normal",    "random_walk",
                                                 "sine",    "choice",    "bool",      "timestamp",
                                                 "gps_track", "battery"};
  return types;
}

double haversine_m(double lat1, double lon1, double lat2, double lon2) {
  constexpr double k_earth_radius_m = 6'371'008.8;
  const double to_rad = std::numbers::pi / 180.0;
  const double dlat = (lat2 - lat1) * to_rad;
  const double dlon = (lon2 - lon1) * to_rad;
  const double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1 * to_rad) * std::cos(lat2 * to_rad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * k_earth_radius_m * std::asin(std::min(1.0, std::sqrt(a)));
}

} // namespace mqfleet::sim
