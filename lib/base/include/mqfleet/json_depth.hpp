#pragma once
// The one nesting limit for JSON that mqfleet reads from untrusted input (payloads, JSON
// lines, scenario files, CSV cells, registry and profile files). nlohmann_json parses
// deep documents without recursion, but destroying, dumping or walking the value
// recurses once per level: a 200 KB payload of nested brackets overflows the stack.
// Every reader checks the text first with json_nesting_error() and refuses a document
// nested deeper than k_max_json_depth (docs/exit-codes.md, "JSON nesting limit").

#include <cstddef>
#include <optional>
#include <string_view>

namespace mqfleet {

/// How deep arrays and objects may nest in JSON read from outside (64 levels).
inline constexpr std::size_t k_max_json_depth = 64;

/// Where a JSON text first nests deeper than the limit.
struct JsonDepthViolation {
  std::size_t offset = 0; ///< byte offset of the bracket that went one level too deep
  std::size_t line = 1;   ///< 1-based line of that bracket
  std::size_t column = 1; ///< 1-based byte column of that bracket
};

/// Scans a JSON text (valid or not) in one pass without allocating and returns where it
/// first exceeds max_depth nested arrays/objects, or nothing when it stays within it.
/// Brackets inside strings do not count.
inline std::optional<JsonDepthViolation> json_nesting_error(std::string_view text,
                                                            std::size_t max_depth = k_max_json_depth) noexcept {
  std::size_t depth = 0;
  std::size_t line = 1;
  std::size_t line_start = 0;
  bool in_string = false;
  bool escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      } else if (c == '\n') {
        ++line;
        line_start = i + 1;
      }
      continue;
    }
    switch (c) {
    case '"': in_string = true; break;
    case '[':
    case '{':
      if (++depth > max_depth) return JsonDepthViolation{i, line, i - line_start + 1};
      break;
    case ']':
    case '}':
      if (depth > 0) --depth;
      break;
    case '\n':
      ++line;
      line_start = i + 1;
      break;
    default: break;
    }
  }
  return std::nullopt;
}

} // namespace mqfleet
