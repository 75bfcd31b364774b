// Provisioning a scenario's devices in the broker registry (lib/sim, provision.cpp) and the
// credentials file the runner reads: generated secrets verify against the registry,
// reruns keep them, --rotate replaces them, other credential kinds register their own
// secret, and no error ever quotes a secret.
#include <mqfleet/broker/credentials.hpp>
#include <mqfleet/broker/device_registry.hpp>
#include <mqfleet/sim/provision.hpp>
#include <mqfleet/scenario/credentials_file.hpp>
#include <mqfleet/scenario/scenario_loader.hpp>

#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <sys/stat.h>

namespace mqfleet::provision {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

const char* k_two_fleets = R"({
  "name": "farm",
  "connection": { "host": "127.0.0.1", "port": 1883 },
  "fleets": [
    { "name": "sensors", "count": 5, "device_id": "s-{index:02}", "account": "acme", "credential": "provisioned" },
    { "name": "gates", "count": 2, "first_index": 7, "device_id": "gate-{index}", "account": "ops-{fleet}",
      "credential": { "provisioned": "gates.secrets.json" } }
  ] })";

sim::Scenario scenario_in(const TempDir& dir, const std::string& name, const std::string& text) {
  return sim::load_scenario_file(dir.write(name, text));
}

mode_t mode_of(const fs::path& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 0777;
}

TEST(CredentialsPath, DefaultExplicitAndOverride) {
  TempDir dir;
  const auto s = scenario_in(dir, "farm.json", k_two_fleets);
  EXPECT_EQ(sim::provisioned_credentials_path(s, s.fleets[0]), dir.path() / "farm.credentials.json");
  EXPECT_EQ(sim::provisioned_credentials_path(s, s.fleets[1]), dir.path() / "gates.secrets.json");
  EXPECT_EQ(sim::provisioned_credentials_path(s, s.fleets[1], "/x/y.json"), fs::path("/x/y.json"));
}

TEST(Provision, RegistersEveryDeviceWithSecretsThatVerify) {
  TempDir dir;
  const auto s = scenario_in(dir, "farm.json", k_two_fleets);
  const fs::path registry_path = dir.path() / "registry.json";
  const auto summary = provision_scenario(s, {registry_path, {}, false, 0});
  EXPECT_EQ(summary.devices(), 7u);
  EXPECT_EQ(summary.changed(), 7u);
  ASSERT_EQ(summary.fleets.size(), 2u);
  EXPECT_EQ(summary.fleets[0].added, 5u);
  EXPECT_EQ(summary.fleets[1].added, 2u);
  EXPECT_EQ(summary.accounts, (std::vector<std::string>{"acme", "ops-gates"}));

  const auto registry = broker::Registry::load(registry_path);
  const auto sensors = sim::CredentialsFile::load(dir.path() / "farm.credentials.json");
  const auto gates = sim::CredentialsFile::load(dir.path() / "gates.secrets.json");
  EXPECT_EQ(sensors.size(), 5u);
  EXPECT_EQ(gates.size(), 2u);
  EXPECT_EQ(mode_of(dir.path() / "farm.credentials.json"), 0600u);
  EXPECT_EQ(mode_of(registry_path), 0600u);
  for (const std::string device : {"s-00", "s-04"}) {
    const std::string* secret = sensors.find("acme", device);
    ASSERT_NE(secret, nullptr) << device;
    EXPECT_EQ(secret->size(), 24u);
    EXPECT_EQ(registry.authenticate("acme", device, *secret), broker::AuthStatus::ok);
  }
  ASSERT_NE(gates.find("ops-gates", "gate-8"), nullptr);
  EXPECT_EQ(registry.authenticate("ops-gates", "gate-8", *gates.find("ops-gates", "gate-8")), broker::AuthStatus::ok);
  EXPECT_EQ(registry.find_device("acme", "s-00")->description, "simulated by farm (fleet sensors)");
  EXPECT_NE(*sensors.find("acme", "s-00"), *sensors.find("acme", "s-01"));
}

