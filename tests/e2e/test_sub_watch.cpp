// `mqfleet sub --watch` on a real terminal (tmux: the pane is read back with
// capture-pane, so the test sees what a person would) and in a pipe, and
// `sub --message-rate` in a pipe, against mosquitto.
#include "support/mosquitto_broker.hpp"
#include "support/process.hpp"
#include "support/text_checks.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace mqfleet::test {
namespace {

using mqfleet::test::all_digits;
using mqfleet::test::one_decimal;

/// A detached tmux session of its own (own server socket) running one command on a
/// terminal of the given size; the server is killed at the end.
class TmuxSession {
public:
  TmuxSession(const std::string& command, int columns, int rows) {
    static std::atomic<int> counter{0};
    m_socket = "mqfleet-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    const auto r = run_process({tmux(), "-L", m_socket, "-f", "/dev/null", "new-session", "-d", "-x",
                                std::to_string(columns), "-y", std::to_string(rows), command});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  ~TmuxSession() { run_process({tmux(), "-L", m_socket, "kill-server"}); }

  /// The screen's lines, trailing blank lines dropped.
  std::vector<std::string> screen() const {
    const auto r = run_process({tmux(), "-L", m_socket, "capture-pane", "-p"});
    std::vector<std::string> lines = split_lines(r.out);
    while (!lines.empty() && lines.back().find_first_not_of(' ') == std::string::npos) lines.pop_back();
    return lines;
  }

  /// Waits until the screen equals `want`; returns the last screen seen.
  std::vector<std::string> wait_for(const std::vector<std::string>& want, std::chrono::milliseconds timeout = 20s) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<std::string> seen;
    while (std::chrono::steady_clock::now() < deadline) {
      seen = screen();
      if (seen == want) break;
      std::this_thread::sleep_for(100ms);
    }
    return seen;
  }

private:
  static std::string tmux() {
    const std::string path = find_program("tmux");
    if (path.empty()) throw std::runtime_error("tmux is not installed (scripts/install-deps.sh)");
    return path;
  }
  std::string m_socket;
};

class SubWatchTest : public testing::Test {
protected:
  std::string port() const { return std::to_string(m_broker.port()); }

  void publish(const std::string& topic, const std::string& payload, bool retain = false) {
    std::vector<std::string> argv{find_program("mosquitto_pub"), "-h", "127.0.0.1", "-p", port(), "-q", "1",
                                  "-t", topic, "-m", payload};
    if (retain) argv.push_back("-r");
    const auto r = run_process(argv);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::string watch_command(const std::string& more) const {
    return mqfleet_bin() + " sub -h 127.0.0.1 -p " + port() + " -t 'fleet/#' --watch " + more;
  }

  MosquittoBroker m_broker;
};

TEST_F(SubWatchTest, OneLinePerTopicUpdatedInPlace) {
  // Retained values are there at once: the table shows them as soon as sub subscribed.
  publish("fleet/a", "21.5", true);
  publish("fleet/b", "19.0", true);
  publish("fleet/c", "line one\nline two", true);
  TmuxSession session(watch_command(""), 60, 12);
  auto seen = session.wait_for({"fleet/a 21.5", "fleet/b 19.0", "fleet/c line one\\nline two"});
  ASSERT_EQ(seen, (std::vector<std::string>{"fleet/a 21.5", "fleet/b 19.0", "fleet/c line one\\nline two"}));

  for (int i = 0; i < 20; ++i) publish("fleet/b", "b-" + std::to_string(i));
  publish("fleet/d", std::string(100, 'x'));  // cut to the terminal's width (59 columns used)
  publish("fleet/a", "22.0");
  const std::vector<std::string> want{"fleet/a 22.0", "fleet/b b-19", "fleet/c line one\\nline two",
                                      "fleet/d " + std::string(51, 'x')};
  seen = session.wait_for(want);
  EXPECT_EQ(seen, want);
}

TEST_F(SubWatchTest, TopicsBeyondTheScreenAreCounted) {
  for (int i = 0; i < 8; ++i) publish("fleet/t" + std::to_string(i), std::to_string(i), true);
  TmuxSession session(watch_command(""), 70, 5);
  // 5 rows: 4 for the table (the last line holds the cursor), the last of them the count.
  const std::vector<std::string> want{"fleet/t0 0", "fleet/t1 1", "fleet/t2 2",
                                      "... 5 more topics (a taller terminal shows them)"};
  EXPECT_EQ(session.wait_for(want), want);
}

TEST_F(SubWatchTest, WithoutATerminalEachMessageIsOneLine) {
  publish("fleet/a", "one", true);
  publish("fleet/b", "two\nlines", true);
  const auto r = run_process({mqfleet_bin(), "sub", "-h", "127.0.0.1", "-p", port(), "-t", "fleet/#", "--watch",
                              "-C", "2", "-W", "20"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "fleet/a one\nfleet/b two\\nlines\n");
}

TEST_F(SubWatchTest, WatchAndJsonLinesDoNotMix) {
  const auto r = run_process({mqfleet_bin(), "sub", "-t", "fleet/#", "--watch", "--format", "jsonl"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST_F(SubWatchTest, MessageRatePerFilterEverySecondInAPipe) {
  Process sub({mqfleet_bin(), "sub", "-h", "127.0.0.1", "-p", port(), "-t", "rate/a/#", "-t", "rate/b/#",
               "--message-rate", "-d"});
  ASSERT_TRUE(sub.wait_for_stderr_line([](const std::string& l) { return l.find("subscribed to rate/b/#") != std::string::npos; }, 30s))
      << sub.stderr_so_far();
  // Idle: a report every second all the same, with both filters at 0.
  ASSERT_TRUE(sub.wait_for_stdout_line([](const std::string& l) { return l == "0.0 msg/s rate/b/#"; }, 10s));
  std::string lines;
  for (int i = 0; i < 200; ++i) lines += "m" + std::to_string(i) + "\n";
  const auto pub = run_process({find_program("mosquitto_pub"), "-h", "127.0.0.1", "-p", port(), "-q", "1", "-t",
                                "rate/a/x", "-l"},
                               lines);
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  ASSERT_TRUE(sub.wait_for_stdout_line(
      [](const std::string& l) { return l.find(" msg/s rate/a/#") != std::string::npos && !l.starts_with("0.0 "); }, 10s))
      << sub.stdout_so_far();
  // Two more seconds of reports, then stop.
  std::this_thread::sleep_for(2s);
  sub.signal(SIGINT);
  const auto result = sub.wait(30s);
  EXPECT_EQ(result.exit_code, 130);
  double seen_a = 0;
  std::size_t reports = 0;
  for (const auto& line : split_lines(result.out)) {
    // "<rate with one decimal> msg/s <filter>"
    const auto unit = line.find(" msg/s ");
    ASSERT_NE(unit, std::string::npos) << line;
    const std::string rate = line.substr(0, unit);
    const std::string filter = line.substr(unit + 7);
    ASSERT_TRUE(one_decimal(rate) && (filter == "rate/a/#" || filter == "rate/b/#")) << line;
    if (filter == "rate/b/#") {
      EXPECT_EQ(rate, "0.0") << "nothing was published to rate/b";
      ++reports;
    } else {
      seen_a += std::stod(rate);
    }
  }
  EXPECT_GE(reports, 3u) << result.out;  // about one a second for 4+ s (3 on a loaded machine)
  EXPECT_GT(seen_a, 0.0);
  // Rates over ~1 s intervals add up to about the 200 messages (intervals are >= 1 s).
  EXPECT_LE(seen_a, 200.0 * 1.01) << result.out;
}

} // namespace
} // namespace mqfleet::test
