// The reference broker's seed-platform tenancy, end to end: a device registry made with
// `mqfleet device add`, two accounts using the same topic and device names, refused
// credentials (CONNACK 5 / 0x87, `mqfleet sub` exit 5, a log line that names the failing
// part but no secret), access rules and the TLS listener. Reference broker only:
// mosquitto has no accounts.

#include "e2e/broker_under_test.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace mqfleet::test {
namespace {

/// One device of the test registry and its secret.
struct TestDevice {
  std::string account;
  std::string device;
  std::string secret;
};

const std::vector<TestDevice>& devices() {
  static const std::vector<TestDevice> all{
      {"acme", "sensor-1", "acme-sensor-secret-1"},   {"acme", "watcher", "acme-watcher-secret-2"},
      {"globex", "sensor-1", "globex-sensor-secret-3"}, {"globex", "watcher", "globex-watcher-secret-4"},
      {"globex", "gauge", "globex-gauge-secret-5"},
  };
  return all;
}

const TestDevice& find(const std::string& account, const std::string& device) {
  for (const auto& d : devices())
    if (d.account == account && d.device == device) return d;
  throw std::logic_error("no test device " + account + "/" + device);
}

class BrokerTenancy : public testing::Test {
protected:
  void SetUp() override {
    m_registry = m_dir.file("registry.json");
    for (const auto& d : devices()) {
      ProcessOptions options;
      options.env["MQFLEET_TEST_CREDENTIAL"] = d.secret;
      auto result = run_mqfleet({"device", "add", d.account, d.device, "--registry", m_registry, "--credential-env",
                                 "MQFLEET_TEST_CREDENTIAL"},
                                {}, 60s, options);
      ASSERT_EQ(result.exit_code, 0) << result.err;
      EXPECT_EQ(result.out.find(d.secret), std::string::npos) << "device add printed the credential";
    }
  }

  /// Adds access rules to the registry file (the AccessRule fields of device_registry.hpp).
  void add_rules(const nlohmann::json& rules) {
    auto registry = nlohmann::json::parse(read_file(m_registry));
    registry["rules"] = rules;
    std::ofstream(m_registry) << registry.dump(2);
  }

  std::unique_ptr<BrokerUnderTest> start(bool tls = false) {
    BrokerUnderTestOptions options;
    options.registry = m_registry;
    options.tls = tls;
    return std::make_unique<BrokerUnderTest>(BrokerKind::reference, options);
  }

  static std::vector<std::string> credentials(const TestDevice& d) {
    return {"--username", d.account, "--client-id", d.device, "--password", d.secret};
  }

