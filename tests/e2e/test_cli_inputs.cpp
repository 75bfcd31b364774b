// Every CLI input path of `mqfleet pub` / `sub` (issue 16, items 1-9) end to end: a real
// mosquitto per test, real processes and pipes (`sub | head -1`), real files. Readiness is
// never a sleep: `sub -d` prints "subscribed to <filter>" once the SUBACK is in, or the
// broker logs its SUBACK. Each case runs with the lean client and, where it applies, with
// the Paho module (MQFLEET_PUB_CLIENT / MQFLEET_SUB_CLIENT=paho).
#include "support/mosquitto_broker.hpp"
#include "support/process.hpp"
#include "support/reference_broker.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <atomic>
#include <string>
#include <thread>
#include <unistd.h>

namespace mqfleet::test {
namespace {

constexpr int k_usage = 2, k_config = 3, k_delivery = 7;

std::string unique_id(const char* what) {
  static std::atomic<int> counter{0};
  return fmt::format("{}-{}-{}", what, getpid(), ++counter);
}

ProcessOptions client(const char* variable, bool paho) {
  ProcessOptions options;
  if (paho) options.env[variable] = "paho";
  return options;
}

// Starts `mqfleet sub -d args...` and returns once `filter` is acknowledged.
std::unique_ptr<Process> start_sub(std::vector<std::string> args, const std::string& filter, ProcessOptions options = {}) {
  std::vector<std::string> argv{mqfleet_bin(), "sub", "-d"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto process = std::make_unique<Process>(argv, std::move(options));
  const auto ready = process->wait_for_stderr_line(
      [&](const std::string& line) { return line.find("subscribed to " + filter + " ") != std::string::npos; }, 30s);
  EXPECT_TRUE(ready.has_value()) << "sub did not subscribe; stderr: " << process->stderr_so_far();
  return process;
}

bool wait_for_log(MosquittoBroker& broker, const std::string& text, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (broker.log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::string port_of(const MosquittoBroker& broker) { return std::to_string(broker.port()); }

bool one_error_line(const std::string& err) {
  return err.rfind("mqfleet: error: ", 0) == 0 && err.find('\n') == err.size() - 1;
}

class CliInputs : public testing::TestWithParam<bool> {
protected:
  bool paho() const { return GetParam(); }
  ProcessOptions pub_client() const { return client("MQFLEET_PUB_CLIENT", paho()); }
  ProcessOptions sub_client() const { return client("MQFLEET_SUB_CLIENT", paho()); }
};

INSTANTIATE_TEST_SUITE_P(Clients, CliInputs, testing::Values(false, true),
                         [](const testing::TestParamInfo<bool>& client) { return client.param ? "Paho" : "Lean"; });

// 1. -L mqtt://host:port/topic: the URL path is the topic of pub and of sub.
TEST_P(CliInputs, UrlPathIsTheTopic) {
  MosquittoBroker broker;
  const std::string url = fmt::format("mqtt://127.0.0.1:{}/url/a%20topic", broker.port());
  auto sub = start_sub({"-L", url, "-C", "1"}, "url/a topic", sub_client());
  auto pub = run_mqfleet({"pub", "-L", url, "-m", "hi"}, {}, 60s, pub_client());
  EXPECT_EQ(pub.exit_code, 0) << pub.err;
  ProcessResult result = sub->wait(60s);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "hi\n");
  // Without -t and without a path, a topic is still required (usage error).
  auto none = run_mqfleet({"pub", "-L", fmt::format("mqtt://127.0.0.1:{}", broker.port()), "-m", "x"});
  EXPECT_EQ(none.exit_code, k_usage) << none.err;
}

// 2. -D for CONNECT, SUBSCRIBE, UNSUBSCRIBE, DISCONNECT and the will, in pub and sub.
TEST_P(CliInputs, PropertiesForEveryPacket) {
  MosquittoBroker broker;
  const std::string port = port_of(broker);
  // SUBSCRIBE subscription-identifier comes back on every delivered message (%S); the
  // CONNECT properties are accepted by the broker.
  auto sub = start_sub({"-p", port, "-t", "props/t", "-C", "1", "-F", "%S %P", "-D", "subscribe",
                        "subscription-identifier", "42", "-D", "subscribe", "user-property", "who", "sub", "-D",
                        "connect", "receive-maximum", "10", "-D", "connect", "maximum-packet-size", "100000", "-D",
                        "connect", "topic-alias-maximum", "5", "-D", "connect", "request-problem-information", "1",
                        "-D", "connect", "user-property", "a", "b", "-D", "disconnect", "user-property", "bye", "now"},
                       "props/t", sub_client());
  auto pub = run_mqfleet({"pub", "-p", port, "-t", "props/t", "-q", "1", "-m", "x", "-D", "publish", "user-property",
                          "k", "v", "-D", "connect", "session-expiry-interval", "0", "-D", "connect",
                          "request-response-information", "1", "-D", "disconnect", "session-expiry-interval", "0",
                          "--will-topic", "w/t", "-D", "will", "will-delay-interval", "5", "-D", "will",
                          "content-type", "text/plain"},
                         {}, 60s, pub_client());
  EXPECT_EQ(pub.exit_code, 0) << pub.err;
  ProcessResult result = sub->wait(60s);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "42 k:v\n");

  // CONNECT session-expiry-interval keeps the session: a QoS 1 message published while
  // the subscriber is away arrives when it comes back.
  const std::string id = unique_id("props-session");
  auto first = run_mqfleet({"sub", "-p", port, "-i", id, "-c", "-q", "1", "-t", "sess/t", "-E", "-D", "connect",
                            "session-expiry-interval", "60"},
                           {}, 60s, sub_client());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(run_mqfleet({"pub", "-p", port, "-t", "sess/t", "-q", "1", "-m", "kept"}).exit_code, 0);
  auto again = run_mqfleet({"sub", "-p", port, "-i", id, "-c", "-q", "1", "-t", "sess/t", "-C", "1", "-W", "20", "-D",
                            "connect", "session-expiry-interval", "60"},
                           {}, 60s, sub_client());
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "kept\n");

  // UNSUBSCRIBE takes user properties.
  auto unsub = run_mqfleet({"sub", "-p", port, "-t", "u/t", "-U", "u/t", "-E", "-D", "unsubscribe", "user-property",
                            "why", "test"},
                           {}, 60s, sub_client());
  EXPECT_EQ(unsub.exit_code, 0) << unsub.err;

  // A property the command does not send, or the packet cannot carry: a clear error, exit 3.
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"sub", "-t", "a", "-D", "publish", "content-type", "x"},
           {"pub", "-t", "a", "-m", "x", "-D", "subscribe", "subscription-identifier", "1"},
           {"pub", "-t", "a", "-m", "x", "-D", "connect", "content-type", "x"},
           {"sub", "-t", "a", "-D", "connect", "receive-maximum", "0"},
           {"pub", "-t", "a", "-m", "x", "-D", "will", "will-delay-interval", "5"},
           {"pub", "-t", "a", "-m", "x", "-V", "311", "-D", "connect", "receive-maximum", "5"}}) {
    std::vector<std::string> args = bad;
    args.insert(args.begin() + 1, {"-p", port});
    auto refused = run_mqfleet(args, {}, 60s, pub_client());
    EXPECT_EQ(refused.exit_code, k_config) << fmt::format("{}", fmt::join(bad, " ")) << "\n" << refused.err;
    EXPECT_TRUE(one_error_line(refused.err)) << refused.err;
    EXPECT_NE(refused.err.find("(-D)"), std::string::npos) << refused.err;
  }
}

