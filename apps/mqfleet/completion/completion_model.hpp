#pragma once
// The command tree as data (subcommands, their options and positionals), read from the
// registered CLI11 apps. Shell completions and man pages are generated from it, and the
// drift tests compare it with the files in completions/ and the generated man pages.

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace mqfleet::cli {

/// One option of a command: its names and whether it takes a value.
struct OptionSpec {
  std::vector<std::string> long_names;  ///< without the leading "--"
  std::vector<std::string> short_names; ///< without the leading "-"
  bool takes_value = false;
  bool completes_files = false;         ///< the value is a path
  std::string value_name;               ///< what the value is ("INT", "FILE"), for man pages
  std::string description;
};

/// A positional argument of a command (man pages show them; completions do not).
struct PositionalSpec {
  std::string name;
  std::string description;
  bool required = false;
  bool repeats = false; ///< takes more than one value
};

/// A command (the root or a subcommand) with everything below it.
struct CommandSpec {
  std::string name;
  std::string description;
  std::vector<OptionSpec> options;
  std::vector<PositionalSpec> positionals;
  std::vector<CommandSpec> subcommands;
};

/// Walks `app` (options in option groups included, help flags left out).
CommandSpec describe_command(const CLI::App& app);

/// Every "--long" option anywhere below `command`, with its command path
/// (e.g. "pub --qos"), for drift checks.
std::vector<std::string> flatten_long_options(const CommandSpec& command);

} // namespace mqfleet::cli
