#pragma once
// `mqfleet device add|list|rm|set-credential`: manages the broker's device registry
// (docs/registry.md). Secrets are printed once, by `add`/`set-credential --generate`,
// on stdout; everything else goes to stderr or, for `list`, stdout without secrets.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace mqfleet::cli {

/// The options of every `device` subcommand.
struct DeviceOptions {
  enum class Action { add, list, remove, set_credential };
  Action action = Action::list;
  std::string registry;          ///< --registry FILE (or $MQFLEET_REGISTRY)
  std::string account;           ///< ACCOUNT
  std::string device;            ///< DEVICE
  std::string description;       ///< --description
  bool generate = false;         ///< --generate
  std::string credential_env;    ///< --credential-env NAME
  std::string credential_file;   ///< --credential-file PATH
  std::uint32_t iterations = 0;  ///< --iterations (0 = default)
  std::string format = "text";   ///< list --format text|json
};

/// Adds the `device` subcommand and its nested subcommands.
void setup_device(CLI::App& app);

/// Runs one `device` subcommand; returns the exit code.
int run_device(const DeviceOptions& options);

} // namespace mqfleet::cli
