// `mqfleet sim --provision` against the reference broker: provisioned devices are
// accepted by `mqfleet broker --registry` (checked with `mqfleet pub`), wrong secrets are
// refused, reruns keep the secrets, and nothing prints a secret. Then every example in
// scenarios/ runs for a few seconds (scaled down) against the broker with the
// provisioned credentials: every device connects and telemetry is acknowledged.
#include <support/process.hpp>
#include <support/reference_broker.hpp>
#include <support/temp_dir.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace mqfleet::test {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string scenario(const std::string& name) {
  const char* dir = std::getenv("MQFLEET_SOURCE_DIR");
  return std::string(dir ? dir : MQFLEET_SOURCE_DIR_FALLBACK) + "/scenarios/" + name;
}

// Every secret of a credentials file.
std::vector<std::string> secrets_in(const std::string& path) {
  std::vector<std::string> secrets;
  const Json file = Json::parse(read_file(path));
  for (const auto& [account, devices] : file.at("accounts").items())
    for (const auto& [device, secret] : devices.items()) secrets.push_back(secret.get<std::string>());
  return secrets;
}

ReferenceBrokerOptions with_registry(const std::string& registry) {
  ReferenceBrokerOptions options;
  options.allow_anonymous = false;
  options.registry_path = registry;
  return options;
}

TEST(SimProvision, ProvisionedDevicesAreAcceptedByTheBroker) {
  TempDir dir;
  const std::string registry = dir.file("registry.json");
  const std::string creds = dir.file("weather.credentials.json");
  const auto first = run_mqfleet({"sim", "--provision", "--registry", registry, "--credentials", creds,
                                  scenario("weather-stations.json")});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.err.find("20 devices: 20 added, 0 kept"), std::string::npos) << first.err;
  const auto secrets = secrets_in(creds);
  ASSERT_EQ(secrets.size(), 20u);
  for (const auto& secret : secrets) {
    EXPECT_EQ(first.out.find(secret), std::string::npos);
    EXPECT_EQ(first.err.find(secret), std::string::npos);
  }
  EXPECT_EQ(fs::status(creds).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);

  const auto listed = run_mqfleet({"device", "list", "demo", "--registry", registry, "--format", "json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(Json::parse(listed.out).size(), 20u);

  ReferenceBrokerProcess broker(with_registry(registry));
  const std::string secret = Json::parse(read_file(creds))["accounts"]["demo"]["station-003"].get<std::string>();
  ProcessOptions env;
  env.env["STATION_SECRET"] = secret;
  const auto pub = run_mqfleet({"pub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-u", "demo", "-i",
                                "station-003", "--password-env", "STATION_SECRET", "-t", "demo/station-003/weather",
                                "-q", "1", "-m", R"({"temperature":21.5})"},
                               {}, 30s, env);
  EXPECT_EQ(pub.exit_code, 0) << pub.err;

  env.env["STATION_SECRET"] = secret + "x";
  const auto refused = run_mqfleet({"pub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-u", "demo", "-i",
                                    "station-003", "--password-env", "STATION_SECRET", "-t", "t", "-m", "x"},
                                   {}, 30s, env);
  EXPECT_EQ(refused.exit_code, 5) << refused.err;

  // Provisioning again changes nothing; --rotate replaces every secret.
  const auto again = run_mqfleet({"sim", "--provision", "--registry", registry, "--credentials", creds,
                                  scenario("weather-stations.json")});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("0 added, 20 kept"), std::string::npos) << again.err;
  EXPECT_EQ(secrets_in(creds), secrets);
  const auto rotated = run_mqfleet({"sim", "--provision", "--rotate", "--registry", registry, "--credentials", creds,
                                    scenario("weather-stations.json")});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  EXPECT_NE(rotated.err.find("20 rotated"), std::string::npos) << rotated.err;
  EXPECT_NE(secrets_in(creds), secrets);
}

TEST(SimProvision, UsageAndConfigErrors) {
  TempDir dir;
  const auto no_registry = run_mqfleet({"sim", "--provision", scenario("weather-stations.json")}, {}, 30s,
                                       ProcessOptions{{}, {"MQFLEET_REGISTRY"}, {}, {}});
  EXPECT_EQ(no_registry.exit_code, 3) << no_registry.err;
  EXPECT_NE(no_registry.err.find("--registry"), std::string::npos);
  const auto rotate_alone = run_mqfleet({"sim", "--rotate", scenario("weather-stations.json")});
  EXPECT_EQ(rotate_alone.exit_code, 2) << rotate_alone.err;
  const auto broken = run_mqfleet({"sim", "--provision", "--registry", dir.file("r.json"),
                                   dir.write("bad.json", R"({"connection": "local", "fleets": []})")});
  EXPECT_EQ(broken.exit_code, 3) << broken.err;
  EXPECT_FALSE(fs::exists(dir.file("r.json")));
}

