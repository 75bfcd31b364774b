// Top level of the scenario loader: syntax, `connection`, `run`, cross-section checks.
#include <mqfleet/scenario/scenario_loader.hpp>

#include <mqfleet/json_depth.hpp>
#include <mqfleet/profile_resolve.hpp>

#include "loader_parts.hpp"

#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

namespace mqfleet::sim {

using detail::Checker;
using detail::Json;
using detail::Range;
using detail::child_path;
using detail::item_path;

const std::vector<std::string>& scenario_top_level_keys() {
  static const std::vector<std::string> keys = {"$schema", "name", "description", "connection",
                                                "fleets",  "behaviour", "run"};
  return keys;
}

std::uint64_t Scenario::device_count() const noexcept {
  std::uint64_t total = 0;
  for (const auto& fleet : fleets) total += fleet.count;
  return total;
}

DeviceState Scenario::make_device(std::size_t fleet_index, std::uint64_t n, std::uint64_t seed) const {
  const FleetSpec& fleet = fleets.at(fleet_index);
  DeviceState device;
  device.fleet = fleet.name;
  device.index = fleet.first_index + n;
  TemplateVars vars;
  vars.index = device.index;
  vars.fleet = device.fleet;
  device.account = fleet.account.expand(vars);
  vars.account = device.account;
  device.device_id = fleet.device_id.expand(vars);
  device.fields.resize(fleet.field_names.size());
  for (std::size_t i = 0; i < fleet.field_init.size(); ++i) {
    auto state = fleet.field_init[i].make_state(seed, device, k_field_stream + i);
    const RenderContext context{Millis(0), 0, &device};
    device.set_field(i, fleet.field_init[i].render(state, context));
  }
  return device;
}

namespace detail {

namespace {

void parse_secret(Checker& c, const Json& node, const std::string& path, Secret& secret) {
  if (node.is_string()) {
    secret = Secret{SecretSource::literal, node.get<std::string>()};
    return;
  }
  if (!node.is_object() || node.size() != 1 || !(node.contains("env") || node.contains("file"))) {
    c.error(path, "expected a string, {\"env\": \"NAME\"} or {\"file\": \"PATH\"}, got " + type_name(node));
    return;
  }
  const bool env = node.contains("env");
  const std::string key = env ? "env" : "file";
  if (const auto value = c.string(node[key], child_path(path, key)))
    secret = Secret{env ? SecretSource::env : SecretSource::file, *value};
}

void parse_tls(Checker& c, const Json& node, const std::string& path, TlsOptions& tls) {
  if (node.is_boolean()) {
    tls.enabled = node.get<bool>();
    return;
  }
  if (!c.object(node, path, "true, false or an object")) return;
  c.keys(node, path, {"enabled", "ca_file", "ca_path", "cert_file", "key_file", "key_password", "insecure", "version", "alpn"});
  tls.enabled = true;
  const auto str = [&](const Json& n, const std::string& p) { return c.string(n, p); };
  const auto flag = [&](const Json& n, const std::string& p) { return c.boolean(n, p); };
  tls.enabled = c.get(node, path, "enabled", flag).value_or(true);
  tls.ca_file = c.get(node, path, "ca_file", str).value_or("");
  tls.ca_path = c.get(node, path, "ca_path", str).value_or("");
  tls.cert_file = c.get(node, path, "cert_file", str).value_or("");
  tls.key_file = c.get(node, path, "key_file", str).value_or("");
  if (const Json* kp = c.member(node, path, "key_password")) parse_secret(c, *kp, child_path(path, "key_password"), tls.key_password);
  tls.insecure = c.get(node, path, "insecure", flag).value_or(false);
  if (const auto v = c.get(node, path, "version", str)) {
    if (*v != "tlsv1.2" && *v != "tlsv1.3") c.error(child_path(path, "version"), "unknown TLS version '" + *v + "'", "use \"tlsv1.2\" or \"tlsv1.3\"");
    else tls.version = *v;
  }
  if (const Json* alpn = c.member(node, path, "alpn")) {
    const std::string ap = child_path(path, "alpn");
    if (!alpn->is_array()) c.error(ap, "expected an array of protocol names, got " + type_name(*alpn));
    for (std::size_t i = 0; alpn->is_array() && i < alpn->size(); ++i)
      if (const auto name = c.string((*alpn)[i], item_path(ap, i))) tls.alpn.push_back(*name);
  }
}

void parse_run(Checker& c, const Json& node, const std::string& path, RunSpec& run) {
  if (!c.object(node, path)) return;
  c.keys(node, path, {"duration", "messages", "seed", "expect"});
  run.duration = c.get(node, path, "duration", [&](const Json& n, const std::string& p) { return c.duration(n, p); });
  const auto count = [&](const Json& n, const std::string& p) { return c.integer(n, p, Range{1, 9.2e18}); };
  if (const auto m = c.get(node, path, "messages", count)) run.messages = static_cast<std::uint64_t>(*m);
  if (const auto s = c.get(node, path, "seed", [&](const Json& n, const std::string& p) { return c.integer(n, p, Range{0}); }))
    run.seed = static_cast<std::uint64_t>(*s);
  if (const Json* e = c.member(node, path, "expect")) {
    const std::string ep = child_path(path, "expect");
    if (c.object(*e, ep)) {
      c.keys(*e, ep, {"max_error_rate", "min_delivered", "max_command_rtt_p99"});
      const auto frac = [&](const Json& n, const std::string& p) { return c.fraction(n, p); };
      run.expect.max_error_rate = c.get(*e, ep, "max_error_rate", frac);
      run.expect.min_delivered = c.get(*e, ep, "min_delivered", frac);
      run.expect.max_command_rtt_p99 =
          c.get(*e, ep, "max_command_rtt_p99", [&](const Json& n, const std::string& p) { return c.duration(n, p); });
    }
  }
}

} // namespace

ConnectionSpec parse_connection(Checker& c, const Json& node, const std::string& path) {
  ConnectionSpec spec;
  if (node.is_string()) {
    spec.profile = node.get<std::string>();
    if (spec.profile.empty()) c.error(path, "empty profile name", "name a profile from `mqfleet profile list`");
    return spec;
  }
  if (!c.object(node, path, "a profile name or an object of connection settings")) return spec;
  c.keys(node, path, {"profile", "preset", "url", "host", "port", "version", "username", "credential", "keepalive",
                      "clean_session", "session_expiry", "connect_timeout", "reconnect", "tls"});
  const auto str = [&](const Json& n, const std::string& p) { return c.string(n, p); };
  const auto flag = [&](const Json& n, const std::string& p) { return c.boolean(n, p); };
  spec.profile = c.get(node, path, "profile", str).value_or("");
  if (const auto preset_name = c.get(node, path, "preset", str)) {
    try {
      spec.settings = preset(*preset_name);
      spec.preset = *preset_name;
    } catch (const ConfigError& e) {
      c.error(child_path(path, "preset"), e.what(), e.hint());
    }
  }
  if (!spec.profile.empty() && !spec.preset.empty())
    c.error(child_path(path, "preset"), "both \"profile\" and \"preset\" are set", "start from one of them", true);
  ConnectionProfile& p = spec.settings;
  p.name.clear();
  if (const auto url = c.get(node, path, "url", str)) {
    // mqtt[s]:// or ws[s]://host:port/path, as -L takes it; "host" and "port" still win.
    try {
      apply(p, overrides_from_url(parse_broker_url(*url, child_path(path, "url"))));
    } catch (const ConfigError& e) {
      c.error(child_path(path, "url"), e.what(), e.hint());
    }
  }
  if (const auto host = c.get(node, path, "host", str)) p.host = *host;
  if (const auto port = c.get(node, path, "port", [&](const Json& n, const std::string& q) { return c.integer(n, q, Range{1, 65535}); }))
    p.port = static_cast<int>(*port);
  if (const Json* v = c.member(node, path, "version")) {
    const std::string vp = child_path(path, "version");
    const std::string text = v->is_string() ? v->get<std::string>() : v->is_number() ? v->dump() : std::string();
    if (text.empty()) c.error(vp, "expected \"3.1\", \"3.1.1\" or \"5\", got " + type_name(*v));
    else {
      try {
        p.version = parse_mqtt_version(text);
      } catch (const ConfigError& e) {
        c.error(vp, e.what(), "use \"3.1\", \"3.1.1\" or \"5\"");
      }
    }
  }
  if (const auto u = c.get(node, path, "username", str)) p.username = *u;
  if (const Json* cr = c.member(node, path, "credential")) parse_secret(c, *cr, child_path(path, "credential"), p.credential);
  if (const auto k = c.get(node, path, "keepalive", [&](const Json& n, const std::string& q) { return c.duration(n, q); }))
    p.keepalive_seconds = static_cast<int>(k->count() / 1000);
  if (const auto cs = c.get(node, path, "clean_session", flag)) p.clean_session = *cs;
  if (const auto se = c.get(node, path, "session_expiry", [&](const Json& n, const std::string& q) { return c.duration(n, q, true); }))
    p.session_expiry_seconds = static_cast<std::uint32_t>(se->count() / 1000);
  if (const auto t = c.get(node, path, "connect_timeout", [&](const Json& n, const std::string& q) { return c.duration(n, q); }))
    p.connect_timeout = *t;
  if (const Json* r = c.member(node, path, "reconnect")) {
    const std::string rp = child_path(path, "reconnect");
    if (r->is_boolean()) {
      p.reconnect.enabled = r->get<bool>();
    } else if (c.object(*r, rp, "true, false or an object")) {
      c.keys(*r, rp, {"enabled", "min_delay", "max_delay"});
      p.reconnect.enabled = c.get(*r, rp, "enabled", flag).value_or(true);
      const auto secs = [&](const Json& n, const std::string& q) { return c.duration(n, q); };
      if (const auto d = c.get(*r, rp, "min_delay", secs)) p.reconnect.min_delay = std::chrono::duration_cast<std::chrono::seconds>(*d);
      if (const auto d = c.get(*r, rp, "max_delay", secs)) p.reconnect.max_delay = std::chrono::duration_cast<std::chrono::seconds>(*d);
    }
  }
  if (const Json* tls = c.member(node, path, "tls")) parse_tls(c, *tls, child_path(path, "tls"), p.tls);
  for (const auto& [key, value] : node.items())
    if (key != "profile" && key != "preset") spec.explicit_keys.push_back(key);
  return spec;
}

namespace {

Scenario parse_scenario(Checker& c, const Json& root) {
  Scenario s;
  if (!c.object(root, {}, "an object at the top level")) return s;
  c.keys(root, {}, {"$schema", "name", "description", "connection", "fleets", "behaviour", "run"});
  const auto str = [&](const Json& n, const std::string& p) { return c.string(n, p); };
  s.name = c.get(root, {}, "name", str).value_or("");
  s.description = c.get(root, {}, "description", str).value_or("");
  if (const Json* conn = c.member(root, {}, "connection", true, "a profile name, or e.g. {\"host\": \"localhost\", \"port\": 1883}"))
    s.connection = parse_connection(c, *conn, "connection");
  std::optional<BehaviourSpec> behaviour;
  if (const Json* b = c.member(root, {}, "behaviour")) behaviour = parse_behaviour(c, *b, "behaviour");
  if (const Json* fleets = c.member(root, {}, "fleets", true, "a list of fleets, e.g. [{\"name\": ..., \"count\": 10, ...}]")) {
    if (!fleets->is_array() || fleets->empty()) {
      c.error("fleets", "expected a non-empty array of fleets, got " + (fleets->is_array() ? std::string("[]") : type_name(*fleets)));
    } else {
      for (std::size_t i = 0; i < fleets->size(); ++i)
        s.fleets.push_back(parse_fleet(c, (*fleets)[i], item_path("fleets", i), s.connection, behaviour));
    }
  }
  if (const Json* run = c.member(root, {}, "run")) parse_run(c, *run, "run", s.run);
  return s;
}

// Checks that need the whole scenario: unique fleet names and device ids, storms within
// the run, expectations that can be measured.
void cross_check(Checker& c, const Scenario& s) {
  std::unordered_map<std::string, std::size_t> names;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < s.fleets.size(); ++i) {
    const auto [it, fresh] = names.emplace(s.fleets[i].name, i);
    if (!fresh && !s.fleets[i].name.empty()) // an empty name was already reported
      c.error(child_path(item_path("fleets", i), "name"), "fleet name '" + s.fleets[i].name + "' is already used by fleets[" +
              std::to_string(it->second) + "]", "fleet names seed the generators and must be unique");
    total += s.fleets[i].count;
  }
  if (total > 1'000'000) c.error("fleets", "more than 1,000,000 devices in total", "split the scenario across processes");
  bool any_command = false;
  for (std::size_t i = 0; i < s.fleets.size(); ++i) {
    any_command = any_command || !s.fleets[i].commands.empty();
    for (std::size_t j = 0; j < s.fleets[i].behaviour.storms.size(); ++j)
      if (s.run.duration && s.fleets[i].behaviour.storms[j].at >= *s.run.duration)
        c.error(child_path(item_path(child_path(child_path(item_path("fleets", i), "behaviour"), "reconnect_storms"), j), "at"),
                "the storm would start after the run ends", "choose a time before run.duration");
  }
  if (s.run.expect.max_command_rtt_p99 && !any_command)
    c.error("run.expect.max_command_rtt_p99", "no fleet has commands, so there is no round trip to measure",
            "remove it or add commands to a fleet", true);
  if (c.has_errors()) return; // ids are only meaningful once every template compiled
  std::unordered_map<std::string, std::size_t> ids;
  for (std::size_t i = 0; i < s.fleets.size(); ++i) {
    for (std::uint64_t n = 0; n < s.fleets[i].count; ++n) {
      const DeviceState d = s.make_device(i, n, 0);
      const auto [it, fresh] = ids.emplace(d.device_id, i);
      if (!fresh) {
        c.error(child_path(item_path("fleets", i), "device_id"), "device id '" + d.device_id + "' is also produced by fleets[" +
                std::to_string(it->second) + "]", "client ids must be unique: give each fleet its own prefix");
        break;
      }
    }
  }
}

} // namespace

} // namespace detail

