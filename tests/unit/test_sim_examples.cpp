// The example scenarios in scenarios/: each loads with zero diagnostics, and each models
// what scenarios/README.md says it does.
#include <mqfleet/scenario/overrides.hpp>
#include <mqfleet/scenario/scenario_loader.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace mqfleet::sim {
namespace {

namespace fs = std::filesystem;

std::string scenarios_dir() {
  const char* dir = std::getenv("MQFLEET_SOURCE_DIR");
  return std::string(dir ? dir : MQFLEET_SOURCE_DIR_FALLBACK) + "/scenarios";
}

std::vector<std::string> example_files() {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(fs::path(MQFLEET_SOURCE_DIR_FALLBACK) / "scenarios"))
    if (entry.path().extension() == ".json" && entry.path().filename() != "schema.json" &&
        !entry.path().filename().string().ends_with(".credentials.json"))
      files.push_back(entry.path().filename().string());
  std::sort(files.begin(), files.end());
  return files;
}

class ExampleScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleScenario, LoadsWithoutDiagnostics) {
  const CheckResult result = check_scenario_file(scenarios_dir() + "/" + GetParam());
  std::string all;
  for (const auto& d : result.diagnostics) all += to_string(d) + "\n";
  EXPECT_TRUE(result.ok()) << all;
  EXPECT_TRUE(result.diagnostics.empty()) << all;
  ASSERT_TRUE(result.scenario.has_value());
  const Scenario& s = *result.scenario;
  EXPECT_FALSE(s.name.empty());
  EXPECT_FALSE(s.description.empty());
  ASSERT_TRUE(s.run.duration.has_value()) << "examples stop by themselves";
  EXPECT_TRUE(s.run.seed.has_value()) << "examples are repeatable";
  for (const auto& fleet : s.fleets) {
    EXPECT_EQ(fleet.credential.kind, CredentialKind::provisioned) << fleet.name << ": examples run against the registry";
    EXPECT_FALSE(fleet.account.expand({}).empty()) << fleet.name;
    EXPECT_FALSE(fleet.telemetry.empty()) << fleet.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleScenario, ::testing::ValuesIn(example_files()),
                         [](const auto& param_info) {
                           std::string name = param_info.param.substr(0, param_info.param.size() - 5);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(Examples, AllFourArePresent) {
  EXPECT_EQ(example_files(), (std::vector<std::string>{"delivery-vans.json", "greenhouse.json", "smart-meters.json",
                                                       "weather-stations.json"}));
}

TEST(Examples, GreenhouseZonesFollowSetpointsSentByTheirPanels) {
  const Scenario s = load_scenario_file(scenarios_dir() + "/greenhouse.json");
  ASSERT_EQ(s.fleets.size(), 2u);
  const FleetSpec& zones = s.fleets[0];
  const FleetSpec& panels = s.fleets[1];
  ASSERT_EQ(zones.commands.size(), 1u);
  const CommandSpec& cmd = zones.commands[0];
  ASSERT_EQ(cmd.set.size(), 1u);
  EXPECT_EQ(cmd.set[0].field, "setpoint");
  ASSERT_TRUE(cmd.reply.has_value());

  // Panel n publishes exactly to zone n's command topic.
  const DeviceState zone = s.make_device(0, 3, *s.run.seed);
  const DeviceState panel = s.make_device(1, 3, *s.run.seed);
  EXPECT_EQ(panels.telemetry[0].topic.expand(panel.vars()), cmd.topic.expand(zone.vars()));
  EXPECT_EQ(cmd.topic.expand(zone.vars()), "greenhouse/gh-0003/cmd/setpoint");

  // A panel's command, answered by the zone: the ack carries the id, the field follows.
  auto panel_state = panels.telemetry[0].payload.make_state(*s.run.seed, panel, 0);
  const std::string request = panels.telemetry[0].payload.render(panel_state, RenderContext{Millis(0), 0, &panel});
  const auto request_json = nlohmann::json::parse(request);
  EXPECT_EQ(request_json["id"], 1);
  DeviceState device = zone;
  const RequestFields fields = RequestFields::parse(request);
  auto set_state = cmd.set[0].value.make_state(*s.run.seed, device, k_command_stream_base);
  device.set_field(cmd.set[0].slot, cmd.set[0].value.render(set_state, RenderContext{Millis(0), 0, &device}, &fields));
  ASSERT_TRUE(device.fields[0].number.has_value());
  EXPECT_DOUBLE_EQ(*device.fields[0].number, request_json["value"].get<double>());
  auto reply_state = cmd.reply->payload.make_state(*s.run.seed, device, k_command_stream_base);
  const auto ack = nlohmann::json::parse(
      cmd.reply->payload.render(reply_state, RenderContext{Millis(0), 1'700'000'000'000, &device}, &fields));
  EXPECT_EQ(ack["id"], 1);
  EXPECT_EQ(ack["setpoint"], request_json["value"]);
}

TEST(Examples, DeliveryVansHaveGpsBatteryAndDrops) {
  const Scenario s = load_scenario_file(scenarios_dir() + "/delivery-vans.json");
  const FleetSpec& vans = s.fleets.at(0);
  EXPECT_EQ(vans.count, 40u);
  ASSERT_TRUE(vans.behaviour.drops.has_value());
  EXPECT_DOUBLE_EQ(vans.behaviour.drops->probability, 0.05);
  ASSERT_TRUE(vans.will.has_value());
  const DeviceState van = s.make_device(0, 0, *s.run.seed);
  auto state = vans.telemetry[0].payload.make_state(*s.run.seed, van, 0);
  const auto first = nlohmann::json::parse(vans.telemetry[0].payload.render(state, RenderContext{Millis(0), 0, &van}));
  const auto later =
      nlohmann::json::parse(vans.telemetry[0].payload.render(state, RenderContext{Millis(600'000), 0, &van}));
  for (const auto& p : {first, later}) {
    EXPECT_NEAR(p["position"]["lat"].get<double>(), 40.435, 0.05);
    EXPECT_NEAR(p["position"]["lon"].get<double>(), -3.70, 0.05);
    EXPECT_GE(p["battery"].get<double>(), 0);
    EXPECT_LE(p["battery"].get<double>(), 100);
  }
  EXPECT_NE(first["position"], later["position"]); // 10 minutes at 30 km/h is 5 km
}

TEST(Examples, SmartMetersStormEveryMeterWithinTheRun) {
  const Scenario s = load_scenario_file(scenarios_dir() + "/smart-meters.json");
  EXPECT_EQ(s.device_count(), 5000u);
  const FleetSpec& meters = s.fleets.at(0);
  EXPECT_DOUBLE_EQ(meters.connect_rate, 500.0);
  ASSERT_EQ(meters.behaviour.storms.size(), 1u);
  EXPECT_DOUBLE_EQ(meters.behaviour.storms[0].fraction, 1.0);
  EXPECT_LT(meters.behaviour.storms[0].at, *s.run.duration);
  EXPECT_EQ(s.make_device(0, 4999, 0).device_id, "meter-04999");
}

TEST(Examples, WeatherStationsPublishJsonForTheWeatherDataBucket) {
  const Scenario s = load_scenario_file(scenarios_dir() + "/weather-stations.json");
  const FleetSpec& stations = s.fleets.at(0);
  EXPECT_EQ(stations.account.expand({}), "demo");
  const DeviceState station = s.make_device(0, 0, *s.run.seed);
  EXPECT_EQ(stations.telemetry.at(0).topic.expand(station.vars()), "demo/station-000/weather");
}

TEST(Overrides, ScaleShrinksEveryFleetToAtLeastOneDevice) {
  Scenario s = load_scenario_file(scenarios_dir() + "/greenhouse.json");
  scale_fleets(s, 0.25);
  EXPECT_EQ(s.fleets[0].count, 3u);
  EXPECT_EQ(s.fleets[1].count, 3u);
  scale_fleets(s, 0.01);
  EXPECT_EQ(s.device_count(), 2u);
  Scenario meters = load_scenario_file(scenarios_dir() + "/smart-meters.json");
  scale_fleets(meters, 0.02);
  EXPECT_EQ(meters.device_count(), 100u);
  EXPECT_THROW(scale_fleets(meters, 0), ConfigError);
  EXPECT_THROW(scale_fleets(meters, -1), ConfigError);
  EXPECT_THROW(scale_fleets(meters, 100000), ConfigError);
}

TEST(Overrides, DurationKeepsStormsInsideTheRun) {
  Scenario meters = load_scenario_file(scenarios_dir() + "/smart-meters.json");
  override_duration(meters, Millis(6'000));
  EXPECT_EQ(meters.run.duration, Millis(6'000));
  ASSERT_EQ(meters.fleets[0].behaviour.storms.size(), 1u);
  EXPECT_EQ(meters.fleets[0].behaviour.storms[0].at, Millis(3'000)); // 45 s of 90 s
  EXPECT_THROW(override_duration(meters, Millis(0)), ConfigError);

  Scenario open_ended = load_scenario(R"({ "connection": "local", "fleets": [ { "name": "m", "count": 1,
    "device_id": "m", "behaviour": { "reconnect_storms": [ { "at": "2s" }, { "at": "20s" } ] } } ] })");
  override_duration(open_ended, Millis(10'000));
  ASSERT_EQ(open_ended.fleets[0].behaviour.storms.size(), 1u);
  EXPECT_EQ(open_ended.fleets[0].behaviour.storms[0].at, Millis(2'000));
}

} // namespace
} // namespace mqfleet::sim
