#pragma once
// String templates of the scenario format: "gh-{index:04}", "{account}/{device}/data",
// "ack {request.id}". Compiled once at load time (unknown placeholders are load errors),
// expanded per device and message without parsing.

#include <mqfleet/error.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqfleet::sim {

/// The placeholders a template may use, depending on where it appears.
struct TemplateScope {
  bool index = true;
  bool fleet = true;
  bool account = false;
  bool device = false;
  bool request = false;

  /// An account template: {index} {fleet}.
  static TemplateScope account_scope() { return {true, true, false, false, false}; }
  /// A device_id template: {index} {fleet} {account}.
  static TemplateScope device_id_scope() { return {true, true, true, false, false}; }
  /// Topics and payloads of a device: {index} {fleet} {account} {device}.
  static TemplateScope device_scope() { return {true, true, true, true, false}; }
  /// Replies to a command: everything, plus {request} and {request.<field>}.
  static TemplateScope request_scope() { return {true, true, true, true, true}; }
};

/// A template that could not be compiled; offset is the byte offset in the template text.
class TemplateError : public ConfigError {
public:
  TemplateError(std::size_t offset, std::string what, std::string hint = {})
      : ConfigError(std::move(what), {}, std::move(hint)), m_offset(offset) {}
  std::size_t offset() const noexcept { return m_offset; }

private:
  std::size_t m_offset;
};

/// The fields of a command's request payload, flattened to dotted paths ("id",
/// "params.value", "list.0") so replies can use {request.id} without parsing again.
class RequestFields {
public:
  RequestFields() = default;
  /// Flattens a JSON payload; a payload that is not JSON only provides {request}.
  static RequestFields parse(std::string_view payload);

  /// The field as text: strings unquoted, other values as JSON. nullopt when absent.
  std::optional<std::string> text(std::string_view path) const;
  /// The field as JSON text. nullopt when absent.
  std::optional<std::string> json(std::string_view path) const;
  /// The whole payload as received.
  const std::string& raw() const noexcept { return m_raw; }

private:
  struct Field {
    std::string text;
    std::string json;
  };
  std::string m_raw;
  std::map<std::string, Field, std::less<>> m_fields;
  friend struct RequestFieldsBuilder;
};

/// The values a template is expanded with.
struct TemplateVars {
  std::uint64_t index = 0;
  std::string_view fleet;
  std::string_view account;
  std::string_view device;
  const RequestFields* request = nullptr;
};

/// A compiled template. `{{` and `}}` stand for literal braces; `{name:04}` pads with
/// zeros to width 4, `{name:6}` with spaces.
class Template {
public:
  Template() = default;
  /// Compiles `text`; throws TemplateError on unknown placeholders or unbalanced braces.
  static Template compile(std::string_view text, const TemplateScope& scope);
  /// A template that expands to `text` verbatim (no placeholders are interpreted).
  static Template literal(std::string_view text);

  /// Appends the expansion to `out`. A missing request field expands to nothing.
  void expand_to(std::string& out, const TemplateVars& vars) const;
  /// The expansion as a new string.
  std::string expand(const TemplateVars& vars) const;

  /// The text the template was compiled from.
  const std::string& source() const noexcept { return m_source; }
  /// True when the template has no placeholders.
  bool is_literal() const noexcept;
  /// True when it uses the given placeholder ("index", "device", "request"...).
  bool uses(std::string_view name) const noexcept;
  /// The request field when the whole template is exactly `{request.<field>}`, so a
  /// payload can copy the field with its JSON type.
  std::optional<std::string> sole_request_field() const;

private:
  enum class Kind { text, index, fleet, account, device, request_raw, request_field };
  struct Part {
    Kind kind = Kind::text;
    std::string text; ///< literal text, or the request field path
    int width = 0;
    char fill = ' ';
  };
  std::vector<Part> m_parts;
  std::string m_source;
};

} // namespace mqfleet::sim
