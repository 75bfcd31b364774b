// Payload generators, the per-device random engine and template expansion: value ranges,
// determinism under a seed, distributions within statistical tolerance, GPS speed and
// battery drain.
#include <mqfleet/scenario/diagnostic.hpp>
#include <mqfleet/scenario/generators.hpp>
#include <mqfleet/scenario/payload.hpp>
#include <mqfleet/scenario/random.hpp>
#include <mqfleet/scenario/template.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <map>
#include <set>

namespace mqfleet::sim {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

DeviceState device(std::uint64_t index = 3, std::string fleet = "f") {
  DeviceState d;
  d.fleet = std::move(fleet);
  d.index = index;
  d.account = "acme";
  d.device_id = "dev-" + std::to_string(index);
  return d;
}

// Renders `n` values of the payload `text`, one every `step`, for device `d`.
std::vector<json> render_n(const std::string& text, int n, DeviceState d = device(), milliseconds step = milliseconds(1000),
                           std::uint64_t seed = 1, const std::vector<std::string>& fields = {}) {
  const PayloadTemplate payload = PayloadTemplate::parse(text, TemplateScope::device_scope(), fields);
  auto state = payload.make_state(seed, d, 0);
  std::vector<json> out;
  for (int i = 0; i < n; ++i)
    out.push_back(json::parse(payload.render(state, RenderContext{step * i, 1'700'000'000'000 + 1000 * i, &d})));
  return out;
}

struct Stats {
  double mean = 0;
  double stddev = 0;
};

Stats stats(const std::vector<json>& values) {
  Stats s;
  for (const auto& v : values) s.mean += v.get<double>();
  s.mean /= static_cast<double>(values.size());
  for (const auto& v : values) s.stddev += (v.get<double>() - s.mean) * (v.get<double>() - s.mean);
  s.stddev = std::sqrt(s.stddev / static_cast<double>(values.size() - 1));
  return s;
}

TEST(Rng, SameSeedSameSequenceAndStreamsDiffer) {
  Rng a(42), b(42), c(43);
  std::vector<std::uint64_t> va, vb, vc;
  for (int i = 0; i < 100; ++i) {
    va.push_back(a.next());
    vb.push_back(b.next());
    vc.push_back(c.next());
  }
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
  const std::uint64_t base = stream_seed(1, "f", 3, 0, 0);
  EXPECT_EQ(base, stream_seed(1, "f", 3, 0, 0));
  EXPECT_NE(base, stream_seed(2, "f", 3, 0, 0));
  EXPECT_NE(base, stream_seed(1, "g", 3, 0, 0));
  EXPECT_NE(base, stream_seed(1, "f", 4, 0, 0));
  EXPECT_NE(base, stream_seed(1, "f", 3, 1, 0));
  EXPECT_NE(base, stream_seed(1, "f", 3, 0, 1));
  // The integer sequence is fixed across platforms (values from an independent Python
  // implementation of splitmix64 seeding + xoshiro256**).
  Rng zero(0);
  EXPECT_EQ(zero.next(), 0x99ec5f36cb75f2b4ULL);
  EXPECT_EQ(zero.next(), 0xbf6e1f784956452aULL);
  EXPECT_EQ(zero.next(), 0x1a5f849d4933e6e0ULL);
  EXPECT_EQ(sizeof(Rng), 32u);
}

TEST(Rng, DistributionsWithinTolerance) {
  Rng rng(7);
  constexpr int n = 50'000;
  double sum = 0, sum_sq = 0, nsum = 0, nsum_sq = 0;
  std::map<std::uint64_t, int> buckets;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sum_sq += u * u;
    const double z = rng.normal();
    nsum += z;
    nsum_sq += z * z;
    ++buckets[rng.below(6)];
  }
  EXPECT_NEAR(sum / n, 0.5, 0.01);
  EXPECT_NEAR(sum_sq / n - (sum / n) * (sum / n), 1.0 / 12, 0.005);
  EXPECT_NEAR(nsum / n, 0.0, 0.02);
  EXPECT_NEAR(std::sqrt(nsum_sq / n), 1.0, 0.02);
  ASSERT_EQ(buckets.size(), 6u);
  for (const auto& [value, count] : buckets) EXPECT_NEAR(count, n / 6.0, n * 0.01) << value;
}

TEST(Generators, Counter) {
  const auto v = render_n(R"({"type": "counter"})", 3);
  EXPECT_EQ(v, (std::vector<json>{0, 1, 2}));
  const auto w = render_n(R"({"type": "counter", "start": 10, "step": 0.5})", 3);
  EXPECT_EQ(w, (std::vector<json>{10.0, 10.5, 11.0}));
}

