#pragma once
// The list of subcommands. Each cmd_<name>.hpp declares setup_<name>(CLI::App&), which
// adds the subcommand, its options struct and its action (see cli.hpp).

#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace mqfleet::cli {

/// Every subcommand's setup function, in the order `mqfleet --help` lists them.
std::vector<std::function<void(CLI::App&)>> command_setups();

} // namespace mqfleet::cli
