#include <mqfleet/scenario/payload.hpp>

#include <mqfleet/json_depth.hpp>

#include "payload_parse.hpp"

#include <mqfleet/scenario/diagnostic.hpp>

namespace mqfleet::sim {

void PayloadTemplate::append(Op op) {
  if (op.kind == Op::Kind::literal && !m_ops.empty() && m_ops.back().kind == Op::Kind::literal) {
    m_ops.back().text += op.text;
    return;
  }
  m_ops.push_back(std::move(op));
}

std::size_t PayloadTemplate::add_generator(std::shared_ptr<const Generator> generator) {
  m_generators.push_back(std::move(generator));
  return m_generators.size() - 1;
}

bool PayloadTemplate::is_constant() const noexcept {
  for (const auto& op : m_ops)
    if (op.kind != Op::Kind::literal) return false;
  return true;
}

std::vector<GeneratorState> PayloadTemplate::make_state(std::uint64_t seed, const DeviceState& device,
                                                        std::uint64_t stream) const {
  std::vector<GeneratorState> state(m_generators.size());
  for (std::size_t slot = 0; slot < m_generators.size(); ++slot) {
    state[slot].rng = Rng(stream_seed(seed, device.fleet, device.index, stream, slot));
    m_generators[slot]->init(state[slot], &device);
  }
  return state;
}

std::string PayloadTemplate::render(std::vector<GeneratorState>& state, const RenderContext& context,
                                    const RequestFields* request) const {
  std::string out;
  TemplateVars vars;
  if (context.device) vars = context.device->vars(request);
  vars.request = request;
  std::string scratch;
  for (const auto& op : m_ops) {
    switch (op.kind) {
    case Op::Kind::literal: out += op.text; break;
    case Op::Kind::generator: m_generators[op.index]->render(state[op.index], context, out); break;
    case Op::Kind::string_template:
      scratch.clear();
      op.templ.expand_to(scratch, vars);
      detail::append_json_string(out, scratch);
      break;
    case Op::Kind::raw_template: op.templ.expand_to(out, vars); break;
    case Op::Kind::request_json: {
      const auto json = request ? request->json(op.text) : std::nullopt;
      out += json ? *json : std::string("null");
      break;
    }
    case Op::Kind::field:
      out += context.device && op.index < context.device->fields.size() ? context.device->fields[op.index].json
                                                                        : std::string("null");
      break;
    }
  }
  return out;
}

PayloadTemplate PayloadTemplate::parse(std::string_view json_text, const TemplateScope& scope,
                                       const std::vector<std::string>& field_names, bool string_as_json) {
  if (const auto deep = json_nesting_error(json_text))
    throw ScenarioError({Diagnostic{"<payload>", static_cast<int>(deep->line), static_cast<int>(deep->column), {},
                                    "the JSON nests deeper than " + std::to_string(k_max_json_depth) + " levels",
                                    "flatten the payload: mqfleet reads JSON nested up to 64 levels deep"}});
  detail::Json node;
  try {
    node = detail::Json::parse(json_text, nullptr, true, true);
  } catch (const detail::Json::parse_error& e) {
    const auto pos = detail::position_of(json_text, e.byte > 0 ? e.byte - 1 : 0);
    throw ScenarioError({Diagnostic{"<payload>", pos.line, pos.column, {}, detail::syntax_message(e), {}}});
  } catch (const detail::Json::out_of_range&) {
    // A number too large for a double (1e999) is not a parse_error in nlohmann.
    throw ScenarioError({Diagnostic{"<payload>", 0, 0, {}, "a number is too large to represent", {}}});
  }
  const detail::PositionIndex positions(json_text);
  detail::Checker checker("<payload>", &positions);
  PayloadTemplate out;
  detail::parse_payload(checker, node, {}, scope, field_names, string_as_json, out);
  if (checker.has_errors()) throw ScenarioError(checker.take());
  return out;
}

namespace detail {

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char k_hex[] = "0123456789abcdef";
  out += '"';
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default:
      if (c < 0x20) {
        out += "\\u00";
        out += k_hex[c >> 4];
        out += k_hex[c & 0xF];
      } else {
        out += ch;
      }
    }
  }
  out += '"';
}

namespace {

using Op = PayloadTemplate::Op;

void parse_string(Checker& c, const Json& node, const std::string& path, const TemplateScope& scope, bool raw,
                  PayloadTemplate& out) {
  const std::string text = node.get<std::string>();
  if (text.find_first_of("{}") == std::string::npos) {
    out.append(Op{Op::Kind::literal, raw ? text : node.dump(), 0, {}});
    return;
  }
  const auto templ = c.templ(node, path, scope);
  if (!templ) return;
  if (!raw) {
    if (auto field = templ->sole_request_field()) {
      out.append(Op{Op::Kind::request_json, std::move(*field), 0, {}});
      return;
    }
  }
  out.append(Op{raw ? Op::Kind::raw_template : Op::Kind::string_template, {}, 0, *templ});
}

void parse_value(Checker& c, const Json& node, const std::string& path, const TemplateScope& scope,
                 const std::vector<std::string>& fields, PayloadTemplate& out) {
  if (node.is_string()) {
    parse_string(c, node, path, scope, false, out);
  } else if (is_generator_object(node)) {
    if (auto g = parse_generator(c, node, path, fields)) {
      const std::size_t slot = out.add_generator(std::move(g));
      out.append(Op{Op::Kind::generator, {}, slot, {}});
    }
  } else if (node.is_object()) {
    out.append(Op{Op::Kind::literal, "{", 0, {}});
    bool first = true;
    for (const auto& [key, value] : node.items()) {
      std::string head = first ? "" : ",";
      append_json_string(head, key);
      head += ':';
      out.append(Op{Op::Kind::literal, std::move(head), 0, {}});
      parse_value(c, value, child_path(path, key), scope, fields, out);
      first = false;
    }
    out.append(Op{Op::Kind::literal, "}", 0, {}});
  } else if (node.is_array()) {
    out.append(Op{Op::Kind::literal, "[", 0, {}});
    for (std::size_t i = 0; i < node.size(); ++i) {
      if (i) out.append(Op{Op::Kind::literal, ",", 0, {}});
      parse_value(c, node[i], item_path(path, i), scope, fields, out);
    }
    out.append(Op{Op::Kind::literal, "]", 0, {}});
  } else {
    out.append(Op{Op::Kind::literal, node.dump(), 0, {}});
  }
}

} // namespace

void parse_payload(Checker& c, const Json& node, const std::string& path, const TemplateScope& scope,
                   const std::vector<std::string>& field_names, bool string_as_json, PayloadTemplate& out) {
  if (node.is_string() && !string_as_json) {
    parse_string(c, node, path, scope, true, out);
    return;
  }
  parse_value(c, node, path, scope, field_names, out);
}

} // namespace detail

} // namespace mqfleet::sim
