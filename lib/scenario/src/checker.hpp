#pragma once
// The validation helper shared by the scenario loader and the payload/generator parsers:
// typed getters that record a Diagnostic (with line:column from the PositionIndex) for
// every problem and keep going, so one pass reports every error in the file.

#include "json_positions.hpp"

#include <mqfleet/scenario/diagnostic.hpp>
#include <mqfleet/scenario/template.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqfleet::sim::detail {

using Json = nlohmann::ordered_json; // keeps keys in file order (payloads, fields)

/// A value range for numeric getters; bounds are inclusive unless marked exclusive.
struct Range {
  double min = -1e300;
  double max = 1e300;
  bool min_exclusive = false;
};

/// Collects diagnostics while walking a parsed document.
class Checker {
public:
  Checker(std::string file, const PositionIndex* positions) : m_file(std::move(file)), m_positions(positions) {}

  /// Records an error at the value `path` (or at its key when `at_key`).
  void error(const std::string& path, std::string message, std::string hint = {}, bool at_key = false);
  /// Records an error at a byte offset inside the string value at `path`.
  void error_in_string(const std::string& path, std::size_t offset, std::string message, std::string hint);
  /// Records an error about a key missing from the object at `object_path`.
  void missing(const std::string& object_path, std::string_view key, std::string hint = {});

  /// Reports duplicate keys found by the position scan.
  void report_duplicates();

  /// True when `node` is an object; records "expected an object" otherwise.
  bool object(const Json& node, const std::string& path, std::string_view what = "an object");
  /// Reports every key of `node` not in `allowed`, suggesting the closest allowed key.
  void keys(const Json& node, const std::string& path, std::initializer_list<std::string_view> allowed);

  /// The member `key` of `obj` or nullptr; records "missing" when `required`.
  const Json* member(const Json& obj, const std::string& path, std::string_view key, bool required = false,
                     std::string hint = {});

  std::optional<double> number(const Json& node, const std::string& path, Range range = {});
  std::optional<std::int64_t> integer(const Json& node, const std::string& path, Range range = {});
  std::optional<bool> boolean(const Json& node, const std::string& path);
  std::optional<std::string> string(const Json& node, const std::string& path);
  std::optional<std::chrono::milliseconds> duration(const Json& node, const std::string& path, bool allow_zero = false);
  std::optional<double> rate(const Json& node, const std::string& path);
  /// A fraction in [0, 1] written as 0.1 or "10%".
  std::optional<double> fraction(const Json& node, const std::string& path);
  std::optional<Template> templ(const Json& node, const std::string& path, const TemplateScope& scope,
                                bool secret = false);
  std::optional<int> qos(const Json& node, const std::string& path);

  /// Getters on a member: absent -> nullopt without error unless required.
  template <typename F>
  auto get(const Json& obj, const std::string& path, std::string_view key, F&& getter, bool required = false)
      -> decltype(getter(obj, path)) {
    const Json* node = member(obj, path, key, required);
    if (!node) return std::nullopt;
    return getter(*node, child_path(path, key));
  }

  bool has_errors() const noexcept { return !m_diagnostics.empty(); }
  /// Errors recorded so far; compare before/after to see whether a part was valid.
  std::size_t error_count() const noexcept { return m_diagnostics.size(); }
  std::vector<Diagnostic> take();
  const std::string& file() const noexcept { return m_file; }

private:
  void add(SourcePos pos, const std::string& path, std::string message, std::string hint);
  std::string m_file;
  const PositionIndex* m_positions;
  std::vector<Diagnostic> m_diagnostics;
};

/// "a string", "a number", ... for messages.
std::string type_name(const Json& node);

} // namespace mqfleet::sim::detail
