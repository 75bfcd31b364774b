#pragma once
// The CLI framework: subcommand registration, the single try/catch that maps errors to
// exit codes, and error printing. Subcommands live in cmd_<name>.{hpp,cpp}.

#include <CLI/CLI.hpp>

#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace mqfleet::cli {

/// What a subcommand does once its flags are parsed; returns the process exit code.
using Action = std::function<int()>;

/// Registers `action` to run when `subcommand` (or a nested subcommand) is selected.
void set_action(CLI::App* subcommand, Action action);

/// Builds the whole command tree: the root app with every subcommand registered.
void setup_app(CLI::App& app);

/// Builds what parsing `args` needs: when they start with a subcommand's name, the root
/// with only that subcommand (building every subcommand's options was ~1/6 of a one-shot
/// `pub`'s start-up); otherwise, and for `completion`, the whole tree.
void setup_app_for(CLI::App& app, const std::vector<std::string>& args);

/// Parses argv into `app` and runs the selected action; returns the exit code. Used by
/// main() and by in-process CLI tests.
int run(CLI::App& app, const std::vector<std::string>& args);

/// The exit code (see exit_codes.hpp) that corresponds to an exception.
int exit_code_for(const std::exception& error) noexcept;

/// The one-line message printed for an error: `mqfleet: error: what (where): hint`.
std::string error_message(const std::exception& error);

/// The one-line message printed for a command line CLI11 refuses (exit 2): CLI11's reason,
/// the command being parsed (`mqfleet pub`) and a pointer to its --help.
std::string usage_error_message(const CLI::ParseError& error, const std::string& command);

/// The whole program: signals, parse, run, catch, print, exit code.
int mqfleet_main(int argc, char** argv);

} // namespace mqfleet::cli
