// `mqfleet rr` and `sub --watch` / `--message-rate`, in-process: what rr's flags parse
// to, which message answers a request, the watch table's layout and the rate report.
#include "sub/sub.hpp"
#include "rr/rr.hpp"
#include "sub/watch.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace mqfleet::cli {
namespace {

std::shared_ptr<RrOptions> parse_rr(const std::vector<std::string>& args) {
  auto options = std::make_shared<RrOptions>();
  CLI::App app;
  app.require_subcommand(1);
  add_rr_command(app, options);
  std::vector<std::string> argv{"rr"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> reversed(argv.rbegin(), argv.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError&) {
    return nullptr;
  }
  return options;
}

TEST(RrCli, FlagsAsMosquittoRr) {
  const auto o = parse_rr({"-t", "req", "-e", "resp", "-m", "hi", "-q", "1", "-W", "2.5", "-v", "-N", "--latency"});
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->topic, "req");
  EXPECT_EQ(o->response_topic, "resp");
  EXPECT_EQ(o->message, "hi");
  EXPECT_EQ(o->qos, 1);
  EXPECT_EQ(o->wait_seconds, 2.5);
  EXPECT_TRUE(o->verbose && o->no_eol && o->latency);
  EXPECT_EQ(o->connection.version, "5");  // MQTT 5 unless -V says otherwise
  EXPECT_EQ(parse_rr({"-t", "req", "-e", "resp", "-n", "-V", "311"})->connection.version, "311");
}

TEST(RrCli, RefusesWhatMosquittoRrRefuses) {
  EXPECT_EQ(parse_rr({"-e", "resp", "-m", "x"}), nullptr);                   // no -t
  EXPECT_EQ(parse_rr({"-t", "req", "-m", "x"}), nullptr);                    // no -e
  EXPECT_EQ(parse_rr({"-t", "req", "-e", "resp"}), nullptr);                 // no payload
  EXPECT_EQ(parse_rr({"-t", "req", "-e", "resp", "-m", "x", "-n"}), nullptr); // two payloads
  EXPECT_EQ(parse_rr({"-t", "req", "-e", "resp", "-m", "x", "-q", "3"}), nullptr);
  EXPECT_EQ(parse_rr({"-t", "req", "-e", "resp", "-m", "x", "-F", "%p", "--format", "jsonl"}), nullptr);
}

TEST(RrMatch, SameCorrelationDataOrNoneAnswers) {
  ReceivedMessage message;
  message.topic = "resp";
  EXPECT_EQ(match_response(message, "abc"), ResponseMatch::accept);  // a responder without v5 properties
  message.properties.correlation_data = "abc";
  EXPECT_EQ(match_response(message, "abc"), ResponseMatch::accept);
  message.properties.correlation_data = "abd";
  EXPECT_EQ(match_response(message, "abc"), ResponseMatch::other_correlation);
  EXPECT_EQ(match_response(message, ""), ResponseMatch::accept);  // MQTT 3.1.1: nothing to compare
  message.retain = true;
  message.properties.correlation_data = "abc";
  EXPECT_EQ(match_response(message, "abc"), ResponseMatch::stale);
}

WatchScreen screen_with(int topics) {
  WatchScreen screen(stdout, -1);
  const auto long_ago = std::chrono::steady_clock::time_point{};  // never due: nothing is drawn
  for (int i = 0; i < topics; ++i)
    screen.update("t/" + std::to_string(i), "t/" + std::to_string(i) + " v" + std::to_string(i), long_ago);
  return screen;
}

TEST(WatchLayout, OneRowPerTopicInOrderOfAppearance) {
  WatchScreen screen = screen_with(3);
  const auto t0 = std::chrono::steady_clock::time_point{};
  screen.update("t/1", "t/1 new", t0);
  EXPECT_EQ(screen.layout(24, 80), (std::vector<std::string>{"t/0 v0", "t/1 new", "t/2 v2"}));
  EXPECT_TRUE(screen.dirty());
}

TEST(WatchLayout, RowsAreCutToTheWidthByCharacters) {
  WatchScreen screen(stdout, -1);
  screen.update("t", "t \xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", std::chrono::steady_clock::time_point{});  // "t éééé"
  // 5 columns: 4 usable (the last column is never written, so nothing wraps).
  EXPECT_EQ(screen.layout(24, 5), (std::vector<std::string>{"t \xC3\xA9\xC3\xA9"}));
}

TEST(WatchLayout, TopicsBeyondTheHeightAreCountedOnTheLastRow) {
  const WatchScreen screen = screen_with(10);
  const auto rows = screen.layout(5, 80);  // 4 usable rows
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[2], "t/2 v2");
  EXPECT_EQ(rows[3], "... 7 more topics (a taller terminal shows them)");
  EXPECT_EQ(screen.layout(11, 80).size(), 10u);  // exactly fits
}

TEST(RateMeter, ReportsEachFilterOncePerSecond) {
  char* buffer = nullptr;
  std::size_t size = 0;
  std::FILE* out = ::open_memstream(&buffer, &size);
  ASSERT_NE(out, nullptr);
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  RateMeter meter(out, {"a/#", "+/x"}, t0);
  for (int i = 0; i < 30; ++i) meter.count("a/x", t0 + std::chrono::milliseconds(10 * i));  // both filters
  meter.count("b/y", t0 + std::chrono::milliseconds(500));                                 // neither
  meter.tick(t0 + std::chrono::milliseconds(999));                                          // not yet
  std::fflush(out);
  EXPECT_EQ(std::string(buffer, size), "");
  meter.tick(t0 + std::chrono::seconds(2));  // 30 messages in 2 s
  meter.count("c/x", t0 + std::chrono::milliseconds(2100));
  meter.finish(t0 + std::chrono::milliseconds(2600));  // 1 in 0.6 s
  std::fclose(out);
  EXPECT_EQ(std::string(buffer, size), "15.0 msg/s a/#\n15.0 msg/s +/x\n0.0 msg/s a/#\n1.7 msg/s +/x\n");
  std::free(buffer);
}

} // namespace
} // namespace mqfleet::cli
