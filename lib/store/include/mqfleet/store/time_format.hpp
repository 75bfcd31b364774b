#pragma once
// Time arguments and timestamps of bucket points: epoch milliseconds (UTC) everywhere,
// ISO-8601 text for humans and `--time iso`.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mqfleet::store {

/// Milliseconds since the Unix epoch (UTC), the timestamp of every point.
using EpochMs = std::int64_t;

/// The current wall-clock time.
EpochMs now_ms() noexcept;

/// Parses a `--from/--to` argument relative to `now`:
/// - relative: `now`, `-90s`, `-15m`, `-1h`, `-2d`, `-1w` (also `+1h`; units s m h d w)
/// - ISO-8601: `2026-11-25`, `2026-11-25T03:46`, `2026-11-25T03:46:12.5Z`,
///   `2026-11-25 03:46:12+01:00` (no offset = UTC)
/// - an integer: epoch milliseconds.
/// Empty result when the text is none of these.
std::optional<EpochMs> parse_time(std::string_view text, EpochMs now);

/// Parses an ISO-8601 date-time only (as above); empty when invalid.
std::optional<EpochMs> parse_iso8601(std::string_view text);

/// `2026-11-25T03:46:12.123Z`.
std::string format_iso8601(EpochMs ms);

} // namespace mqfleet::store
