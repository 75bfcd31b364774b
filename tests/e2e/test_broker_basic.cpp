// The reference broker end to end with independent clients (mosquitto_pub/mosquitto_sub):
// startup line, anonymous pub/sub at QoS 0/1/2 for 3.1.1 and 5.0, retained messages,
// persistent sessions, credentials and tenancy, TLS, $SYS and logs.

#include "support/process.hpp"
#include "support/reference_broker.hpp"
#include "support/temp_dir.hpp"

#include <mqfleet/broker/credentials.hpp>

#include <gtest/gtest.h>

#include <csignal>

#include <memory>
#include <string>
#include <vector>

namespace mqfleet::test {
namespace {

std::string tool(const std::string& name) {
  std::string path = find_program(name);
  if (path.empty()) throw std::runtime_error(name + " is not installed");
  return path;
}

std::vector<std::string> with(std::vector<std::string> base, const std::vector<std::string>& extra) {
  base.insert(base.end(), extra.begin(), extra.end());
  return base;
}

/// mosquitto_sub started with -d; ready once its SUBACK arrived.
class Subscriber {
public:
  Subscriber(int port, const std::vector<std::string>& args) {
    m_process = std::make_unique<Process>(
        // stdbuf: mosquitto_sub's stdout is block-buffered on a pipe; the SUBACK line must
        // arrive before anything is published.
        with({tool("stdbuf"), "-oL", tool("mosquitto_sub"), "-h", "127.0.0.1", "-p", std::to_string(port), "-d",
              "-W", "30"},
             args));
    auto suback = m_process->wait_for_stdout_line(
        [](const std::string& line) { return line.find("SUBACK") != std::string::npos; }, 20s);
    if (!suback) throw std::runtime_error("mosquitto_sub got no SUBACK: " + m_process->stdout_so_far() +
                                          m_process->stderr_so_far());
  }
  /// Waits for exit (-C count reached) and returns the payload lines (debug lines removed).
  std::vector<std::string> payloads() {
    auto result = m_process->wait(30s);
    EXPECT_FALSE(result.timed_out);
    std::vector<std::string> lines;
    for (auto& line : split_lines(result.out))
      if (line.rfind("Client ", 0) != 0 && line.rfind("Subscribed (mid", 0) != 0 && !line.empty())
        lines.push_back(line);
    return lines;
  }

private:
  std::unique_ptr<Process> m_process;
};

ProcessResult publish(int port, const std::vector<std::string>& args) {
  return run_process(with({tool("mosquitto_pub"), "-h", "127.0.0.1", "-p", std::to_string(port)}, args), {}, 30s);
}

TEST(BrokerProcess, PrintsOneListeningLineAndStopsOnSigterm) {
  auto broker = std::make_unique<ReferenceBrokerProcess>();
  EXPECT_GT(broker->port(), 0);
  EXPECT_EQ(broker->tls_port(), 0);
  auto lines = split_lines(broker->process().stdout_so_far());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "{\"event\":\"listening\",\"mqtt\":" + std::to_string(broker->port()) + ",\"mqtts\":null}");
  broker->process().signal(SIGTERM);
  auto result = broker->process().wait(20s);
  EXPECT_EQ(result.exit_code, 0);
}

TEST(BrokerProcess, RefusesToStartWithoutRegistryOrAnonymous) {
  auto result = run_mqfleet({"broker", "--port", "0"}, {}, 30s);
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_NE(result.err.find("--registry"), std::string::npos) << result.err;
}

class AnonymousPubSub : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(AnonymousPubSub, DeliversAtEachQos) {
  const auto& [version, qos] = GetParam();
  ReferenceBrokerProcess broker;
  const std::string q = std::to_string(qos);
  Subscriber sub(broker.port(), {"-V", version, "-q", q, "-t", "sensors/+/temp", "-C", "3", "-v"});
  for (int i = 0; i < 3; ++i) {
    auto result = publish(broker.port(), {"-V", version, "-q", q, "-t", "sensors/s" + std::to_string(i) + "/temp",
                                          "-m", "v" + std::to_string(i)});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  EXPECT_EQ(sub.payloads(), (std::vector<std::string>{"sensors/s0/temp v0", "sensors/s1/temp v1", "sensors/s2/temp v2"}));
}

INSTANTIATE_TEST_SUITE_P(VersionsAndQos, AnonymousPubSub,
                         ::testing::Combine(::testing::Values("mqttv311", "mqttv5", "mqttv31"),
                                            ::testing::Values(0, 1, 2)));

TEST(BrokerRetained, NewSubscriberGetsItAndEmptyPayloadDeletes) {
  ReferenceBroker broker;
  ASSERT_EQ(publish(broker.port(), {"-t", "r/a", "-m", "first", "-r", "-q", "1"}).exit_code, 0);
  ASSERT_EQ(publish(broker.port(), {"-t", "r/a", "-m", "second", "-r", "-q", "1"}).exit_code, 0);
  {
    Subscriber sub(broker.port(), {"-t", "r/#", "-C", "1", "-v"});
    EXPECT_EQ(sub.payloads(), std::vector<std::string>{"r/a second"});
  }
  ASSERT_EQ(publish(broker.port(), {"-t", "r/a", "-n", "-r", "-q", "1"}).exit_code, 0);
  ASSERT_EQ(publish(broker.port(), {"-t", "r/b", "-m", "other", "-r", "-q", "1"}).exit_code, 0);
  Subscriber sub(broker.port(), {"-t", "r/#", "-C", "1", "-v"});
  EXPECT_EQ(sub.payloads(), std::vector<std::string>{"r/b other"});
}

TEST(BrokerSession, PersistentSessionQueuesQos1WhileOffline) {
  ReferenceBroker broker;
  {
    // Subscribe with a persistent session, then leave at once (-E).
    auto result = run_process({tool("mosquitto_sub"), "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-c",
                               "-i", "keeper", "-q", "1", "-t", "queue/t", "-E"},
                              {}, 30s);
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(publish(broker.port(), {"-q", "1", "-t", "queue/t", "-m", "m" + std::to_string(i)}).exit_code, 0);
  auto result = run_process({tool("mosquitto_sub"), "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-c", "-i",
                             "keeper", "-q", "1", "-t", "queue/t", "-C", "3", "-W", "30"},
                            {}, 40s);
  EXPECT_EQ(split_lines(result.out), (std::vector<std::string>{"m0", "m1", "m2"}));
}

class BrokerWithRegistry : public ::testing::Test {
protected:
  void SetUp() override {
    const std::string registry = R"({"version":1,"accounts":{)"
                                 R"("acme":{"devices":{"d1":{"credential":")" +
                                 broker::hash_password("s3cret-acme") +
                                 R"("},"d2":{"credential":")" + broker::hash_password("s3cret-d2") +
                                 R"("}}},"globex":{"devices":{"d1":{"credential":")" +
                                 broker::hash_password("s3cret-globex") + R"("}}}}})";
    ReferenceBrokerOptions options;
    options.allow_anonymous = false;
    options.registry_path = m_dir.write("registry.json", registry);
    m_broker = std::make_unique<ReferenceBroker>(options);
  }
  TempDir m_dir;
  std::unique_ptr<ReferenceBroker> m_broker;
};

