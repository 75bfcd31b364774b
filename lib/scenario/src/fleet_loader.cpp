// The `fleets[]` section: devices, credentials, wills, fields, telemetry and commands.
#include "loader_parts.hpp"
#include "payload_parse.hpp"

#include <mqfleet/scenario/units.hpp>

#include <algorithm>
#include <cctype>

namespace mqfleet::sim::detail {

namespace {

bool valid_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.';
  });
}

std::optional<std::string> name_of(Checker& c, const Json& node, const std::string& path, bool required,
                                   std::string hint = {}) {
  const Json* n = c.member(node, path, "name", required, std::move(hint));
  if (!n) return std::nullopt;
  const auto name = c.string(*n, child_path(path, "name"));
  if (name && !valid_name(*name)) {
    c.error(child_path(path, "name"), "bad name '" + *name + "'", "use letters, digits, '_', '-' and '.'");
    return std::nullopt;
  }
  return name;
}

// A topic the device publishes to: no wildcards, not empty.
std::optional<Template> publish_topic(Checker& c, const Json& obj, const std::string& path, const TemplateScope& scope) {
  const Json* node = c.member(obj, path, "topic", true, "e.g. \"topic\": \"{account}/{device}/data\"");
  if (!node) return std::nullopt;
  const std::string p = child_path(path, "topic");
  auto topic = c.templ(*node, p, scope);
  if (!topic) return std::nullopt;
  const std::string& text = topic->source();
  if (text.empty()) {
    c.error(p, "empty topic");
    return std::nullopt;
  }
  const std::size_t wildcard = text.find_first_of("+#");
  if (wildcard != std::string::npos) {
    c.error_in_string(p, wildcard, "wildcard '" + std::string(1, text[wildcard]) + "' in a publish topic",
                      "wildcards are only allowed in command (subscribe) topics");
    return std::nullopt;
  }
  return topic;
}

std::optional<PeriodSpec> parse_period(Checker& c, const Json& node, const std::string& path) {
  PeriodSpec period;
  const Json* every = &node;
  std::string every_path = path;
  const Json* jitter = nullptr;
  if (node.is_object()) {
    c.keys(node, path, {"every", "jitter"});
    every = c.member(node, path, "every", true, "e.g. {\"every\": \"10s\", \"jitter\": \"10%\"}");
    every_path = child_path(path, "every");
    jitter = c.member(node, path, "jitter");
  } else if (!node.is_string()) {
    c.error(path, "expected a duration (\"10s\") or {\"every\": ..., \"jitter\": ...}, got " + type_name(node));
    return std::nullopt;
  }
  if (!every) return std::nullopt;
  const auto d = c.duration(*every, every_path);
  if (!d) return std::nullopt;
  period.every = *d;
  if (jitter) {
    const std::string jp = child_path(path, "jitter");
    if (jitter->is_string() && jitter->get<std::string>().ends_with("%")) {
      const auto f = c.fraction(*jitter, jp);
      if (!f) return std::nullopt;
      period.jitter = Millis(static_cast<std::int64_t>(static_cast<double>(period.every.count()) * *f));
    } else if (const auto j = c.duration(*jitter, jp, true)) {
      period.jitter = *j;
    } else {
      return std::nullopt;
    }
    if (period.jitter >= period.every) {
      c.error(jp, "jitter must be smaller than the period", "e.g. \"10%\" of the period");
      return std::nullopt;
    }
  }
  return period;
}

