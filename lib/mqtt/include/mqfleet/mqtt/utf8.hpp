#pragma once
// MQTT UTF-8 string rules (MQTT 5.0 section 1.5.4, 3.1.1 section 1.5.3): a string must be
// well-formed UTF-8 (no overlong forms, nothing above U+10FFFF), must not encode the
// surrogates U+D800..U+DFFF and must not contain U+0000. Control characters and
// non-characters are allowed but discouraged; the check reports them so a receiver can
// choose to refuse them.

#include <cstddef>
#include <string_view>

namespace mqfleet::mqtt {

/// The outcome of checking a string against the MQTT UTF-8 rules.
enum class Utf8Status {
  ok,          ///< Well-formed and allowed.
  ill_formed,  ///< Not UTF-8: bad lead/continuation byte, overlong, truncated or > U+10FFFF.
  null_char,   ///< Contains U+0000, which MQTT forbids.
  surrogate,   ///< Encodes a UTF-16 surrogate (U+D800..U+DFFF), which MQTT forbids.
};

/// The full result: status, the byte offset of the first problem, and whether the string
/// holds characters the spec says SHOULD NOT appear (U+0001..U+001F, U+007F..U+009F,
/// non-characters such as U+FFFE) even when status is ok.
struct Utf8Check {
  Utf8Status status = Utf8Status::ok;
  std::size_t error_offset = 0;
  bool has_discouraged = false;
  std::size_t discouraged_offset = 0;
};

/// Checks s against the MQTT UTF-8 rules. Never allocates.
Utf8Check check_utf8(std::string_view s) noexcept;

/// True when s is an allowed MQTT UTF-8 string (discouraged characters are allowed).
bool is_valid_utf8(std::string_view s) noexcept;

/// A short English description of a status, e.g. "contains U+0000".
std::string_view describe(Utf8Status status) noexcept;

} // namespace mqfleet::mqtt