TEST_F(BrokerWithRegistry, AcceptsTheRightCredentialAndRefusesEachWrongPart) {
  const int port = m_broker->port();
  EXPECT_EQ(publish(port, {"-u", "acme", "-i", "d1", "-P", "s3cret-acme", "-t", "t", "-m", "x"}).exit_code, 0);
  struct Case {
    std::vector<std::string> args;
    std::string failed;
  };
  const std::vector<Case> cases{
      {{"-u", "nobody", "-i", "d1", "-P", "s3cret-acme"}, "unknown account"},
      {{"-u", "acme", "-i", "d9", "-P", "s3cret-acme"}, "unknown device"},
      {{"-u", "acme", "-i", "d1", "-P", "wrong-one"}, "wrong credential"},
      {{"-u", "acme", "-i", "d1", "-P", "s3cret-globex", "-V", "mqttv5"}, "wrong credential"},
  };
  for (const auto& c : cases) {
    auto result = publish(port, with(c.args, {"-t", "t", "-m", "x"}));
    EXPECT_NE(result.exit_code, 0);
    EXPECT_NE(result.err.find("ot author"), std::string::npos) << result.err; // Not/not authorised/ized
    EXPECT_TRUE(m_broker->wait_for_log("\"failed\":\"" + c.failed + "\"")) << c.failed;
  }
  for (const auto& line : m_broker->log_lines()) {
    EXPECT_EQ(line.find("s3cret"), std::string::npos) << line;
    EXPECT_EQ(line.find("wrong-one"), std::string::npos) << line;
    EXPECT_EQ(line.find("$7$"), std::string::npos) << line;
  }
}

