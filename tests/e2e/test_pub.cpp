// `mqfleet pub` end to end: a real mosquitto per test, mosquitto_sub as the independent
// receiver. No timed assertions; timeouts only guard against hangs.
#include "support/mosquitto_broker.hpp"
#include "support/process.hpp"
#include "support/reference_broker.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <atomic>
#include <csignal>
#include <thread>
#include <unistd.h>
#include <fmt/format.h>

namespace mqfleet::test {
namespace {

constexpr int k_usage = 2, k_config = 3, k_connect = 4, k_auth = 5;

// Waits until the broker's log contains `text` (mosquitto logs every packet).
bool wait_for_log(MosquittoBroker& broker, const std::string& text, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (broker.log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// A mosquitto_sub that is subscribed (the broker logged its SUBACK) when this returns.
// mosquitto_sub block-buffers stdout into a pipe, so its output is read after it exits.
class Subscriber {
public:
  Subscriber(MosquittoBroker& broker, const std::vector<std::string>& topics, int count,
             std::vector<std::string> extra = {}, ProcessOptions options = {}) {
    static std::atomic<int> counter{0};
    const std::string id = fmt::format("e2e-sub-{}-{}", getpid(), ++counter);
    std::vector<std::string> argv{find_program("mosquitto_sub"), "-p", std::to_string(broker.port()), "-i", id, "-C",
                                  std::to_string(count), "-q", "2", "-W", "280"};
    for (const auto& t : topics) argv.insert(argv.end(), {"-t", t});
    argv.insert(argv.end(), extra.begin(), extra.end());
    m_process = std::make_unique<Process>(argv, options);
    EXPECT_TRUE(wait_for_log(broker, "Sending SUBACK to " + id)) << broker.log();
  }
  /// Waits for exit and returns the received lines.
  std::vector<std::string> received_lines(std::chrono::milliseconds timeout = 120s) {
    ProcessResult result = m_process->wait(timeout);
    EXPECT_FALSE(result.timed_out);
    return split_lines(result.out);
  }
  Process& process() { return *m_process; }

private:
  std::unique_ptr<Process> m_process;
};

std::string port_of(const MosquittoBroker& broker) { return std::to_string(broker.port()); }

TEST(PubE2E, AnonymousQos012) {
  MosquittoBroker broker;
  for (int qos = 0; qos <= 2; ++qos) {
    const std::string topic = fmt::format("e2e/qos{}", qos);
    Subscriber sub(broker, {topic}, 1, {"-v"});
    auto result = run_mqfleet({"pub", "-p", port_of(broker), "-t", topic, "-q", std::to_string(qos), "-m",
                               fmt::format("hello {}", qos)});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(sub.received_lines(), std::vector<std::string>{fmt::format("{} hello {}", topic, qos)});
  }
}

TEST(PubE2E, FileNullAndRepeat) {
  MosquittoBroker broker;
  TempDir dir;
  const std::string file = dir.write("payload.bin", "line one\nline two");
  Subscriber sub(broker, {"f/#"}, 5, {"-F", "%t|%l|%p"});
  EXPECT_EQ(run_mqfleet({"pub", "-p", port_of(broker), "-t", "f/file", "-q", "1", "-f", file}).exit_code, 0);
  EXPECT_EQ(run_mqfleet({"pub", "-p", port_of(broker), "-t", "f/null", "-q", "1", "-n"}).exit_code, 0);
  EXPECT_EQ(run_mqfleet({"pub", "-p", port_of(broker), "-t", "f/rep", "-q", "1", "-m", "r", "--repeat", "3"}).exit_code,
            0);
  ProcessResult result = sub.process().wait(60s);
  // The whole file as one payload (17 bytes, no newline added), an empty payload, and the
  // repeated message exactly three times; each pub ends before the next starts, so in order.
  EXPECT_EQ(result.out, "f/file|17|line one\nline two\nf/null|0|\nf/rep|1|r\nf/rep|1|r\nf/rep|1|r\n");
}

TEST(PubE2E, PasswordAuthAndWrongPasswordNeverPrinted) {
  MosquittoOptions options;
  options.users = {{"alice", "correct-horse-7"}};
  MosquittoBroker broker(options);
  auto ok = run_mqfleet({"pub", "-p", port_of(broker), "-u", "alice", "-P", "correct-horse-7", "-t", "a", "-q", "1",
                         "-m", "x"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;

  ProcessOptions env;
  env.env["MQ_TEST_PW"] = "correct-horse-7";
  auto from_env = run_mqfleet({"pub", "-p", port_of(broker), "-u", "alice", "--password-env", "MQ_TEST_PW", "-t", "a",
                               "-m", "x"},
                              {}, 60s, env);
  EXPECT_EQ(from_env.exit_code, 0) << from_env.err;

  auto wrong = run_mqfleet({"pub", "-p", port_of(broker), "-u", "alice", "-P", "wrong-battery-9", "-t", "a", "-q",
                            "1", "-m", "x"});
  EXPECT_EQ(wrong.exit_code, k_auth) << wrong.err;
  EXPECT_NE(wrong.err.find("refused"), std::string::npos) << wrong.err;
  for (const std::string secret : {"wrong-battery-9", "correct-horse-7"}) {
    EXPECT_EQ(wrong.out.find(secret), std::string::npos);
    EXPECT_EQ(wrong.err.find(secret), std::string::npos);
  }
}

TEST(PubE2E, PasswordAuthMqtt5) {
  MosquittoOptions options;
  options.users = {{"bob", "pw-5"}};
  MosquittoBroker broker(options);
  auto wrong = run_mqfleet({"pub", "-V", "5", "-p", port_of(broker), "-u", "bob", "-P", "nope-5", "-t", "a", "-m", "x"});
  EXPECT_EQ(wrong.exit_code, k_auth) << wrong.err;
  EXPECT_EQ(wrong.err.find("nope-5"), std::string::npos);
}

TEST(PubE2E, Tls) {
  MosquittoOptions options;
  options.tls = true;
  MosquittoBroker broker(options);
  const auto& certs = broker.certificates();
  const std::string tls_port = std::to_string(broker.tls_port());
  Subscriber sub(broker, {"tls/#"}, 2, {"-v"});
  auto ok = run_mqfleet({"pub", "-h", "localhost", "-p", tls_port, "--cafile", certs.ca_file, "-t", "tls/ca", "-q",
                         "1", "-m", "verified"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err << broker.log();
  auto wrong_ca = run_mqfleet({"pub", "-h", "localhost", "-p", tls_port, "--cafile", certs.other_ca_file, "-t",
                               "tls/wrong", "-q", "1", "-m", "nope"});
  EXPECT_EQ(wrong_ca.exit_code, k_connect) << wrong_ca.err;
  EXPECT_NE(wrong_ca.err.find("--cafile"), std::string::npos) << wrong_ca.err;
  auto insecure = run_mqfleet({"pub", "-h", "127.0.0.1", "-p", tls_port, "--cafile", certs.other_ca_file,
                               "--insecure", "-t", "tls/insecure", "-q", "1", "-m", "unverified"});
  EXPECT_EQ(insecure.exit_code, 0) << insecure.err;
  EXPECT_EQ(sub.received_lines(), (std::vector<std::string>{"tls/ca verified", "tls/insecure unverified"}));

  auto missing = run_mqfleet({"pub", "-p", tls_port, "--cafile", "/nonexistent/ca.pem", "-t", "x", "-m", "x"});
  EXPECT_EQ(missing.exit_code, k_config) << missing.err;
}

TEST(PubE2E, TlsClientCertificate) {
  MosquittoOptions options;
  options.tls = true;
  options.require_client_certificate = true;
  MosquittoBroker broker(options);
  const auto& certs = broker.certificates();
  const std::string tls_port = std::to_string(broker.tls_port());
  auto with_cert = run_mqfleet({"pub", "-h", "localhost", "-p", tls_port, "--cafile", certs.ca_file, "--cert",
                                certs.client_cert, "--key", certs.client_key, "-t", "c", "-q", "1", "-m", "x"});
  EXPECT_EQ(with_cert.exit_code, 0) << with_cert.err;
  auto without = run_mqfleet({"pub", "-h", "localhost", "-p", tls_port, "--cafile", certs.ca_file, "-t", "c", "-q",
                              "1", "-m", "x"});
  EXPECT_EQ(without.exit_code, k_connect) << without.err;
}

TEST(PubE2E, RetainedMessageReachesLaterSubscriber) {
  MosquittoBroker broker;
  EXPECT_EQ(run_mqfleet({"pub", "-p", port_of(broker), "-t", "ret/a", "-q", "1", "-r", "-m", "kept"}).exit_code, 0);
  auto result = run_process({find_program("mosquitto_sub"), "-p", port_of(broker), "-t", "ret/a", "-C", "1", "-W",
                             "30", "-F", "%r %t %p"},
                            {}, 60s);
  EXPECT_EQ(result.out, "1 ret/a kept\n");
}

TEST(PubE2E, WillIsPublishedWhenThePublisherIsKilled) {
  MosquittoBroker broker;
  Subscriber sub(broker, {"will/#", "live/#"}, 2, {"-v"});
  Process pub({mqfleet_bin(), "pub", "-p", port_of(broker), "-i", "e2e-will-pub", "-t", "live/x", "-q", "1", "-l", "--will-topic",
               "will/dev1", "--will-payload", "gone", "--will-qos", "1"});
  pub.write_stdin("alive\n");
  ASSERT_TRUE(wait_for_log(broker, "Sending PUBACK to e2e-will-pub")) << broker.log();
  pub.signal(SIGKILL);
  pub.wait(30s);
  EXPECT_EQ(sub.received_lines(), (std::vector<std::string>{"live/x alive", "will/dev1 gone"}));
}

TEST(PubE2E, SigintDrainsAndExits130) {
  MosquittoBroker broker;
  Subscriber sub(broker, {"int/#"}, 1, {"-v"});
  Process pub({mqfleet_bin(), "pub", "-p", port_of(broker), "-t", "int/x", "-q", "1", "-l"});
  pub.write_stdin("before-sigint\n");
  EXPECT_EQ(sub.received_lines(), std::vector<std::string>{"int/x before-sigint"});
  pub.signal(SIGINT);
  ProcessResult result = pub.wait(60s);
  EXPECT_EQ(result.exit_code, 130) << result.err;
  EXPECT_NE(result.err.find("all acknowledged"), std::string::npos) << result.err;
}

// 200,000 lines at QoS 1 through `pub -l`, all delivered in order:
// SubTest.TwoHundredThousandLinesAtQos1AllArriveInOrder (test_sub.cpp), pub to sub.

/// `pub -l` connected to a reference broker that is then stopped (SIGSTOP): what pub sends
/// next is never acknowledged. The broker is resumed when this goes out of scope.
class StoppedBrokerPub {
public:
  explicit StoppedBrokerPub(std::vector<std::string> extra) {
    std::vector<std::string> argv{mqfleet_bin(), "pub", "-h", "127.0.0.1", "-p", std::to_string(m_broker.port()),
                                  "-t", "stall/x", "-q", "1", "-l"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    m_pub = std::make_unique<Process>(argv);
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (m_broker.log().find("\"event\":\"connect\"") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(20ms);
    EXPECT_NE(m_broker.log().find("\"event\":\"connect\""), std::string::npos) << m_pub->stderr_so_far();
    m_broker.process().signal(SIGSTOP);
    m_pub->write_stdin("never-acknowledged\n");
  }
  ~StoppedBrokerPub() { m_broker.process().signal(SIGCONT); }
  Process& pub() { return *m_pub; }

private:
  ReferenceBrokerProcess m_broker;
  std::unique_ptr<Process> m_pub;
};

TEST(PubE2E, DrainTimeoutExits7WithTheMessageUnacknowledged) {
  StoppedBrokerPub stalled({"--drain-timeout", "1"});
  stalled.pub().close_stdin();
  const auto started = std::chrono::steady_clock::now();
  const auto result = stalled.pub().wait(30s);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(result.exit_code, 7) << result.err;
  EXPECT_NE(result.err.find("mqfleet: error:"), std::string::npos) << result.err;
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 10s);
}

// The first SIGINT drains (default drain timeout 30 s: the stopped broker never answers),
// the second exits at once.
TEST(PubE2E, SecondSigintExitsAtOnce) {
  StoppedBrokerPub stalled({});
  std::this_thread::sleep_for(200ms);
  stalled.pub().signal(SIGINT);
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(stalled.pub().running()) << "the first SIGINT did not drain: " << stalled.pub().stderr_so_far();
  const auto second = std::chrono::steady_clock::now();
  stalled.pub().signal(SIGINT);
  const auto result = stalled.pub().wait(30s);
  EXPECT_EQ(result.exit_code, 130) << result.err;
  EXPECT_LT(std::chrono::steady_clock::now() - second, 2s);
}

TEST(PubE2E, JsonlPublishesToManyTopics) {
  MosquittoBroker broker;
  Subscriber sub(broker, {"fleet/#"}, 3, {"-v"});
  const std::string input = R"({"topic":"fleet/a/telemetry","payload":{"t":21.5},"qos":1})"
                            "\n\n"
                            R"({"topic":"fleet/b/telemetry","payload":"text","qos":2,"retain":false})"
                            "\n"
                            R"({"topic":"fleet/c/status","payload":[1,2,3]})"
                            "\n";
  auto result = run_mqfleet({"pub", "-p", port_of(broker), "--jsonl", "-q", "1"}, input);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  // Order is only guaranteed per topic (the QoS 2 message completes later).
  std::vector<std::string> lines = sub.received_lines();
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::string>{R"(fleet/a/telemetry {"t":21.5})", "fleet/b/telemetry text",
                                             "fleet/c/status [1,2,3]"}));
}

TEST(PubE2E, JsonlBadLineKeepsEarlierMessages) {
  MosquittoBroker broker;
  Subscriber sub(broker, {"j/#"}, 2, {"-v"});
  const std::string input = R"({"topic":"j/1","payload":1})"
                            "\n"
                            R"({"topic":"j/2","payload":2})"
                            "\n"
                            R"({"topic":"j/3","payload":)"
                            "\n";
  auto result = run_mqfleet({"pub", "-p", port_of(broker), "--jsonl", "-q", "1"}, input);
  EXPECT_EQ(result.exit_code, k_config);
  EXPECT_NE(result.err.find("line 3"), std::string::npos) << result.err;
  EXPECT_EQ(sub.received_lines(), (std::vector<std::string>{"j/1 1", "j/2 2"}));
}

TEST(PubE2E, JsonRejectsInvalidPayloadBeforeConnecting) {
  const int unused_port = free_tcp_port();
  auto result = run_mqfleet({"pub", "-p", std::to_string(unused_port), "-t", "x", "--json", "-m", "{'t': 1}"});
  EXPECT_EQ(result.exit_code, k_config);
  EXPECT_NE(result.err.find("not valid JSON"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("(-m)"), std::string::npos) << result.err;

  MosquittoBroker broker;
  auto lines = run_mqfleet({"pub", "-p", port_of(broker), "-t", "x", "--json", "-l"}, "{\"ok\":1}\n{bad\n");
  EXPECT_EQ(lines.exit_code, k_config);
  EXPECT_NE(lines.err.find("stdin line 2"), std::string::npos) << lines.err;
}

TEST(PubE2E, Mqtt5Properties) {
  MosquittoBroker broker;
  Subscriber sub(broker, {"v5/#"}, 1, {"-V", "5", "-F", "%t|%C|%P|%p"});
  auto result = run_mqfleet({"pub", "-p", port_of(broker), "-t", "v5/x", "-q", "1", "-m", "{}", "-D", "PUBLISH",
                             "content-type", "application/json", "-D", "PUBLISH", "user-property", "site", "lab"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(sub.received_lines(), std::vector<std::string>{"v5/x|application/json|site:lab|{}"});
}

TEST(PubE2E, RefusedPublishIsADeliveryFailure) {
  TempDir dir;
  MosquittoOptions options;
  options.extra_config = "acl_file " + dir.write("acl", "topic read #\n");
  MosquittoBroker broker(options);
  auto refused = run_mqfleet({"pub", "-V", "5", "-p", port_of(broker), "-t", "denied/x", "-q", "1", "-m", "x"});
  EXPECT_EQ(refused.exit_code, 7) << refused.err;
  EXPECT_NE(refused.err.find("refused"), std::string::npos) << refused.err;
}

TEST(PubE2E, ExitCodes) {
  const int unused_port = free_tcp_port();
  auto refused = run_mqfleet({"pub", "-p", std::to_string(unused_port), "-t", "x", "-m", "x", "--connect-timeout", "5"});
  EXPECT_EQ(refused.exit_code, k_connect) << refused.err;
  EXPECT_NE(refused.err.find("mqfleet: error:"), std::string::npos);
  EXPECT_EQ(run_mqfleet({"pub", "-m", "no topic"}).exit_code, k_usage);
  EXPECT_EQ(run_mqfleet({"pub", "-t", "x", "-m", "x", "-q", "3"}).exit_code, k_usage);
  EXPECT_EQ(run_mqfleet({"pub", "-t", "x", "-f", "/nonexistent/file"}).exit_code, k_config);
}

} // namespace
} // namespace mqfleet::test