CheckResult check_scenario(std::string_view text, const std::string& file) {
  CheckResult result;
  // Deeper documents would overflow the stack when walked (and the position index grows
  // with the square of the depth): refused before parsing, at the offending bracket.
  if (const auto deep = json_nesting_error(text)) {
    result.diagnostics.push_back(Diagnostic{file, static_cast<int>(deep->line), static_cast<int>(deep->column), {},
                                            "the JSON nests deeper than " + std::to_string(k_max_json_depth) + " levels",
                                            "flatten the scenario: mqfleet reads JSON nested up to 64 levels deep"});
    return result;
  }
  Json root;
  try {
    root = Json::parse(text, nullptr, true, true);
  } catch (const Json::exception& e) {
    const std::size_t byte = dynamic_cast<const Json::parse_error*>(&e) ? dynamic_cast<const Json::parse_error&>(e).byte : 0;
    std::size_t offset = byte > 0 ? byte - 1 : 0;
    // An unterminated comment is reported at the end of the file; point at its start.
    if (std::string_view(e.what()).find("missing closing '*/'") != std::string_view::npos) {
      const std::size_t open = text.rfind("/*", offset);
      if (open != std::string_view::npos) offset = open;
    }
    const auto pos = detail::position_of(text, offset);
    result.diagnostics.push_back(Diagnostic{file, pos.line, pos.column, {}, detail::syntax_message(e),
                                            "scenarios are JSON; comments (// and /* */) are allowed, trailing commas are not"});
    return result;
  }
  const detail::PositionIndex positions(text);
  Checker checker(file, &positions);
  checker.report_duplicates();
  Scenario scenario = detail::parse_scenario(checker, root);
  detail::cross_check(checker, scenario);
  scenario.file = file;
  result.diagnostics = checker.take();
  if (result.diagnostics.empty()) result.scenario = std::move(scenario);
  return result;
}

CheckResult check_scenario_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    CheckResult result;
    result.diagnostics.push_back(Diagnostic{path, 0, 0, {}, "cannot read the scenario file", "check the path and its permissions"});
    return result;
  }
  std::ostringstream content;
  content << in.rdbuf();
  return check_scenario(content.str(), path);
}

Scenario load_scenario(std::string_view text, const std::string& file) {
  CheckResult result = check_scenario(text, file);
  if (!result.ok()) throw ScenarioError(std::move(result.diagnostics));
  return std::move(*result.scenario);
}

Scenario load_scenario_file(const std::string& path) {
  CheckResult result = check_scenario_file(path);
  if (!result.ok()) throw ScenarioError(std::move(result.diagnostics));
  return std::move(*result.scenario);
}

} // namespace mqfleet::sim