// Every device refused (wrong secrets): the run exits 5, the documented code for refused
// credentials, and prints none of the secrets it tried.
TEST(SimProvision, RefusedCredentialsExitFive) {
  TempDir dir;
  const std::string registry = dir.file("registry.json");
  const std::string creds = dir.file("credentials.json");
  const auto provisioned = run_mqfleet({"sim", "--provision", "--registry", registry, "--credentials", creds, "--scale",
                                        "0.1", scenario("weather-stations.json")});
  ASSERT_EQ(provisioned.exit_code, 0) << provisioned.err;
  Json wrong = Json::parse(read_file(creds));
  for (auto& [account, devices] : wrong.at("accounts").items())
    for (auto& [device, secret] : devices.items()) secret = "WRONG-" + secret.get<std::string>();
  const std::string wrong_creds = dir.write("wrong.json", wrong.dump());
  fs::permissions(wrong_creds, fs::perms::owner_read | fs::perms::owner_write);
  ReferenceBrokerProcess broker(with_registry(registry));
  const auto run = run_mqfleet({"sim", scenario("weather-stations.json"), "-h", "127.0.0.1", "-p",
                                std::to_string(broker.port()), "--credentials", wrong_creds, "--scale", "0.1",
                                "--duration", "2s", "--no-progress"},
                               {}, 120s);
  EXPECT_EQ(run.exit_code, 5) << run.out << run.err;
  for (const auto& secret : secrets_in(wrong_creds)) {
    EXPECT_EQ(run.out.find(secret), std::string::npos);
    EXPECT_EQ(run.err.find(secret), std::string::npos);
  }
}

struct Example {
  std::string file;
  std::string scale;
  std::string duration;
  std::uint64_t devices; ///< after scaling
};

class ExampleRun : public ::testing::TestWithParam<Example> {};

TEST_P(ExampleRun, RunsForAFewSecondsAgainstTheReferenceBroker) {
  const Example& example = GetParam();
  TempDir dir;
  const std::string registry = dir.file("registry.json");
  const std::string creds = dir.file("credentials.json");
  const auto provisioned = run_mqfleet({"sim", "--provision", "--registry", registry, "--credentials", creds, "--scale",
                                        example.scale, scenario(example.file)});
  ASSERT_EQ(provisioned.exit_code, 0) << provisioned.err;
  ReferenceBrokerProcess broker(with_registry(registry));
  const std::string report = dir.file("report.json");
  const auto run = run_mqfleet({"sim", scenario(example.file), "-h", "127.0.0.1", "-p", std::to_string(broker.port()),
                                "--credentials", creds, "--scale", example.scale, "--duration", example.duration,
                                "--report", report},
                               {}, 180s);
  ASSERT_FALSE(run.timed_out);
  ASSERT_TRUE(fs::exists(report)) << run.err;
  const Json r = Json::parse(read_file(report));
  SCOPED_TRACE(r.dump(2));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  const Json& total = r["total"];
  EXPECT_EQ(total["devices"].get<std::uint64_t>(), example.devices);
  EXPECT_EQ(total["connect_failures"].get<std::uint64_t>(), 0u);
  EXPECT_GE(total["connects"].get<std::uint64_t>(), example.devices);
  EXPECT_GT(total["published"].get<std::uint64_t>(), 0u);
  // Every publication completed (acknowledged; QoS 0: written) and none failed; only the
  // reconnect storm of smart-meters may cut a QoS 1 message in flight, which then counts as
  // a failure, never as nothing.
  const auto published = total["published"].get<std::uint64_t>();
  const auto acknowledged = total["acknowledged"].get<std::uint64_t>();
  const auto failures = total["publish_failures"].get<std::uint64_t>();
  if (example.file == "smart-meters.json") {
    EXPECT_EQ(acknowledged + failures, published);
    EXPECT_GT(acknowledged, 0u);
  } else {
    EXPECT_EQ(acknowledged, published);
    EXPECT_EQ(failures, 0u);
  }
  if (example.file == "smart-meters.json") { // the storm (moved into the shortened run) drops every meter
    EXPECT_GE(total["connects"].get<std::uint64_t>(), 2 * example.devices);
  }
  if (example.file == "greenhouse.json") { // panels' setpoints reach their zones and are answered
    EXPECT_GT(total["commands_received"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(total["commands_answered"].get<std::uint64_t>(), total["commands_received"].get<std::uint64_t>());
  }
}

INSTANTIATE_TEST_SUITE_P(Scenarios, ExampleRun,
                         ::testing::Values(Example{"weather-stations.json", "1", "6s", 20},
                                           Example{"greenhouse.json", "0.5", "6s", 12},
                                           Example{"delivery-vans.json", "0.25", "6s", 10},
                                           Example{"smart-meters.json", "0.04", "10s", 200}),
                         [](const auto& param_info) {
                           std::string name = param_info.param.file.substr(0, param_info.param.file.find('.'));
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

} // namespace
} // namespace mqfleet::test
