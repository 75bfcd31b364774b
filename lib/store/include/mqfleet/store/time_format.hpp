#pragma once
// Time arguments and timestamps of bucket points: epoch milliseconds (UTC) everywhere,
// ISO-8601 text for humans and `--time iso`.

#include <mqfleet/time_parse.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mqfleet::store {

/// Milliseconds since the Unix epoch (UTC), the timestamp of every point.
using EpochMs = std::int64_t;

/// The current wall-clock time.
EpochMs now_ms() noexcept;

/// Time arguments are read by the shared parser (<mqfleet/time_parse.hpp>): relative
/// (`-15m`, `now`), ISO-8601 or epoch milliseconds.
using mqfleet::parse_iso8601;
using mqfleet::parse_time;

/// `2026-11-25T03:46:12.123Z`.
std::string format_iso8601(EpochMs ms);

} // namespace mqfleet::store