  TempDir m_dir;
  std::string m_registry;
};

/// mosquitto_sub for one device, ready once subscribed, printing "MSG <topic> <payload>".
std::unique_ptr<Process> watch(BrokerUnderTest& broker, const TestDevice& d, int count) {
  auto process = std::make_unique<Process>(std::vector<std::string>{
      find_program("stdbuf"), "-oL", find_program("mosquitto_sub"), "-d", "-h", "127.0.0.1", "-p",
      std::to_string(broker.port()), "-u", d.account, "-i", d.device, "-P", d.secret, "-t", "#", "-q", "1", "-C",
      std::to_string(count), "-W", "30", "-F", "MSG %t %p"});
  EXPECT_TRUE(process->wait_for_stdout_line(
      [](const std::string& line) { return line.find("SUBACK") != std::string::npos; }, 20s))
      << broker.log();
  return process;
}

void publish(BrokerUnderTest& broker, const TestDevice& d, const std::string& topic, const std::string& payload) {
  auto result = run_process({find_program("mosquitto_pub"), "-h", "127.0.0.1", "-p", std::to_string(broker.port()),
                             "-u", d.account, "-i", d.device, "-P", d.secret, "-t", topic, "-q", "1", "-m", payload},
                            {}, 30s);
  ASSERT_EQ(result.exit_code, 0) << result.err << broker.log();
}

std::vector<std::string> message_lines(Process& process) {
  auto result = process.wait(60s);
  std::vector<std::string> lines;
  for (const auto& line : split_lines(result.out))
    if (line.rfind("MSG ", 0) == 0) lines.push_back(line.substr(4));
  return lines;
}

TEST_F(BrokerTenancy, AccountsSeeOnlyTheirOwnMessages) {
  auto broker = start();
  // Both watchers have the same device id: connecting the second must not take the first over.
  auto acme = watch(*broker, find("acme", "watcher"), 6);
  auto globex = watch(*broker, find("globex", "watcher"), 6);
  for (int i = 0; i < 5; ++i) publish(*broker, find("acme", "sensor-1"), "telemetry", "acme-" + std::to_string(i));
  for (int i = 0; i < 5; ++i) publish(*broker, find("globex", "sensor-1"), "telemetry", "globex-" + std::to_string(i));
  publish(*broker, find("acme", "sensor-1"), "status/done", "acme-done");
  publish(*broker, find("globex", "sensor-1"), "status/done", "globex-done");
  std::vector<std::string> expected_acme, expected_globex;
  for (int i = 0; i < 5; ++i) {
    expected_acme.push_back("telemetry acme-" + std::to_string(i));
    expected_globex.push_back("telemetry globex-" + std::to_string(i));
  }
  expected_acme.push_back("status/done acme-done");
  expected_globex.push_back("status/done globex-done");
  EXPECT_EQ(message_lines(*acme), expected_acme) << broker->log();
  EXPECT_EQ(message_lines(*globex), expected_globex) << broker->log();
}

TEST_F(BrokerTenancy, RefusedCredentialsGetNotAuthorized) {
  auto broker = start();
  const auto& sensor = find("acme", "sensor-1");
  struct Case {
    std::string what, account, device, secret, log_text;
  };
  const std::vector<Case> cases{
      {"wrong account", "initech", "sensor-1", sensor.secret, "unknown account"},
      {"device of another account", "acme", "gauge", find("globex", "gauge").secret, "unknown device"},
      {"unknown device", "acme", "ghost", sensor.secret, "unknown device"},
      {"wrong credential", "acme", "sensor-1", "WRONG-Pa55word-xyz", "wrong credential"},
      {"empty credential", "acme", "sensor-1", "", "wrong credential"},
  };
  for (const auto& c : cases) {
    for (const auto& [version, code] : std::map<std::string, std::string>{{"4", "5"}, {"5", "0x87"}}) {
      SCOPED_TRACE(c.what + ", MQTT version " + version);
      auto result = run_scenario("connect_check.py", *broker,
                                 {"--username", c.account, "--client-id", c.device, "--password", c.secret,
                                  "--version", version, "--expect-rc", code});
      EXPECT_EQ(result.exit_code, 0) << describe(result, *broker);
    }
    EXPECT_NE(broker->log().find(c.log_text), std::string::npos)
        << "no log line saying '" << c.log_text << "' for " << c.what << ":\n" << broker->log();
  }
  for (const auto& version : {"4", "5"}) {
    auto result = run_scenario("connect_check.py", *broker, [&] {
      auto args = credentials(sensor);
      args.insert(args.end(), {"--version", version, "--expect-rc", "0"});
      return args;
    }());
    EXPECT_EQ(result.exit_code, 0) << describe(result, *broker);
  }
  const std::string log = broker->log();
  for (const auto& d : devices()) EXPECT_EQ(log.find(d.secret), std::string::npos) << "the log reveals a credential";
  EXPECT_EQ(log.find("WRONG-Pa55word-xyz"), std::string::npos) << "the log reveals a refused password";
}

TEST_F(BrokerTenancy, MqfleetSubExitsWithTheAuthCode) {
  auto broker = start();
  ProcessOptions options;
  options.env["MQFLEET_TEST_PASSWORD"] = "WRONG-Pa55word-xyz";
  auto result = run_mqfleet({"sub", "-h", "127.0.0.1", "-p", std::to_string(broker->port()), "-u", "acme", "-i",
                             "sensor-1", "--password-env", "MQFLEET_TEST_PASSWORD", "-t", "telemetry", "-C", "1",
                             "-W", "10"},
                            {}, 60s, options);
  EXPECT_EQ(result.exit_code, 5) << result.out << result.err;
  EXPECT_EQ(result.err.find("WRONG-Pa55word-xyz"), std::string::npos);
}

TEST_F(BrokerTenancy, AccessRulesRefuseSubscribeAndPublish) {
  // A device may publish only under devices/<its id>/ and subscribe only under devices/.
  add_rules(nlohmann::json::array({
      {{"effect", "allow"}, {"action", "publish"}, {"topic", "devices/%d/#"}},
      {{"effect", "allow"}, {"action", "subscribe"}, {"topic", "devices/#"}},
  }));
  auto broker = start();
  auto args = credentials(find("acme", "sensor-1"));
  args.insert(args.end(), {"--allowed-filter", "devices/#", "--denied-filter", "secret/#", "--allowed-topic",
                           "devices/sensor-1/temp", "--denied-topic", "devices/sensor-2/temp"});
  auto result = run_scenario("access_rules.py", *broker, args);
  EXPECT_EQ(result.exit_code, 0) << describe(result, *broker);
}

TEST_F(BrokerTenancy, TlsListenerAuthenticatesDevices) {
  auto broker = start(true);
  for (const auto& version : {"4", "5"}) {
    SCOPED_TRACE(std::string("MQTT version ") + version);
    auto args = credentials(find("globex", "sensor-1"));
    args.insert(args.end(), {"--version", version, "--expect-rc", "0"});
    auto good = run_scenario("connect_check.py", *broker, args, true);
    EXPECT_EQ(good.exit_code, 0) << describe(good, *broker);
    auto bad = run_scenario("connect_check.py", *broker,
                            {"--username", "globex", "--client-id", "sensor-1", "--password", "WRONG-Pa55word-xyz",
                             "--version", version, "--expect-rc", std::string(version) == "4" ? "5" : "0x87"},
                            true);
    EXPECT_EQ(bad.exit_code, 0) << describe(bad, *broker);
  }
}

} // namespace
} // namespace mqfleet::test
