#include <mqfleet/scenario/diagnostic.hpp>

#include <algorithm>
#include <numeric>

namespace mqfleet::sim {

std::string to_string(const Diagnostic& d) {
  std::string out = d.file.empty() ? std::string("<scenario>") : d.file;
  if (d.line > 0) out += ":" + std::to_string(d.line) + ":" + std::to_string(d.column);
  out += ": ";
  if (!d.path.empty()) out += d.path + ": ";
  out += d.message;
  if (!d.hint.empty()) out += " (" + d.hint + ")";
  return out;
}

namespace {

std::string summary(const std::vector<Diagnostic>& diagnostics) {
  if (diagnostics.empty()) return "invalid scenario";
  const auto& first = diagnostics.front();
  std::string what = first.path.empty() ? first.message : first.path + ": " + first.message;
  if (diagnostics.size() > 1)
    what += " (and " + std::to_string(diagnostics.size() - 1) + " more error" +
            (diagnostics.size() > 2 ? "s" : "") + ")";
  return what;
}

std::string where_of(const std::vector<Diagnostic>& diagnostics) {
  if (diagnostics.empty()) return {};
  const auto& first = diagnostics.front();
  if (first.line == 0) return first.file;
  return first.file + ":" + std::to_string(first.line) + ":" + std::to_string(first.column);
}

} // namespace

ScenarioError::ScenarioError(std::vector<Diagnostic> diagnostics)
    : ConfigError(summary(diagnostics), where_of(diagnostics),
                  diagnostics.empty() ? std::string() : diagnostics.front().hint),
      m_diagnostics(std::move(diagnostics)) {}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates) {
  // A third of the longer word (at least 2) keeps "telemtry" -> "telemetry" and
  // "qso" -> "qos" while not suggesting "run" for "name".
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const auto& candidate : candidates) {
    const std::size_t limit = std::max<std::size_t>(2, std::max(word.size(), candidate.size()) / 3);
    const std::size_t distance = edit_distance(word, candidate);
    if (distance > limit || distance >= std::max(word.size(), candidate.size())) continue;
    if (!best || distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

} // namespace mqfleet::sim
