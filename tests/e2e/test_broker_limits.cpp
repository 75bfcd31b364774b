// The reference broker's documented limits and refusals (docs/broker.md), end to end:
// `mqfleet broker` as a child process, raw-socket clients from py/broker_limits.py, and
// what the broker does with its configuration file, a failed durable commit, a failed
// reload and a second SIGINT.

#include "e2e/broker_under_test.hpp"

#include <mqfleet/broker/credentials.hpp>

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace mqfleet::test {
namespace {

/// Runs one case of py/broker_limits.py against a reference broker started with `flags`.
void run_case(const std::string& name, std::vector<std::string> flags, std::vector<std::string> args = {},
              std::string registry = {}) {
  BrokerUnderTestOptions options;
  options.extra_args = std::move(flags);
  options.registry = std::move(registry);
  BrokerUnderTest broker(BrokerKind::reference, options);
  args.insert(args.begin(), {"--case", name});
  const auto result = run_scenario("broker_limits.py", broker, args);
  EXPECT_EQ(result.exit_code, 0) << describe(result, broker);
}

TEST(BrokerLimits, MaxConnectionsClosesTheNextConnectionBeforeConnect) {
  run_case("max_connections", {"--max-connections", "2"});
}

TEST(BrokerLimits, MaxPacketSizeIsAnnouncedAndRefusedWith0x95) {
  run_case("max_packet_size", {"--max-packet-size", "1024"});
}

TEST(BrokerLimits, ReceiveMaximumIsAnnouncedAndExceedingItGets0x93) {
  run_case("receive_maximum", {"--max-inflight", "2"});
}

TEST(BrokerLimits, SlowQoS1SubscriberGetsWindowPlusQueueAndTheRestIsCounted) {
  run_case("max_queued", {"--max-inflight", "5", "--max-queued", "10", "--sys-interval", "1"});
}

TEST(BrokerLimits, SilentV5ClientGetsKeepAliveTimeout0x8D) { run_case("keepalive_v5", {}); }

TEST(BrokerRefusals, EmptyClientIdIsAssignedOrRefusedWithCode2) { run_case("empty_client_id", {}); }

TEST(BrokerRefusals, EnhancedAuthenticationGets0x8C) { run_case("enhanced_auth", {}); }

TEST(BrokerRefusals, WillOnARefusedTopicIsNotPublished) {
  TempDir dir;
  const std::string hash = broker::hash_password("will-Secret-1");
  const std::string registry = dir.write(
      "registry.json", R"({"version":1,"accounts":{"acme":{"devices":{"d1":{"credential":")" + hash +
                           R"("},"watcher":{"credential":")" + hash +
                           R"("}}}},"rules":[{"effect":"allow","action":"publish","topic":"ok/#"},)"
                           R"({"effect":"allow","action":"subscribe","topic":"#"}],"default_access":"deny"})");
  run_case("will_refused", {}, {"--username", "acme", "--password", "will-Secret-1"}, registry);
}

/// While alive, processes started by this one may not grow a file past `bytes` (writes
/// beyond fail with EFBIG, as on a full disk; SIGXFSZ ignored). Both are inherited through
/// fork and exec; this process writes no large file meanwhile.
class ChildFileSizeLimit {
public:
  explicit ChildFileSizeLimit(rlim_t bytes) {
    m_ok = ::getrlimit(RLIMIT_FSIZE, &m_saved) == 0;
    rlimit small = m_saved;
    small.rlim_cur = bytes;
    m_ok = m_ok && ::setrlimit(RLIMIT_FSIZE, &small) == 0;
    m_old_handler = std::signal(SIGXFSZ, SIG_IGN);
  }
  ~ChildFileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &m_saved);
    std::signal(SIGXFSZ, m_old_handler);
  }
  ChildFileSizeLimit(const ChildFileSizeLimit&) = delete;
  ChildFileSizeLimit& operator=(const ChildFileSizeLimit&) = delete;
  bool ok() const noexcept { return m_ok; }

private:
  rlimit m_saved{};
  bool m_ok = false;
  void (*m_old_handler)(int) = nullptr;
};

