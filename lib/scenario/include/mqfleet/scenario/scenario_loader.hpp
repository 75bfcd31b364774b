#pragma once
// Reading and validating scenario files (JSON with // and /* */ comments). Validation
// goes on after the first problem so that every error is reported at once.

#include <mqfleet/scenario/diagnostic.hpp>
#include <mqfleet/scenario/scenario.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqfleet::sim {

/// The outcome of checking a scenario: the model when valid, and every problem found.
struct CheckResult {
  std::optional<Scenario> scenario;
  std::vector<Diagnostic> diagnostics;

  bool ok() const noexcept { return scenario.has_value() && diagnostics.empty(); }
};

/// Validates scenario text; `file` is only used in diagnostics. Never throws for
/// problems in the content.
CheckResult check_scenario(std::string_view text, const std::string& file = "<scenario>");

/// Validates a scenario file; an unreadable file is reported as a diagnostic.
CheckResult check_scenario_file(const std::string& path);

/// Loads a scenario; throws ScenarioError listing every problem.
Scenario load_scenario(std::string_view text, const std::string& file = "<scenario>");

/// Loads a scenario file; throws ScenarioError (also when it cannot be read).
Scenario load_scenario_file(const std::string& path);

/// Every top-level key of the format, for editors and did-you-mean.
const std::vector<std::string>& scenario_top_level_keys();

} // namespace mqfleet::sim
