#pragma once
// `mqfleet rr`: one MQTT 5 request/response exchange (mosquitto_rr's job). Subscribes to
// the response topic, publishes the request with a Response Topic and Correlation Data,
// waits for the response that carries the same correlation data (or none: responders
// that do not speak MQTT 5 request/response, such as the simulator's command devices)
// and prints it like `sub` does. Runs on the lean client (lib/client); no state of its own.

#include "connection_flags.hpp"
#include "message_output.hpp"

#include <mqfleet/connection.hpp>

#include <CLI/CLI.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace mqfleet::cli {

/// Options of `mqfleet rr`, as parsed.
struct RrOptions {
  ConnectionFlags connection;                   ///< shared flags; -V defaults to 5 here
  std::string topic;                            ///< -t: request topic
  std::string response_topic;                   ///< -e: where the response is expected
  std::optional<std::string> message;           ///< -m
  std::string file;                             ///< -f: the whole file is the request
  bool whole_stdin = false;                     ///< -s: all of stdin is the request
  bool null_message = false;                    ///< -n: zero-length request
  int qos = 0;                                  ///< -q: request QoS and response subscription QoS
  std::optional<double> wait_seconds;           ///< -W: exit 6 without a response by then
  std::optional<std::string> correlation_data;  ///< --correlation-data (default: 16 random hex digits)
  bool latency = false;                         ///< --latency: round trip on stderr
  bool debug = false;                           ///< -d
  std::string format;                           ///< -F
  std::string output = "text";                  ///< --format text|jsonl
  bool verbose = false;                         ///< -v
  bool no_eol = false;                          ///< -N
  bool pretty = false;                          ///< --pretty
};

/// What `rr` does with a message on the response topic.
enum class ResponseMatch {
  accept,             ///< the response: same correlation data, or none at all
  stale,              ///< a retained message: an old response, not ours
  other_correlation,  ///< someone else's response (different correlation data)
};

/// Decides whether `message` answers the request with `correlation_data` (pure; tests).
ResponseMatch match_response(const ReceivedMessage& message, const std::string& correlation_data);

/// Adds `rr` parsing into `options` (which the action shares); for in-process tests.
CLI::App* add_rr_command(CLI::App& app, std::shared_ptr<RrOptions> options);

/// Adds the `rr` subcommand to `app`, with run_rr as its action.
void setup_rr(CLI::App& app);

/// Runs `rr`; returns the exit code.
int run_rr(const RrOptions& options);

} // namespace mqfleet::cli
