// Builds generators from their JSON form, validating every parameter.
#include "generator_impl.hpp"
#include "payload_parse.hpp"

#include <algorithm>

namespace mqfleet::sim::detail {

namespace {

int decimals_of(Checker& c, const Json& node, const std::string& path, int fallback) {
  const auto d = c.get(node, path, "decimals", [&](const Json& n, const std::string& p) { return c.integer(n, p, Range{0, 10}); });
  return d ? static_cast<int>(*d) : fallback;
}

std::optional<double> num(Checker& c, const Json& node, const std::string& path, std::string_view key,
                          bool required, Range range = {}) {
  const Json* n = c.member(node, path, key, required);
  if (!n) return std::nullopt;
  return c.number(*n, child_path(path, key), range);
}

// A field reference `"name"` -> its slot, reporting unknown names with a suggestion.
std::optional<std::size_t> field_slot(Checker& c, const Json& name, const std::string& path,
                                      const std::vector<std::string>& field_names) {
  const auto text = c.string(name, path);
  if (!text) return std::nullopt;
  const auto it = std::find(field_names.begin(), field_names.end(), *text);
  if (it != field_names.end()) return static_cast<std::size_t>(it - field_names.begin());
  std::string message = "unknown device field '" + *text + "'";
  if (const auto s = closest_match(*text, field_names)) message += "; did you mean '" + *s + "'?";
  c.error(path, message,
          field_names.empty() ? "declare it in the fleet's \"fields\" object"
                              : "declare it in the fleet's \"fields\" object or use one of the declared fields");
  return std::nullopt;
}

// A number or {"ref": "field"}.
std::optional<NumberParam> number_param(Checker& c, const Json& node, const std::string& path, std::string_view key,
                                        bool required, const std::vector<std::string>& field_names, double fallback) {
  const Json* n = c.member(node, path, key, required);
  if (!n) return required ? std::nullopt : std::optional<NumberParam>(NumberParam{fallback, -1});
  const std::string p = child_path(path, key);
  if (n->is_object()) {
    c.keys(*n, p, {"ref"});
    const Json* ref = c.member(*n, p, "ref", true);
    if (!ref) return std::nullopt;
    const auto slot = field_slot(c, *ref, child_path(p, "ref"), field_names);
    if (!slot) return std::nullopt;
    return NumberParam{fallback, static_cast<int>(*slot)};
  }
  if (!n->is_number()) {
    c.error(p, "expected a number or {\"ref\": \"<field>\"}, got " + type_name(*n));
    return std::nullopt;
  }
  return NumberParam{n->get<double>(), -1};
}

std::shared_ptr<const Generator> parse_typed(Checker& c, const Json& node, const std::string& path,
                                             const std::string& type, const std::vector<std::string>& fields) {
  const std::size_t before = c.error_count();
  if (type == "counter") {
    c.keys(node, path, {"type", "start", "step", "decimals"});
    auto g = std::make_shared<Counter>();
    g->start = num(c, node, path, "start", false).value_or(0);
    g->step = num(c, node, path, "step", false).value_or(1);
    const bool integral = std::floor(g->start) == g->start && std::floor(g->step) == g->step;
    g->decimals = decimals_of(c, node, path, integral ? 0 : 2);
    return c.error_count() == before ? g : nullptr;
  }
  if (type == "uniform") {
    c.keys(node, path, {"type", "min", "max", "decimals"});
    auto g = std::make_shared<Uniform>();
    const auto min = num(c, node, path, "min", true);
    const auto max = num(c, node, path, "max", true);
    g->decimals = decimals_of(c, node, path, 2);
    if (min && max && *max < *min) c.error(child_path(path, "max"), "max is smaller than min", "swap them");
    g->min = min.value_or(0);
    g->max = max.value_or(1);
    return c.error_count() == before ? g : nullptr;
  }
  if (type == "normal") {
    c.keys(node, path, {"type", "mean", "stddev", "clamp", "decimals"});
    auto g = std::make_shared<Normal>();
    g->mean = number_param(c, node, path, "mean", true, fields, 0).value_or(NumberParam{});
    g->stddev = num(c, node, path, "stddev", true, Range{0}).value_or(1);
    g->decimals = decimals_of(c, node, path, 2);
    if (const Json* clamp = c.member(node, path, "clamp")) {
      const std::string p = child_path(path, "clamp");
      if (!clamp->is_array() || clamp->size() != 2 || !(*clamp)[0].is_number() || !(*clamp)[1].is_number())
        c.error(p, "expected [min, max], got " + clamp->dump(), "e.g. \"clamp\": [0, 100]");
      else if ((*clamp)[1].get<double>() < (*clamp)[0].get<double>())
        c.error(p, "clamp maximum is smaller than its minimum", "write [min, max]");
      else
        g->clamp = std::pair{(*clamp)[0].get<double>(), (*clamp)[1].get<double>()};
    }
    return c.error_count() == before ? g : nullptr;
  }
  if (type == "random_walk") {
    c.keys(node, path, {"type", "start", "step", "min", "max", "target", "pull", "decimals"});
    auto g = std::make_shared<RandomWalk>();
    const auto min = num(c, node, path, "min", true);
    const auto max = num(c, node, path, "max", true);
    g->step = num(c, node, path, "step", true, Range{0, 1e300, true}).value_or(1);
    g->decimals = decimals_of(c, node, path, 2);
    if (min && max && *max < *min) c.error(child_path(path, "max"), "max is smaller than min", "swap them");
    g->min = min.value_or(0);
    g->max = max.value_or(1);
    const auto start = num(c, node, path, "start", false);
    if (start && min && max && (*start < *min || *start > *max))
      c.error(child_path(path, "start"), "start is outside [min, max]", "choose a start between min and max");
    g->start = start.value_or((g->min + g->max) / 2);
    if (c.member(node, path, "target")) {
      g->target = number_param(c, node, path, "target", true, fields, 0);
      g->pull = num(c, node, path, "pull", false, Range{0, 1}).value_or(0.1);
    } else if (c.member(node, path, "pull")) {
      c.error(child_path(path, "pull"), "pull needs a target", "add \"target\": <number> or {\"ref\": \"<field>\"}");
    }
    return c.error_count() == before ? g : nullptr;
  }
  if (type == "sine") {
    c.keys(node, path, {"type", "period", "amplitude", "offset", "noise", "phase", "decimals"});
    auto g = std::make_shared<Sine>();
    const auto period = c.get(node, path, "period", [&](const Json& n, const std::string& p) { return c.duration(n, p); }, true);
    g->period_ms = period ? static_cast<double>(period->count()) : 60'000;
    g->amplitude = num(c, node, path, "amplitude", false).value_or(1);
    g->offset = number_param(c, node, path, "offset", false, fields, 0).value_or(NumberParam{});
    g->noise = num(c, node, path, "noise", false, Range{0}).value_or(0);
    g->decimals = decimals_of(c, node, path, 2);
    if (const Json* phase = c.member(node, path, "phase")) {
      if (phase->is_string() && phase->get<std::string>() == "random") g->random_phase = true;
      else if (const auto d = c.duration(*phase, child_path(path, "phase"), true)) g->phase_ms = static_cast<double>(d->count());
    }
    return c.error_count() == before ? g : nullptr;
  }
  if (type == "choice") {
    c.keys(node, path, {"type", "values", "weights"});
    auto g = std::make_shared<Choice>();
    const Json* values = c.member(node, path, "values", true, "e.g. \"values\": [\"idle\", \"busy\"]");
    if (values && (!values->is_array() || values->empty())) {
      c.error(child_path(path, "values"), "expected a non-empty array, got " + (values->is_array() ? std::string("[]") : type_name(*values)));
      values = nullptr;
    }
    if (values)
      for (const auto& v : *values) g->values.push_back(v.dump());
    const Json* weights = c.member(node, path, "weights");
    const std::string wp = child_path(path, "weights");
    double total = 0;
    if (weights && values) {
      if (!weights->is_array() || weights->size() != values->size()) {
        c.error(wp, "expected an array of " + std::to_string(values->size()) + " weights, one per value");
      } else {
        for (std::size_t i = 0; i < weights->size(); ++i) {
          const auto w = c.number((*weights)[i], item_path(wp, i), Range{0});
          total += w.value_or(0);
          g->cumulative.push_back(total);
        }
        if (total <= 0 && c.error_count() == before) c.error(wp, "weights add up to zero", "give at least one value a positive weight");
      }
    } else if (values) {
      for (std::size_t i = 0; i < values->size(); ++i) g->cumulative.push_back(static_cast<double>(i + 1));
    }
    return c.error_count() == before ? g : nullptr;
  }
  if (type == "bool") {
    c.keys(node, path, {"type", "probability"});
    auto g = std::make_shared<Bool>();
    if (const Json* p = c.member(node, path, "probability")) g->probability = c.fraction(*p, child_path(path, "probability")).value_or(0.5);
    return c.error_count() == before ? g : nullptr;
  }
  if (type == "timestamp") {
    c.keys(node, path, {"type", "format"});
    auto g = std::make_shared<Timestamp>();
    if (const auto f = c.get(node, path, "format", [&](const Json& n, const std::string& p) { return c.string(n, p); })) {
      if (*f == "ms") g->format = Timestamp::Format::ms;
      else if (*f == "s") g->format = Timestamp::Format::s;
      else if (*f == "iso") g->format = Timestamp::Format::iso;
      else c.error(child_path(path, "format"), "unknown timestamp format '" + *f + "'", "use \"ms\", \"s\" or \"iso\"");
    }
    return c.error_count() == before ? g : nullptr;
  }
  if (type == "gps_track") {
    c.keys(node, path, {"type", "route", "speed_kmh", "wander_m", "loop", "start", "decimals"});
    auto g = std::make_shared<GpsTrack>();
    const std::string rp = child_path(path, "route");
    if (const Json* route = c.member(node, path, "route", true, "e.g. \"route\": [[40.41, -3.70], [40.45, -3.69]]")) {
      if (!route->is_array() || route->size() < 2) {
        c.error(rp, "expected an array of at least 2 waypoints", "write [[lat, lon], [lat, lon], ...]");
      } else {
        for (std::size_t i = 0; i < route->size(); ++i) {
          const Json& p = (*route)[i];
          const std::string pp = item_path(rp, i);
          if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number()) {
            c.error(pp, "expected a waypoint [lat, lon], got " + p.dump());
            continue;
          }
          const auto lat = c.number(p[0], item_path(pp, 0), Range{-90, 90});
          const auto lon = c.number(p[1], item_path(pp, 1), Range{-180, 180});
          if (lat && lon) g->points.emplace_back(*lat, *lon);
        }
      }
    }
    g->speed_mps = num(c, node, path, "speed_kmh", true, Range{0, 2000, true}).value_or(36) / 3.6;
    g->wander_m = num(c, node, path, "wander_m", false, Range{0, 10'000}).value_or(0);
    g->loop = c.get(node, path, "loop", [&](const Json& n, const std::string& p) { return c.boolean(n, p); }).value_or(true);
    if (const auto s = c.get(node, path, "start", [&](const Json& n, const std::string& p) { return c.string(n, p); })) {
      if (*s == "random") g->random_start = true;
      else if (*s != "first") c.error(child_path(path, "start"), "unknown start '" + *s + "'", "use \"first\" or \"random\"");
    }
    g->decimals = decimals_of(c, node, path, 6);
    if (c.error_count() != before) return nullptr;
    g->finish();
    return g;
  }
  if (type == "battery") {
    c.keys(node, path, {"type", "capacity", "start", "drain_per_hour", "recharge_below", "recharge_per_hour", "decimals"});
    auto g = std::make_shared<Battery>();
    g->capacity = num(c, node, path, "capacity", false, Range{0, 1e12, true}).value_or(100);
    g->drain_per_hour = num(c, node, path, "drain_per_hour", true, Range{0, 1e12, true}).value_or(1);
    g->recharge_below = num(c, node, path, "recharge_below", false, Range{0}).value_or(g->capacity * 0.1);
    g->recharge_per_hour = num(c, node, path, "recharge_per_hour", false, Range{0, 1e12, true}).value_or(g->capacity);
    g->decimals = decimals_of(c, node, path, 1);
    if (g->recharge_below >= g->capacity)
      c.error(child_path(path, "recharge_below"), "recharge_below must be smaller than capacity");
    g->start = g->capacity;
    if (const Json* s = c.member(node, path, "start")) {
      if (s->is_string() && s->get<std::string>() == "random") g->random_start = true;
      else if (const auto v = c.number(*s, child_path(path, "start"), Range{0, g->capacity})) g->start = *v;
    }
    return c.error_count() == before ? g : nullptr;
  }
  std::string message = "unknown generator type '" + type + "'";
  if (const auto s = closest_match(type, generator_types())) message += "; did you mean '" + *s + "'?";
  std::string hint = "known types: ";
  for (std::size_t i = 0; i < generator_types().size(); ++i) hint += (i ? ", " : "") + generator_types()[i];
  hint += "; wrap a constant object that has a \"type\" key in {\"const\": ...}";
  c.error(child_path(path, "type"), message, hint);
  return nullptr;
}

} // namespace

bool is_generator_object(const Json& node) {
  return node.is_object() && (node.contains("type") || node.contains("ref") || node.contains("const"));
}

std::shared_ptr<const Generator> parse_generator(Checker& c, const Json& node, const std::string& path,
                                                 const std::vector<std::string>& field_names) {
  if (!c.object(node, path, "a generator object")) return nullptr;
  if (node.contains("const")) {
    c.keys(node, path, {"const"});
    auto g = std::make_shared<Constant>();
    g->json = node["const"].dump();
    return g;
  }
  if (node.contains("ref")) {
    c.keys(node, path, {"ref"});
    const auto slot = field_slot(c, node["ref"], child_path(path, "ref"), field_names);
    if (!slot) return nullptr;
    auto g = std::make_shared<FieldRef>();
    g->slot = *slot;
    return g;
  }
  const auto type = c.get(node, path, "type", [&](const Json& n, const std::string& p) { return c.string(n, p); }, true);
  if (!type) return nullptr;
  return parse_typed(c, node, path, *type, field_names);
}

} // namespace mqfleet::sim::detail