// --durable-ack when a commit fails (docs/broker.md, "Durable state"): the broker's files
// may not grow past 256 KiB (start-up needs about 100 KiB), so the commit of a 400 kB
// retained message fails: v5 gets PUBACK 0x80, a 3.1.1 publisher is disconnected.
TEST(BrokerDurableAck, AFailedCommitIsRefusedWith0x80OrDisconnects) {
  TempDir dir;
  BrokerUnderTestOptions options;
  options.extra_args = {"--data-dir", dir.file("data"), "--durable-ack"};
  std::unique_ptr<BrokerUnderTest> broker;
  {
    ChildFileSizeLimit limit(256 * 1024);
    ASSERT_TRUE(limit.ok());
    broker = std::make_unique<BrokerUnderTest>(BrokerKind::reference, options);
  }
  const auto result = run_scenario("broker_limits.py", *broker, {"--case", "durable_ack_failure"});
  EXPECT_EQ(result.exit_code, 0) << describe(result, *broker);
  EXPECT_NE(broker->log().find("\"event\":\"persistence_error\""), std::string::npos) << broker->log();
}

// Flags override the keys of --config FILE, which override the defaults: the fixture's
// --port 0 beats the file's port, --max-packet-size beats the file's, and the file's
// max_inflight (no flag) beats the default 100.
TEST(BrokerConfig, FlagsOverrideTheConfigFile) {
  TempDir dir;
  const int file_port = free_tcp_port();
  const std::string config =
      dir.write("broker.json", R"({"port":)" + std::to_string(file_port) +
                                   R"(,"max_packet_size":1024,"max_inflight":5,"allow_anonymous":true})");
  BrokerUnderTestOptions options;
  options.extra_args = {"--config", config, "--max-packet-size", "2048"};
  BrokerUnderTest broker(BrokerKind::reference, options);
  EXPECT_NE(broker.port(), file_port);
  const auto result = run_scenario("broker_limits.py", broker, {"--case", "connack"});
  ASSERT_EQ(result.exit_code, 0) << describe(result, broker);
  EXPECT_NE(result.out.find("maximum_packet_size=2048 receive_maximum=5\n"), std::string::npos) << result.out;
}

// A registry that fails to load on SIGHUP is logged and the old one stays in force.
TEST(BrokerReload, AFailedReloadKeepsTheOldRegistry) {
  TempDir dir;
  const std::string path = dir.write(
      "registry.json", R"({"version":1,"accounts":{"acme":{"devices":{"a":{"credential":")" +
                           broker::hash_password("pw-Reload-a") + R"("}}}}})");
  BrokerUnderTestOptions options;
  options.registry = path;
  BrokerUnderTest broker(BrokerKind::reference, options);
  const std::vector<std::string> as_a{"--username", "acme", "--password", "pw-Reload-a", "--client-id", "a",
                                      "--expect-rc", "0"};
  ASSERT_EQ(run_scenario("connect_check.py", broker, as_a).exit_code, 0) << broker.log();
  dir.write("registry.json", R"({"version":1,"accounts":{"acme":{"devices":{"a":{}}}}})"); // no credential
  const auto log_before = broker.log().size();
  broker.process().signal(SIGHUP);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (broker.log().find("\"event\":\"reload_failed\"", log_before) == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no reload_failed line:\n" << broker.log();
    std::this_thread::sleep_for(50ms);
  }
  const auto after = run_scenario("connect_check.py", broker, as_a);
  EXPECT_EQ(after.exit_code, 0) << describe(after, broker);
  EXPECT_EQ(broker.log().find("pw-Reload-a"), std::string::npos);
}

// SIGINT stops the broker cleanly, waiting up to 2 s for the goodbye packets; a second
// SIGINT exits at once with 130. A subscriber that stopped reading under 24 MB of
// messages keeps the first shutdown from finishing early.
TEST(BrokerSignals, SecondSigintExitsAtOnceWith130) {
  BrokerUnderTest broker(BrokerKind::reference);
  auto command = scenario_command("broker_limits.py", broker.port());
  command.insert(command.end(), {"--case", "stall"});
  ProcessOptions options;
  options.env["PYTHONUNBUFFERED"] = "1";
  Process client(command, options);
  ASSERT_TRUE(client.wait_for_stdout_line([](const std::string& line) { return line == "READY"; }, 60s))
      << client.stderr_so_far() << broker.log();
  broker.process().signal(SIGINT);
  std::this_thread::sleep_for(300ms);
  const auto second = std::chrono::steady_clock::now();
  broker.process().signal(SIGINT);
  const auto result = broker.process().wait(30s);
  const auto took = std::chrono::steady_clock::now() - second;
  EXPECT_EQ(result.exit_code, 130) << broker.log();
  EXPECT_LT(took, 1s) << "the second SIGINT did not stop the broker at once";
  client.signal(SIGTERM);
}

} // namespace
} // namespace mqfleet::test
