// `mqfleet device` as a black box: the real binary editing real registry files.
#include <mqfleet/broker/device_registry.hpp>

#include <support/mosquitto_broker.hpp>
#include <support/process.hpp>
#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <set>

namespace mqfleet::test {
namespace {

using broker::AuthStatus;
using broker::Registry;

constexpr int k_config_exit = 3;

unsigned file_mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

/// Adds a device with --generate and returns the printed credential.
std::string add_generated(const std::string& registry, const std::string& account, const std::string& device) {
  const auto result = run_mqfleet({"device", "add", account, device, "--registry", registry, "--generate"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const auto lines = split_lines(result.out);
  EXPECT_EQ(lines.size(), 1u) << result.out;
  return lines.empty() ? std::string() : lines.front();
}

TEST(DeviceCli, AddGeneratePrintsTheCredentialOnceAndStoresOnlyItsHash) {
  TempDir dir;
  const auto registry = dir.file("registry.json");
  const auto result = run_mqfleet({"device", "add", "jt", "MQTT", "--registry", registry, "--generate",
                                   "--description", "bench sensor"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto lines = split_lines(result.out);
  ASSERT_EQ(lines.size(), 1u);
  const auto credential = lines.front();
  EXPECT_EQ(credential.size(), 24u);
  EXPECT_EQ(result.err.find(credential), std::string::npos) << "the secret is printed once, on stdout";
  EXPECT_EQ(file_mode(registry), 0600u);
  const auto text = read_file(registry);
  EXPECT_EQ(text.find(credential), std::string::npos);
  EXPECT_NE(text.find("$7$101$"), std::string::npos);

  const auto loaded = Registry::load(registry);
  EXPECT_EQ(loaded.authenticate("jt", "MQTT", credential), AuthStatus::ok);
  EXPECT_EQ(loaded.find_device("jt", "MQTT")->description, "bench sensor");

  for (const std::string format : {"text", "json"}) {
    const auto list = run_mqfleet({"device", "list", "--registry", registry, "--format", format});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    EXPECT_EQ(list.out.find(credential), std::string::npos);
    EXPECT_EQ(list.out.find("$7$"), std::string::npos);
    EXPECT_NE(list.out.find("MQTT"), std::string::npos);
    EXPECT_NE(list.out.find("bench sensor"), std::string::npos);
  }
}

TEST(DeviceCli, ListJsonFiltersByAccount) {
  TempDir dir;
  const auto registry = dir.file("r.json");
  add_generated(registry, "acme", "d1");
  add_generated(registry, "acme", "d2");
  add_generated(registry, "globex", "d1");
  const auto all = run_mqfleet({"device", "list", "--registry", registry, "--format", "json"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(nlohmann::json::parse(all.out).size(), 3u);
  const auto acme = run_mqfleet({"device", "list", "acme", "--registry", registry, "--format", "json"});
  ASSERT_EQ(acme.exit_code, 0) << acme.err;
  const auto rows = nlohmann::json::parse(acme.out);
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) {
    EXPECT_EQ(row["account"], "acme");
    EXPECT_FALSE(row.contains("credential"));
  }
  const auto text = run_mqfleet({"device", "list", "globex", "--registry", registry});
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_EQ(split_lines(text.out).size(), 2u); // header + one device
}

TEST(DeviceCli, SetCredentialFromFileAndEnvironmentPrintsNothing) {
  TempDir dir;
  const auto registry = dir.file("r.json");
  const auto old_credential = add_generated(registry, "acme", "d1");
  const auto file = dir.write("secret.txt", "from-a-file\n");
  auto result = run_mqfleet({"device", "set-credential", "acme", "d1", "--registry", registry, "--credential-file", file});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.out.empty());
  auto loaded = Registry::load(registry);
  EXPECT_EQ(loaded.authenticate("acme", "d1", "from-a-file"), AuthStatus::ok);
  EXPECT_EQ(loaded.authenticate("acme", "d1", old_credential), AuthStatus::wrong_credential);

  ProcessOptions env;
  env.env["DEVICE_SECRET"] = "from-the-env";
  result = run_mqfleet({"device", "set-credential", "acme", "d1", "--registry", registry, "--credential-env",
                        "DEVICE_SECRET", "--iterations", "5000"},
                       {}, 60s, env);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.out.empty());
  EXPECT_EQ(result.err.find("from-the-env"), std::string::npos);
  loaded = Registry::load(registry);
  EXPECT_EQ(loaded.authenticate("acme", "d1", "from-the-env"), AuthStatus::ok);
  EXPECT_TRUE(loaded.find_device("acme", "d1")->credential.starts_with("$7$5000$"));
}

TEST(DeviceCli, RemoveDeletesTheDeviceAndKeepsMode0600) {
  TempDir dir;
  const auto registry = dir.file("r.json");
  add_generated(registry, "acme", "d1");
  add_generated(registry, "acme", "d2");
  ASSERT_EQ(::chmod(registry.c_str(), 0644), 0);
  const auto result = run_mqfleet({"device", "rm", "acme", "d1", "--registry", registry});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(file_mode(registry), 0600u);
  const auto loaded = Registry::load(registry);
  EXPECT_EQ(loaded.find_device("acme", "d1"), nullptr);
  EXPECT_NE(loaded.find_device("acme", "d2"), nullptr);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u) << "no temporary files left behind";
}

TEST(DeviceCli, PromptsTwiceWithoutEchoOnATerminal) {
  const char* source = std::getenv("MQFLEET_SOURCE_DIR");
  ASSERT_NE(source, nullptr);
  TempDir dir;
  const auto registry = dir.file("r.json");
  const auto result = run_process({"/usr/bin/python3", std::string(source) + "/tests/e2e/py/tty_prompt.py",
                                   "typed-Secret-42", mqfleet_bin(), "device", "add", "acme", "d1", "--registry",
                                   registry});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("Repeat credential:"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("typed-Secret-42"), std::string::npos) << "the terminal echoed the secret";
  EXPECT_EQ(Registry::load(registry).authenticate("acme", "d1", "typed-Secret-42"), AuthStatus::ok);
}

TEST(DeviceCli, RegistryFromEnvironment) {
  TempDir dir;
  ProcessOptions env;
  env.env["MQFLEET_REGISTRY"] = dir.file("r.json");
  auto result = run_mqfleet({"device", "add", "acme", "d1", "--generate"}, {}, 60s, env);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  result = run_mqfleet({"device", "list"}, {}, 60s, env);
  EXPECT_NE(result.out.find("d1"), std::string::npos);
}

struct ErrorCase {
  std::vector<std::string> args; ///< `{r}` is replaced by the registry path
  int exit_code;
  std::string message; ///< expected in stderr
};

TEST(DeviceCli, ErrorsAreClearAndExitWithConfigCode) {
  TempDir dir;
  const auto registry = dir.file("r.json");
  add_generated(registry, "acme", "d1");
  const auto corrupt = dir.write("corrupt.json", R"({"accounts": {"acme": {"devices": {"d1": {"credential": "plain"}}}}})");
  const auto empty_file = dir.write("empty.txt", "");
  const std::vector<ErrorCase> cases = {
      {{"device", "add", "acme", "d1", "--registry", "{r}", "--generate"}, k_config_exit, "already exists"},
      {{"device", "add", "acme", "d2", "--registry", "{r}"}, k_config_exit, "no credential given"},
      {{"device", "add", "ac/me", "d2", "--registry", "{r}", "--generate"}, k_config_exit, "invalid account name"},
      {{"device", "add", "acme", "d#", "--registry", "{r}", "--generate"}, k_config_exit, "invalid device id"},
      {{"device", "add", "acme", "d2", "--registry", "{r}", "--credential-env", "MQFLEET_NO_SUCH_VAR"},
       k_config_exit, "MQFLEET_NO_SUCH_VAR is not set"},
      {{"device", "add", "acme", "d2", "--registry", "{r}", "--credential-file", empty_file}, k_config_exit,
       "credential file is empty"},
      {{"device", "add", "acme", "d2", "--registry", "{r}", "--credential-file", dir.file("missing")},
       k_config_exit, "cannot read the credential file"},
      {{"device", "rm", "acme", "nope", "--registry", "{r}"}, k_config_exit, "no device 'nope'"},
      {{"device", "set-credential", "acme", "nope", "--registry", "{r}", "--generate"}, k_config_exit,
       "no device 'nope'"},
      {{"device", "list", "nobody", "--registry", "{r}"}, k_config_exit, "no account 'nobody'"},
      {{"device", "list", "--registry", dir.file("missing.json")}, k_config_exit, "does not exist"},
      {{"device", "list", "--registry", corrupt}, k_config_exit, "/accounts/acme/devices/d1/credential"},
      {{"device", "add", "a", "b", "--registry", dir.file("no/such/dir/r.json"), "--generate"}, k_config_exit,
       "directory"},
      {{"device", "add", "acme", "d3", "--registry", "{r}", "--generate", "--credential-env", "X"}, 2, "excludes"},
  };
  for (const auto& c : cases) {
    auto args = c.args;
    for (auto& a : args)
      if (a == "{r}") a = registry;
    const auto result = run_mqfleet(args);
    EXPECT_EQ(result.exit_code, c.exit_code) << args[1] << " " << args[2] << ": " << result.err;
    EXPECT_NE(result.err.find(c.message), std::string::npos) << result.err;
    EXPECT_TRUE(result.out.empty()) << "nothing on stdout for a failure: " << result.out;
  }
  // The failed commands did not change the registry.
  EXPECT_EQ(Registry::load(registry).accounts().at("acme").devices.size(), 1u);
}

TEST(DeviceCli, ConcurrentAddsAllLand) {
  TempDir dir;
  const auto registry = dir.file("r.json");
  std::vector<std::unique_ptr<Process>> processes;
  for (int i = 0; i < 8; ++i) {
    processes.push_back(std::make_unique<Process>(std::vector<std::string>{
        mqfleet_bin(), "device", "add", "acme", "d" + std::to_string(i), "--registry", registry, "--generate"}));
  }
  for (auto& p : processes) EXPECT_EQ(p->wait().exit_code, 0);
  EXPECT_EQ(Registry::load(registry).accounts().at("acme").devices.size(), 8u);
}

TEST(DeviceCli, MosquittoAcceptsTheHashesWeWrite) {
  ASSERT_FALSE(find_program("mosquitto").empty() || find_program("mosquitto_pub").empty())
      << "mosquitto is not installed (scripts/install-deps.sh installs mosquitto and mosquitto-clients)";
  TempDir dir;
  const auto registry = dir.file("r.json");
  const auto credential = add_generated(registry, "acme", "sensor");
  const auto hash = Registry::load(registry).find_device("acme", "sensor")->credential;
  const auto passwd = dir.write("passwd", "sensor:" + hash + "\n");
  // mosquitto started as root reads the password file after dropping to its own user.
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(passwd.c_str(), 0644), 0);
  MosquittoOptions options;
  options.extra_config = "allow_anonymous false\npassword_file " + passwd;
  MosquittoBroker mosquitto(options);
  const auto pub = [&](const std::string& password) {
    return run_process({find_program("mosquitto_pub"), "-h", "127.0.0.1", "-p", std::to_string(mosquitto.port()),
                        "-u", "sensor", "-P", password, "-t", "t", "-m", "x"},
                       {}, 30s);
  };
  EXPECT_EQ(pub(credential).exit_code, 0) << mosquitto.log();
  EXPECT_NE(pub(credential + "x").exit_code, 0);
}

} // namespace
} // namespace mqfleet::test
