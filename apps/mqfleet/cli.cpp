#include "cli.hpp"

#include "build_info.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "signals.hpp"

#include <mqfleet/error.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <map>

namespace mqfleet::cli {
namespace {

std::map<const CLI::App*, Action>& actions() {
  static std::map<const CLI::App*, Action> registry;
  return registry;
}

// The deepest selected subcommand that has an action.
const Action* selected_action(const CLI::App& app) {
  const CLI::App* current = &app;
  const Action* found = nullptr;
  while (current != nullptr) {
    if (auto it = actions().find(current); it != actions().end()) found = &it->second;
    auto chosen = current->get_subcommands();
    current = chosen.empty() ? nullptr : chosen.front();
  }
  return found;
}

// The root command: name, description, --version; one subcommand required.
void setup_root(CLI::App& app) {
  app.name("mqfleet");
  app.description("MQTT command-line client, device simulator, load tester and reference broker.");
  app.set_version_flag("--version", version_text());
  app.require_subcommand(1);
  app.fallthrough(false);
}

// "mqfleet pub": the deepest subcommand the parser had reached, for the error's <where>.
std::string command_path(const CLI::App& app) {
  std::string path = app.get_name().empty() ? "mqfleet" : app.get_name();
  const CLI::App* current = &app;
  while (current != nullptr) {
    auto chosen = current->get_subcommands();
    current = chosen.empty() ? nullptr : chosen.front();
    if (current != nullptr) path += " " + current->get_name();
  }
  return path;
}

// CLI11's message on one line (a few of its messages span several).
std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

} // namespace

std::string usage_error_message(const CLI::ParseError& error, const std::string& command) {
  return fmt::format("mqfleet: error: {} ({}): see `{} --help` for the flags and their values",
                     one_line(error.what()), command, command);
}

void set_action(CLI::App* subcommand, Action action) { actions()[subcommand] = std::move(action); }

void setup_app(CLI::App& app) {
  setup_root(app);
  for (const CommandSetup& command : command_setups()) command.setup(app);
}

void setup_app_for(CLI::App& app, const std::vector<std::string>& args) {
  // Only a leading subcommand name is trusted: anything before it (--help, --version, a
  // typo) needs the root's view of every subcommand, and so does `completion`.
  if (!args.empty() && args.front() != "completion") {
    for (const CommandSetup& command : command_setups()) {
      if (command.name != args.front()) continue;
      setup_root(app);
      command.setup(app);
      return;
    }
  }
  setup_app(app);
}

int run(CLI::App& app, const std::vector<std::string>& args) {
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" that exit 0 with CLI11's own output.
    if (e.get_exit_code() == 0) {
      app.exit(e);
      return exit_code::k_success;
    }
    std::string command = command_path(app);
    // A failure inside a subcommand's own options may leave it unselected: name it anyway.
    if (command == "mqfleet" && !args.empty())
      for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
        if (sub->get_name() == args.front()) command += " " + args.front();
    std::cerr << usage_error_message(e, command) << '\n';
    return exit_code::k_usage;
  }
  const Action* action = selected_action(app);
  if (action == nullptr) {
    std::cerr << app.help();
    return exit_code::k_usage;
  }
  return (*action)();
}

int exit_code_for(const std::exception& error) noexcept {
  if (dynamic_cast<const CLI::ParseError*>(&error)) return exit_code::k_usage;
  if (auto* connect = dynamic_cast<const ConnectError*>(&error))
    return connect->is_authentication_failure() ? exit_code::k_auth : exit_code::k_connect;
  if (dynamic_cast<const ConfigError*>(&error)) return exit_code::k_config;
  if (dynamic_cast<const TimeoutError*>(&error)) return exit_code::k_timeout;
  if (dynamic_cast<const DeliveryError*>(&error)) return exit_code::k_delivery;
  if (dynamic_cast<const ProtocolError*>(&error)) return exit_code::k_protocol;
  if (dynamic_cast<const InterruptedError*>(&error)) return exit_code::k_interrupted;
  return exit_code::k_internal;
}

std::string error_message(const std::exception& error) {
  std::string message = fmt::format("mqfleet: error: {}", error.what());
  if (auto* e = dynamic_cast<const Error*>(&error)) {
    if (!e->where().empty()) message += fmt::format(" ({})", e->where());
    if (!e->hint().empty()) message += fmt::format(": {}", e->hint());
  } else {
    message += ": this is a bug in mqfleet, please report it";
  }
  return message;
}

int mqfleet_main(int argc, char** argv) {
  install_signal_handling();
  int code = exit_code::k_internal;
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    CLI::App app;
    setup_app_for(app, args);
    code = run(app, args);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::cerr << error_message(e) << '\n';
    code = exit_code_for(e);
  }
  std::fflush(stdout);
  std::cerr.flush();
  return code;
}

} // namespace mqfleet::cli
