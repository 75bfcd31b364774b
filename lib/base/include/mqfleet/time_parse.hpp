#pragma once
// The one reader of time arguments (bucket --from/--to, CSV timestamps, sim --start-at):
// ISO-8601 date-times, epoch milliseconds and times relative to now. Header-only like
// json_depth.hpp: no library below the ones that read time needs a compiled part.

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace mqfleet {

namespace detail {

/// Reads exactly `digits` decimal digits at `pos`.
inline std::optional<int> read_digits(std::string_view text, std::size_t& pos, std::size_t digits) {
  if (pos + digits > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += digits;
  return value;
}

/// The whole text as a decimal integer.
inline std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
inline std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

} // namespace detail

/// Parses an ISO-8601 date-time into Unix milliseconds: `2026-11-25`, `2026-11-25T03:46`,
/// `2026-11-25T03:46:12.5Z`, `2026-11-25 03:46:12+01:00` (no offset = UTC). Empty when
/// the text is not one.
inline std::optional<std::int64_t> parse_iso8601(std::string_view text) {
  using detail::read_digits;
  std::size_t pos = 0;
  const auto year = read_digits(text, pos, 4);
  if (!year || pos >= text.size() || text[pos++] != '-') return std::nullopt;
  const auto month = read_digits(text, pos, 2);
  if (!month || pos >= text.size() || text[pos++] != '-') return std::nullopt;
  const auto day = read_digits(text, pos, 2);
  if (!day || *month < 1 || *month > 12 || *day < 1 || *day > 31) return std::nullopt;
  int hour = 0, minute = 0, second = 0, millis = 0;
  std::int64_t offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == ' ')) {
    ++pos;
    const auto h = read_digits(text, pos, 2);
    if (!h || pos >= text.size() || text[pos++] != ':') return std::nullopt;
    const auto m = read_digits(text, pos, 2);
    if (!m) return std::nullopt;
    hour = *h;
    minute = *m;
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      const auto s = read_digits(text, pos, 2);
      if (!s) return std::nullopt;
      second = *s;
      if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
        ++pos;
        int scale = 100;
        std::size_t count = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
          millis += (text[pos] - '0') * scale;
          scale /= 10;
          ++pos;
          ++count;
        }
        if (count == 0) return std::nullopt;
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
    if (pos < text.size()) {
      const char sign = text[pos];
      if (sign == 'Z' || sign == 'z') {
        ++pos;
      } else if (sign == '+' || sign == '-') {
        ++pos;
        const auto oh = read_digits(text, pos, 2);
        if (!oh) return std::nullopt;
        if (pos < text.size() && text[pos] == ':') ++pos;
        const auto om = read_digits(text, pos, 2);
        if (!om) return std::nullopt;
        offset_minutes = (*oh * 60 + *om) * (sign == '-' ? -1 : 1);
      }
    }
  }
  if (pos != text.size()) return std::nullopt;
  const auto days = detail::days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
  const std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return seconds * 1000 + millis;
}

/// Parses a time argument into Unix milliseconds, relative to `now_ms`:
/// - relative: `now`, `-90s`, `-15m`, `-1h`, `-2d`, `-1w` (also `+1h`; units s m h d w)
/// - ISO-8601 (parse_iso8601)
/// - an integer: epoch milliseconds.
/// Empty when the text is none of these.
inline std::optional<std::int64_t> parse_time(std::string_view text, std::int64_t now_ms) {
  if (text.empty()) return std::nullopt;
  if (text == "now") return now_ms;
  if ((text.front() == '-' || text.front() == '+') && text.size() >= 3) {
    std::int64_t scale = 0;
    switch (text.back()) {
    case 's': scale = 1000; break;
    case 'm': scale = 60'000; break;
    case 'h': scale = 3'600'000; break;
    case 'd': scale = 86'400'000; break;
    case 'w': scale = 7 * 86'400'000LL; break;
    default: break;
    }
    if (scale != 0) {
      const auto amount = detail::parse_integer(text.substr(1, text.size() - 2));
      if (!amount || *amount < 0) return std::nullopt;
      return now_ms + (text.front() == '-' ? -1 : 1) * *amount * scale;
    }
  }
  if (auto integer = detail::parse_integer(text)) return *integer;
  return parse_iso8601(text);
}

} // namespace mqfleet
