#include "checker.hpp"

#include <mqfleet/scenario/units.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace mqfleet::sim::detail {

std::string type_name(const Json& node) {
  switch (node.type()) {
  case Json::value_t::null: return "null";
  case Json::value_t::object: return "an object";
  case Json::value_t::array: return "an array";
  case Json::value_t::string: return "a string";
  case Json::value_t::boolean: return "a boolean";
  case Json::value_t::number_integer:
  case Json::value_t::number_unsigned: return "an integer";
  case Json::value_t::number_float: return "a number";
  default: return "an unsupported value";
  }
}

void Checker::add(SourcePos pos, const std::string& path, std::string message, std::string hint) {
  m_diagnostics.push_back(Diagnostic{m_file, pos.line, pos.column, path, std::move(message), std::move(hint)});
}

void Checker::error(const std::string& path, std::string message, std::string hint, bool at_key) {
  const SourcePos pos = !m_positions ? SourcePos{} : at_key ? m_positions->key(path) : m_positions->value(path);
  add(pos, path, std::move(message), std::move(hint));
}

void Checker::error_in_string(const std::string& path, std::size_t offset, std::string message, std::string hint) {
  SourcePos pos;
  if (m_positions) {
    pos = m_positions->value(path);
    // Point inside the string when no escape precedes the offset (then bytes map 1:1).
    if (const std::size_t* start = m_positions->value_offset(path)) {
      const std::string_view raw = m_positions->text().substr(*start + 1);
      if (offset <= raw.size() && raw.substr(0, offset).find('\\') == std::string_view::npos)
        pos = m_positions->at_offset(*start + 1 + offset);
    }
  }
  add(pos, path, std::move(message), std::move(hint));
}

void Checker::missing(const std::string& object_path, std::string_view key, std::string hint) {
  const SourcePos pos = m_positions ? m_positions->value(object_path) : SourcePos{};
  add(pos, child_path(object_path, key), "missing required key '" + std::string(key) + "'", std::move(hint));
}

void Checker::report_duplicates() {
  if (!m_positions) return;
  for (const auto& [path, offset] : m_positions->duplicates())
    add(m_positions->at_offset(offset), path, "duplicate key", "only the last value would be used; remove one");
}

bool Checker::object(const Json& node, const std::string& path, std::string_view what) {
  if (node.is_object()) return true;
  error(path, "expected " + std::string(what) + ", got " + type_name(node));
  return false;
}

void Checker::keys(const Json& node, const std::string& path, std::initializer_list<std::string_view> allowed) {
  if (!node.is_object()) return;
  const std::vector<std::string> candidates(allowed.begin(), allowed.end());
  for (const auto& [key, value] : node.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string message = "unknown key '" + key + "'";
    std::string hint;
    if (const auto suggestion = closest_match(key, candidates)) {
      message += "; did you mean '" + *suggestion + "'?";
    }
    hint = "allowed keys here: ";
    for (std::size_t i = 0; i < candidates.size(); ++i) hint += (i ? ", " : "") + candidates[i];
    error(child_path(path, key), std::move(message), std::move(hint), true);
  }
}

const Json* Checker::member(const Json& obj, const std::string& path, std::string_view key, bool required,
                            std::string hint) {
  if (obj.is_object()) {
    const auto it = obj.find(key);
    if (it != obj.end()) return &*it;
  }
  if (required && obj.is_object()) missing(path, key, std::move(hint));
  return nullptr;
}

namespace {

std::string range_text(const Range& r) {
  const auto fmt = [](double v) {
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  };
  if (r.max >= 1e299) return (r.min_exclusive ? "greater than " : "at least ") + fmt(r.min);
  if (r.min <= -1e299) return "at most " + fmt(r.max);
  return (r.min_exclusive ? "greater than " + fmt(r.min) + " and at most " : "between " + fmt(r.min) + " and ") +
         fmt(r.max);
}

} // namespace

