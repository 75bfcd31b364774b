#pragma once
// The scenario format's textual units: durations ("500ms", "10s", "2m", "1h", "1m30s"),
// rates ("50/s", "3000/m") and fractions ("10%" or 0.1).

#include <chrono>
#include <string>
#include <string_view>

namespace mqfleet::sim {

/// Parses a duration made of one or more `<number><unit>` terms, unit ms, s, m or h
/// ("1m30s", "1.5s"). Throws ConfigError with a hint on anything else.
std::chrono::milliseconds parse_duration(std::string_view text);

/// Parses `<number>/<unit>` with unit s, m or h into events per second. Throws
/// ConfigError unless the rate is positive.
double parse_rate(std::string_view text);

/// Parses "12.5%" into 0.125. Throws ConfigError on anything else.
double parse_percent(std::string_view text);

/// A compact human form of a duration: "500ms", "10s", "2m", "1h30m".
std::string format_duration(std::chrono::milliseconds duration);

} // namespace mqfleet::sim
