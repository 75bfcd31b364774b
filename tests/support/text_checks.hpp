#pragma once
// Checks of numbers the CLI prints, shared by the e2e tests that read its output.

#include <algorithm>
#include <string_view>

namespace mqfleet::test {

/// True for one or more ASCII digits.
inline bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// True for a number printed with one decimal ("12.5").
inline bool one_decimal(std::string_view s) {
  const auto dot = s.find('.');
  return dot != std::string_view::npos && s.size() == dot + 2 && all_digits(s.substr(0, dot)) &&
         all_digits(s.substr(dot + 1));
}

} // namespace mqfleet::test
