#pragma once
// `mqfleet sim FILE`: runs a fleet scenario (scenarios/README.md) with a live status line,
// a summary table and an optional JSON report; `sim --check FILE` only validates it;
// `--shard K/N` and `--start-at` split one run over processes and machines, and
// `sim merge` combines their reports (docs/distributed-sim.md).

#include "sim/sim_provision.hpp"

#include <mqfleet/profile.hpp>
#include <mqfleet/scenario/scenario.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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
  std::string shard;                      ///< --shard K/N: run slice K of every fleet
  std::string start_at;                   ///< --start-at TIME: elapsed 0 on the wall clock
  SimProvisionOptions provisioning;       ///< --provision and friends, --credentials, --scale
};

/// Options of `mqfleet sim merge`.
struct SimMergeOptions {
  std::vector<std::string> inputs; ///< the shards' --report files
  std::string report;              ///< --report FILE.json: the merged report
  bool quiet = false;              ///< --quiet: no summary table
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

/// Runs `sim merge`: 9 when the merged totals miss an expectation, 3 for reports that do
/// not belong together (naming the files).
int run_sim_merge(const SimMergeOptions& options);

/// Parses `--start-at`: ISO-8601 (`2026-12-04T21:00:00Z`), an integer of at most 10
/// digits as epoch seconds (`date +%s`) and a longer one as epoch milliseconds, or a time
/// relative to `now_unix_ms` (`+30s`). Throws ConfigError naming --start-at.
std::int64_t parse_start_at(const std::string& text, std::int64_t now_unix_ms);

} // namespace mqfleet::cli
