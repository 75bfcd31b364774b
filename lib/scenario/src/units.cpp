#include <mqfleet/scenario/units.hpp>

#include <mqfleet/error.hpp>

#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>

namespace mqfleet::sim {

namespace {

constexpr const char* k_duration_hint = "write a number followed by ms, s, m or h, e.g. \"500ms\", \"10s\", \"1m30s\"";

// Reads a non-negative decimal number ("12", "1.5") at the start of `text`.
std::optional<double> read_number(std::string_view& text) {
  std::size_t n = 0;
  bool dot = false;
  while (n < text.size() && (std::isdigit(static_cast<unsigned char>(text[n])) || (text[n] == '.' && !dot))) {
    dot = dot || text[n] == '.';
    ++n;
  }
  if (n == 0 || text.substr(0, n) == ".") return std::nullopt;
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + n, value);
  if (ec != std::errc() || ptr != text.data() + n) return std::nullopt;
  text.remove_prefix(n);
  return value;
}

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

} // namespace

std::chrono::milliseconds parse_duration(std::string_view text) {
  const std::string_view original = text;
  if (text.empty()) throw ConfigError("empty duration", {}, k_duration_hint);
  double total_ms = 0;
  while (!text.empty()) {
    const auto number = read_number(text);
    if (!number) throw ConfigError("bad duration " + quoted(original), {}, k_duration_hint);
    double scale = 0;
    if (text.starts_with("ms")) {
      scale = 1;
      text.remove_prefix(2);
    } else if (text.starts_with("s")) {
      scale = 1000;
      text.remove_prefix(1);
    } else if (text.starts_with("m")) {
      scale = 60'000;
      text.remove_prefix(1);
    } else if (text.starts_with("h")) {
      scale = 3'600'000;
      text.remove_prefix(1);
    } else {
      throw ConfigError("bad duration " + quoted(original) + ": missing or unknown unit", {},
                        k_duration_hint);
    }
    total_ms += *number * scale;
  }
  if (total_ms > 1e15) throw ConfigError("duration " + quoted(original) + " is too long", {}, k_duration_hint);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(total_ms)));
}

double parse_rate(std::string_view text) {
  const std::string_view original = text;
  constexpr const char* hint = "write a count per unit, e.g. \"50/s\", \"3000/m\" or \"10/h\"";
  const auto number = read_number(text);
  if (!number || !text.starts_with("/")) throw ConfigError("bad rate " + quoted(original), {}, hint);
  text.remove_prefix(1);
  double per_second = 0;
  if (text == "s") per_second = *number;
  else if (text == "m") per_second = *number / 60.0;
  else if (text == "h") per_second = *number / 3600.0;
  else throw ConfigError("bad rate " + quoted(original) + ": unit must be s, m or h", {}, hint);
  if (!(per_second > 0)) throw ConfigError("rate " + quoted(original) + " must be positive", {}, hint);
  return per_second;
}

double parse_percent(std::string_view text) {
  const std::string_view original = text;
  const auto number = read_number(text);
  if (!number || text != "%")
    throw ConfigError("bad percentage " + quoted(original), {}, "write e.g. \"10%\" or a fraction such as 0.1");
  return *number / 100.0;
}

std::string format_duration(std::chrono::milliseconds duration) {
  std::int64_t ms = duration.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  if (ms % 1000 != 0) return out + std::to_string(ms) + "ms";
  std::int64_t s = ms / 1000;
  const std::int64_t h = s / 3600;
  const std::int64_t m = (s % 3600) / 60;
  s %= 60;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (s) out += std::to_string(s) + "s";
  return out;
}

} // namespace mqfleet::sim
