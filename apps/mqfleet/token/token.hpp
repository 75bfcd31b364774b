#pragma once
// `mqfleet token add|list|rm`: the API tokens of the broker's HTTP listener, stored as
// hashes in the device registry (docs/broker.md, "Tokens"). `add` prints the new token
// once, as the last line of stdout; nothing else ever shows it.

#include <CLI/CLI.hpp>

#include <string>

namespace mqfleet::cli {

/// The options of every `token` subcommand.
struct TokenOptions {
  enum class Action { add, list, remove };
  Action action = Action::list;
  std::string registry;        ///< --registry FILE (or $MQFLEET_REGISTRY)
  std::string first;           ///< add: ACCOUNT (or NAME with --admin); rm: NAME; list: ACCOUNT filter
  std::string second;          ///< add: NAME
  bool admin = false;          ///< add --admin
  std::string format = "text"; ///< list --format text|json
};

/// Adds the `token` subcommand and its nested subcommands.
void setup_token(CLI::App& app);

/// Runs one `token` subcommand; returns the exit code.
int run_token(const TokenOptions& options);

} // namespace mqfleet::cli
