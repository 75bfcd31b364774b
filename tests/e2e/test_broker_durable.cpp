// Durable broker state end to end: `mqfleet broker --data-dir` as a child process,
// restarted (cleanly or with kill -9) between the steps of tests/e2e/py/durable_client.py.

#include "support/process.hpp"
#include "support/reference_broker.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdlib>
#include <set>
#include <sstream>

namespace mqfleet::test {
namespace {

std::string script() {
  const char* dir = std::getenv("MQFLEET_SOURCE_DIR");
  return std::string(dir ? dir : ".") + "/tests/e2e/py/durable_client.py";
}

/// Runs one durable_client.py action against `port`; returns its stdout (checks exit 0).
std::string client(int port, std::vector<std::string> args) {
  std::vector<std::string> argv{"/usr/bin/python3", "-B", script()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--port", std::to_string(port)});
  auto result = run_process(argv, {}, 120s);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result.out;
}

std::unique_ptr<ReferenceBrokerProcess> start_broker(const TempDir& data, bool durable_ack) {
  ReferenceBrokerOptions options;
  options.limits.max_queued = 100000;
  options.extra_args = {"--data-dir", data.file("state")};
  if (durable_ack) options.extra_args.emplace_back("--durable-ack");
  return std::make_unique<ReferenceBrokerProcess>(options);
}

std::vector<std::string> payloads_of(const std::string& drain_output, bool* session_present = nullptr) {
  const auto doc = nlohmann::json::parse(drain_output);
  if (session_present) *session_present = doc.at("session_present").get<bool>();
  return doc.at("payloads").get<std::vector<std::string>>();
}

TEST(BrokerDurable, RetainedMessagesAndPersistentSessionsSurviveARestart) {
  TempDir data;
  auto broker = start_broker(data, false);
  for (const char* version : {"4", "5"}) {
    client(broker->port(), {"subscribe", "--version", version, "--client-id", std::string("dur-sub-v") + version,
                            "--topic", "queue/#", "--qos", "1"});
  }
  client(broker->port(), {"publish", "--topic", "keep/a", "--payload", "A", "--retain"});
  client(broker->port(), {"publish", "--topic", "keep/b", "--payload", "old", "--retain"});
  client(broker->port(), {"publish", "--topic", "keep/b", "--payload", "B", "--retain"});
  client(broker->port(), {"publish", "--topic", "keep/c", "--payload", "C", "--retain"});
  client(broker->port(), {"publish", "--topic", "keep/c", "--payload", "", "--retain"});
  client(broker->port(), {"publish", "--topic", "queue/x", "--count", "50", "--qos", "1"});
  client(broker->port(), {"publish", "--topic", "queue/y", "--count", "10", "--qos", "2"});

  broker.reset(); // SIGTERM: clean shutdown
  broker = start_broker(data, false);
  const auto loaded = broker->process().wait_for_stderr_line(
      [](const std::string& line) { return line.find("\"state_loaded\"") != std::string::npos; }, 30s);
  ASSERT_TRUE(loaded);
  EXPECT_NE(loaded->find("\"retained\":2"), std::string::npos) << *loaded;
  EXPECT_NE(loaded->find("\"sessions\":2"), std::string::npos) << *loaded;
  EXPECT_NE(loaded->find("\"session_messages\":120"), std::string::npos) << *loaded;

  const auto retained = nlohmann::json::parse(client(broker->port(), {"retained", "--topic", "keep/#", "--idle", "2"}));
  EXPECT_EQ(retained, (nlohmann::json{{"keep/a", "A"}, {"keep/b", "B"}}));

  std::vector<std::string> expected;
  for (int i = 0; i < 50; ++i) expected.push_back(std::to_string(i));
  for (int i = 0; i < 10; ++i) expected.push_back(std::to_string(i));
  for (const char* version : {"4", "5"}) {
    bool present = false;
    const auto got = payloads_of(
        client(broker->port(), {"drain", "--version", version, "--client-id", std::string("dur-sub-v") + version,
                                "--topic", "queue/#"}),
        &present);
    EXPECT_TRUE(present) << "v" << version;
    EXPECT_EQ(got, expected) << "v" << version;
  }
  // Delivered and acknowledged: a second restart has nothing left to send, but the
  // subscription is still there.
  broker.reset();
  broker = start_broker(data, false);
  client(broker->port(), {"publish", "--topic", "queue/z", "--payload", "after", "--qos", "1"});
  const auto again = payloads_of(client(broker->port(), {"drain", "--client-id", "dur-sub-v4", "--topic", "queue/#"}));
  EXPECT_EQ(again, (std::vector<std::string>{"after"}));
}

TEST(BrokerDurable, KillNineDuringADurableAckLoadLosesNoAcknowledgedMessage) {
  TempDir data;
  auto broker = start_broker(data, true);
  client(broker->port(), {"subscribe", "--client-id", "load-sub", "--topic", "load", "--qos", "1"});

  Process load({"/usr/bin/python3", "-B", script(), "load", "--topic", "load", "--inflight", "100", "--port",
                std::to_string(broker->port())});
  // Let a few thousand acknowledgements through, then kill the broker mid-stream.
  const auto reached = load.wait_for_stdout_line(
      [](const std::string& line) { return !line.empty() && line[0] != 'E' && std::stoi(line) >= 3000; }, 120s);
  ASSERT_TRUE(reached) << load.stderr_so_far();
  broker->process().signal(SIGKILL);
  broker->process().wait(30s);
  const auto result = load.wait(90s);
  ASSERT_EQ(result.exit_code, 0) << result.err;

  std::set<int> acked;
  int published = -1;
  std::istringstream lines(result.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("END ", 0) == 0) published = std::stoi(line.substr(4));
    else if (!line.empty()) acked.insert(std::stoi(line));
  }
  ASSERT_GT(published, 0);
  ASSERT_GE(acked.size(), 3000u);

  broker = start_broker(data, true);
  bool present = false;
  const auto got = payloads_of(client(broker->port(), {"drain", "--client-id", "load-sub", "--topic", "load"}), &present);
  EXPECT_TRUE(present);
  std::set<int> delivered;
  for (const auto& p : got) delivered.insert(std::stoi(p));
  EXPECT_EQ(delivered.size(), got.size()) << "a message was delivered twice";
  std::size_t missing = 0;
  for (int i : acked) missing += delivered.contains(i) ? 0 : 1;
  EXPECT_EQ(missing, 0u) << "acknowledged " << acked.size() << ", delivered " << delivered.size();
  // At most the unacknowledged window may come on top of the acknowledged messages.
  EXPECT_LE(delivered.size(), acked.size() + 100);
  if (!delivered.empty()) {
    EXPECT_LT(*delivered.rbegin(), published);
  }
  std::cout << "kill -9 under --durable-ack: published " << published << ", acknowledged " << acked.size()
            << ", delivered after restart " << delivered.size() << "\n";
}

TEST(BrokerDurable, PublishesTheWritersBacklogUnderSys) {
  TempDir data;
  ReferenceBrokerOptions options;
  options.sys_interval_seconds = 1;
  options.extra_args = {"--data-dir", data.file("state")};
  ReferenceBrokerProcess broker(options);
  auto result = run_mqfleet({"sub", "-p", std::to_string(broker.port()), "-t", "$SYS/broker/persistence/#", "-v",
                             "-C", "2", "-W", "30"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::set<std::string> topics;
  for (const auto& line : split_lines(result.out)) {
    const auto space = line.find(' ');
    ASSERT_NE(space, std::string::npos) << line;
    topics.insert(line.substr(0, space));
    EXPECT_NO_THROW((void)std::stoull(line.substr(space + 1))) << line;
  }
  EXPECT_EQ(topics, (std::set<std::string>{"$SYS/broker/persistence/pending", "$SYS/broker/persistence/committed"}));
}

} // namespace
} // namespace mqfleet::test
