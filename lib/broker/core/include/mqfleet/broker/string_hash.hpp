#pragma once
// Transparent string hashing so unordered containers keyed by std::string can be looked
// up with a std::string_view without allocating.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace mqfleet::broker::detail {

/// Hashes std::string and std::string_view alike.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

/// Splits the first topic level off `rest`: returns the level and advances `rest`
/// past the separator; `last` becomes true when the returned level was the last one.
inline std::string_view next_level(std::string_view& rest, bool& last) noexcept {
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) {
    const auto level = rest;
    rest = {};
    last = true;
    return level;
  }
  const auto level = rest.substr(0, slash);
  rest.remove_prefix(slash + 1);
  last = false;
  return level;
}

} // namespace mqfleet::broker::detail
