#pragma once
// Shared by the libFuzzer targets of parsers of untrusted input: the input as text, and
// the one rule every such parser keeps -- bad input is a mqfleet::Error (printed as
// `mqfleet: error: ...`, a documented exit code), never any other exception, crash,
// sanitizer report or unbounded allocation.
#include <mqfleet/error.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace mqfleet::fuzz {

/// The fuzzer's bytes as text.
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Aborts (a finding) unless `ok`.
inline void check(bool ok) {
  if (!ok) std::abort();
}

/// Runs `parse`; a mqfleet::Error is the expected outcome of bad input. Any other
/// exception escapes, which libFuzzer reports as a crash (the CLI would print "internal
/// error: this is a bug").
template <typename Parse>
void parse_or_clean_error(Parse&& parse) {
  try {
    parse();
  } catch (const mqfleet::Error&) {
  }
}

} // namespace mqfleet::fuzz
