#pragma once
// `mqfleet completion bash|zsh|fish`: prints the shell completion script for the
// whole command tree (the files in completions/ are this output). `mqfleet completion
// man DIR` writes the man pages (mqfleet.1, mqfleet-<command>.1) into DIR; the build
// runs it (cmake/Install.cmake).

#include <CLI/CLI.hpp>

#include <string>

namespace mqfleet::cli {

/// Options of `mqfleet completion`.
struct CompletionOptions {
  std::string shell;
  std::string directory; ///< where `man` writes the pages
  const CLI::App* root = nullptr;
};

/// Adds the `completion` subcommand to `app`.
void setup_completion(CLI::App& app);

/// Prints the script for options.shell, or writes the man pages; returns the exit code.
int run_completion(const CompletionOptions& options);

} // namespace mqfleet::cli
