// The reference broker end to end with independent clients (mosquitto_pub/mosquitto_sub):
// startup line, retained messages, persistent sessions, registry reload, TLS, $SYS, logs,
// configuration file, limits and refusals.

#include "support/process.hpp"
#include "support/reference_broker.hpp"
#include "support/temp_dir.hpp"
#include "support/text_checks.hpp"

#include <mqfleet/broker/credentials.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mqfleet::test {
namespace {

using mqfleet::test::all_digits;
using mqfleet::test::one_decimal;

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

// Pub/sub at every version and QoS: BrokerPeers.MosquittoClientsEveryVersionAndQos
// (test_broker_conformance.cpp) against this broker, all nine combinations on one broker.

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

// Credentials and tenancy: test_broker_tenancy.cpp (every refused part, per version).

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

// Every documented $SYS topic (docs/broker.md), each with a value that follows from what
// the test did: two publications (one retained), then one subscriber connected.
TEST(BrokerSys, PublishesCountersUnderSys) {
  ReferenceBrokerOptions options;
  options.sys_interval_seconds = 1;
  ReferenceBroker broker(options);
  ASSERT_EQ(publish(broker.port(), {"-t", "x", "-m", "y", "-r"}).exit_code, 0);
  ASSERT_EQ(publish(broker.port(), {"-t", "x2", "-m", "zz"}).exit_code, 0);
  // -R: only fresh publications, so the values are from after the two above.
  Subscriber sub(broker.port(), {"-t", "$SYS/#", "-R", "-C", "19", "-F", "%t|%p"});
  std::map<std::string, std::string> values;
  for (const auto& line : sub.payloads()) {
    const auto bar = line.find('|');
    ASSERT_NE(bar, std::string::npos) << line;
    values[line.substr(0, bar)] = line.substr(bar + 1);
  }
  const std::string p = "$SYS/broker/";
  std::vector<std::string> topics;
  for (const auto& [topic, value] : values) topics.push_back(topic);
  const std::vector<std::string> documented{
      p + "bytes/received", p + "bytes/sent", p + "clients/auth_failures", p + "clients/auth_throttled",
      p + "clients/connected", p + "clients/total",
      p + "load/bytes/received/per_second", p + "load/bytes/sent/per_second",
      p + "load/messages/received/per_second", p + "load/messages/sent/per_second", p + "messages/dropped",
      p + "messages/received", p + "messages/sent", p + "quota/refused", p + "retained messages/bytes",
      p + "retained messages/count", p + "subscriptions/count", p + "uptime", p + "version"};
  ASSERT_EQ(topics, documented);
  const auto number = [&](const std::string& topic) { return std::stoull(values.at(p + topic)); };
  EXPECT_EQ(values[p + "version"], "mqfleet");
  const std::string uptime = values[p + "uptime"];
  EXPECT_TRUE(uptime.ends_with(" seconds") && all_digits(std::string_view(uptime).substr(0, uptime.size() - 8)))
      << uptime;
  EXPECT_EQ(values[p + "clients/connected"], "1");
  EXPECT_EQ(values[p + "clients/auth_failures"], "0");
  EXPECT_EQ(values[p + "clients/auth_throttled"], "0");
  EXPECT_EQ(values[p + "clients/total"], "1");
  EXPECT_EQ(values[p + "messages/received"], "2");
  EXPECT_EQ(values[p + "messages/dropped"], "0");
  EXPECT_GE(number("retained messages/count"), 1u);
  EXPECT_EQ(values[p + "retained messages/bytes"], "2") << "topic x + payload y; $SYS is not counted";
  EXPECT_EQ(values[p + "subscriptions/count"], "1") << "the subscriber's $SYS/#";
  EXPECT_EQ(values[p + "quota/refused"], "0");
  // Two PUBLISH packets (x: 1+1+2+1+1 bytes, x2: 1+1+2+2+2) plus two CONNECTs and the
  // subscriber's CONNECT and SUBSCRIBE: well over the 14 bytes of the publications.
  EXPECT_GT(number("bytes/received"), 14u);
  EXPECT_GT(number("bytes/sent"), 0u);
  for (const std::string load : {"load/bytes/received/per_second", "load/bytes/sent/per_second",
                                 "load/messages/received/per_second", "load/messages/sent/per_second"})
    EXPECT_TRUE(one_decimal(values[p + load])) << load << " " << values[p + load];
  EXPECT_EQ(broker.broker().stats().messages_received.load(), 2u);
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