TEST(Generators, UniformStaysInRangeWithDecimals) {
  const auto v = render_n(R"({"type": "uniform", "min": -5, "max": 5, "decimals": 1})", 2000);
  for (const auto& x : v) {
    ASSERT_GE(x.get<double>(), -5);
    ASSERT_LE(x.get<double>(), 5);
    EXPECT_NEAR(x.get<double>() * 10, std::round(x.get<double>() * 10), 1e-9);
  }
  EXPECT_NEAR(stats(v).mean, 0, 0.3);
  std::set<std::int64_t> seen;
  for (const auto& x : render_n(R"({"type": "uniform", "min": 1, "max": 6, "decimals": 0})", 600)) {
    ASSERT_TRUE(x.is_number_integer());
    seen.insert(x.get<std::int64_t>());
  }
  EXPECT_EQ(seen, (std::set<std::int64_t>{1, 2, 3, 4, 5, 6}));
}

TEST(Generators, NormalMeanStddevAndClamp) {
  const auto v = render_n(R"({"type": "normal", "mean": 20, "stddev": 2, "decimals": 3})", 20'000);
  const Stats s = stats(v);
  EXPECT_NEAR(s.mean, 20, 0.06);
  EXPECT_NEAR(s.stddev, 2, 0.06);
  for (const auto& x : render_n(R"({"type": "normal", "mean": 0, "stddev": 10, "clamp": [-1, 1]})", 1000)) {
    ASSERT_GE(x.get<double>(), -1);
    ASSERT_LE(x.get<double>(), 1);
  }
}

TEST(Generators, RandomWalkIsBoundedAndStepsAreSmall) {
  const auto v = render_n(R"({"type": "random_walk", "start": 50, "min": 0, "max": 100, "step": 2})", 5000);
  EXPECT_EQ(v[0], 50.0);
  for (std::size_t i = 1; i < v.size(); ++i) {
    ASSERT_GE(v[i].get<double>(), 0);
    ASSERT_LE(v[i].get<double>(), 100);
    ASSERT_LE(std::abs(v[i].get<double>() - v[i - 1].get<double>()), 2.0 + 1e-9);
  }
}

TEST(Generators, RandomWalkFollowsAFieldTarget) {
  DeviceState d = device();
  d.set_field(0, "30");
  const auto v = render_n(R"({"type": "random_walk", "start": 10, "min": 0, "max": 50, "step": 0.2,
                              "target": {"ref": "setpoint"}, "pull": 0.2})",
                          200, d, milliseconds(1000), 1, {"setpoint"});
  EXPECT_NEAR(v.back().get<double>(), 30, 1.5);
}