std::optional<CredentialSpec> parse_credential(Checker& c, const Json& node, const std::string& path) {
  CredentialSpec spec;
  const char* k_forms = "a credential string, {\"env\": \"NAME\"}, \"provisioned\" or {\"provisioned\": \"FILE\"}";
  if (node.is_object()) {
    c.keys(node, path, {"env", "provisioned"});
    if (node.contains("env") == node.contains("provisioned")) {
      c.error(path, "expected exactly one of \"env\" and \"provisioned\"",
              "e.g. {\"env\": \"FLEET_PASSWORD\"} or {\"provisioned\": \"fleet.credentials.json\"}");
      return std::nullopt;
    }
    const bool env = node.contains("env");
    const std::string key = env ? "env" : "provisioned";
    const auto value = c.string(node[key], child_path(path, key));
    if (!value) return std::nullopt;
    if (value->empty()) {
      c.error(child_path(path, key), env ? "empty variable name" : "empty file name",
              env ? "name the environment variable" : "name the credentials file, e.g. \"fleet.credentials.json\"");
      return std::nullopt;
    }
    spec.kind = env ? CredentialKind::env : CredentialKind::provisioned;
    (env ? spec.env_name : spec.provisioned_file) = *value;
    return spec;
  }
  if (!node.is_string()) {
    c.error(path, std::string("expected ") + k_forms + ", got " + type_name(node));
    return std::nullopt;
  }
  if (node.get<std::string>() == "provisioned") {
    spec.kind = CredentialKind::provisioned;
    return spec;
  }
  auto value = c.templ(node, path, TemplateScope::device_scope(), true);
  if (!value) return std::nullopt;
  spec.kind = value->is_literal() ? CredentialKind::literal : CredentialKind::templated;
  spec.value = std::move(*value);
  return spec;
}

std::optional<WillSpec> parse_will(Checker& c, const Json& node, const std::string& path) {
  if (!c.object(node, path)) return std::nullopt;
  c.keys(node, path, {"topic", "payload", "online_payload", "qos", "retain"});
  const std::size_t before = c.error_count();
  WillSpec will;
  auto topic = publish_topic(c, node, path, TemplateScope::device_scope());
  const auto str = [&](const Json& n, const std::string& p) { return c.string(n, p); };
  will.payload = c.get(node, path, "payload", str).value_or("offline");
  will.online_payload = c.get(node, path, "online_payload", str);
  will.qos = c.get(node, path, "qos", [&](const Json& n, const std::string& p) { return c.qos(n, p); }).value_or(1);
  will.retain = c.get(node, path, "retain", [&](const Json& n, const std::string& p) { return c.boolean(n, p); }).value_or(true);
  if (!topic || c.error_count() != before) return std::nullopt;
  will.topic = std::move(*topic);
  return will;
}

PayloadTemplate payload_of(Checker& c, const Json& obj, const std::string& path, const TemplateScope& scope,
                           const std::vector<std::string>& fields) {
  PayloadTemplate payload;
  const Json* node = c.member(obj, path, "payload", true, "a JSON object of constants and generators");
  if (!node) return payload;
  const std::string p = child_path(path, "payload");
  if (!node->is_object() && !node->is_string())
    c.error(p, "expected a JSON object (or a text string), got " + type_name(*node));
  else
    parse_payload(c, *node, p, scope, fields, false, payload);
  return payload;
}

TelemetrySpec parse_telemetry(Checker& c, const Json& node, const std::string& path, std::size_t i,
                              const std::vector<std::string>& fields) {
  TelemetrySpec t;
  if (!c.object(node, path)) return t;
  c.keys(node, path, {"name", "topic", "period", "qos", "retain", "payload"});
  t.name = name_of(c, node, path, false).value_or("telemetry" + std::to_string(i));
  if (auto topic = publish_topic(c, node, path, TemplateScope::device_scope())) t.topic = std::move(*topic);
  if (const Json* p = c.member(node, path, "period", true, "e.g. \"period\": \"10s\""))
    if (const auto period = parse_period(c, *p, child_path(path, "period"))) t.period = *period;
  t.qos = c.get(node, path, "qos", [&](const Json& n, const std::string& p) { return c.qos(n, p); }).value_or(0);
  t.retain = c.get(node, path, "retain", [&](const Json& n, const std::string& p) { return c.boolean(n, p); }).value_or(false);
  t.payload = payload_of(c, node, path, TemplateScope::device_scope(), fields);
  return t;
}