TEST(Provision, IsIdempotentAndRotatesOnRequest) {
  TempDir dir;
  const auto s = scenario_in(dir, "farm.json", k_two_fleets);
  const fs::path registry_path = dir.path() / "registry.json";
  provision_scenario(s, {registry_path, {}, false, 0});
  const auto first = sim::CredentialsFile::load(dir.path() / "farm.credentials.json");
  const std::string registry_text = test::read_file(registry_path);

  const auto again = provision_scenario(s, {registry_path, {}, false, 0});
  EXPECT_EQ(again.changed(), 0u);
  EXPECT_EQ(again.fleets[0].kept, 5u);
  EXPECT_EQ(test::read_file(registry_path), registry_text); // not rewritten
  EXPECT_EQ(*sim::CredentialsFile::load(dir.path() / "farm.credentials.json").find("acme", "s-03"),
            *first.find("acme", "s-03"));

  const auto rotated = provision_scenario(s, {registry_path, {}, true, 0});
  EXPECT_EQ(rotated.fleets[0].rotated, 5u);
  const auto second = sim::CredentialsFile::load(dir.path() / "farm.credentials.json");
  const auto registry = broker::Registry::load(registry_path);
  EXPECT_NE(*second.find("acme", "s-03"), *first.find("acme", "s-03"));
  EXPECT_EQ(registry.authenticate("acme", "s-03", *second.find("acme", "s-03")), broker::AuthStatus::ok);
  EXPECT_EQ(registry.authenticate("acme", "s-03", *first.find("acme", "s-03")), broker::AuthStatus::wrong_credential);
}