TEST_F(BrokerWithRegistry, TenantsShareTopicNamesWithoutSeeingEachOther) {
  const int port = m_broker->port();
  Subscriber acme(port, {"-u", "acme", "-i", "d2", "-P", "s3cret-d2", "-t", "#", "-C", "1", "-v"});
  ASSERT_EQ(publish(port, {"-u", "globex", "-i", "d1", "-P", "s3cret-globex", "-t", "telemetry", "-m", "globex"})
                .exit_code,
            0);
  ASSERT_EQ(publish(port, {"-u", "acme", "-i", "d1", "-P", "s3cret-acme", "-t", "telemetry", "-m", "acme"}).exit_code,
            0);
  EXPECT_EQ(acme.payloads(), std::vector<std::string>{"telemetry acme"});
}

TEST(BrokerProcess, SighupReloadsTheRegistryWithoutDroppingConnections) {
  TempDir dir;
  const auto hash_a = broker::hash_password("pw-a");
  const auto hash_b = broker::hash_password("pw-b");
  const std::string path = dir.write(
      "registry.json", R"({"version":1,"accounts":{"acme":{"devices":{"a":{"credential":")" + hash_a + R"("}}}}})");
  ReferenceBrokerOptions options;
  options.allow_anonymous = false;
  options.registry_path = path;
  ReferenceBrokerProcess broker(options);
  Subscriber sub(broker.port(), {"-u", "acme", "-i", "a", "-P", "pw-a", "-t", "t", "-C", "1"});
  EXPECT_NE(publish(broker.port(), {"-u", "acme", "-i", "b", "-P", "pw-b", "-t", "t", "-m", "x"}).exit_code, 0);
  dir.write("registry.json", R"({"version":1,"accounts":{"acme":{"devices":{"a":{"credential":")" + hash_a +
                                 R"("},"b":{"credential":")" + hash_b + R"("}}}}})");
  broker.process().signal(SIGHUP);
  ASSERT_TRUE(broker.process().wait_for_stderr_line(
      [](const std::string& line) { return line.find("\"event\":\"reload\"") != std::string::npos; }, 20s));
  auto result = publish(broker.port(), {"-u", "acme", "-i", "b", "-P", "pw-b", "-t", "t", "-m", "after reload"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(sub.payloads(), std::vector<std::string>{"after reload"});
}

TEST(BrokerTls, DeliversOverTheTlsListener) {
  ReferenceBrokerOptions options;
  options.tls = true;
  ReferenceBroker broker(options);
  ASSERT_GT(broker.tls_port(), 0);
  const auto& certs = broker.certificates();
  Subscriber sub(broker.tls_port(), {"--cafile", certs.ca_file, "-t", "secure", "-C", "1"});
  auto result = publish(broker.tls_port(), {"--cafile", certs.ca_file, "-t", "secure", "-m", "over tls", "-q", "1"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(sub.payloads(), std::vector<std::string>{"over tls"});
}

TEST(BrokerSys, PublishesCountersUnderSys) {
  ReferenceBrokerOptions options;
  options.sys_interval_seconds = 1;
  ReferenceBroker broker(options);
  ASSERT_EQ(publish(broker.port(), {"-t", "x", "-m", "y"}).exit_code, 0);
  Subscriber sub(broker.port(), {"-t", "$SYS/broker/clients/connected", "-C", "1", "-v"});
  auto lines = sub.payloads();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("$SYS/broker/clients/connected ", 0), 0u) << lines[0];
  EXPECT_GE(broker.broker().stats().messages_received.load(), 1u);
}

TEST(BrokerLog, OneLinePerConnectAndDisconnect) {
  ReferenceBroker broker;
  ASSERT_EQ(publish(broker.port(), {"-i", "logged-client", "-t", "x", "-m", "y"}).exit_code, 0);
  EXPECT_TRUE(broker.wait_for_log("\"event\":\"disconnect\""));
  int connects = 0;
  for (const auto& line : broker.log_lines())
    if (line.find("\"event\":\"connect\"") != std::string::npos &&
        line.find("\"client_id\":\"logged-client\"") != std::string::npos)
      ++connects;
  EXPECT_EQ(connects, 1);
}

} // namespace
} // namespace mqfleet::test