// 3. sub --quiet is accepted; -F %m prints the packet identifier of QoS > 0 messages.
TEST_P(CliInputs, QuietAndMessageId) {
  MosquittoBroker broker;
  const std::string port = port_of(broker);
  auto sub = start_sub({"-p", port, "-t", "mid/t", "-q", "1", "-C", "2", "-F", "%m %J", "--quiet"}, "mid/t",
                       sub_client());
  ASSERT_EQ(run_mqfleet({"pub", "-p", port, "-t", "mid/t", "-q", "1", "-m", "not json"}).exit_code, 0);
  ASSERT_EQ(run_mqfleet({"pub", "-p", port, "-t", "mid/t", "-q", "0", "-m", "{}"}).exit_code, 0);
  ProcessResult result = sub->wait(60s);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const auto lines = split_lines(result.out);
  ASSERT_EQ(lines.size(), 2u) << result.out;
  EXPECT_NE(lines[0].substr(0, 2), "0 ") << "QoS 1 message id: " << lines[0];
  EXPECT_GT(std::stoi(lines[0]), 0) << lines[0];
  EXPECT_EQ(lines[1].substr(0, 2), "0 ") << "QoS 0 message id: " << lines[1];
  // --quiet: the %J warning for the non-JSON payload is not printed.
  EXPECT_EQ(result.err.find("warning"), std::string::npos) << result.err;
}

