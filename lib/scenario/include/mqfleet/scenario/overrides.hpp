#pragma once
// Command-line overrides of a loaded scenario (`mqfleet sim --scale F --duration D`), to
// rehearse a big or long scenario small and short, e.g. in end-to-end tests and demos.

#include <mqfleet/scenario/scenario.hpp>

namespace mqfleet::sim {

/// Multiplies every fleet's device count by `factor` (rounded, at least 1 device per
/// fleet) and `run.messages` likewise. Throws ConfigError unless 0 < factor <= 1000 or
/// when the result exceeds 1,000,000 devices.
void scale_fleets(Scenario& scenario, double factor);

/// Replaces `run.duration`. Reconnect storms keep their relative position in the run
/// (a storm at 45 s of 90 s happens at 3 s of 6 s); without a previous duration, storms
/// after the new end are dropped. Throws ConfigError when `duration` is not positive.
void override_duration(Scenario& scenario, Millis duration);

} // namespace mqfleet::sim
