// Scenario loading and validation: the weather-stations smoke test, the model produced by
// each section, and a corpus of broken files under data/scenarios/. Each broken file ends
// with lines `// expect: LINE:COLUMN PATH | MESSAGE FRAGMENT` (PATH `-` = top level), one
// per diagnostic, in the order the checker reports them (file order).
#include <mqfleet/scenario/scenario_loader.hpp>
#include <mqfleet/scenario/units.hpp>

#include "json_positions.hpp"

#include <support/temp_dir.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

namespace mqfleet::sim {
namespace {

namespace fs = std::filesystem;

std::string source_dir() {
  const char* dir = std::getenv("MQFLEET_SOURCE_DIR");
  return dir ? dir : MQFLEET_SOURCE_DIR_FALLBACK;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct Expected {
  int line = 0;
  int column = 0;
  std::string path;
  std::string fragment;
};

/// True for one or more ASCII digits.
bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// A "// expect: LINE:COLUMN PATH | FRAGMENT" line (PATH without spaces, "-" for none).
std::optional<Expected> expectation_of(std::string_view line) {
  constexpr std::string_view k_prefix = "// expect: ";
  if (!line.starts_with(k_prefix)) return std::nullopt;
  line.remove_prefix(k_prefix.size());
  const auto colon = line.find(':');
  const auto space = line.find(' ');
  const auto bar = line.find(" | ");
  if (colon == std::string_view::npos || space == std::string_view::npos || bar == std::string_view::npos ||
      colon > space || space >= bar)
    return std::nullopt;
  const std::string_view row = line.substr(0, colon);
  const std::string_view column = line.substr(colon + 1, space - colon - 1);
  const std::string_view path = line.substr(space + 1, bar - space - 1);
  const std::string_view fragment = line.substr(bar + 3);
  if (!all_digits(row) || !all_digits(column) || path.find_first_of(" \t") != std::string_view::npos ||
      fragment.empty())
    return std::nullopt;
  return Expected{std::stoi(std::string(row)), std::stoi(std::string(column)),
                  path == "-" ? std::string() : std::string(path), std::string(fragment)};
}

std::vector<Expected> expectations(const std::string& text) {
  std::vector<Expected> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (auto expected = expectation_of(line)) out.push_back(std::move(*expected));
  return out;
}

std::vector<std::string> corpus_files() {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(fs::path(MQFLEET_SOURCE_DIR_FALLBACK) / "tests/unit/data/scenarios"))
    if (entry.path().extension() == ".json") files.push_back(entry.path().filename().string());
  std::sort(files.begin(), files.end());
  return files;
}

class BrokenScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(BrokenScenario, ReportsEveryExpectedErrorWithPosition) {
  const fs::path path = fs::path(source_dir()) / "tests/unit/data/scenarios" / GetParam();
  const auto expected = expectations(read_text(path));
  ASSERT_FALSE(expected.empty()) << "no // expect: lines in " << path;
  const CheckResult result = check_scenario_file(path.string());
  EXPECT_FALSE(result.ok());
  std::string all;
  for (const auto& d : result.diagnostics) all += to_string(d) + "\n";
  ASSERT_EQ(result.diagnostics.size(), expected.size()) << all;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const Diagnostic& d = result.diagnostics[i];
    SCOPED_TRACE(to_string(d));
    EXPECT_EQ(d.file, path.string());
    EXPECT_EQ(d.line, expected[i].line);
    EXPECT_EQ(d.column, expected[i].column);
    EXPECT_EQ(d.path, expected[i].path);
    EXPECT_NE(d.message.find(expected[i].fragment), std::string::npos) << "wanted: " << expected[i].fragment;
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, BrokenScenario, ::testing::ValuesIn(corpus_files()),
                         [](const auto& param_info) {
                           std::string name = param_info.param.substr(0, param_info.param.size() - 5);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(Scenario, WeatherStationsLoads) {
  const Scenario s = load_scenario_file(source_dir() + "/scenarios/weather-stations.json");
  EXPECT_EQ(s.name, "weather-stations");
  EXPECT_TRUE(s.connection.profile.empty());
  EXPECT_EQ(s.connection.settings.host, "localhost");
  EXPECT_EQ(s.connection.settings.effective_port(), 1883);
  ASSERT_EQ(s.fleets.size(), 1u);
  const FleetSpec& f = s.fleets[0];
  EXPECT_EQ(f.count, 20u);
  EXPECT_EQ(f.credential.kind, CredentialKind::provisioned);
  EXPECT_DOUBLE_EQ(f.connect_rate, 20.0);
  EXPECT_EQ(f.keepalive_seconds, 60);
  ASSERT_TRUE(f.will.has_value());
  EXPECT_TRUE(f.will->retain);
  EXPECT_EQ(f.will->online_payload, "online");
  ASSERT_EQ(f.telemetry.size(), 1u);
  EXPECT_EQ(f.telemetry[0].period.every, Millis(10'000));
  EXPECT_EQ(f.telemetry[0].period.jitter, Millis(1'000));
  EXPECT_EQ(f.telemetry[0].payload.generator_count(), 4u);
  EXPECT_EQ(s.run.duration, Millis(20'000));
  EXPECT_EQ(s.run.seed, 42u);
  EXPECT_DOUBLE_EQ(*s.run.expect.max_error_rate, 0.01);
  EXPECT_DOUBLE_EQ(*s.run.expect.min_delivered, 0.99);
  EXPECT_EQ(s.device_count(), 20u);

  const DeviceState d = s.make_device(0, 7, 42);
  EXPECT_EQ(d.device_id, "station-007");
  EXPECT_EQ(d.account, "demo");
  EXPECT_EQ(f.telemetry[0].topic.expand(d.vars()), "demo/station-007/weather");
  EXPECT_EQ(f.will->topic.expand(d.vars()), "demo/station-007/status");

  auto state = f.telemetry[0].payload.make_state(*s.run.seed, d, 0);
  const auto payload = nlohmann::json::parse(
      f.telemetry[0].payload.render(state, RenderContext{Millis(0), 1'700'000'000'000, &d}));
  EXPECT_GE(payload["humidity"].get<double>(), 20);
  EXPECT_LE(payload["humidity"].get<double>(), 95);
  EXPECT_GE(payload["temperature"].get<double>(), 11);
  EXPECT_LE(payload["temperature"].get<double>(), 25);
  EXPECT_GE(payload["pressure"].get<double>(), 950);
  EXPECT_EQ(payload["ts"].get<std::int64_t>(), 1'700'000'000'000);
}

void collect_keys(const nlohmann::json& node, bool schema, std::set<std::string>& keys) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (schema && key == "properties" && value.is_object())
        for (const auto& [name, sub] : value.items()) keys.insert(name);
      if (!schema) keys.insert(key);
      collect_keys(value, schema, keys);
    }
  } else if (node.is_array()) {
    for (const auto& item : node) collect_keys(item, schema, keys);
  }
}

TEST(Scenario, KitchenSinkLoadsAndCoversTheSchemaAndReadme) {
  const std::string sink_path = source_dir() + "/tests/unit/data/sim/kitchen-sink.json";
  const Scenario s = load_scenario_file(sink_path);
  EXPECT_EQ(s.connection.profile, "base");
  EXPECT_EQ(s.connection.settings.tls.key_password, (Secret{SecretSource::file, "key.pw"}));
  EXPECT_EQ(s.fleets[0].account.expand({0, "gh", {}, {}, nullptr}), "farm-gh");
  EXPECT_EQ(s.fleets[0].field_names, (std::vector<std::string>{"setpoint", "mode"}));
  EXPECT_TRUE(s.fleets[1].behaviour.drops.has_value()); // inherited from the top level

  std::set<std::string> schema_keys, used_keys;
  collect_keys(nlohmann::json::parse(read_text(source_dir() + "/scenarios/schema.json")), true, schema_keys);
  collect_keys(nlohmann::json::parse(read_text(sink_path), nullptr, true, true), false, used_keys);
  const std::string readme = read_text(source_dir() + "/scenarios/README.md");
  ASSERT_GT(schema_keys.size(), 60u);
  for (const auto& key : schema_keys) {
    // "preset" excludes "profile" (both in one file is an error), so the sink uses "profile".
    if (key != "preset") {
      EXPECT_TRUE(used_keys.count(key)) << "schema key not exercised by the kitchen sink: " << key;
    }
    EXPECT_NE(readme.find(key), std::string::npos) << "schema key not documented in scenarios/README.md: " << key;
  }
}

TEST(Scenario, ReportsAllErrorsAtOnceInTheException) {
  const std::string text = R"({
  "connection": "local",
  "fleets": [ { "name": "a", "count": 0, "device_id": "a-{index}", "rate": "fast" } ],
  "run": { "duration": 10 }
})";
  try {
    load_scenario(text, "inline.json");
    FAIL() << "expected ScenarioError";
  } catch (const ScenarioError& e) {
    ASSERT_EQ(e.diagnostics().size(), 3u);
    EXPECT_EQ(e.diagnostics()[0].path, "fleets[0].count");
    EXPECT_EQ(e.diagnostics()[1].path, "fleets[0].rate");
    EXPECT_EQ(e.diagnostics()[2].path, "run.duration");
    EXPECT_EQ(e.where(), "inline.json:3:39");
    EXPECT_NE(std::string(e.what()).find("and 2 more errors"), std::string::npos) << e.what();
    EXPECT_EQ(to_string(e.diagnostics()[2]),
              "inline.json:4:24: run.duration: expected a duration string, got an integer "
              "(add a unit: \"10s\" or \"10ms\")");
  }
}

TEST(Scenario, CredentialKinds) {
  const std::string text = R"({
  "connection": { "host": "127.0.0.1", "port": 1884, "username": "acme", "credential": {"env": "PW"},
                  "version": "5", "tls": { "ca_file": "ca.pem", "alpn": ["mqtt"] },
                  "reconnect": { "min_delay": "2s", "max_delay": "1m" } },
  "fleets": [
    { "name": "lit", "count": 1, "device_id": "lit", "credential": "s3cret" },
    { "name": "env", "count": 1, "device_id": "env", "credential": { "env": "FLEET_PW" } },
    { "name": "tpl", "count": 2, "device_id": "tpl-{index}", "credential": "pw-{device}" },
    { "name": "prov", "count": 1, "device_id": "prov", "credential": "provisioned", "username": "other" }
  ]
})";
  const Scenario s = load_scenario(text);
  const ConnectionProfile& p = s.connection.settings;
  EXPECT_EQ(p.effective_port(), 1884);
  EXPECT_EQ(p.version, MqttVersion::v5);
  EXPECT_EQ(p.credential, (Secret{SecretSource::env, "PW"}));
  EXPECT_TRUE(p.tls.enabled);
  EXPECT_EQ(p.tls.alpn, std::vector<std::string>{"mqtt"});
  EXPECT_EQ(p.reconnect.max_delay, std::chrono::seconds(60));
  EXPECT_NE(std::find(s.connection.explicit_keys.begin(), s.connection.explicit_keys.end(), "tls"),
            s.connection.explicit_keys.end());
  EXPECT_EQ(s.fleets[0].credential.kind, CredentialKind::literal);
  EXPECT_EQ(s.fleets[0].credential.value.expand({}), "s3cret");
  EXPECT_EQ(s.fleets[1].credential.kind, CredentialKind::env);
  EXPECT_EQ(s.fleets[1].credential.env_name, "FLEET_PW");
  EXPECT_EQ(s.fleets[2].credential.kind, CredentialKind::templated);
  const DeviceState d = s.make_device(2, 1, 0);
  EXPECT_EQ(d.account, "acme"); // inherited from the connection
  EXPECT_EQ(s.fleets[2].credential.value.expand(d.vars()), "pw-tpl-1");
  EXPECT_EQ(s.fleets[3].credential.kind, CredentialKind::provisioned);
  EXPECT_EQ(s.make_device(3, 0, 0).account, "other");
}

TEST(Scenario, CredentialErrorsNeverEchoTheSecret) {
  const std::string text = R"({ "connection": "p",
  "fleets": [ { "name": "a", "count": 1, "device_id": "a", "credential": "hunter2{oops" } ] })";
  const CheckResult r = check_scenario(text);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].path, "fleets[0].credential");
  EXPECT_EQ(to_string(r.diagnostics[0]).find("hunter2"), std::string::npos) << to_string(r.diagnostics[0]);
}

