#pragma once
// `mqfleet pub`: publish one message, a file, stdin, stdin line by line, or JSON lines
// to many topics over one connection; mosquitto_pub-compatible flags.

#include "connection_flags.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mqfleet::cli {

/// Options of `mqfleet pub`, as parsed.
struct PubOptions {
  ConnectionFlags connection;
  std::string topic;                     ///< -t
  std::optional<std::string> message;    ///< -m
  std::string file;                      ///< -f: the whole file is one message
  bool null_message = false;             ///< -n: zero-length message
  bool whole_stdin = false;              ///< -s: all of stdin is one message
  bool lines = false;                    ///< -l: one message per stdin line
  bool jsonl = false;                    ///< --jsonl: one {"topic","payload","qos","retain"} per line
  bool json = false;                     ///< --json: payloads must be valid JSON
  int qos = 0;                           ///< -q
  bool retain = false;                   ///< -r
  bool debug = false;                    ///< -d
  bool quiet = false;                    ///< --quiet: no warnings
  bool no_reconnect = false;             ///< --no-reconnect: exit when the connection drops
  std::vector<std::vector<std::string>> properties; ///< -D PUBLISH name value [value]
  int repeat = 1;                        ///< --repeat
  double repeat_delay = 0;               ///< --repeat-delay seconds
  std::size_t max_inflight = 1000;       ///< --max-inflight
  double drain_timeout = 30;             ///< --drain-timeout seconds
};

/// Adds the `pub` subcommand to `app`.
void setup_pub(CLI::App& app);

/// Adds `pub` parsing into `options` (which the action shares); for in-process tests.
CLI::App* add_pub_command(CLI::App& app, std::shared_ptr<PubOptions> options);

/// Runs `pub`; returns the exit code.
int run_pub(const PubOptions& options);

} // namespace mqfleet::cli
