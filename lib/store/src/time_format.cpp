#include <mqfleet/store/time_format.hpp>

#include <mqfleet/time_parse.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace mqfleet::store {

EpochMs now_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The parsing itself is the project's one time reader (lib/base, also behind sim --start-at).
std::optional<EpochMs> parse_iso8601(std::string_view text) { return mqfleet::parse_iso8601(text); }

std::optional<EpochMs> parse_time(std::string_view text, EpochMs now) { return mqfleet::parse_time(text, now); }

std::string format_iso8601(EpochMs ms) {
  std::int64_t seconds = ms / 1000;
  std::int64_t millis = ms % 1000;
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buffer[40];
  const auto n = std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                               tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  return std::string(buffer, static_cast<std::size_t>(n));
}

} // namespace mqfleet::store
