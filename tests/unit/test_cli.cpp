// The CLI framework in-process: error messages, exit-code mapping, parse errors.
#include "cli.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "sim/sim.hpp"

#include <mqfleet/error.hpp>

#include <gtest/gtest.h>

#include <set>

namespace mqfleet::cli {
namespace {

TEST(ExitCodes, MapEveryErrorKind) {
  EXPECT_EQ(exit_code_for(ConfigError("x")), exit_code::k_config);
  EXPECT_EQ(exit_code_for(ConnectError(-1, "x")), exit_code::k_connect);
  EXPECT_EQ(exit_code_for(ConnectError(3, "x")), exit_code::k_connect);
  EXPECT_EQ(exit_code_for(ConnectError(5, "x")), exit_code::k_auth);
  EXPECT_EQ(exit_code_for(ConnectError(4, "x")), exit_code::k_auth);
  EXPECT_EQ(exit_code_for(ConnectError(0x87, "x")), exit_code::k_auth);
  EXPECT_EQ(exit_code_for(ConnectError(0x86, "x")), exit_code::k_auth);
  EXPECT_EQ(exit_code_for(TimeoutError("x")), exit_code::k_timeout);
  EXPECT_EQ(exit_code_for(DeliveryError(0x80, "x")), exit_code::k_delivery);
  EXPECT_EQ(exit_code_for(ProtocolError(0x81, "x")), exit_code::k_protocol);
  EXPECT_EQ(exit_code_for(InterruptedError("x")), exit_code::k_interrupted);
  EXPECT_EQ(exit_code_for(std::runtime_error("x")), exit_code::k_internal);
}

TEST(ExitCodes, AreDistinct) {
  const std::vector<int> codes{exit_code::k_success, exit_code::k_internal,  exit_code::k_usage,
                               exit_code::k_config,  exit_code::k_connect,   exit_code::k_auth,
                               exit_code::k_timeout, exit_code::k_delivery,  exit_code::k_protocol,
                               exit_code::k_expectation, exit_code::k_interrupted};
  std::set<int> unique(codes.begin(), codes.end());
  EXPECT_EQ(unique.size(), codes.size());
}

TEST(ErrorMessage, SaysWhatWhereAndHow) {
  EXPECT_EQ(error_message(ConfigError("payload is not valid JSON", "-m", "fix the JSON or drop --json")),
            "mqfleet: error: payload is not valid JSON (-m): fix the JSON or drop --json");
  EXPECT_EQ(error_message(TimeoutError("no message within 2 s")), "mqfleet: error: no message within 2 s");
}

TEST(Parse, UnknownSubcommandIsAUsageError) {
  CLI::App app;
  setup_app(app);
  testing::internal::CaptureStderr();
  testing::internal::CaptureStdout();
  EXPECT_EQ(run(app, {"no-such-command"}), exit_code::k_usage);
  testing::internal::GetCapturedStdout();
  testing::internal::GetCapturedStderr();
}

TEST(Parse, VersionFlagSucceeds) {
  CLI::App app;
  setup_app(app);
  testing::internal::CaptureStdout();
  EXPECT_EQ(run(app, {"--version"}), exit_code::k_success);
  EXPECT_NE(testing::internal::GetCapturedStdout().find('.'), std::string::npos);
}

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App* s) { return !s->get_name().empty(); }))
    names.push_back(sub->get_name());
  return names;
}

TEST(CommandSetups, EachAddsTheSubcommandItIsNamedAfter) {
  for (const CommandSetup& command : command_setups()) {
    CLI::App app;
    command.setup(app);
    EXPECT_EQ(subcommand_names(app), std::vector<std::string>{std::string(command.name)});
  }
}

TEST(SetupAppFor, BuildsOnlyALeadingSubcommandWithTheSameOptionsAsTheWholeTree) {
  CLI::App whole;
  setup_app(whole);
  for (const CommandSetup& command : command_setups()) {
    if (command.name == "completion") continue;
    const std::string name(command.name);
    CLI::App app;
    setup_app_for(app, {name, "--help"});
    ASSERT_EQ(subcommand_names(app), std::vector<std::string>{name});
    EXPECT_EQ(app.get_subcommand(name)->help(), whole.get_subcommand(name)->help()) << name;
    EXPECT_EQ(app.get_name(), "mqfleet");
  }
}

TEST(SetupAppFor, BuildsTheWholeTreeForRootFlagsCompletionAndUnknownNames) {
  CLI::App whole;
  setup_app(whole);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {}, {"--help"}, {"--version"}, {"completion", "bash"}, {"no-such-command"}, {"-h", "pub"}}) {
    CLI::App app;
    setup_app_for(app, args);
    EXPECT_EQ(subcommand_names(app), subcommand_names(whole)) << (args.empty() ? "" : args.front());
  }
}

TEST(Parse, ASubcommandBuiltAloneParsesAndReportsUsageErrors) {
  CLI::App app;
  setup_app_for(app, {"pub", "--no-such-flag"});
  testing::internal::CaptureStderr();
  testing::internal::CaptureStdout();
  EXPECT_EQ(run(app, {"pub", "--no-such-flag"}), exit_code::k_usage);
  testing::internal::GetCapturedStdout();
  EXPECT_NE(testing::internal::GetCapturedStderr().find("--no-such-flag"), std::string::npos);
}

TEST(SimCli, StartAtTakesIsoEpochSecondsEpochMillisecondsAndRelativeTimes) {
  constexpr std::int64_t now = 1'764'882'000'000; // 2025-12-04T21:00:00Z
  EXPECT_EQ(parse_start_at("2025-12-04T21:00:00Z", now), now);
  EXPECT_EQ(parse_start_at("2025-12-04T22:00:30+01:00", now), now + 30'000);
  EXPECT_EQ(parse_start_at("1764882000", now), now);      // date +%s
  EXPECT_EQ(parse_start_at("1764882000250", now), now + 250); // date +%s%3N
  EXPECT_EQ(parse_start_at("+30s", now), now + 30'000);
  for (const char* bad : {"", "tomorrow", "-5", "2025-13-01", "1764882000x"}) {
    try {
      parse_start_at(bad, now);
      ADD_FAILURE() << "accepted \"" << bad << "\"";
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.where(), "--start-at");
    }
  }
}

TEST(SimCli, MergeIsASubcommandAndAScenarioFileIsStillRequiredToRun) {
  CLI::App app;
  setup_app_for(app, {"sim"});
  testing::internal::CaptureStderr();
  testing::internal::CaptureStdout();
  EXPECT_EQ(run(app, {"sim"}), exit_code::k_usage);
  const std::string err = testing::internal::GetCapturedStderr();
  testing::internal::GetCapturedStdout();
  EXPECT_NE(err.find("no scenario file"), std::string::npos) << err;

  CLI::App merge_app;
  setup_app_for(merge_app, {"sim", "merge"});
  EXPECT_THROW(run(merge_app, {"sim", "merge", "/nonexistent/r0.json", "--quiet"}), ConfigError);
}

} // namespace
} // namespace mqfleet::cli
