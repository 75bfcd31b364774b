#pragma once
// The section parsers of the scenario loader, split by section so each file stays small.

#include "checker.hpp"

#include <mqfleet/scenario/scenario.hpp>

#include <optional>
#include <string>

namespace mqfleet::sim::detail {

/// `connection`: a profile name or inline profile fields.
ConnectionSpec parse_connection(Checker& c, const Json& node, const std::string& path);

/// One element of `fleets`; `fallback_behaviour` is the top-level `behaviour`, if any.
FleetSpec parse_fleet(Checker& c, const Json& node, const std::string& path, const ConnectionSpec& connection,
                      const std::optional<BehaviourSpec>& fallback_behaviour);

/// `behaviour`, at the top level or in a fleet.
BehaviourSpec parse_behaviour(Checker& c, const Json& node, const std::string& path);

/// A duration, or {"min": duration, "max": duration}.
std::optional<DurationRange> parse_duration_range(Checker& c, const Json& node, const std::string& path,
                                                  bool allow_zero);

} // namespace mqfleet::sim::detail