CommandSpec parse_command(Checker& c, const Json& node, const std::string& path, std::size_t i,
                          const std::vector<std::string>& fields) {
  CommandSpec cmd;
  if (!c.object(node, path)) return cmd;
  c.keys(node, path, {"name", "topic", "qos", "delay", "reply", "set"});
  cmd.name = name_of(c, node, path, false).value_or("command" + std::to_string(i));
  if (const Json* t = c.member(node, path, "topic", true, "e.g. \"topic\": \"{account}/{device}/cmd/#\""))
    if (auto topic = c.templ(*t, child_path(path, "topic"), TemplateScope::device_scope())) cmd.topic = std::move(*topic);
  cmd.qos = c.get(node, path, "qos", [&](const Json& n, const std::string& p) { return c.qos(n, p); }).value_or(0);
  if (const Json* d = c.member(node, path, "delay"))
    if (const auto delay = parse_duration_range(c, *d, child_path(path, "delay"), true)) cmd.delay = *delay;
  const Json* reply = c.member(node, path, "reply");
  const Json* set = c.member(node, path, "set");
  if (!reply && !set && node.contains("topic"))
    c.error(path, "command has neither \"reply\" nor \"set\"", "add a reply to publish, or fields to set");
  if (reply) {
    const std::string rp = child_path(path, "reply");
    if (c.object(*reply, rp)) {
      c.keys(*reply, rp, {"topic", "qos", "retain", "payload"});
      ReplySpec r;
      if (auto topic = publish_topic(c, *reply, rp, TemplateScope::request_scope())) r.topic = std::move(*topic);
      r.qos = c.get(*reply, rp, "qos", [&](const Json& n, const std::string& p) { return c.qos(n, p); }).value_or(0);
      r.retain = c.get(*reply, rp, "retain", [&](const Json& n, const std::string& p) { return c.boolean(n, p); }).value_or(false);
      r.payload = payload_of(c, *reply, rp, TemplateScope::request_scope(), fields);
      cmd.reply = std::move(r);
    }
  }
  if (set) {
    const std::string sp = child_path(path, "set");
    if (c.object(*set, sp)) {
      for (const auto& [key, value] : set->items()) {
        const std::string fp = child_path(sp, key);
        const auto it = std::find(fields.begin(), fields.end(), key);
        if (it == fields.end()) {
          std::string message = "unknown device field '" + key + "'";
          if (const auto s = closest_match(key, fields)) message += "; did you mean '" + *s + "'?";
          c.error(fp, message, "declare it in the fleet's \"fields\" object", true);
          continue;
        }
        FieldChange change{key, static_cast<std::size_t>(it - fields.begin()), {}};
        parse_payload(c, value, fp, TemplateScope::request_scope(), fields, true, change.value);
        cmd.set.push_back(std::move(change));
      }
    }
  }
  return cmd;
}

} // namespace

std::optional<DurationRange> parse_duration_range(Checker& c, const Json& node, const std::string& path,
                                                  bool allow_zero) {
  if (node.is_object()) {
    c.keys(node, path, {"min", "max"});
    const auto dur = [&](const Json& n, const std::string& p) { return c.duration(n, p, allow_zero); };
    const auto min = c.get(node, path, "min", dur, true);
    const auto max = c.get(node, path, "max", dur, true);
    if (!min || !max) return std::nullopt;
    if (*max < *min) {
      c.error(child_path(path, "max"), "max is shorter than min", "swap them");
      return std::nullopt;
    }
    return DurationRange{*min, *max};
  }
  if (!node.is_string()) {
    c.error(path, "expected a duration (\"30s\") or {\"min\": ..., \"max\": ...}, got " + type_name(node));
    return std::nullopt;
  }
  const auto d = c.duration(node, path, allow_zero);
  if (!d) return std::nullopt;
  return DurationRange{*d, *d};
}

