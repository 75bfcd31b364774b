#include "completion/completion.hpp"

#include "cli.hpp"
#include "completion/completion_model.hpp"
#include "completion/completion_scripts.hpp"
#include "exit_codes.hpp"
#include "completion/man_pages.hpp"

#include <mqfleet/error.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <system_error>

namespace mqfleet::cli {
namespace {

// Writes every page into `directory` (created if missing); a page that cannot be written
// is a ConfigError naming the file.
void write_man_pages(const CommandSpec& root, const std::filesystem::path& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error)
    throw ConfigError("cannot create the man page directory: " + error.message(), directory.string(),
                      "give a directory you can write to");
  for (const ManPage& page : man_pages(root, MQFLEET_VERSION)) {
    const std::filesystem::path path = directory / page.file_name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << page.text;
    out.close();
    if (!out)
      throw ConfigError("cannot write the man page", path.string(), "check the directory's permissions and free space");
  }
}

} // namespace

void setup_completion(CLI::App& app) {
  auto options = std::make_shared<CompletionOptions>();
  options->root = &app;
  CLI::App* sub = app.add_subcommand("completion", "Print the shell completion script (bash, zsh or fish)");
  sub->add_option("shell", options->shell, "Shell to complete for, or `man` to write the man pages into DIR")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish", "man"}));
  sub->add_option("dir", options->directory, "With `man`: the directory the man pages are written to");
  sub->callback([options] {
    if (options->shell == "man" && options->directory.empty())
      throw CLI::ValidationError("dir", "`completion man` needs the directory to write the pages to: mqfleet completion man DIR");
    if (options->shell != "man" && !options->directory.empty())
      throw CLI::ValidationError("dir", "only `completion man` takes a directory");
  });
  set_action(sub, [options] { return run_completion(*options); });
}

int run_completion(const CompletionOptions& options) {
  const CommandSpec root = describe_command(*options.root);
  if (options.shell == "man") {
    write_man_pages(root, options.directory);
    return exit_code::k_success;
  }
  if (options.shell == "bash") std::cout << bash_completion(root);
  else if (options.shell == "zsh") std::cout << zsh_completion(root);
  else std::cout << fish_completion(root);
  std::cout.flush();
  return exit_code::k_success;
}

} // namespace mqfleet::cli
