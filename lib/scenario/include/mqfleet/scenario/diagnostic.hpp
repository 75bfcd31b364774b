#pragma once
// Problems found in a scenario file, each pointing at file:line:column and the JSON path
// of the value to fix, plus the exception that carries all of them at once.

#include <mqfleet/error.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqfleet::sim {

/// One problem in a scenario file. line and column are 1-based (0 when unknown); the
/// column counts characters (UTF-8 code points), not bytes.
struct Diagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  std::string path;    ///< JSON path such as `fleets[0].telemetry[1].period`; empty = top level
  std::string message; ///< what is wrong
  std::string hint;    ///< how to fix it; may be empty

  bool operator==(const Diagnostic&) const = default;
};

/// `file:line:column: path: message (hint)`, the form `sim --check` prints.
std::string to_string(const Diagnostic& diagnostic);

/// A scenario that failed validation. what() summarises; diagnostics() lists every error.
class ScenarioError : public ConfigError {
public:
  explicit ScenarioError(std::vector<Diagnostic> diagnostics);

  /// Every problem found, in file order.
  const std::vector<Diagnostic>& diagnostics() const noexcept { return m_diagnostics; }

private:
  std::vector<Diagnostic> m_diagnostics;
};

/// Levenshtein distance between two strings (insert, delete, substitute cost 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word` when it is close enough to be a plausible typo.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

} // namespace mqfleet::sim
