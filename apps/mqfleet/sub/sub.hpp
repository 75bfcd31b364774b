#pragma once
// `mqfleet sub`: subscribe and print messages, mosquitto_sub-compatible flags (-t -q -C
// -W -R -E -N -v -T -U -F --retained-only --remove-retained) plus --format jsonl.

#include "connection_flags.hpp"
#include "message_output.hpp"

#include <mqfleet/connection.hpp>

#include <CLI/CLI.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace mqfleet::cli {

/// Options of `mqfleet sub`, as parsed.
struct SubOptions {
  ConnectionFlags connection;
  std::vector<std::string> topics;       ///< -t (repeatable)
  int qos = 0;                           ///< -q: requested QoS for every filter
  std::optional<std::size_t> count;      ///< -C: exit 0 after this many printed messages
  std::optional<double> wait_seconds;    ///< -W: exit 6 if -C / --retained-only is not done by then
  bool no_retained = false;              ///< -R: do not print retained (stale) messages
  bool retained_only = false;            ///< --retained-only: print retained ones, exit at the first fresh one
  bool exit_after_suback = false;        ///< -E: exit once the subscriptions are acknowledged
  bool no_eol = false;                   ///< -N: no newline after each message
  bool verbose = false;                  ///< -v: "topic payload"
  std::vector<std::string> filter_out;   ///< -T: topics matching these filters are skipped
  bool remove_retained = false;          ///< --remove-retained: clear each retained message received
  std::string format;                    ///< -F: mosquitto_sub format string
  std::string output = "text";           ///< --format text|jsonl
  std::vector<std::string> unsubscribe;  ///< -U: filters to unsubscribe from after subscribing
  bool pretty = false;                   ///< --pretty: indent %j / %J output
  bool no_local = false;                 ///< --no-local (MQTT 5)
  bool retain_as_published = false;      ///< --retain-as-published (MQTT 5)
  std::optional<int> retain_handling;    ///< --retain-handling 0|1|2 (MQTT 5)
  bool debug = false;                    ///< -d: connection and subscription events on stderr
  bool quiet = false;                    ///< --quiet: no warnings on stderr
  bool no_reconnect = false;             ///< --no-reconnect: exit when the connection drops
  std::vector<std::vector<std::string>> properties; ///< -D connect|subscribe|unsubscribe|will|disconnect ...
  bool watch = false;                    ///< -w/--watch: a live table, one line per topic (sub/watch.hpp)
  bool message_rate = false;             ///< --message-rate: messages per second per filter, each second
};

/// The output flags of `sub` as the shared renderer takes them (message_output.hpp).
OutputStyle output_style(const SubOptions& options);

/// Adds the `sub` subcommand and its flags, bound to `options`; returns it. setup_sub
/// uses it; in-process tests call it to inspect what a command line parses to.
CLI::App* add_sub_command(CLI::App& app, SubOptions& options);

/// Adds the `sub` subcommand to `app`, with run_sub as its action.
void setup_sub(CLI::App& app);

/// Checks what the parser cannot: filters are valid MQTT filters, MQTT 5-only options are
/// used with MQTT 5. Throws ConfigError naming the flag.
void validate_sub_options(const SubOptions& options, MqttVersion version);

/// What to do with one received message, after -T, --remove-retained, --retained-only,
/// -R and -C (applied in mosquitto_sub's order).
struct SubDecision {
  bool print = false;           ///< print it
  bool clear_retained = false;  ///< publish an empty retained message to its topic
  bool stop = false;            ///< exit 0 after handling it
};

/// The per-message rules of `sub`, free of I/O so they can be tested in-process.
class SubMessageFilter {
public:
  explicit SubMessageFilter(const SubOptions& options);
  /// Decides for the next message and counts it when printed.
  SubDecision decide(const ReceivedMessage& message);
  /// Messages printed so far.
  std::size_t printed() const noexcept { return m_printed; }

private:
  std::vector<std::string> m_filter_out;
  bool m_remove_retained;
  bool m_retained_only;
  bool m_no_retained;
  std::optional<std::size_t> m_count;
  std::size_t m_printed = 0;
};

/// Runs `sub`; returns the exit code.
int run_sub(const SubOptions& options);

} // namespace mqfleet::cli