TEST(Scenario, CommandsRepliesAndFieldChanges) {
  const std::string text = R"({
  "connection": "local",
  "fleets": [ {
    "name": "gh", "count": 2, "device_id": "gh-{index:02}", "account": "farm",
    "fields": { "setpoint": 21.5, "label": "house {index}" },
    "telemetry": [ { "topic": "{account}/{device}/t", "period": "5s",
                     "payload": { "sp": { "ref": "setpoint" }, "label": { "ref": "label" } } } ],
    "commands": [ {
      "name": "setpoint", "topic": "{account}/{device}/cmd/setpoint", "qos": 1,
      "delay": { "min": "100ms", "max": "1s" },
      "reply": { "topic": "{account}/{device}/ack", "payload": { "id": "{request.id}", "ok": true,
                 "value": "{request.value}", "note": "set by {request.user}" } },
      "set": { "setpoint": "{request.value}" } } ]
  } ]
})";
  const Scenario s = load_scenario(text);
  const FleetSpec& f = s.fleets[0];
  DeviceState d = s.make_device(0, 1, 7);
  EXPECT_EQ(d.fields[1].json, "\"house 1\"");
  const CommandSpec& cmd = f.commands[0];
  EXPECT_EQ(cmd.topic.expand(d.vars()), "farm/gh-01/cmd/setpoint");
  EXPECT_EQ(cmd.delay.min, Millis(100));
  EXPECT_EQ(cmd.delay.max, Millis(1000));
  const auto request = RequestFields::parse(R"({"id": "r-9", "value": 23.25, "user": "ana"})");
  auto reply_state = cmd.reply->payload.make_state(7, d, k_command_stream_base);
  const auto reply = nlohmann::json::parse(cmd.reply->payload.render(reply_state, RenderContext{Millis(0), 0, &d}, &request));
  EXPECT_EQ(reply["id"], "r-9");
  EXPECT_EQ(reply["value"], 23.25); // a sole {request.x} keeps its JSON type
  EXPECT_EQ(reply["note"], "set by ana");
  ASSERT_EQ(cmd.set.size(), 1u);
  auto set_state = cmd.set[0].value.make_state(7, d, k_command_stream_base);
  d.set_field(cmd.set[0].slot, cmd.set[0].value.render(set_state, RenderContext{Millis(0), 0, &d}, &request));
  auto telemetry_state = f.telemetry[0].payload.make_state(7, d, 0);
  const auto t = nlohmann::json::parse(f.telemetry[0].payload.render(telemetry_state, RenderContext{Millis(0), 0, &d}));
  EXPECT_EQ(t["sp"], 23.25);
  EXPECT_EQ(t["label"], "house 1");
}

