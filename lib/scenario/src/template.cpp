#include <mqfleet/scenario/template.hpp>

#include <mqfleet/scenario/diagnostic.hpp>

#include <nlohmann/json.hpp>

#include <cctype>

namespace mqfleet::sim {

struct RequestFieldsBuilder {
  static void flatten(RequestFields& fields, const nlohmann::json& value, const std::string& path) {
    if (!path.empty()) {
      RequestFields::Field field;
      field.json = value.dump();
      field.text = value.is_string() ? value.get<std::string>() : field.json;
      fields.m_fields.emplace(path, std::move(field));
    }
    const std::string prefix = path.empty() ? std::string() : path + ".";
    if (value.is_object()) {
      for (const auto& [key, child] : value.items()) flatten(fields, child, prefix + key);
    } else if (value.is_array()) {
      for (std::size_t i = 0; i < value.size(); ++i) flatten(fields, value[i], prefix + std::to_string(i));
    }
  }
};

RequestFields RequestFields::parse(std::string_view payload) {
  RequestFields fields;
  fields.m_raw = std::string(payload);
  const auto value = nlohmann::json::parse(payload, nullptr, false);
  if (!value.is_discarded()) RequestFieldsBuilder::flatten(fields, value, {});
  return fields;
}

std::optional<std::string> RequestFields::text(std::string_view path) const {
  const auto it = m_fields.find(path);
  if (it == m_fields.end()) return std::nullopt;
  return it->second.text;
}

std::optional<std::string> RequestFields::json(std::string_view path) const {
  const auto it = m_fields.find(path);
  if (it == m_fields.end()) return std::nullopt;
  return it->second.json;
}

namespace {

std::string scope_list(const TemplateScope& scope) {
  std::string out;
  const auto add = [&](bool allowed, const char* name) {
    if (!allowed) return;
    if (!out.empty()) out += ", ";
    out += name;
  };
  add(scope.index, "{index}");
  add(scope.fleet, "{fleet}");
  add(scope.account, "{account}");
  add(scope.device, "{device}");
  add(scope.request, "{request.<field>}");
  return out;
}

bool valid_field_path(std::string_view path) {
  if (path.empty() || path.front() == '.' || path.back() == '.') return false;
  for (const char c : path)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  return path.find("..") == std::string_view::npos;
}

} // namespace

Template Template::literal(std::string_view text) {
  Template t;
  t.m_source = std::string(text);
  if (!text.empty()) t.m_parts.push_back(Part{Kind::text, std::string(text), 0, ' '});
  return t;
}

Template Template::compile(std::string_view text, const TemplateScope& scope) {
  Template t;
  t.m_source = std::string(text);
  std::string literal;
  const auto flush = [&] {
    if (!literal.empty()) t.m_parts.push_back(Part{Kind::text, std::move(literal), 0, ' '});
    literal.clear();
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        literal += '}';
        i += 2;
        continue;
      }
      throw TemplateError(i, "unmatched '}' in template", "write }} for a literal brace");
    }
    if (c != '{') {
      literal += c;
      ++i;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      literal += '{';
      i += 2;
      continue;
    }
    const std::size_t close = text.find('}', i + 1);
    if (close == std::string_view::npos)
      throw TemplateError(i, "unclosed '{' in template", "close the placeholder with }, or write {{ for a literal brace");
    const std::string_view inner = text.substr(i + 1, close - i - 1);
    const std::size_t colon = inner.find(':');
    const std::string_view name = inner.substr(0, colon);
    Part part;
    if (colon != std::string_view::npos) {
      std::string_view spec = inner.substr(colon + 1);
      if (spec.starts_with("0") && spec.size() > 1) {
        part.fill = '0';
        spec.remove_prefix(1);
      }
      int width = 0;
      for (const char d : spec) {
        if (!std::isdigit(static_cast<unsigned char>(d)) || width > 100) {
          width = -1;
          break;
        }
        width = width * 10 + (d - '0');
      }
      if (spec.empty() || width < 1 || width > 64)
        throw TemplateError(i, "bad format '" + std::string(inner.substr(colon)) + "' in {" + std::string(inner) + "}",
                            "use a width such as {index:04} (zero-padded) or {index:4} (space-padded)");
      part.width = width;
    }
    bool allowed = false;
    if (name == "index") {
      part.kind = Kind::index;
      allowed = scope.index;
    } else if (name == "fleet") {
      part.kind = Kind::fleet;
      allowed = scope.fleet;
    } else if (name == "account") {
      part.kind = Kind::account;
      allowed = scope.account;
    } else if (name == "device") {
      part.kind = Kind::device;
      allowed = scope.device;
    } else if (name == "request") {
      part.kind = Kind::request_raw;
      allowed = scope.request;
    } else if (name.starts_with("request.")) {
      part.kind = Kind::request_field;
      part.text = std::string(name.substr(8));
      allowed = scope.request;
      if (allowed && !valid_field_path(part.text))
        throw TemplateError(i, "bad request field '" + part.text + "'",
                            "write {request.<field>} with dots between nested fields, e.g. {request.params.value}");
    } else {
      std::string message = "unknown placeholder {" + std::string(name) + "}";
      const auto suggestion =
          closest_match(name, {"index", "fleet", "account", "device", "request", "request.id"});
      if (suggestion) message += "; did you mean {" + *suggestion + "}?";
      throw TemplateError(i, message, "available here: " + scope_list(scope));
    }
    if (!allowed)
      throw TemplateError(i, "{" + std::string(name) + "} cannot be used in this template",
                          "available here: " + scope_list(scope));
    flush();
    t.m_parts.push_back(std::move(part));
    i = close + 1;
  }
  flush();
  return t;
}

void Template::expand_to(std::string& out, const TemplateVars& vars) const {
  for (const auto& part : m_parts) {
    std::string value;
    switch (part.kind) {
    case Kind::text: out += part.text; continue;
    case Kind::index: value = std::to_string(vars.index); break;
    case Kind::fleet: value = std::string(vars.fleet); break;
    case Kind::account: value = std::string(vars.account); break;
    case Kind::device: value = std::string(vars.device); break;
    case Kind::request_raw:
      if (vars.request) value = vars.request->raw();
      break;
    case Kind::request_field:
      if (vars.request) value = vars.request->text(part.text).value_or(std::string());
      break;
    }
    if (static_cast<int>(value.size()) < part.width) out.append(part.width - value.size(), part.fill);
    out += value;
  }
}

std::string Template::expand(const TemplateVars& vars) const {
  std::string out;
  expand_to(out, vars);
  return out;
}

bool Template::is_literal() const noexcept {
  for (const auto& part : m_parts)
    if (part.kind != Kind::text) return false;
  return true;
}

bool Template::uses(std::string_view name) const noexcept {
  for (const auto& part : m_parts) {
    switch (part.kind) {
    case Kind::text: break;
    case Kind::index: if (name == "index") return true; break;
    case Kind::fleet: if (name == "fleet") return true; break;
    case Kind::account: if (name == "account") return true; break;
    case Kind::device: if (name == "device") return true; break;
    case Kind::request_raw:
    case Kind::request_field: if (name == "request") return true; break;
    }
  }
  return false;
}

std::optional<std::string> Template::sole_request_field() const {
  if (m_parts.size() == 1 && m_parts[0].kind == Kind::request_field && m_parts[0].width == 0)
    return m_parts[0].text;
  return std::nullopt;
}

} // namespace mqfleet::sim
