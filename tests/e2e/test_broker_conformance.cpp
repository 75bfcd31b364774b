// Broker conformance, end to end: independent clients (python3-paho-mqtt scripts in py/,
// mosquitto_pub / mosquitto_sub) against Debian's mosquitto — which validates the tests
// themselves — and against the reference broker `mqfleet broker`. Every case starts its
// own broker on ephemeral ports.

#include "e2e/broker_under_test.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <string>
#include <tuple>
#include <vector>

namespace mqfleet::test {
namespace {

/// One scripted scenario and where a broker is known to deviate.
struct Scenario {
  std::string name;
  std::string script;
  bool tls = false;
  std::string mosquitto_deviation; ///< non-empty: mosquitto 2.0.11 fails this, and why
  std::string mosquitto_failure;   ///< the exact FAIL line the script then prints against mosquitto
  std::vector<std::string> mosquitto_args; ///< script arguments that allow for mosquitto's slack
};

Scenario plain(std::string name, std::string script, std::string mosquitto_deviation = {},
               std::string mosquitto_failure = {}) {
  return Scenario{std::move(name), std::move(script), false, std::move(mosquitto_deviation),
                  std::move(mosquitto_failure), {}};
}

std::vector<Scenario> scenarios() {
  return {
      plain("qos2_exactly_once", "qos2_exactly_once.py"),
      {"qos2_exactly_once_tls", "qos2_exactly_once.py", true, "", "", {}},
      plain("persistent_session", "persistent_session.py"),
      plain("redelivery", "redelivery.py"),
      plain("will", "will.py"),
      // mosquitto 2.0.11 checks keepalives lazily: a 2 s keepalive closed after 3.4-5.9 s
      // (measured here); the reference broker is held to 1.5 x keepalive + 1 s.
      {"keepalive", "keepalive.py", false, "", "", {"--late-by", "3.5"}},
      plain("retained", "retained.py"),
      plain("overlapping_subscriptions", "overlapping_subscriptions.py",
       "mosquitto 2.0.11 delivers the one copy at QoS 1, not the highest granted QoS 2 "
       "(shared/notes/measurements.md)",
       "FAIL: overlapping_subscriptions.py: one copy delivered at QoS 1, expected the highest granted QoS 2"),
      plain("v5_session_expiry", "v5_session_expiry.py"),
      plain("v5_message_expiry", "v5_message_expiry.py"),
      plain("v5_topic_alias", "v5_topic_alias.py"),
      plain("v5_subscription_ids", "v5_subscription_ids.py"),
      plain("v5_no_local", "v5_no_local.py"),
      plain("v5_retain_as_published", "v5_retain_as_published.py"),
      plain("v5_retain_handling", "v5_retain_handling.py"),
      plain("v5_receive_maximum", "v5_receive_maximum.py",
       "mosquitto 2.0.11 releases two messages per PUBACK, exceeding Receive Maximum 2 (measured here)",
       "FAIL: v5_receive_maximum.py: 3 unacknowledged QoS 1 messages outstanding with Receive Maximum 2 "
       "(one PUBACK released more than one message)"),
      plain("v5_maximum_packet_size", "v5_maximum_packet_size.py"),
      plain("v5_user_properties", "v5_user_properties.py"),
      plain("v5_shared_subscriptions", "v5_shared_subscriptions.py"),
      plain("v5_session_takeover", "v5_session_takeover.py",
       "mosquitto 2.0.11 closes the old v5 connection without DISCONNECT 0x8E (measured here)",
       "FAIL: v5_session_takeover.py: old v5 connection closed without a DISCONNECT packet"),
      plain("v5_will_expiry", "v5_will_expiry.py"),
      plain("v5_request_problem_information", "v5_request_problem_information.py"),
  };
}

void PrintTo(const Scenario& scenario, std::ostream* out) { *out << scenario.script; }

class BrokerConformance : public testing::TestWithParam<std::tuple<BrokerKind, Scenario>> {};

TEST_P(BrokerConformance, Scenario) {
  const auto& [kind, scenario] = GetParam();
  BrokerUnderTestOptions options;
  options.tls = scenario.tls;
  BrokerUnderTest broker(kind, options);
  const auto result = run_scenario(scenario.script, broker,
                                   kind == BrokerKind::mosquitto ? scenario.mosquitto_args : std::vector<std::string>{},
                                   scenario.tls);
  if (kind == BrokerKind::mosquitto && !scenario.mosquitto_deviation.empty()) {
    // An expected failure: the known deviation, word for word, so a change in mosquitto
    // or in the script (a fix, another failure) is noticed.
    EXPECT_EQ(result.exit_code, 1) << scenario.mosquitto_deviation << "\n" << describe(result, broker);
    EXPECT_EQ(result.err, scenario.mosquitto_failure + "\n") << scenario.mosquitto_deviation;
    return;
  }
  EXPECT_EQ(result.exit_code, 0) << describe(result, broker);
}

INSTANTIATE_TEST_SUITE_P(Brokers, BrokerConformance,
                         testing::Combine(testing::Values(BrokerKind::mosquitto, BrokerKind::reference),
                                          testing::ValuesIn(scenarios())),
                         [](const testing::TestParamInfo<BrokerConformance::ParamType>& param_info) {
                           return to_string(std::get<0>(param_info.param)) + "_" + std::get<1>(param_info.param).name;
                         });

// Server shutdown: v5 clients get DISCONNECT 0x8B (reference broker only: mosquitto
// 2.0.11 just closes the connections).
TEST(BrokerShutdown, V5ClientsGetDisconnect0x8B) {
  ReferenceBrokerProcess broker;
  ProcessOptions options;
  options.env["PYTHONUNBUFFERED"] = "1";
  Process client(scenario_command("v5_server_shutdown.py", broker.port()), options);
  ASSERT_TRUE(client.wait_for_stdout_line([](const std::string& line) { return line == "READY"; }, 30s))
      << client.stderr_so_far() << broker.log();
  broker.process().signal(SIGTERM);
  const auto broker_result = broker.process().wait(30s);
  EXPECT_EQ(broker_result.exit_code, 0) << broker.log();
  const auto result = client.wait(60s);
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err << broker.log();
  EXPECT_NE(broker.log().find("server shutting down"), std::string::npos) << broker.log();
}

// mosquitto_pub / mosquitto_sub as peers ------------------------------------------------

/// mosquitto_sub printing "MSG <topic> <qos> <retain> <payload>" lines, ready once subscribed.
class MosquittoSub {
public:
  MosquittoSub(BrokerUnderTest& broker, const std::string& version, const std::vector<std::string>& args, int count) {
    // stdbuf: mosquitto_sub's stdout is a pipe here; line buffering shows the SUBACK at once.
    std::vector<std::string> argv{find_program("stdbuf"), "-oL", find_program("mosquitto_sub"), "-d", "-h", "127.0.0.1", "-p",
                                  std::to_string(broker.port()), "-V", version, "-C", std::to_string(count),
                                  "-W", "30", "-F", "MSG %t %q %r %p"};
    argv.insert(argv.end(), args.begin(), args.end());
    m_process = std::make_unique<Process>(argv);
    m_ready = m_process->wait_for_stdout_line(
                  [](const std::string& line) { return line.find("SUBACK") != std::string::npos; }, 20s)
                  .has_value();
  }
  bool ready() const noexcept { return m_ready; }
  /// Waits for exit (after `count` messages) and returns the MSG lines.
  std::vector<std::string> messages(ProcessResult& result) {
    result = m_process->wait(60s);
    std::vector<std::string> lines;
    for (const auto& line : split_lines(result.out))
      if (line.rfind("MSG ", 0) == 0) lines.push_back(line.substr(4));
    return lines;
  }

private:
  std::unique_ptr<Process> m_process;
  bool m_ready = false;
};

ProcessResult mosquitto_pub(BrokerUnderTest& broker, const std::string& version, std::vector<std::string> args) {
  std::vector<std::string> argv{find_program("mosquitto_pub"), "-h", "127.0.0.1", "-p", std::to_string(broker.port()),
                                "-V", version};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, {}, 30s);
}

class BrokerPeers : public testing::TestWithParam<BrokerKind> {};

TEST_P(BrokerPeers, MosquittoClientsEveryVersionAndQos) {
  BrokerUnderTest broker(GetParam());
  for (const std::string sub_version : {"mqttv31", "mqttv311", "5"}) {
    SCOPED_TRACE("subscriber " + sub_version);
    MosquittoSub sub(broker, sub_version, {"-t", "peers/" + sub_version + "/#", "-q", "2"}, 9);
    ASSERT_TRUE(sub.ready()) << broker.log();
    std::vector<std::string> expected;
    for (const std::string pub_version : {"mqttv31", "mqttv311", "5"}) {
      for (int qos = 0; qos <= 2; ++qos) {
        const std::string topic = "peers/" + sub_version + "/" + pub_version;
        const std::string payload = "q" + std::to_string(qos);
        auto result = mosquitto_pub(broker, pub_version, {"-t", topic, "-q", std::to_string(qos), "-m", payload});
        ASSERT_EQ(result.exit_code, 0) << result.err;
        expected.push_back(topic + " " + std::to_string(qos) + " 0 " + payload);
      }
    }
    // Each message comes from its own publisher connection, and MQTT orders messages only
    // per publisher: compare the sets, not the interleaving.
    ProcessResult result;
    auto received = sub.messages(result);
    std::sort(received.begin(), received.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(received, expected) << result.err << broker.log();
    EXPECT_EQ(result.exit_code, 0);
  }
}

TEST_P(BrokerPeers, MosquittoClientsRetained) {
  BrokerUnderTest broker(GetParam());
  for (const std::string version : {"mqttv311", "5"}) {
    SCOPED_TRACE(version);
    const std::string topic = "retained/" + version;
    ASSERT_EQ(mosquitto_pub(broker, version, {"-t", topic, "-q", "1", "-r", "-m", "old"}).exit_code, 0);
    ASSERT_EQ(mosquitto_pub(broker, version, {"-t", topic, "-q", "1", "-r", "-m", "new"}).exit_code, 0);
    MosquittoSub sub(broker, version, {"-t", topic, "-q", "1"}, 1);
    ASSERT_TRUE(sub.ready());
    ProcessResult result;
    EXPECT_EQ(sub.messages(result), std::vector<std::string>{topic + " 1 1 new"}) << result.err;
    ASSERT_EQ(mosquitto_pub(broker, version, {"-t", topic, "-q", "1", "-r", "-n"}).exit_code, 0);
    auto none = run_process({find_program("mosquitto_sub"), "-h", "127.0.0.1", "-p", std::to_string(broker.port()),
                             "-V", version, "-t", topic, "-C", "1", "-W", "2"},
                            {}, 30s);
    EXPECT_EQ(none.out, "") << "a deleted retained message was delivered";
  }
}

TEST_P(BrokerPeers, MosquittoClientsV5Properties) {
  BrokerUnderTest broker(GetParam());
  auto sub_argv = std::vector<std::string>{find_program("stdbuf"), "-oL", find_program("mosquitto_sub"), "-d", "-h", "127.0.0.1", "-p",
                                           std::to_string(broker.port()), "-V", "5", "-t", "props/x", "-q", "1",
                                           "-C", "1", "-W", "30", "-F", "MSG %P|%C|%R"};
  Process sub(sub_argv);
  ASSERT_TRUE(sub.wait_for_stdout_line([](const std::string& l) { return l.find("SUBACK") != std::string::npos; }, 20s));
  auto pub = mosquitto_pub(broker, "5",
                           {"-t", "props/x", "-q", "1", "-m", "p", "-D", "publish", "user-property", "k", "v1", "-D",
                            "publish", "user-property", "k", "v2", "-D", "publish", "content-type", "text/x", "-D",
                            "publish", "response-topic", "reply/x"});
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  auto line = sub.wait_for_stdout_line([](const std::string& l) { return l.rfind("MSG ", 0) == 0; }, 20s);
  ASSERT_TRUE(line) << broker.log();
  EXPECT_EQ(*line, "MSG k:v1 k:v2|text/x|reply/x");
}

INSTANTIATE_TEST_SUITE_P(Brokers, BrokerPeers, testing::Values(BrokerKind::mosquitto, BrokerKind::reference),
                         [](const testing::TestParamInfo<BrokerKind>& param_info) { return to_string(param_info.param); });

} // namespace
} // namespace mqfleet::test