TEST(Provision, KeepsOtherDevicesAndRefusesToOverwriteUnknownSecrets) {
  TempDir dir;
  const auto s = scenario_in(dir, "farm.json", k_two_fleets);
  const fs::path registry_path = dir.path() / "registry.json";
  broker::Registry registry;
  registry.add_device("acme", broker::Device{"dashboard", "", broker::hash_password("dash-secret")});
  registry.add_device("acme", broker::Device{"s-02", "made by hand", broker::hash_password("hand-made")});
  registry.save(registry_path);

  try {
    provision_scenario(s, {registry_path, {}, false, 0});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("1 device(s) already exist"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("--rotate"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find("hand-made"), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(dir.path() / "farm.credentials.json")); // nothing written on failure

  const auto summary = provision_scenario(s, {registry_path, {}, true, 0});
  EXPECT_EQ(summary.fleets[0].added, 4u);
  EXPECT_EQ(summary.fleets[0].rotated, 1u);
  const auto after = broker::Registry::load(registry_path);
  EXPECT_EQ(after.authenticate("acme", "dashboard", "dash-secret"), broker::AuthStatus::ok);
  EXPECT_EQ(after.find_device("acme", "s-02")->description, "made by hand");
}

TEST(Provision, OverrideFileAndNewDevicesReuseSecretsLeftInTheFile) {
  TempDir dir;
  const auto s = scenario_in(dir, "farm.json", k_two_fleets);
  const fs::path registry_path = dir.path() / "registry.json";
  const fs::path creds = dir.path() / "all.json";
  sim::CredentialsFile leftover;
  leftover.set("acme", "s-01", "left-over-secret-123456");
  leftover.save(creds);
  const auto summary = provision_scenario(s, {registry_path, creds, false, 0});
  EXPECT_EQ(summary.fleets[0].credentials, creds);
  EXPECT_EQ(summary.fleets[1].credentials, creds);
  const auto file = sim::CredentialsFile::load(creds);
  EXPECT_EQ(file.size(), 7u);
  EXPECT_EQ(*file.find("acme", "s-01"), "left-over-secret-123456");
  EXPECT_EQ(broker::Registry::load(registry_path).authenticate("acme", "s-01", "left-over-secret-123456"),
            broker::AuthStatus::ok);
  EXPECT_FALSE(fs::exists(dir.path() / "farm.credentials.json"));
}

TEST(Provision, LiteralTemplateAndEnvCredentialsAreRegisteredAsWritten) {
  TempDir dir;
  ::setenv("MQFLEET_TEST_PROVISION_PW", "from-env", 1);
  const auto s = scenario_in(dir, "mixed.json", R"({
    "connection": { "username": "acme", "credential": "conn-pw" },
    "fleets": [
      { "name": "lit", "count": 1, "device_id": "lit", "credential": "s3cret" },
      { "name": "tpl", "count": 2, "device_id": "tpl-{index}", "credential": "pw-{device}" },
      { "name": "env", "count": 1, "device_id": "env", "credential": { "env": "MQFLEET_TEST_PROVISION_PW" } },
      { "name": "conn", "count": 1, "device_id": "conn" }
    ] })");
  const fs::path registry_path = dir.path() / "registry.json";
  EXPECT_EQ(provision_scenario(s, {registry_path, {}, false, 0}).changed(), 5u);
  auto registry = broker::Registry::load(registry_path);
  EXPECT_EQ(registry.authenticate("acme", "lit", "s3cret"), broker::AuthStatus::ok);
  EXPECT_EQ(registry.authenticate("acme", "tpl-1", "pw-tpl-1"), broker::AuthStatus::ok);
  EXPECT_EQ(registry.authenticate("acme", "env", "from-env"), broker::AuthStatus::ok);
  EXPECT_EQ(registry.authenticate("acme", "conn", "conn-pw"), broker::AuthStatus::ok);
  EXPECT_FALSE(fs::exists(dir.path() / "mixed.credentials.json"));

  registry.set_credential("acme", "lit", broker::hash_password("changed"));
  registry.save(registry_path);
  const auto again = provision_scenario(s, {registry_path, {}, false, 0});
  EXPECT_EQ(again.fleets[0].updated, 1u);
  EXPECT_EQ(again.fleets[1].kept, 2u);
  EXPECT_EQ(broker::Registry::load(registry_path).authenticate("acme", "lit", "s3cret"), broker::AuthStatus::ok);
  ::unsetenv("MQFLEET_TEST_PROVISION_PW");
}

TEST(Provision, ErrorsNameTheFleetAndTheFix) {
  TempDir dir;
  const fs::path registry_path = dir.path() / "registry.json";
  const auto no_account = scenario_in(dir, "a.json", R"({ "connection": "local",
    "fleets": [ { "name": "orphans", "count": 1, "device_id": "o", "credential": "provisioned" } ] })");
  try {
    provision_scenario(no_account, {registry_path, {}, false, 0});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where(), "fleet 'orphans'");
    EXPECT_NE(e.hint().find("\"account\""), std::string::npos);
  }
  const auto no_credential = scenario_in(dir, "b.json", R"({ "connection": { "username": "u" },
    "fleets": [ { "name": "bare", "count": 1, "device_id": "b" } ] })");
  EXPECT_THROW(provision_scenario(no_credential, {registry_path, {}, false, 0}), ConfigError);
  EXPECT_FALSE(fs::exists(registry_path));
}

TEST(CredentialsFile, MalformedFilesNeverQuoteTheirContent) {
  for (const std::string& text : {std::string(R"({"accounts": {"a": {"d": "sup3r-secret" )"),
                                 std::string(R"({"accounts": {}, "extra": "sup3r-secret"})"),
                                 std::string(R"({"accounts": {"a": "sup3r-secret"}})")}) {
    try {
      sim::CredentialsFile::parse(text, "creds.json");
      FAIL() << text;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.where(), "creds.json");
      EXPECT_EQ(std::string(e.what()).find("sup3r"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(sim::CredentialsFile::load("/nonexistent/dir/creds.json").size(), 0u);
}

} // namespace
} // namespace mqfleet::provision