TEST(Scenario, BehaviourAtTopLevelAppliesToFleetsWithoutTheirOwn) {
  const std::string text = R"({
  "connection": "local",
  "behaviour": { "drops": { "probability": "1%", "every": "30s", "reconnect_after": { "min": "1s", "max": "5s" } } },
  "fleets": [
    { "name": "a", "count": 1, "device_id": "a" },
    { "name": "b", "count": 1, "device_id": "b",
      "behaviour": { "offline": { "probability": 0.2, "duration": "30s" },
                     "reconnect_storms": [ { "at": "30s", "fraction": "50%", "down_for": "2s" } ] } }
  ],
  "run": { "duration": "1m", "messages": 1000 }
})";
  const Scenario s = load_scenario(text);
  ASSERT_TRUE(s.fleets[0].behaviour.drops.has_value());
  EXPECT_DOUBLE_EQ(s.fleets[0].behaviour.drops->probability, 0.01);
  EXPECT_EQ(s.fleets[0].behaviour.drops->every, Millis(30'000));
  EXPECT_EQ(s.fleets[0].behaviour.drops->reconnect_after.max, Millis(5'000));
  EXPECT_FALSE(s.fleets[1].behaviour.drops.has_value());
  ASSERT_TRUE(s.fleets[1].behaviour.offline.has_value());
  EXPECT_EQ(s.fleets[1].behaviour.offline->every, Millis(60'000));
  ASSERT_EQ(s.fleets[1].behaviour.storms.size(), 1u);
  EXPECT_DOUBLE_EQ(s.fleets[1].behaviour.storms[0].fraction, 0.5);
  EXPECT_EQ(s.fleets[1].behaviour.storms[0].down_for.min, Millis(2'000));
  EXPECT_EQ(s.run.messages, 1000u);
}

TEST(Scenario, UnreadableFileIsADiagnostic) {
  test::TempDir dir;
  const CheckResult r = check_scenario_file(dir.file("missing.json"));
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_NE(r.diagnostics[0].message.find("cannot read"), std::string::npos);
  EXPECT_THROW(load_scenario_file(dir.file("missing.json")), ScenarioError);
}

TEST(Scenario, QuotedKeysInPathsAndUtf8Columns) {
  const std::string text = "{ \"connection\": \"p\", \"fleets\": [ { \"name\": \"a\", \"count\": 1, \"device_id\": \"a\",\n"
                           "  \"telemetry\": [ { \"topic\": \"t\", \"period\": \"1s\", \"payload\": {\n"
                           "    \"température ä\": { \"type\": \"uniform\", \"min\": 2, \"max\": 1 } } } ] } ] }";
  const CheckResult r = check_scenario(text, "u.json");
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].path, "fleets[0].telemetry[0].payload[\"température ä\"].max");
  EXPECT_EQ(r.diagnostics[0].line, 3);
  EXPECT_EQ(r.diagnostics[0].column, 60); // characters, not bytes (62)
}

// Columns come from checkpoints (code points before every 64th byte), not from a scan of
// the whole line per diagnostic (quadratic on a minified file: 2 s for a 14 KB line with
// 7,000 errors, found by fuzz_scenario). They agree with the plain scan at every offset,
// across checkpoint boundaries, multi-byte characters and line breaks, up to the end.
TEST(Scenario, ColumnsAgreeWithAPlainScanAtEveryOffset) {
  std::string text = "{\"fleets\": [";
  for (int i = 0; i < 300; ++i) text += i % 7 == 0 ? "\"\u00e4\u20ac\U0001F600\",\n" : "\"\u00e4b\u20ac\",";
  text += "1]}";
  // Padded to end on a checkpoint boundary, and one byte before one.
  for (const std::size_t remainder : {std::size_t{0}, std::size_t{63}}) {
    std::string padded = text;
    while (padded.size() % 64 != remainder) padded += ' ';
    const detail::PositionIndex index(padded);
    for (std::size_t offset = 0; offset <= padded.size(); ++offset) {
      const detail::SourcePos got = index.at_offset(offset);
      const detail::SourcePos want = detail::position_of(padded, offset);
      ASSERT_EQ(got.line, want.line) << "size " << padded.size() << " offset " << offset;
      ASSERT_EQ(got.column, want.column) << "size " << padded.size() << " offset " << offset;
    }
  }
}

TEST(Units, DurationsRatesAndPercentages) {
  EXPECT_EQ(parse_duration("500ms"), Millis(500));
  EXPECT_EQ(parse_duration("10s"), Millis(10'000));
  EXPECT_EQ(parse_duration("2m"), Millis(120'000));
  EXPECT_EQ(parse_duration("1h"), Millis(3'600'000));
  EXPECT_EQ(parse_duration("1m30s"), Millis(90'000));
  EXPECT_EQ(parse_duration("1.5s"), Millis(1'500));
  for (const char* bad : {"", "10", "s", "10 s", "-1s", "1d", "1.2.3s", "ms"})
    EXPECT_THROW(parse_duration(bad), ConfigError) << bad;
  EXPECT_DOUBLE_EQ(parse_rate("50/s"), 50);
  EXPECT_DOUBLE_EQ(parse_rate("3000/m"), 50);
  EXPECT_DOUBLE_EQ(parse_rate("36/h"), 0.01);
  for (const char* bad : {"50", "0/s", "50/d", "/s", "50/"}) EXPECT_THROW(parse_rate(bad), ConfigError) << bad;
  EXPECT_DOUBLE_EQ(parse_percent("12.5%"), 0.125);
  EXPECT_THROW(parse_percent("12.5"), ConfigError);
  EXPECT_EQ(format_duration(Millis(5'400'000)), "1h30m");
  EXPECT_EQ(format_duration(Millis(250)), "250ms");
}

TEST(DidYouMean, SuggestsCloseKeysOnly) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  const std::vector<std::string> keys = {"telemetry", "commands", "count", "qos", "name", "run"};
  EXPECT_EQ(closest_match("telemtry", keys), "telemetry");
  EXPECT_EQ(closest_match("qso", keys), "qos");
  EXPECT_EQ(closest_match("Count", keys), "count");
  EXPECT_EQ(closest_match("payload", keys), std::nullopt);
  EXPECT_EQ(closest_match("xy", keys), std::nullopt);
}

} // namespace
} // namespace mqfleet::sim