// 4. `sub | head -1`: exit 0, nothing on stderr, and a QoS 1 message that was not written
// was not acknowledged either: the persistent session delivers it again.
TEST_P(CliInputs, ClosedStdoutIsNotAnError) {
  MosquittoBroker broker;
  const std::string port = port_of(broker);
  TempDir dir;
  const std::string id = unique_id("pipe");
  const std::string script = fmt::format(
      "'{}' sub -p {} -i {} -c -q 1 -t pipe/t -W 60 2>'{}' | head -1 >'{}'; echo ${{PIPESTATUS[0]}} >'{}'",
      mqfleet_bin(), port, id, dir.file("err"), dir.file("out"), dir.file("rc"));
  Process pipeline({"/bin/bash", "-c", script}, sub_client());
  ASSERT_TRUE(wait_for_log(broker, "Sending SUBACK to " + id)) << broker.log();
  ASSERT_EQ(run_mqfleet({"pub", "-p", port, "-t", "pipe/t", "-q", "1", "-m", "first"}).exit_code, 0);
  // Once head has its line and exits, the next message meets a closed pipe.
  for (int i = 0; i < 3000 && read_file(dir.file("out")).empty(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(read_file(dir.file("out")), "first\n");
  std::this_thread::sleep_for(200ms); // head exits right after writing its line
  ASSERT_EQ(run_mqfleet({"pub", "-p", port, "-t", "pipe/t", "-q", "1", "-m", "second"}).exit_code, 0);
  ProcessResult done = pipeline.wait(60s);
  EXPECT_FALSE(done.timed_out);
  EXPECT_EQ(read_file(dir.file("rc")), "0\n");
  EXPECT_EQ(read_file(dir.file("err")), "");
  if (paho()) return; // Paho acknowledges a message when it arrives
  auto resumed = run_mqfleet({"sub", "-p", port, "-i", id, "-c", "-q", "1", "-t", "pipe/t", "-C", "1", "-W", "20"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(resumed.out, "second\n");
}

// 5. Parser errors: the one-line form, exit 2.
TEST(CliInputsParser, ErrorsUseTheDocumentedForm) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"pub", "--bogus-flag"},
                                                                 {"sub", "-t", "a", "-q", "5"},
                                                                 {"pub", "-t", "a", "-m", "x", "-f", "y"},
                                                                 {"sub"},
                                                                 {"pub", "-m"}}) {
    auto result = run_mqfleet(args);
    EXPECT_EQ(result.exit_code, k_usage) << fmt::format("{}", fmt::join(args, " "));
    EXPECT_TRUE(one_error_line(result.err)) << result.err;
    EXPECT_NE(result.err.find("(mqfleet " + args.front() + "): "), std::string::npos) << result.err;
  }
  auto help = run_mqfleet({"pub", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--topic"), std::string::npos);
}

// 6. A v5 message larger than the broker's Maximum Packet Size is refused before sending.
TEST_P(CliInputs, LargerThanTheBrokersMaximumPacketSize) {
  MosquittoOptions options;
  options.extra_config = "max_packet_size 2048\n";
  MosquittoBroker broker(options);
  const std::string port = port_of(broker);
  TempDir dir;
  const std::string big = dir.write("big", std::string(3000, 'x'));
  for (const char* qos : {"0", "1", "2"}) {
    auto result = run_mqfleet({"pub", "-V", "5", "-p", port, "-t", "big/t", "-q", qos, "-f", big}, {}, 60s, pub_client());
    EXPECT_EQ(result.exit_code, k_delivery) << "QoS " << qos << ": " << result.err;
    EXPECT_NE(result.err.find("maximum packet size of 2048"), std::string::npos) << result.err;
  }
  const std::string line = fmt::format(R"({{"topic":"big/t","payload":"{}"}})", std::string(3000, 'y'));
  auto jsonl = run_mqfleet({"pub", "-V", "5", "-p", port, "--jsonl"}, line + "\n", 60s, pub_client());
  EXPECT_EQ(jsonl.exit_code, k_delivery) << jsonl.err;
  EXPECT_NE(jsonl.err.find("maximum packet size"), std::string::npos) << jsonl.err;
  auto small = run_mqfleet({"pub", "-V", "5", "-p", port, "-t", "big/t", "-m", "fits"}, {}, 60s, pub_client());
  EXPECT_EQ(small.exit_code, 0) << small.err;
}

// 2b. -D publish topic-alias (as mosquitto_pub): every line of -l and every --jsonl record
// reaches the subscriber on its topic through the reference broker, which resolves the
// alias (the topic is left out after the first message: LeanSession.TopicAlias*); an alias
// over the broker's Topic Alias Maximum (64) is exit 3, before anything is published.
TEST(CliInputsTopicAlias, LinesAndRecordsThroughTheReferenceBroker) {
  ReferenceBroker broker;
  const std::string port = std::to_string(broker.port());
  auto sub = start_sub({"-p", port, "-t", "alias/#", "-q", "1", "-C", "6", "-v", "-W", "60"}, "alias/#");
  auto lines = run_mqfleet({"pub", "-p", port, "-t", "alias/lines", "-q", "1", "-l", "-D", "publish", "topic-alias",
                            "3"},
                           "one\ntwo\nthree\n");
  EXPECT_EQ(lines.exit_code, 0) << lines.err;
  // One alias for two topics in turn: each change of topic maps the alias anew.
  auto records = run_mqfleet({"pub", "-p", port, "--jsonl", "-q", "1", "-D", "publish", "topic-alias", "64"},
                             R"({"topic":"alias/a","payload":"1"})"
                             "\n"
                             R"({"topic":"alias/b","payload":"2"})"
                             "\n"
                             R"({"topic":"alias/b","payload":"3"})"
                             "\n");
  EXPECT_EQ(records.exit_code, 0) << records.err;
  ProcessResult got = sub->wait(60s);
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, "alias/lines one\nalias/lines two\nalias/lines three\nalias/a 1\nalias/b 2\nalias/b 3\n");

  auto over = run_mqfleet({"pub", "-p", port, "-t", "alias/over", "-m", "x", "-D", "publish", "topic-alias", "65"});
  EXPECT_EQ(over.exit_code, k_config) << over.err;
  EXPECT_TRUE(one_error_line(over.err)) << over.err;
  EXPECT_NE(over.err.find("topic alias 65 is more than the broker accepts (Topic Alias Maximum 64"), std::string::npos)
      << over.err;
  // Checked before connecting: alias 0, or an alias under MQTT 3.1.1.
  const std::string nobody = std::to_string(free_tcp_port());
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"pub", "-p", nobody, "-t", "a", "-m", "x", "-D", "publish", "topic-alias", "0"},
           {"pub", "-p", nobody, "-t", "a", "-m", "x", "-V", "311", "-D", "publish", "topic-alias", "1"}}) {
    auto early = run_mqfleet(args);
    EXPECT_EQ(early.exit_code, k_config) << early.err;
    EXPECT_TRUE(one_error_line(early.err)) << early.err;
  }
  // The Paho client cannot leave the topic out: refused, not silently different.
  ProcessOptions paho;
  paho.env["MQFLEET_PUB_CLIENT"] = "paho";
  auto refused = run_mqfleet({"pub", "-p", port, "-t", "a", "-m", "x", "-D", "publish", "topic-alias", "1"}, {}, 60s,
                             paho);
  EXPECT_EQ(refused.exit_code, k_config) << refused.err;
  EXPECT_NE(refused.err.find("needs the lean client"), std::string::npos) << refused.err;
}

