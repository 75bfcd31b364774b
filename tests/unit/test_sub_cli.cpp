// `mqfleet sub` command line, in-process: what flags parse to, what is refused, and the
// per-message rules (-T, -R, --retained-only, --remove-retained, -C).
#include "cli.hpp"
#include "sub/sub.hpp"
#include "exit_codes.hpp"

#include <mqfleet/error.hpp>

#include <gtest/gtest.h>

namespace mqfleet::cli {
namespace {

/// Parses `mqfleet sub args...` into a fresh SubOptions; returns nullopt on a parse error.
std::optional<SubOptions> parse_sub(const std::vector<std::string>& args) {
  SubOptions options;
  CLI::App app;
  app.require_subcommand(1);
  add_sub_command(app, options);
  std::vector<std::string> argv{"sub"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> reversed(argv.rbegin(), argv.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError&) {
    return std::nullopt;
  }
  return options;
}

/// Runs the whole CLI in-process and returns the exit code (output swallowed).
int run_cli(const std::vector<std::string>& args) {
  CLI::App app;
  setup_app(app);
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  int code = -1;
  try {
    code = run(app, args);
  } catch (const std::exception& e) {
    code = exit_code_for(e);
  }
  testing::internal::GetCapturedStdout();
  testing::internal::GetCapturedStderr();
  return code;
}

ReceivedMessage message(std::string topic, bool retain = false) {
  ReceivedMessage m;
  m.topic = std::move(topic);
  m.payload = "x";
  m.retain = retain;
  return m;
}

TEST(SubCli, Defaults) {
  auto o = parse_sub({"-t", "a/b"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->topics, std::vector<std::string>{"a/b"});
  EXPECT_EQ(o->qos, 0);
  EXPECT_FALSE(o->count);
  EXPECT_FALSE(o->wait_seconds);
  EXPECT_EQ(o->output, "text");
  EXPECT_TRUE(o->format.empty());
  EXPECT_FALSE(o->verbose || o->no_eol || o->no_retained || o->retained_only || o->exit_after_suback);
}

TEST(SubCli, EveryFlag) {
  auto o = parse_sub({"-t", "a/#", "--topic", "b/+", "-q", "2", "-C", "10", "-W", "2.5", "-R", "-E", "-N", "-v",
                      "-T", "a/secret", "--filter-out", "a/x/#", "--remove-retained", "-F", "%t %p", "-U", "c",
                      "--pretty", "-d", "-h", "broker.example", "-p", "1999", "-V", "5", "--no-local",
                      "--retain-as-published", "--retain-handling", "2"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->topics, (std::vector<std::string>{"a/#", "b/+"}));
  EXPECT_EQ(o->qos, 2);
  EXPECT_EQ(o->count, 10U);
  EXPECT_EQ(o->wait_seconds, 2.5);
  EXPECT_TRUE(o->no_retained && o->exit_after_suback && o->no_eol && o->verbose && o->remove_retained);
  EXPECT_EQ(o->filter_out, (std::vector<std::string>{"a/secret", "a/x/#"}));
  EXPECT_EQ(o->format, "%t %p");
  EXPECT_EQ(o->unsubscribe, std::vector<std::string>{"c"});
  EXPECT_TRUE(o->pretty && o->debug && o->no_local && o->retain_as_published);
  EXPECT_EQ(o->retain_handling, 2);
  EXPECT_EQ(o->connection.host, "broker.example");
  EXPECT_EQ(o->connection.port, 1999);
  EXPECT_EQ(o->connection.version, "5");
}

TEST(SubCli, JsonlAndRetainedOnly) {
  auto o = parse_sub({"-t", "a", "--format", "jsonl", "--retained-only"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->output, "jsonl");
  EXPECT_TRUE(o->retained_only);
}

TEST(SubCli, UnsubscribeAloneIsEnough) { EXPECT_TRUE(parse_sub({"-U", "a/b", "-c", "-i", "me"})); }

TEST(SubCli, ParseErrors) {
  EXPECT_FALSE(parse_sub({}));                                  // no -t / -U
  EXPECT_FALSE(parse_sub({"-t", "a", "-q", "3"}));              // QoS out of range
  EXPECT_FALSE(parse_sub({"-t", "a", "-C", "0"}));              // count must be positive
  EXPECT_FALSE(parse_sub({"-t", "a", "-C", "x"}));
  EXPECT_FALSE(parse_sub({"-t", "a", "-W", "0"}));
  EXPECT_FALSE(parse_sub({"-t", "a", "--format", "xml"}));
  EXPECT_FALSE(parse_sub({"-t", "a", "--format", "jsonl", "-F", "%t"}));
  EXPECT_FALSE(parse_sub({"-t", "a", "-R", "--retained-only"}));
  EXPECT_FALSE(parse_sub({"-t", "a", "--retain-handling", "3"}));
  EXPECT_FALSE(parse_sub({"-t", "a", "--no-such-flag"}));
}

TEST(SubCli, UsageErrorsExitWithTheUsageCode) {
  EXPECT_EQ(run_cli({"sub"}), exit_code::k_usage);
  EXPECT_EQ(run_cli({"sub", "-t", "a", "-q", "7"}), exit_code::k_usage);
  EXPECT_EQ(run_cli({"sub", "-t", "a", "-R", "--retained-only"}), exit_code::k_usage);
}

TEST(SubCli, HelpListsTheFlags) {
  CLI::App app;
  setup_app(app);
  testing::internal::CaptureStdout();
  EXPECT_EQ(run(app, {"sub", "--help"}), exit_code::k_success);
  const std::string help = testing::internal::GetCapturedStdout();
  for (const char* flag : {"--topic", "--count", "--retained-only", "--remove-retained", "--filter-out", "-F",
                           "--format", "--retain-handling", "--host"})
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
}

TEST(SubValidate, BadFiltersAreConfigErrors) {
  SubOptions o;
  o.topics = {"a/#/b"};
  try {
    validate_sub_options(o, MqttVersion::v311);
    FAIL() << "accepted a/#/b";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where(), "-t");
  }
  o.topics = {"a/+/b", "#"};
  EXPECT_NO_THROW(validate_sub_options(o, MqttVersion::v311));
  o.filter_out = {"x+"};
  EXPECT_THROW(validate_sub_options(o, MqttVersion::v311), ConfigError);
}

TEST(SubValidate, V5OptionsNeedV5) {
  SubOptions o;
  o.topics = {"a"};
  o.no_local = true;
  EXPECT_THROW(validate_sub_options(o, MqttVersion::v311), ConfigError);
  EXPECT_NO_THROW(validate_sub_options(o, MqttVersion::v5));
  o.no_local = false;
  o.retain_handling = 1;
  try {
    validate_sub_options(o, MqttVersion::v311);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where(), "--retain-handling");
  }
}

TEST(SubValidate, BadFormatStringFailsBeforeConnecting) {
  // Port 1 refuses connections: a config error (3) proves -F was checked first.
  EXPECT_EQ(run_cli({"sub", "-t", "a", "-h", "127.0.0.1", "-p", "1", "-F", "%z"}), exit_code::k_config);
}

TEST(SubFilter, CountsPrintedMessagesOnly) {
  SubOptions o;
  o.count = 2;
  o.filter_out = {"a/secret/#"};
  SubMessageFilter filter(o);
  EXPECT_FALSE(filter.decide(message("a/secret/x")).print);
  auto first = filter.decide(message("a/1"));
  EXPECT_TRUE(first.print);
  EXPECT_FALSE(first.stop);
  EXPECT_FALSE(filter.decide(message("a/secret")).print);
  auto second = filter.decide(message("a/2"));
  EXPECT_TRUE(second.print);
  EXPECT_TRUE(second.stop);
  EXPECT_EQ(filter.printed(), 2U);
}

TEST(SubFilter, NoRetainedSkipsStaleMessages) {
  SubOptions o;
  o.no_retained = true;
  SubMessageFilter filter(o);
  EXPECT_FALSE(filter.decide(message("a", true)).print);
  EXPECT_TRUE(filter.decide(message("a", false)).print);
}

TEST(SubFilter, RetainedOnlyStopsAtTheFirstFreshMessage) {
  SubOptions o;
  o.retained_only = true;
  SubMessageFilter filter(o);
  EXPECT_TRUE(filter.decide(message("a", true)).print);
  const auto fresh = filter.decide(message("a", false));
  EXPECT_FALSE(fresh.print);
  EXPECT_TRUE(fresh.stop);
}

TEST(SubFilter, RemoveRetainedClearsAllButFilteredOut) {
  SubOptions o;
  o.remove_retained = true;
  o.no_retained = true;
  o.filter_out = {"keep"};
  SubMessageFilter filter(o);
  const auto stale = filter.decide(message("old", true));
  EXPECT_TRUE(stale.clear_retained);  // still cleared under -R
  EXPECT_FALSE(stale.print);
  EXPECT_FALSE(filter.decide(message("keep", true)).clear_retained);
  EXPECT_FALSE(filter.decide(message("new", false)).clear_retained);
}

} // namespace
} // namespace mqfleet::cli
