#pragma once
// `mqfleet profile add|list|show|rm|test`: named connection profiles in the profiles
// file (docs/profiles.md), and a connectivity check that measures a real round trip.

#include "connection_flags.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace mqfleet::cli {

/// Which `profile` subcommand runs.
enum class ProfileAction { add, list, show, rm, test };

/// The parsed flags of every `profile` subcommand.
struct ProfileOptions {
  ProfileAction action = ProfileAction::list;
  std::string name;                ///< NAME of add/show/rm/test
  ConnectionFlags connection;      ///< add: what to store; test: what to connect with
  std::string preset;              ///< add --preset
  bool force = false;              ///< add --force: replace an existing profile
  std::string format = "text";     ///< list/show/test --format text|json
  double timeout_seconds = 10;     ///< test --timeout: wait for the probe message
};

/// Adds the `profile` command and its subcommands to `app`.
void setup_profile(CLI::App& app);

/// Runs the selected `profile` subcommand; returns the exit code.
int run_profile(const ProfileOptions& options);

} // namespace mqfleet::cli