std::optional<double> Checker::number(const Json& node, const std::string& path, Range range) {
  if (!node.is_number()) {
    error(path, "expected a number, got " + type_name(node));
    return std::nullopt;
  }
  const double v = node.get<double>();
  if (v < range.min || v > range.max || (range.min_exclusive && v <= range.min) || !std::isfinite(v)) {
    error(path, "value " + node.dump() + " is out of range", "must be " + range_text(range));
    return std::nullopt;
  }
  return v;
}

std::optional<std::int64_t> Checker::integer(const Json& node, const std::string& path, Range range) {
  if (!node.is_number_integer()) {
    error(path, "expected an integer, got " + (node.is_number() ? node.dump() : type_name(node)));
    return std::nullopt;
  }
  if (node.is_number_unsigned() && node.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    error(path, "value " + node.dump() + " is out of range", "must be at most " + std::to_string(INT64_MAX));
    return std::nullopt;
  }
  if (!number(node, path, range)) return std::nullopt;
  return node.get<std::int64_t>();
}

std::optional<bool> Checker::boolean(const Json& node, const std::string& path) {
  if (!node.is_boolean()) {
    error(path, "expected true or false, got " + type_name(node));
    return std::nullopt;
  }
  return node.get<bool>();
}

std::optional<std::string> Checker::string(const Json& node, const std::string& path) {
  if (!node.is_string()) {
    error(path, "expected a string, got " + type_name(node));
    return std::nullopt;
  }
  return node.get<std::string>();
}

std::optional<std::chrono::milliseconds> Checker::duration(const Json& node, const std::string& path,
                                                           bool allow_zero) {
  if (!node.is_string()) {
    std::string hint = "write a string such as \"10s\"";
    if (node.is_number()) hint = "add a unit: \"" + node.dump() + "s\" or \"" + node.dump() + "ms\"";
    error(path, "expected a duration string, got " + type_name(node), hint);
    return std::nullopt;
  }
  try {
    const auto d = parse_duration(node.get<std::string>());
    if (!allow_zero && d.count() == 0) {
      error(path, "duration must be greater than zero", "write e.g. \"500ms\" or \"10s\"");
      return std::nullopt;
    }
    return d;
  } catch (const ConfigError& e) {
    error(path, e.what(), e.hint());
    return std::nullopt;
  }
}

std::optional<double> Checker::rate(const Json& node, const std::string& path) {
  if (!node.is_string()) {
    error(path, "expected a rate string, got " + type_name(node), "write e.g. \"50/s\" or \"3000/m\"");
    return std::nullopt;
  }
  try {
    return parse_rate(node.get<std::string>());
  } catch (const ConfigError& e) {
    error(path, e.what(), e.hint());
    return std::nullopt;
  }
}

std::optional<double> Checker::fraction(const Json& node, const std::string& path) {
  double v = 0;
  if (node.is_number()) {
    v = node.get<double>();
  } else if (node.is_string()) {
    try {
      v = parse_percent(node.get<std::string>());
    } catch (const ConfigError& e) {
      error(path, e.what(), e.hint());
      return std::nullopt;
    }
  } else {
    error(path, "expected a fraction (0.1) or a percentage (\"10%\"), got " + type_name(node));
    return std::nullopt;
  }
  if (!(v >= 0 && v <= 1)) {
    error(path, "value " + node.dump() + " is out of range", "write a fraction between 0 and 1, or a percentage between 0% and 100%");
    return std::nullopt;
  }
  return v;
}

std::optional<Template> Checker::templ(const Json& node, const std::string& path, const TemplateScope& scope,
                                       bool secret) {
  const auto text = string(node, path);
  if (!text) return std::nullopt;
  try {
    return Template::compile(*text, scope);
  } catch (const TemplateError& e) {
    // A credential template's text is a secret: never echo it.
    if (secret) error_in_string(path, e.offset(), "bad credential template", "check the braces and placeholders");
    else error_in_string(path, e.offset(), e.what(), e.hint());
    return std::nullopt;
  }
}

std::optional<int> Checker::qos(const Json& node, const std::string& path) {
  const auto v = integer(node, path, Range{0, 2});
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

std::vector<Diagnostic> Checker::take() {
  std::stable_sort(m_diagnostics.begin(), m_diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  return std::move(m_diagnostics);
}

} // namespace mqfleet::sim::detail