FleetSpec parse_fleet(Checker& c, const Json& node, const std::string& path, const ConnectionSpec& connection,
                      const std::optional<BehaviourSpec>& fallback_behaviour) {
  FleetSpec f;
  if (!c.object(node, path)) return f;
  c.keys(node, path, {"name", "count", "first_index", "device_id", "account", "username", "credential", "rate",
                      "keepalive", "clean_session", "will", "fields", "telemetry", "commands", "behaviour"});
  f.name = name_of(c, node, path, true, "e.g. \"name\": \"stations\"").value_or("");
  const auto integer = [&](Range r) {
    return [&c, r](const Json& n, const std::string& p) { return c.integer(n, p, r); };
  };
  f.count = static_cast<std::uint64_t>(c.get(node, path, "count", integer(Range{1, 1'000'000}), true).value_or(1));
  f.first_index = static_cast<std::uint64_t>(c.get(node, path, "first_index", integer(Range{0, 1e15})).value_or(0));

  if (node.contains("account") && node.contains("username"))
    c.error(child_path(path, "username"), "both \"account\" and \"username\" are set", "they are the same; keep \"account\"", true);
  const char* account_key = node.contains("username") ? "username" : "account";
  if (const Json* a = c.member(node, path, account_key)) {
    if (auto account = c.templ(*a, child_path(path, account_key), TemplateScope::account_scope())) f.account = std::move(*account);
  } else {
    f.account = Template::literal(connection.settings.username);
  }
  if (const Json* d = c.member(node, path, "device_id", true, "e.g. \"device_id\": \"station-{index:04}\"")) {
    const std::string dp = child_path(path, "device_id");
    if (auto id = c.templ(*d, dp, TemplateScope::device_id_scope())) {
      if (f.count > 1 && !id->uses("index"))
        c.error(dp, "every device would get the same id", "include {index}, e.g. \"" + id->source() + "-{index}\"");
      else if (id->source().empty())
        c.error(dp, "empty device id");
      f.device_id = std::move(*id);
    }
  }
  if (const Json* cr = c.member(node, path, "credential"))
    if (auto credential = parse_credential(c, *cr, child_path(path, "credential"))) f.credential = std::move(*credential);
  if (const auto rate = c.get(node, path, "rate", [&](const Json& n, const std::string& p) { return c.rate(n, p); }))
    f.connect_rate = *rate;
  if (const auto k = c.get(node, path, "keepalive", [&](const Json& n, const std::string& p) { return c.duration(n, p); })) {
    if (k->count() % 1000 != 0 || *k > Millis(65'535'000))
      c.error(child_path(path, "keepalive"), "keepalive must be whole seconds up to 65535s", "e.g. \"60s\"");
    else
      f.keepalive_seconds = static_cast<int>(k->count() / 1000);
  }
  f.clean_session = c.get(node, path, "clean_session", [&](const Json& n, const std::string& p) { return c.boolean(n, p); });
  if (const Json* w = c.member(node, path, "will")) f.will = parse_will(c, *w, child_path(path, "will"));

  if (const Json* fields = c.member(node, path, "fields")) {
    const std::string fp = child_path(path, "fields");
    if (c.object(*fields, fp)) {
      for (const auto& [key, value] : fields->items()) {
        f.field_names.push_back(key);
        f.field_init.emplace_back();
        parse_payload(c, value, child_path(fp, key), TemplateScope::device_scope(), {}, true, f.field_init.back());
      }
    }
  }
  const auto each = [&](const char* key, auto&& parse) {
    const Json* list = c.member(node, path, key);
    if (!list) return;
    const std::string lp = child_path(path, key);
    if (!list->is_array()) {
      c.error(lp, "expected an array, got " + type_name(*list), "write [ {...}, {...} ]");
      return;
    }
    for (std::size_t i = 0; i < list->size(); ++i) parse((*list)[i], item_path(lp, i), i);
  };
  each("telemetry", [&](const Json& n, const std::string& p, std::size_t i) {
    f.telemetry.push_back(parse_telemetry(c, n, p, i, f.field_names));
  });
  each("commands", [&](const Json& n, const std::string& p, std::size_t i) {
    f.commands.push_back(parse_command(c, n, p, i, f.field_names));
  });
  std::vector<std::string> names;
  for (const auto& t : f.telemetry) names.push_back("telemetry " + t.name);
  for (const auto& cmd : f.commands) names.push_back("command " + cmd.name);
  for (std::size_t i = 0; i < names.size(); ++i)
    if (std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i), names[i]) != names.begin() + static_cast<std::ptrdiff_t>(i))
      c.error(path, "two entries are named '" + names[i] + "'", "give each telemetry stream and command its own name");
  if (const Json* b = c.member(node, path, "behaviour")) f.behaviour = parse_behaviour(c, *b, child_path(path, "behaviour"));
  else if (fallback_behaviour) f.behaviour = *fallback_behaviour;
  return f;
}

