// Reconnect in the lean client (pub/sub): the reference broker is killed (SIGTERM) in the
// middle of a `pub -l -q 1` stream and started again on the same port with its data
// directory. The publisher and a persistent subscriber (-c, fixed client id) both stay up,
// reconnect with back-off, the publisher resends what was not acknowledged (DUP), and
// every line arrives. With --no-reconnect pub exits 7 and says where the input stopped.
//
// What the design guarantees: at least once, not exactly once. A QoS 1 PUBLISH whose
// PUBACK was lost with the connection is sent again, and the broker cannot tell it from a
// new message (QoS 1 has no de-duplication); a message the subscriber printed but whose
// PUBACK did not reach the broker before the restart is delivered again too. The test
// therefore asserts every line at least once and reports the duplicates it saw.

#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

namespace mqfleet::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int k_lines = 3000;

// `mqfleet broker` with a data directory: first on port 0, restarted on the port it got.
class RestartableBroker {
public:
  explicit RestartableBroker(const TempDir& dir, std::vector<std::string> extra = {})
      : m_data(dir.file("state")), m_extra(std::move(extra)) {
    start(0);
  }
  ~RestartableBroker() { stop(); }

  int port() const noexcept { return m_port; }

  /// SIGTERM: a clean shutdown; SIGKILL: gone at once (with --durable-ack nothing
  /// acknowledged is lost).
  void stop(int signal_number = SIGTERM) {
    if (m_process && m_process->running()) {
      m_process->signal(signal_number);
      m_process->wait(20s);
    }
  }

  // Starts again on the same port (a few tries: the old socket may linger a moment).
  void restart() {
    for (int attempt = 0; attempt < 20; ++attempt) {
      if (start(m_port)) return;
      std::this_thread::sleep_for(100ms);
    }
    FAIL() << "the broker did not start again on port " << m_port << ": " << m_log;
  }

  std::string log() const { return m_log + (m_process ? m_process->stderr_so_far() : std::string()); }
  /// The log of the running broker only (since the last start).
  std::string current_log() const { return m_process ? m_process->stderr_so_far() : std::string(); }

private:
  bool start(int port) {
    if (m_process) m_log += m_process->stderr_so_far();
    std::vector<std::string> argv{mqfleet_bin(), "broker",  "--bind",         "127.0.0.1", "--port",
                                  std::to_string(port), "--allow-anonymous", "--threads", "2",
                                  "--sys-interval",     "0",       "--data-dir",      m_data};
    argv.insert(argv.end(), m_extra.begin(), m_extra.end());
    m_process = std::make_unique<Process>(argv);
    const auto line = m_process->wait_for_stdout_line(
        [](const std::string& l) { return l.find("\"listening\"") != std::string::npos; }, 30s);
    if (!line) return false;
    m_port = nlohmann::json::parse(*line).at("mqtt").get<int>();
    return true;
  }

  std::string m_data;
  std::vector<std::string> m_extra;
  std::unique_ptr<Process> m_process;
  std::string m_log;
  int m_port = 0;
};