// 7. -f: a directory, an endless device (bounded memory) -> exit 3 naming the file.
TEST(CliInputsFile, DirectoryAndEndlessDevice) {
  MosquittoBroker broker;
  TempDir dir;
  auto directory = run_mqfleet({"pub", "-p", port_of(broker), "-t", "f/t", "-f", dir.path().string()});
  EXPECT_EQ(directory.exit_code, k_config) << directory.err;
  EXPECT_NE(directory.err.find("is a directory"), std::string::npos) << directory.err;
  EXPECT_TRUE(one_error_line(directory.err)) << directory.err;
  // /dev/zero never ends: reading stops past the protocol's limit; /usr/bin/time reports the
  // peak memory (KB). The bound is generous for sanitizer builds; unbounded grew to 24 GB.
  auto zero = run_process({"/usr/bin/time", "-f", "maxrss=%M", mqfleet_bin(), "pub", "-p", port_of(broker), "-t",
                           "f/t", "-f", "/dev/zero"},
                          {}, 120s);
  EXPECT_EQ(zero.exit_code, k_config) << zero.err;
  EXPECT_NE(zero.err.find("larger than"), std::string::npos) << zero.err;
  const auto at = zero.err.find("maxrss=");
  ASSERT_NE(at, std::string::npos) << zero.err;
  EXPECT_LT(std::stoll(zero.err.substr(at + 7)), 1'500'000) << zero.err;
  // A /proc file is read although its size says 0.
  auto proc = run_mqfleet({"pub", "-p", port_of(broker), "-t", "f/t", "-q", "1", "-f", "/proc/self/status"});
  EXPECT_EQ(proc.exit_code, 0) << proc.err;
}

