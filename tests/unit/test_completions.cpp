// The completion files in completions/ must match the CLI exactly: every subcommand and
// every long option registered in CLI11 appears in each, and each file is byte-identical
// to what `mqfleet completion <shell>` generates now (regenerate with
// scripts/gen-completions.sh).
#include "cli.hpp"
#include "completion/completion_model.hpp"
#include "completion/completion_scripts.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

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