int count_occurrences(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::map<std::string, int> count_lines(const std::string& text) {
  std::map<std::string, int> counts;
  for (const std::string& line : split_lines(text)) ++counts[line];
  return counts;
}

// Feeds lines first..last to the process, 100 at a time with a short pause (a live stream).
// A publisher that exited (closed its input) is a test failure, not a SIGPIPE.
void feed(Process& pub, int first, int last) {
  std::signal(SIGPIPE, SIG_IGN);
  for (int i = first; i <= last; i += 100) {
    std::string chunk;
    for (int j = i; j <= last && j < i + 100; ++j) chunk += std::to_string(j) + "\n";
    try {
      pub.write_stdin(chunk);
    } catch (const std::runtime_error&) {
      ADD_FAILURE() << "pub stopped reading its input at line " << i << ": " << pub.stderr_so_far();
      return;
    }
    std::this_thread::sleep_for(20ms);
  }
}

// SIGTERM (a clean restart, as the acceptance check does) and SIGKILL (messages in
// flight). The broker runs with --max-queued 0 (no bound on a session's queue): after the
// restart the publisher sends what piled up in its input while the broker was down (up to
// 1800 lines) in one burst, faster than the subscriber reads, and with the default bound
// (100 in flight + 1000 queued) the broker drops the newest, as documented, and counts
// them in $SYS/broker/messages/dropped. (Measured in session 6 without it: 4 runs in 10
// lost the last 11 to 300 lines, each time exactly as many as the restarted broker counted
// as dropped; 0 in 12 with --max-queued 0.) SIGKILL also needs --durable-ack: without it
// the broker may lose what it acknowledged in the last commit window (docs/broker.md).
class ReconnectE2E : public ::testing::TestWithParam<int> {};

TEST_P(ReconnectE2E, PubLineStreamSurvivesABrokerRestartAndEveryLineArrives) {
  TempDir dir;
  const int kill_signal = GetParam();
  std::vector<std::string> broker_args{"--max-queued", "0"};
  if (kill_signal == SIGKILL) broker_args.emplace_back("--durable-ack");
  RestartableBroker broker(dir, broker_args);
  const std::string port = std::to_string(broker.port());
  const std::string topic = "reconnect/lines";

  Process sub({mqfleet_bin(), "sub", "-h", "127.0.0.1", "-p", port, "-i", "reconnect-e2e-sub", "-c", "-q", "1", "-t",
               topic, "-d"});
  ASSERT_TRUE(sub.wait_for_stderr_line(
      [](const std::string& l) { return l.find("subscribed to") != std::string::npos; }, 30s))
      << sub.stderr_so_far();

  Process pub({mqfleet_bin(), "pub", "-h", "127.0.0.1", "-p", port, "-t", topic, "-q", "1", "-l", "-d"});
  feed(pub, 1, 1200);
  // Some lines reached the subscriber before the broker goes away.
  const auto deadline = Clock::now() + 30s;
  while (count_lines(sub.stdout_so_far()).size() < 100 && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
  ASSERT_GE(count_lines(sub.stdout_so_far()).size(), 100u) << sub.stderr_so_far();

  broker.stop(kill_signal);
  feed(pub, 1201, 1800); // written while the broker is down: read, queued or waiting in the pipe
  broker.restart();
  feed(pub, 1801, k_lines);
  pub.close_stdin();

  const ProcessResult published = pub.wait(60s);
  // Both clients really lost their connection and came back: the restarted broker saw them.
  const std::string after_restart = broker.current_log();
  EXPECT_NE(after_restart.find("reconnect-e2e-sub"), std::string::npos) << after_restart;
  EXPECT_GE(count_occurrences(after_restart, "\"event\":\"connect\""), 2) << after_restart;
  EXPECT_FALSE(published.timed_out);
  EXPECT_EQ(published.exit_code, 0) << published.err;
  EXPECT_NE(published.err.find(fmt::format("{} published, {} acknowledged, 0 refused", k_lines, k_lines)),
            std::string::npos)
      << published.err;

  // The subscriber stayed up through the restart and receives the rest on its session.
  std::map<std::string, int> counts;
  const auto received_by = Clock::now() + 60s;
  while (Clock::now() < received_by) {
    counts = count_lines(sub.stdout_so_far());
    if (counts.size() >= static_cast<std::size_t>(k_lines)) break;
    ASSERT_TRUE(sub.running()) << "the subscriber exited: " << sub.stderr_so_far();
    std::this_thread::sleep_for(50ms);
  }
  sub.signal(SIGINT);
  const ProcessResult subscribed = sub.wait(30s);
  counts = count_lines(subscribed.out);

  int missing = 0, duplicates = 0;
  std::string missing_lines;
  for (int i = 1; i <= k_lines; ++i) {
    const auto it = counts.find(std::to_string(i));
    if (it == counts.end()) {
      if (++missing <= 20) missing_lines += " " + std::to_string(i);
    } else {
      duplicates += it->second - 1;
    }
  }
  EXPECT_EQ(missing, 0) << "lines lost (the first:" << missing_lines << "); subscriber: " << subscribed.err << "\npublisher: " << published.err
                        << "\nbroker after the restart: " << after_restart.substr(0, 6000);
  EXPECT_LE(counts.size(), static_cast<std::size_t>(k_lines)) << "lines that were never published arrived";
  // At least once (see the top of the file): duplicates are allowed, but at most one
  // in-flight window's worth (pub's default --max-inflight 1000) per side.
  EXPECT_LE(duplicates, 2000);
  std::cout << "[ reconnect ] signal " << kill_signal << ": " << k_lines << " lines, " << missing << " missing, " << duplicates << " duplicates\n";
}

// A broker restarted without the subscriber's session (sub without -c: a clean session is
// not kept): sub reconnects, subscribes again, and what is published after the restart
// arrives.
TEST(ReconnectE2EFlags, SubSubscribesAgainWhenTheBrokerForgotTheSession) {
  TempDir dir;
  RestartableBroker broker(dir);
  const std::string port = std::to_string(broker.port());
  Process sub({mqfleet_bin(), "sub", "-h", "127.0.0.1", "-p", port, "-t", "reconnect/sub", "-C", "2", "-d"});
  ASSERT_TRUE(sub.wait_for_stderr_line(
      [](const std::string& l) { return l.find("subscribed to") != std::string::npos; }, 30s))
      << sub.stderr_so_far();
  auto before = run_mqfleet({"pub", "-p", port, "-t", "reconnect/sub", "-q", "1", "-m", "before"});
  EXPECT_EQ(before.exit_code, 0) << before.err;
  broker.stop();
  broker.restart(); // a clean session (no -c) is not kept: session present 0
  const auto deadline = Clock::now() + 30s;
  ProcessResult after;
  // Published until it arrives: the subscriber is back within its back-off (1 s, 2 s...).
  while (Clock::now() < deadline && sub.running()) {
    after = run_mqfleet({"pub", "-p", port, "-t", "reconnect/sub", "-q", "1", "-m", "after"});
    EXPECT_EQ(after.exit_code, 0) << after.err;
    if (sub.stdout_so_far().find("after") != std::string::npos) break;
    std::this_thread::sleep_for(300ms);
  }
  const ProcessResult result = sub.wait(30s);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(split_lines(result.out).at(0), "before");
  EXPECT_NE(result.out.find("after"), std::string::npos) << result.err;
}

INSTANTIATE_TEST_SUITE_P(Signals, ReconnectE2E, ::testing::Values(SIGTERM, SIGKILL),
                         [](const auto& info) { return info.param == SIGKILL ? "Sigkill" : "Sigterm"; });

TEST(ReconnectE2EFlags, NoReconnectExits7AndSaysWhichInputLinesWereNeverSent) {
  TempDir dir;
  RestartableBroker broker(dir);
  Process pub({mqfleet_bin(), "pub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-t", "reconnect/no",
               "-q", "1", "-l", "--no-reconnect"});
  feed(pub, 1, 500);
  std::this_thread::sleep_for(300ms); // the 500 lines are read and acknowledged
  broker.stop();
  // pub notices the loss while it waits for input and exits at once (stdin still open: the
  // rest of the input is never read).
  const ProcessResult result = pub.wait(30s);
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.exit_code, 7) << result.err;
  EXPECT_NE(result.err.find("the connection was lost"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("500 input lines were handed over, every line from line 501 on was never sent"),
            std::string::npos)
      << result.err;
  // The hint names the flag that turns reconnection back on.
  EXPECT_NE(result.err.find("leave out --no-reconnect"), std::string::npos) << result.err;
}

} // namespace
} // namespace mqfleet::test