// 8. Topics are checked before connecting (nothing listens on the port: not exit 4).
TEST(CliInputsTopics, ValidatedBeforeConnecting) {
  const std::string nobody = std::to_string(free_tcp_port());
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"pub", "-p", nobody, "-t", "a\xff" "b", "-m", "x"},
           {"pub", "-p", nobody, "-t", std::string(70000, 't'), "-m", "x"},
           {"pub", "-p", nobody, "-t", "a/+", "-m", "x"},
           {"sub", "-p", nobody, "-t", "a\xff" "b"},
           {"sub", "-p", nobody, "-t", std::string(70000, 't')},
           {"pub", "-p", nobody, "-t", "ok", "-m", "x", "--will-topic", "w\xff"}}) {
    auto result = run_mqfleet(args);
    EXPECT_EQ(result.exit_code, k_config) << result.err;
    EXPECT_TRUE(one_error_line(result.err)) << result.err;
  }
  auto bad_utf8 = run_mqfleet({"pub", "-p", nobody, "-t", "a\xff" "b", "-m", "x"});
  EXPECT_NE(bad_utf8.err.find("'a\\xffb' is not valid MQTT UTF-8"), std::string::npos) << bad_utf8.err;
  // --jsonl names its topics line by line, after connecting: NUL is refused naming the line.
  MosquittoBroker broker;
  auto nul = run_mqfleet({"pub", "-p", port_of(broker), "--jsonl"}, "{\"topic\":\"a\\u0000b\",\"payload\":1}\n");
  EXPECT_EQ(nul.exit_code, k_config) << nul.err;
  EXPECT_NE(nul.err.find("stdin line 1"), std::string::npos) << nul.err;
}

std::string deep_json(std::size_t depth) {
  return "{\"deep\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
}

