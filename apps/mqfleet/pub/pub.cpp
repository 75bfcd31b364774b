#include "pub/pub.hpp"

#include "cli.hpp"
#include "connection_resolve.hpp"
#include "exit_codes.hpp"
#include "property_flags.hpp"
#include "pub/pub_input.hpp"
#include "signals.hpp"

#include <mqfleet/connection.hpp>
#include <mqfleet/error.hpp>
#include <mqfleet/lean_connection.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <thread>
#include <type_traits>
#include <unistd.h>

namespace mqfleet::cli {
namespace {

using namespace std::chrono_literals;

// A single message up to this size travels in the same write as CONNECT (MQTT 3.x only:
// a v5 broker's Maximum Packet Size is known from its CONNACK, so v5 waits for it).
constexpr std::size_t k_pipelined_payload = 64 * 1024;

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000.0));
}

// Sleeps `delay`, returning early (false) when a stop is requested.
bool sleep_unless_stopped(std::chrono::milliseconds delay) {
  const auto deadline = std::chrono::steady_clock::now() + delay;
  while (std::chrono::steady_clock::now() < deadline) {
    if (stop_token().stop_requested()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(50ms, deadline - std::chrono::steady_clock::now()));
  }
  return !stop_token().stop_requested();
}

// Waits between repeated messages. The Paho client keeps its connection alive on its own
// threads; the lean client is served while waiting.
bool pause_unless_stopped(Connection&, std::chrono::milliseconds delay) { return sleep_unless_stopped(delay); }

bool pause_unless_stopped(LeanConnection& connection, std::chrono::milliseconds delay) {
  const auto deadline = std::chrono::steady_clock::now() + delay;
  for (auto now = std::chrono::steady_clock::now(); now < deadline; now = std::chrono::steady_clock::now()) {
    if (stop_token().stop_requested()) return false;
    connection.serve(-1, std::chrono::ceil<std::chrono::milliseconds>(deadline - now));
  }
  return !stop_token().stop_requested();
}

LineReader stdin_reader(Connection&) { return LineReader(STDIN_FILENO, stop_token()); }

LineReader stdin_reader(LeanConnection& connection) {
  return LineReader(STDIN_FILENO, stop_token(),
                    [&connection](int fd, std::chrono::milliseconds timeout) { return connection.serve(fd, timeout); });
}

void debug_line(const PubOptions& options, const std::string& text) {
  if (options.debug) std::cerr << "mqfleet: " << text << '\n';
}

// What to send when the message does not come from stdin line by line.
struct SinglePayload {
  std::string payload;
  std::string where;
};

std::optional<SinglePayload> single_payload(const PubOptions& options) {
  if (options.message) return SinglePayload{*options.message, "-m"};
  const std::size_t limit = max_payload_size(options.topic);
  if (!options.file.empty()) return SinglePayload{read_message_file(options.file, limit), "-f " + options.file};
  if (options.null_message) return SinglePayload{{}, "-n"};
  if (options.whole_stdin)
    return SinglePayload{LineReader(STDIN_FILENO, stop_token(), {}, limit).read_all(), "stdin (-s)"};
  return std::nullopt;
}

// Publishes everything the options ask for. Stops early (InterruptedError) on SIGINT;
// input errors propagate after the caller drained what was already sent. When the
// connection is lost for good in line mode, `input_note` says where the input stopped.
template <typename Client>
void publish_all(const PubOptions& options, Client& connection, const std::optional<SinglePayload>& single,
                 const PublishProperties& properties, std::string* input_note) {
  OutgoingMessage message;
  message.topic = options.topic;
  message.qos = options.qos;
  message.retain = options.retain;
  message.properties = properties;
  if (single) {
    message.payload = single->payload;
    for (int i = 0; i < options.repeat; ++i) {
      if (i > 0 && options.repeat_delay > 0 && !pause_unless_stopped(connection, to_ms(options.repeat_delay)))
        throw InterruptedError("interrupted");
      connection.publish(message);
      debug_line(options, fmt::format("published {} bytes to '{}' (QoS {})", message.payload.size(), message.topic,
                                      message.qos));
    }
    return;
  }
  LineReader reader = stdin_reader(connection);
  std::size_t handed = 0; // input lines handed to the client so far
  try {
    while (auto line = reader.next()) {
      if (options.jsonl) {
        if (line->find_first_not_of(" \t") == std::string_view::npos) {
          handed = reader.line_number();
          continue;
        }
        OutgoingMessage record =
            parse_jsonl_record(*line, reader.line_number(), options.qos, options.retain, options.json);
        record.properties = properties;
        connection.publish(record);
      } else {
        if (options.json) require_json(*line, fmt::format("stdin line {}", reader.line_number()));
        message.payload.assign(line->data(), line->size());
        connection.publish(message);
      }
      handed = reader.line_number();
    }
  } catch (const DeliveryError& e) {
    // The connection was lost for good (--no-reconnect): say where the input stopped. (A
    // message the broker's limits refuse carries its reason code instead of -1.)
    if (e.reason_code() == -1 && input_note != nullptr)
      *input_note =
          fmt::format("{} input lines were handed over, every line from line {} on was never sent", handed, handed + 1);
    throw;
  }
  if (stop_token().stop_requested()) throw InterruptedError("interrupted");
}

} // namespace

