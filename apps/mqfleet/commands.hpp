#pragma once
// The list of subcommands. Each cmd_<name>.hpp declares setup_<name>(CLI::App&), which
// adds the subcommand, its options struct and its action (see cli.hpp).

#include <CLI/CLI.hpp>

#include <string_view>
#include <vector>

namespace mqfleet::cli {

/// A top-level subcommand: its name and the setup function that adds it.
struct CommandSetup {
  std::string_view name;
  void (*setup)(CLI::App&);
};

/// Every subcommand, in the order `mqfleet --help` lists them.
std::vector<CommandSetup> command_setups();

} // namespace mqfleet::cli
