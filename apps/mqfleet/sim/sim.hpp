#pragma once
// `mqfleet sim FILE`: runs a fleet scenario (scenarios/README.md) with a live status line,
// a summary table and an optional JSON report; `sim --check FILE` only validates it.

#include "sim/sim_provision.hpp"

#include <mqfleet/profile.hpp>
#include <mqfleet/scenario/scenario.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace mqfleet::cli {

/// Options of `mqfleet sim`, as parsed. New flags go here and in add_sim_command.
struct SimOptions {
  std::string file;                       ///< the scenario file
  bool check = false;                     ///< --check: validate, report every problem, do not run
  std::string report;                     ///< --report FILE.json
  std::string duration;                   ///< --duration: overrides run.duration ("30s")
  std::optional<std::uint64_t> messages;  ///< --messages: overrides run.messages
  std::optional<std::uint64_t> seed;      ///< --seed: overrides run.seed
  unsigned threads = 2;                   ///< --threads: event loop threads
  std::string host;                       ///< -h: overrides the connection's host
  std::optional<int> port;                ///< -p: overrides the connection's port
  std::string profile;                    ///< --profile: use this stored profile as the connection
  bool no_progress = false;               ///< --no-progress: no live status line even on a TTY
  SimProvisionOptions provisioning;       ///< --provision and friends, --credentials, --scale
};

/// Adds the `sim` subcommand and its flags, bound to `options`; returns it.
CLI::App* add_sim_command(CLI::App& app, SimOptions& options);

/// Adds the `sim` subcommand to `app`, with run_sim as its action.
void setup_sim(CLI::App& app);

/// The broker connection a scenario asks for, with the command-line overrides applied:
/// a stored profile overlaid with the file's inline keys, or the inline fields alone.
/// Throws ConfigError (unknown profile, unreadable store).
ConnectionProfile sim_connection(const sim::ConnectionSpec& spec, const SimOptions& options);

/// Runs `sim`; returns the exit code.
int run_sim(const SimOptions& options);

} // namespace mqfleet::cli