void setup_pub(CLI::App& app) { add_pub_command(app, std::make_shared<PubOptions>()); }

CLI::App* add_pub_command(CLI::App& app, std::shared_ptr<PubOptions> options) {
  CLI::App* pub = app.add_subcommand("pub", "Publish messages (mosquitto_pub-compatible flags)");
  pub->set_help_flag("--help", "Print this help and exit");
  add_connection_flags(*pub, options->connection);

  const char* what = "Message";
  pub->add_option("-t,--topic", options->topic, "Topic to publish to")->group(what);
  std::vector<CLI::Option*> sources{
      pub->add_option("-m,--message", options->message, "Send this message")->group(what),
      pub->add_option("-f,--file", options->file, "Send the whole file as one message")->group(what),
      pub->add_flag("-n,--null-message", options->null_message, "Send a zero-length message")->group(what),
      pub->add_flag("-s,--stdin-file", options->whole_stdin, "Send all of stdin as one message")->group(what),
      pub->add_flag("-l,--stdin-line", options->lines, "Send each line of stdin as a message")->group(what),
      pub->add_flag("--jsonl", options->jsonl,
                    R"(Each stdin line is {"topic":..,"payload":..,"qos":..,"retain":..})")
          ->group(what)};
  for (CLI::Option* a : sources)
    for (CLI::Option* b : sources)
      if (a != b) a->excludes(b);
  pub->add_option("-q,--qos", options->qos, "Quality of service: 0, 1 or 2")->check(CLI::Range(0, 2))->group(what);
  pub->add_flag("-r,--retain", options->retain, "Ask the broker to retain the message")->group(what);
  pub->add_flag("--json", options->json, "Refuse payloads that are not valid JSON")->group(what);
  pub->add_option("-D,--property", options->properties,
                  "MQTT 5 property: connect|publish|will|disconnect NAME VALUE (user-property: NAME KEY VALUE), "
                  "as mosquitto_pub; implies -V 5")
      ->expected(3, 4)
      ->group(what);
  pub->add_option("--repeat", options->repeat, "Publish the message this many times")
      ->check(CLI::PositiveNumber)
      ->group(what);
  pub->add_option("--repeat-delay", options->repeat_delay, "Seconds between repeated messages")
      ->check(CLI::NonNegativeNumber)
      ->group(what);

  const char* behaviour = "Behaviour";
  pub->add_option("--max-inflight", options->max_inflight,
                  "Messages awaiting acknowledgement (or being written) at once (default 1000)")
      ->check(CLI::Range(1, 1000000))
      ->group(behaviour);
  pub->add_option("--drain-timeout", options->drain_timeout,
                  "Seconds to wait for outstanding acknowledgements at the end (default 30)")
      ->check(CLI::NonNegativeNumber)
      ->group(behaviour);
  pub->add_flag("--no-reconnect", options->no_reconnect,
                "Exit when an established connection drops (default: reconnect with back-off and resend "
                "what was not acknowledged)")
      ->group(behaviour);
  pub->add_flag("-d,--debug", options->debug, "Print what happens on stderr")->group(behaviour);
  pub->add_flag("--quiet", options->quiet, "Do not print warnings")->group(behaviour);

  pub->callback([options] {
    const PubOptions& o = *options;
    const bool has_source = o.message || !o.file.empty() || o.null_message || o.whole_stdin || o.lines || o.jsonl;
    if (!has_source)
      throw CLI::ValidationError("pub", "give the message with -m, -f, -n, -s, -l or --jsonl");
    if (!o.jsonl && o.topic.empty() && !url_has_topic(o.connection))
      throw CLI::ValidationError("-t", "a topic is required (or use --jsonl, whose lines name their topics, or "
                                       "a URL with a path: -L mqtt://host/TOPIC)");
    if ((o.lines || o.jsonl) && o.repeat != 1)
      throw CLI::ValidationError("--repeat", "repeats a single message; it does not combine with -l or --jsonl");
  });
  set_action(pub, [options] { return run_pub(*options); });
  return pub;
}