TEST(Generators, SineFollowsTheCurve) {
  const auto v = render_n(R"({"type": "sine", "period": "40s", "amplitude": 5, "offset": 20, "decimals": 4})", 41);
  EXPECT_NEAR(v[0].get<double>(), 20, 1e-4);
  EXPECT_NEAR(v[10].get<double>(), 25, 1e-4); // a quarter period
  EXPECT_NEAR(v[30].get<double>(), 15, 1e-4);
  EXPECT_NEAR(v[40].get<double>(), 20, 1e-4);
  const auto noisy = render_n(R"({"type": "sine", "period": "1h", "amplitude": 0, "offset": 5, "noise": 1, "decimals": 3})", 10'000);
  EXPECT_NEAR(stats(noisy).mean, 5, 0.05);
  EXPECT_NEAR(stats(noisy).stddev, 1, 0.05);
}

TEST(Generators, ChoiceHonoursWeights) {
  const auto v = render_n(R"({"type": "choice", "values": ["idle", "busy", {"x": 1}], "weights": [6, 3, 1]})", 20'000);
  std::map<std::string, int> counts;
  for (const auto& x : v) ++counts[x.dump()];
  ASSERT_EQ(counts.size(), 3u);
  EXPECT_NEAR(counts["\"idle\""] / 20'000.0, 0.6, 0.02);
  EXPECT_NEAR(counts["\"busy\""] / 20'000.0, 0.3, 0.02);
  EXPECT_NEAR(counts["{\"x\":1}"] / 20'000.0, 0.1, 0.02);
}

TEST(Generators, BoolProbability) {
  const auto v = render_n(R"({"type": "bool", "probability": "25%"})", 20'000);
  int yes = 0;
  for (const auto& x : v) yes += x.get<bool>() ? 1 : 0;
  EXPECT_NEAR(yes / 20'000.0, 0.25, 0.015);
}

TEST(Generators, TimestampFormats) {
  EXPECT_EQ(render_n(R"({"type": "timestamp"})", 1)[0], 1'700'000'000'000);
  EXPECT_EQ(render_n(R"({"type": "timestamp", "format": "s"})", 1)[0], 1'700'000'000);
  EXPECT_EQ(render_n(R"({"type": "timestamp", "format": "iso"})", 2)[1], "2023-11-14T22:13:21.000Z");
}

TEST(Generators, GpsTrackMovesAtTheConfiguredSpeed) {
  // A long straight north-south route: 72 km/h = 20 m/s.
  const auto v = render_n(R"({"type": "gps_track", "route": [[40.0, -3.7], [41.0, -3.7]], "speed_kmh": 72})", 61,
                          device(), milliseconds(10'000));
  EXPECT_DOUBLE_EQ(v[0]["lat"].get<double>(), 40.0);
  for (int i = 1; i <= 60; ++i) {
    const double d = haversine_m(40.0, -3.7, v[i]["lat"].get<double>(), v[i]["lon"].get<double>());
    ASSERT_NEAR(d, 20.0 * 10 * i, 0.5) << i; // 6 decimals of a degree ~ 0.1 m
  }
}

TEST(Generators, GpsTrackLoopsBackAndWanders) {
  const double length = haversine_m(40.0, -3.7, 40.01, -3.7); // ~1112 m, closed loop = 2x
  const auto v = render_n(R"({"type": "gps_track", "route": [[40.0, -3.7], [40.01, -3.7]], "speed_kmh": 36})", 2,
                          device(), milliseconds(static_cast<std::int64_t>(2 * length * 100)));
  EXPECT_NEAR(v[1]["lat"].get<double>(), 40.0, 1e-5); // one full lap at 10 m/s
  const auto w = render_n(R"({"type": "gps_track", "route": [[40.0, -3.7], [40.01, -3.7]], "speed_kmh": 36,
                              "wander_m": 5, "start": "random"})", 500);
  for (const auto& p : w) {
    ASSERT_GT(p["lat"].get<double>(), 40.0 - 0.001);
    ASSERT_LT(p["lat"].get<double>(), 40.01 + 0.001);
    ASSERT_NEAR(p["lon"].get<double>(), -3.7, 0.001);
  }
}

TEST(Generators, BatteryDrainsThenRecharges) {
  const auto v = render_n(R"({"type": "battery", "capacity": 100, "drain_per_hour": 10, "recharge_below": 75,
                              "recharge_per_hour": 50})", 6, device(), milliseconds(3'600'000));
  EXPECT_EQ(v, (std::vector<json>{100.0, 90.0, 80.0, 70.0, 100.0, 90.0})); // below 75: charge 50/h, capped
  const auto fine = render_n(R"({"type": "battery", "drain_per_hour": 6, "decimals": 2})", 11, device(), milliseconds(60'000));
  EXPECT_NEAR(fine[10].get<double>(), 99.0, 1e-9); // 10 minutes at 6 %/h
}

TEST(Generators, FieldReferencesFollowTheDevice) {
  const PayloadTemplate p = PayloadTemplate::parse(R"({"sp": {"ref": "setpoint"}, "m": {"type": "normal",
      "mean": {"ref": "setpoint"}, "stddev": 0}, "c": {"const": {"type": "literal"}}})",
                                                   TemplateScope::device_scope(), {"setpoint"});
  DeviceState d = device();
  d.set_field(0, "21.5");
  auto state = p.make_state(1, d, 0);
  EXPECT_EQ(p.render(state, RenderContext{milliseconds(0), 0, &d}), R"({"sp":21.5,"m":21.50,"c":{"type":"literal"}})");
  d.set_field(0, "18");
  EXPECT_EQ(p.render(state, RenderContext{milliseconds(0), 0, &d}), R"({"sp":18,"m":18.00,"c":{"type":"literal"}})");
  d.set_field(0, "not json");
  EXPECT_EQ(d.fields[0].json, "\"not json\"");
}

TEST(Generators, SameSeedSameDeviceGivesTheSameSequence) {
  const std::string text = R"({"t": {"type": "normal", "mean": 20, "stddev": 3},
    "h": {"type": "random_walk", "min": 0, "max": 100, "step": 5},
    "s": {"type": "choice", "values": [1, 2, 3]}, "g": {"type": "gps_track", "route": [[1, 1], [2, 2]],
    "speed_kmh": 50, "wander_m": 3, "start": "random"}, "p": {"type": "sine", "period": "1m", "phase": "random"}})";
  const auto a = render_n(text, 50, device(3), milliseconds(1000), 99);
  const auto b = render_n(text, 50, device(3), milliseconds(1000), 99);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, render_n(text, 50, device(4), milliseconds(1000), 99));
  EXPECT_NE(a, render_n(text, 50, device(3), milliseconds(1000), 100));
  EXPECT_NE(a, render_n(text, 50, device(3, "other"), milliseconds(1000), 99));
}

TEST(Generators, ParseErrorsListEveryProblem) {
  try {
    PayloadTemplate::parse(R"({"a": {"type": "uniform"}, "b": {"type": "nope"}})", TemplateScope::device_scope());
    FAIL() << "expected ScenarioError";
  } catch (const ScenarioError& e) {
    ASSERT_EQ(e.diagnostics().size(), 3u);
    EXPECT_EQ(e.diagnostics()[0].path, "a.min");
    EXPECT_EQ(e.diagnostics()[1].path, "a.max");
    EXPECT_EQ(e.diagnostics()[2].path, "b.type");
  }
  EXPECT_THROW(PayloadTemplate::parse("{\"a\": 1,}", TemplateScope::device_scope()), ScenarioError);
}

TEST(Templates, ExpandsPlaceholdersWithPadding) {
  const DeviceState d = device(7);
  EXPECT_EQ(Template::compile("gh-{index:04}", TemplateScope::device_id_scope()).expand(d.vars()), "gh-0007");
  EXPECT_EQ(Template::compile("[{index:4}]", TemplateScope::device_id_scope()).expand(d.vars()), "[   7]");
  EXPECT_EQ(Template::compile("{account}/{device}/{fleet}/{index}", TemplateScope::device_scope()).expand(d.vars()),
            "acme/dev-7/f/7");
  EXPECT_EQ(Template::compile("{{literal}} {index}", TemplateScope::device_scope()).expand(d.vars()), "{literal} 7");
  EXPECT_EQ(Template::compile("gh-{index:02}", TemplateScope::device_id_scope()).expand(device(12345).vars()), "gh-12345");
  const Template t = Template::compile("ack {request.id} {request.params.v} {request.list.1} [{request.nope}]",
                                       TemplateScope::request_scope());
  const auto request = RequestFields::parse(R"({"id": "r1", "params": {"v": 2.5}, "list": ["a", "b"]})");
  EXPECT_EQ(t.expand(d.vars(&request)), "ack r1 2.5 b []");
  const auto raw = RequestFields::parse("plain text");
  EXPECT_EQ(Template::compile("got {request}", TemplateScope::request_scope()).expand(d.vars(&raw)), "got plain text");
  EXPECT_TRUE(Template::compile("plain", TemplateScope::device_scope()).is_literal());
  EXPECT_EQ(Template::compile("{request.id}", TemplateScope::request_scope()).sole_request_field(), "id");
}

TEST(Templates, ErrorsAtCompileTime) {
  const auto error_of = [](const std::string& text, const TemplateScope& scope) -> std::pair<std::size_t, std::string> {
    try {
      Template::compile(text, scope);
    } catch (const TemplateError& e) {
      return {e.offset(), e.what()};
    }
    return {0, "no error"};
  };
  EXPECT_EQ(error_of("x/{devce}", TemplateScope::device_scope()),
            (std::pair<std::size_t, std::string>{2, "unknown placeholder {devce}; did you mean {device}?"}));
  EXPECT_EQ(error_of("{device}", TemplateScope::device_id_scope()).second, "{device} cannot be used in this template");
  EXPECT_EQ(error_of("{account}", TemplateScope::account_scope()).second, "{account} cannot be used in this template");
  EXPECT_EQ(error_of("{request.id}", TemplateScope::device_scope()).second, "{request.id} cannot be used in this template");
  EXPECT_EQ(error_of("ab{index", TemplateScope::device_scope()).first, 2u);
  EXPECT_EQ(error_of("ab}", TemplateScope::device_scope()).second, "unmatched '}' in template");
  EXPECT_EQ(error_of("{index:0}", TemplateScope::device_scope()).second, "bad format ':0' in {index:0}");
  EXPECT_EQ(error_of("{request..x}", TemplateScope::request_scope()).second, "bad request field '.x'");
}

TEST(Templates, StringValuesInPayloadsAreEscaped) {
  DeviceState d = device();
  d.device_id = "a\"b";
  const PayloadTemplate p = PayloadTemplate::parse(R"({"id": "{device}", "n": "{index:03}"})", TemplateScope::device_scope());
  auto state = p.make_state(0, d, 0);
  EXPECT_EQ(p.render(state, RenderContext{milliseconds(0), 0, &d}), R"({"id":"a\"b","n":"003"})");
  const PayloadTemplate text = PayloadTemplate::parse(R"("{device} online")", TemplateScope::device_scope());
  auto none = text.make_state(0, d, 0);
  EXPECT_EQ(text.render(none, RenderContext{milliseconds(0), 0, &d}), "a\"b online"); // raw text payload
}

} // namespace
} // namespace mqfleet::sim
