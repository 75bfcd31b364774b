#include "completion/completion.hpp"

#include "cli.hpp"
#include "completion/completion_model.hpp"
#include "completion/completion_scripts.hpp"
#include "exit_codes.hpp"

#include <iostream>
#include <memory>

namespace mqfleet::cli {

void setup_completion(CLI::App& app) {
  auto options = std::make_shared<CompletionOptions>();
  options->root = &app;
  CLI::App* sub = app.add_subcommand("completion", "Print the shell completion script (bash, zsh or fish)");
  sub->add_option("shell", options->shell, "Shell to complete for")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  set_action(sub, [options] { return run_completion(*options); });
}

int run_completion(const CompletionOptions& options) {
  const CommandSpec root = describe_command(*options.root);
  if (options.shell == "bash") std::cout << bash_completion(root);
  else if (options.shell == "zsh") std::cout << zsh_completion(root);
  else std::cout << fish_completion(root);
  std::cout.flush();
  return exit_code::k_success;
}

} // namespace mqfleet::cli