namespace {

// Connects, publishes, drains and disconnects; returns the exit code or throws.
template <typename Client>
int publish_with(const PubOptions& options, const ConnectionProfile& profile, Client& connection,
                 const std::optional<SinglePayload>& single, const PublishProperties& properties) {
  connection.set_stop_token(stop_token());
  connection.set_max_inflight(options.max_inflight);
  const bool pipelined = std::is_same_v<Client, LeanConnection> && !options.debug && single &&
                         profile.version != MqttVersion::v5 && single->payload.size() <= k_pipelined_payload;
  if constexpr (std::is_same_v<Client, LeanConnection>) {
    // A small first message travels with CONNECT; the CONNACK is checked at the first
    // wait. -d waits for it, to report the connect time.
    if (pipelined) connection.start_connect();
  }
  if (!pipelined) {
    const ConnectResult connected = connection.connect();
    debug_line(options, fmt::format("connected to {}:{} in {:.1f} ms (session present: {})", profile.host,
                                    profile.effective_port(), connected.connect_time.count() / 1000.0,
                                    connected.session_present));
  }

  bool interrupted = false;
  std::exception_ptr input_error;
  std::optional<DeliveryError> send_error;
  std::string input_note;
  try {
    publish_all(options, connection, single, properties, &input_note);
  } catch (const InterruptedError&) {
    interrupted = true;
  } catch (const ConfigError&) {
    input_error = std::current_exception();
  } catch (const DeliveryError& e) {
    send_error = e; // the connection was lost, or a message could not be carried
  }
  interrupted = interrupted || stop_token().stop_requested();

  // Drain even after SIGINT or a bad input line: what was sent must be acknowledged.
  connection.set_stop_token({});
  std::optional<DeliveryError> undelivered;
  try {
    connection.disconnect(to_ms(options.drain_timeout));
  } catch (const DeliveryError& e) {
    undelivered = e;
  }
  const DeliveryReport report = connection.delivery_report();
  debug_line(options, fmt::format("{} published, {} acknowledged, {} refused", report.published,
                                  report.acknowledged, report.failed));
  if (input_error) {
    if (undelivered) std::cerr << error_message(*undelivered) << '\n';
    std::rethrow_exception(input_error);
  }
  if (interrupted) {
    if (undelivered) std::cerr << error_message(*undelivered) << '\n';
    else if (!options.quiet)
      std::cerr << fmt::format("mqfleet: interrupted: {} messages published, all acknowledged\n", report.published);
    return exit_code::k_interrupted;
  }
  if (send_error && !input_note.empty()) {
    // Lost for good in line mode: what was not acknowledged, and what was never sent.
    const DeliveryError& first = undelivered ? *undelivered : *send_error;
    throw DeliveryError(first.reason_code(), fmt::format("{}; {}", first.what(), input_note), first.where(),
                        send_error->hint());
  }
  if (undelivered) throw *undelivered;
  if (send_error) throw *send_error;
  return exit_code::k_success;
}

} // namespace

int run_pub(const PubOptions& given) {
  PubOptions options = given;
  if (options.topic.empty() && !options.jsonl) options.topic = topic_from_url(options.connection);
  if (!options.jsonl) require_topic_name(options.topic, "-t");
  ConnectionProfile profile = resolve_connection(options.connection);
  // The lean client reconnects unless --no-reconnect; the Paho comparison backend keeps
  // the profile's setting (its automatic reconnect leaks under LeakSanitizer).
  const bool paho_reconnect = profile.reconnect.enabled && !options.no_reconnect;
  profile.reconnect.enabled = !options.no_reconnect;
  const PropertyFlags property_flags = parse_property_flags(options.properties, "pub");
  apply_property_flags(property_flags, options.connection.version, profile);
  const PublishProperties& properties = property_flags.publish;
  const std::optional<SinglePayload> single = single_payload(options);
  if (single && options.json && !options.null_message) require_json(single->payload, single->where);

  std::string why_not_lean;
  if (use_lean_client(profile, "MQFLEET_PUB_CLIENT", why_not_lean)) {
    LeanConnection connection(profile);
    return publish_with(options, profile, connection, single, properties);
  }
  if (properties.topic_alias)
    throw ConfigError(fmt::format("-D publish topic-alias needs the lean client, not the Paho one ({})", why_not_lean),
                      "-D publish topic-alias", fmt::format("drop the topic alias, or drop {}", why_not_lean));
  debug_line(options, fmt::format("using the Paho client ({})", why_not_lean));
  profile.reconnect.enabled = paho_reconnect;
  Connection connection(profile);
  return publish_with(options, profile, connection, single, properties);
}

} // namespace mqfleet::cli
