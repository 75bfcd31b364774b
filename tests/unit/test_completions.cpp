// The completion files in completions/ must match the CLI exactly: every subcommand and
// every long option registered in CLI11 appears in each, and each file is byte-identical
// to what `mqfleet completion <shell>` generates now (regenerate with
// scripts/gen-completions.sh).
#include "cli.hpp"
#include "completion/completion_model.hpp"
#include "completion/completion_scripts.hpp"

#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <functional>

namespace mqfleet::cli {
namespace {

std::string source_dir() {
  const char* dir = std::getenv("MQFLEET_SOURCE_DIR");
  return dir ? dir : ".";
}

CommandSpec current_tree() {
  static CLI::App app;
  static bool initialised = false;
  if (!initialised) {
    setup_app(app);
    initialised = true;
  }
  return describe_command(app);
}

struct Shell {
  std::string file;
  std::function<std::string(const CommandSpec&)> generate;
};

void PrintTo(const Shell& shell, std::ostream* out) { *out << shell.file; }

class CompletionFile : public testing::TestWithParam<Shell> {};

TEST_P(CompletionFile, MatchesTheRegisteredCli) {
  const auto tree = current_tree();
  const std::string path = source_dir() + "/completions/" + GetParam().file;
  const std::string committed = test::read_file(path);
  EXPECT_EQ(committed, GetParam().generate(tree))
      << path << " is out of date: run scripts/gen-completions.sh and commit the result";
}

TEST_P(CompletionFile, NamesEverySubcommandAndLongOption) {
  const auto tree = current_tree();
  const std::string committed = test::read_file(source_dir() + "/completions/" + GetParam().file);
  std::function<void(const CommandSpec&)> check = [&](const CommandSpec& command) {
    EXPECT_NE(committed.find(command.name), std::string::npos) << "subcommand " << command.name;
    for (const auto& option : command.options)
      for (const auto& name : option.long_names)
        EXPECT_NE(committed.find(name), std::string::npos) << command.name << " --" << name;
    for (const auto& sub : command.subcommands) check(sub);
  };
  check(tree);
}

INSTANTIATE_TEST_SUITE_P(Shells, CompletionFile,
                         testing::Values(Shell{"mqfleet.bash", bash_completion}, Shell{"_mqfleet", zsh_completion},
                                         Shell{"mqfleet.fish", fish_completion}),
                         [](const testing::TestParamInfo<Shell>& shell_info) {
                           return shell_info.param.file == "_mqfleet" ? std::string("zsh")
                                  : shell_info.param.file == "mqfleet.bash" ? std::string("bash")
                                                                      : std::string("fish");
                         });

TEST(CompletionScripts, BashCompletesSubcommandsAndOptions) {
  // Source the committed script in a real bash and ask it to complete, as a shell would.
  test::TempDir dir;
  const std::string probe = dir.write("probe.bash", "source '" + source_dir() + "/completions/mqfleet.bash'\n"
                                                    "COMP_WORDS=(mqfleet compl); COMP_CWORD=1; _mqfleet\n"
                                                    "echo \"${COMPREPLY[*]}\"\n"
                                                    "COMP_WORDS=(mqfleet --vers); COMP_CWORD=1; _mqfleet\n"
                                                    "echo \"${COMPREPLY[*]}\"\n");
  FILE* pipe = popen(("bash " + probe).c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buffer[4096];
  std::string output;
  while (fgets(buffer, sizeof buffer, pipe)) output += buffer;
  EXPECT_EQ(pclose(pipe), 0);
  EXPECT_EQ(output, "completion\n--version\n");
}

// Runs `shell args...` and returns its stdout; stderr must stay empty (no load errors).
std::string run_shell(const std::vector<std::string>& argv) {
  const auto result = test::run_process(argv, {}, std::chrono::seconds(30));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "") << argv[0] << " printed errors while loading the completions";
  return result.out;
}

TEST(CompletionScripts, FishLoadsTheScriptAndCompletes) {
  // A real fish (no config: -N) sources the committed script and completes as at a prompt.
  const std::string fish = test::find_program("fish");
  ASSERT_FALSE(fish.empty()) << "fish is not installed (scripts/install-deps.sh installs it)";
  const std::string out = run_shell({fish, "-N", "-c",
                                     "source '" + source_dir() + "/completions/mqfleet.fish'; "
                                     "complete -C 'mqfleet '; echo ==; complete -C 'mqfleet pub --qo'; echo ==; "
                                     "complete -C 'mqfleet bench pubs'"});
  EXPECT_NE(out.find("\npub\tPublish messages (mosquitto_pub-compatible flags)\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\ncompletion\tPrint the shell completion script"), std::string::npos) << out;
  EXPECT_NE(out.find("==\n--qos\tQuality of service: 0, 1 or 2\n=="), std::string::npos) << out;
  EXPECT_NE(out.find("==\npubsub\t"), std::string::npos) << out;
}

TEST(CompletionScripts, ZshLoadsTheScriptAndDispatches) {
  // A real zsh (-f: no rc files) sources the committed script and runs its functions; the
  // completion system's _arguments/_values are stand-ins that print what they are given
  // and set the state a real _arguments would.
  const std::string zsh = test::find_program("zsh");
  ASSERT_FALSE(zsh.empty()) << "zsh is not installed (scripts/install-deps.sh installs it)";
  const std::string stubs = "_arguments() { state=$st; line=(${=ln}); print -rl -- \"$@\"; }; "
                            "_values() { print -rl -- \"$@\"; }; _files() { :; }; "
                            "source '" + source_dir() + "/completions/_mqfleet'; ";
  const std::string top = run_shell({zsh, "-f", "-c", stubs + "st=command; _mqfleet"});
  EXPECT_NE(top.find("\npub[Publish messages (mosquitto_pub-compatible flags)]\n"), std::string::npos) << top;
  EXPECT_NE(top.find("\nbench[Load-test a broker\\: connections, publishers, subscribers, latency]\n"),
            std::string::npos) << top;
  const std::string pub = run_shell({zsh, "-f", "-c", stubs + "st=argument; ln=pub; _mqfleet"});
  EXPECT_NE(pub.find("\n*--qos[Quality of service\\: 0, 1 or 2]:value: \n"), std::string::npos) << pub;
  EXPECT_EQ(pub.find("[Subscribe to topics"), std::string::npos) << "pub dispatched to another subcommand";
}

TEST(CompletionModel, SeesOptionsInsideOptionGroups) {
  CLI::App app{"root command", "t"};
  auto* sub = app.add_subcommand("pub", "Publish");
  std::string message, file;
  auto* group = sub->add_option_group("payload");
  group->add_option("-m,--message", message, "Message");
  group->add_option("-f,--file", file, "File");
  const auto tree = describe_command(app);
  ASSERT_EQ(tree.subcommands.size(), 1u);
  const auto& options = tree.subcommands[0].options;
  ASSERT_EQ(options.size(), 2u);
  EXPECT_EQ(options[0].long_names[0], "message");
  EXPECT_FALSE(options[0].completes_files);
  EXPECT_TRUE(options[1].completes_files);
  EXPECT_EQ(flatten_long_options(tree), (std::vector<std::string>{"t pub --message", "t pub --file"}));
}

} // namespace
} // namespace mqfleet::cli