BehaviourSpec parse_behaviour(Checker& c, const Json& node, const std::string& path) {
  BehaviourSpec b;
  if (!c.object(node, path)) return b;
  c.keys(node, path, {"offline", "drops", "reconnect_storms"});
  const auto probability = [&](const Json& obj, const std::string& p) {
    return c.get(obj, p, "probability", [&](const Json& n, const std::string& q) { return c.fraction(n, q); }, true).value_or(0);
  };
  const auto every = [&](const Json& obj, const std::string& p) {
    return c.get(obj, p, "every", [&](const Json& n, const std::string& q) { return c.duration(n, q); }).value_or(Millis(60'000));
  };
  const auto range = [&](const Json& obj, const std::string& p, const char* key) {
    const Json* n = c.member(obj, p, key, true);
    return n ? parse_duration_range(c, *n, child_path(p, key), true).value_or(DurationRange{}) : DurationRange{};
  };
  if (const Json* o = c.member(node, path, "offline")) {
    const std::string p = child_path(path, "offline");
    if (c.object(*o, p)) {
      c.keys(*o, p, {"probability", "every", "duration"});
      b.offline = OfflineCycles{probability(*o, p), every(*o, p), range(*o, p, "duration")};
    }
  }
  if (const Json* d = c.member(node, path, "drops")) {
    const std::string p = child_path(path, "drops");
    if (c.object(*d, p)) {
      c.keys(*d, p, {"probability", "every", "reconnect_after"});
      b.drops = Drops{probability(*d, p), every(*d, p), range(*d, p, "reconnect_after")};
    }
  }
  if (const Json* s = c.member(node, path, "reconnect_storms")) {
    const std::string sp = child_path(path, "reconnect_storms");
    if (!s->is_array()) c.error(sp, "expected an array, got " + type_name(*s), "write [ {\"at\": \"30s\"} ]");
    for (std::size_t i = 0; s->is_array() && i < s->size(); ++i) {
      const std::string p = item_path(sp, i);
      const Json& storm = (*s)[i];
      if (!c.object(storm, p)) continue;
      c.keys(storm, p, {"at", "fraction", "down_for"});
      ReconnectStorm r;
      r.at = c.get(storm, p, "at", [&](const Json& n, const std::string& q) { return c.duration(n, q, true); }, true).value_or(Millis(0));
      r.fraction = c.get(storm, p, "fraction", [&](const Json& n, const std::string& q) { return c.fraction(n, q); }).value_or(1.0);
      if (const Json* df = c.member(storm, p, "down_for"))
        r.down_for = parse_duration_range(c, *df, child_path(p, "down_for"), true).value_or(DurationRange{});
      b.storms.push_back(r);
    }
  }
  return b;
}

} // namespace mqfleet::sim::detail