// 9. Deeply nested JSON never crashes a reader; exceeding the limit is exit 3 with the
// location (sub -F %J prints the payload as a string instead).
TEST_P(CliInputs, DeeplyNestedJson) {
  MosquittoBroker broker;
  const std::string port = port_of(broker);
  TempDir dir;
  const std::string deep = deep_json(100000);
  const std::string deep_file = dir.write("deep.json", deep);
  auto sub = start_sub({"-p", port, "-t", "deep/t", "-C", "2", "-F", "%J"}, "deep/t", sub_client());
  ASSERT_EQ(run_mqfleet({"pub", "-p", port, "-t", "deep/t", "-f", deep_file}).exit_code, 0);
  ASSERT_EQ(run_mqfleet({"pub", "-p", port, "-t", "deep/t", "-m", deep_json(10)}).exit_code, 0);
  ProcessResult result = sub->wait(60s);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const auto lines = split_lines(result.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(R"("payload":"{\"deep\":[[[)"), std::string::npos) << lines[0].substr(0, 300);
  EXPECT_NE(lines[1].find(R"("payload":{"deep":[[[[[[[[[[]]]]]]]]]]})"), std::string::npos) << lines[1];
  EXPECT_NE(result.err.find("deeper than 64 levels"), std::string::npos) << result.err;

  auto json = run_mqfleet({"pub", "-p", port, "-t", "deep/t", "--json", "-f", deep_file}, {}, 60s, pub_client());
  EXPECT_EQ(json.exit_code, k_config) << json.err;
  EXPECT_NE(json.err.find("column 72"), std::string::npos) << json.err;
  auto jsonl = run_mqfleet({"pub", "-p", port, "--jsonl"}, "{\"topic\":\"a\",\"payload\":1}\n" +
                                                               std::string(R"({"topic":"x","payload":)") + deep + "}\n",
                           60s, pub_client());
  EXPECT_EQ(jsonl.exit_code, k_config) << jsonl.err;
  EXPECT_NE(jsonl.err.find("(stdin line 2, column 94)"), std::string::npos) << jsonl.err;
}

TEST(CliInputsJson, ScenarioAndBucketImport) {
  TempDir dir;
  // sim --check: the location of the bracket that goes too deep.
  const std::string scenario = dir.write("deep.json", "{\n  \"x\": " + std::string(200000, '[') + "\n}\n");
  auto check = run_mqfleet({"sim", "--check", scenario});
  EXPECT_EQ(check.exit_code, k_config) << check.err;
  EXPECT_NE(check.err.find("deep.json:2:71:"), std::string::npos) << check.err;
  EXPECT_NE(check.err.find("deeper than 64 levels"), std::string::npos) << check.err;

  // bucket import: a cell too deep or not UTF-8 is exit 3 with FILE:LINE; an undefined
  // bucket needs --create.
  const std::string data_dir = dir.file("data");
  const std::string deep = dir.write("deep.csv", "ts,v\n1000,1\n2000," + std::string(100, '[') + "\n");
  auto too_deep = run_mqfleet({"bucket", "import", "b1", deep, "--data-dir", data_dir, "--create"});
  EXPECT_EQ(too_deep.exit_code, k_config) << too_deep.err;
  EXPECT_NE(too_deep.err.find("deep.csv:3: column 'v' holds JSON nested deeper than 64"), std::string::npos)
      << too_deep.err;
  const std::string latin1 = dir.write("latin1.csv", "ts,name\n1000,caf\xe9\n");
  auto not_utf8 = run_mqfleet({"bucket", "import", "b1", latin1, "--data-dir", data_dir, "--create"});
  EXPECT_EQ(not_utf8.exit_code, k_config) << not_utf8.err;
  EXPECT_NE(not_utf8.err.find("latin1.csv:2: column 'name' is not valid UTF-8"), std::string::npos) << not_utf8.err;
  const std::string good = dir.write("good.csv", "ts,v\n1000,1\n");
  auto undefined = run_mqfleet({"bucket", "import", "nobody-defined-me", good, "--data-dir", data_dir});
  EXPECT_EQ(undefined.exit_code, k_config) << undefined.err;
  EXPECT_NE(undefined.err.find("--create"), std::string::npos) << undefined.err;
  auto created = run_mqfleet({"bucket", "import", "nobody-defined-me", good, "--data-dir", data_dir, "--create"});
  EXPECT_EQ(created.exit_code, 0) << created.err;
  auto existing = run_mqfleet({"bucket", "import", "nobody-defined-me", good, "--data-dir", data_dir});
  EXPECT_EQ(existing.exit_code, 0) << existing.err;
}

} // namespace
} // namespace mqfleet::test
