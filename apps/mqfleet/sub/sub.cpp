#include "sub/sub.hpp"

#include "cli.hpp"
#include "connection_resolve.hpp"
#include "exit_codes.hpp"
#include "property_flags.hpp"
#include "message_output.hpp"
#include "signals.hpp"
#include "sub/watch.hpp"

#include <mqfleet/connection.hpp>
#include <mqfleet/error.hpp>
#include <mqfleet/lean_connection.hpp>
#include <mqfleet/message_format.hpp>
#include <mqfleet/mqtt/topic.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <type_traits>
#include <unistd.h>

namespace mqfleet::cli {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Printed QoS 1/2 messages are acknowledged once written out; at most this many wait
// for the next flush.
constexpr std::size_t k_max_unacknowledged = 256;

/// Standard output was closed by its reader (`sub | head -1`): sub ends quietly with 0,
/// as a pipeline expects (docs/exit-codes.md).
struct OutputClosed {};

[[noreturn]] void output_failed() {
  if (errno == EPIPE) throw OutputClosed{};
  throw ConfigError(fmt::format("cannot write to standard output: {}", std::strerror(errno)), "stdout",
                    "check the pipe or file that receives the output (a full disk?)");
}

// The lean client acknowledges a QoS 1/2 message when told, once it was written out;
// Paho acknowledges on receipt.
void acknowledge(LeanConnection& connection, const ReceivedMessage& message) { connection.acknowledge(message); }
void acknowledge(Connection&, const ReceivedMessage&) {}

// How long one receive() blocks before the loop looks at -W and the stop token again.
constexpr auto k_receive_slice = 250ms;

std::string describe_suback(int code) {
  switch (code) {
  case 0x80: return "unspecified error";
  case 0x83: return "implementation specific error";
  case 0x87: return "not authorized";
  case 0x8F: return "topic filter invalid";
  case 0x91: return "packet identifier in use";
  case 0x97: return "quota exceeded";
  case 0x9E: return "shared subscriptions not supported";
  case 0xA1: return "subscription identifiers not supported";
  case 0xA2: return "wildcard subscriptions not supported";
  default: return "refused";
  }
}

// docs/exit-codes.md: a refused subscription exits with the protocol code (8), whatever
// the reason code, so scripts can tell it from a refused connection or credentials.
ProtocolError subscription_refused(const std::string& filter, int code) {
  return ProtocolError(code,
                      fmt::format("the broker refused the subscription to '{}': {} (SUBACK 0x{:02X})", filter,
                                  describe_suback(code), code),
                      filter,
                      "check the topic filter and the broker's ACLs for this user (-u); `mqfleet sub` "
                      "never runs with a subscription missing");
}

void validate_filters(const std::vector<std::string>& filters, const char* flag) {
  for (const auto& filter : filters) {
    const mqtt::TopicStatus status = mqtt::check_topic_filter(filter);
    if (status != mqtt::TopicStatus::ok)
      throw ConfigError(fmt::format("the topic filter '{}' {}", printable(filter), mqtt::describe(status)), flag,
                        "use UTF-8 (no NUL) of at most 65,535 bytes, '/' between levels; '+' and '#' must fill a "
                        "whole level and '#' must be last");
  }
}

/// Writes rendered messages to stdout; flushes when the caller has nothing more queued.
class Printer {
public:
  explicit Printer(const SubOptions& options)
      : m_renderer(output_style(options)), m_watch_lines(options.watch && !::isatty(STDOUT_FILENO)),
        m_quiet(options.quiet) {
    // --message-rate and --watch replace the message output (sub/watch.hpp); without a
    // terminal, --watch prints each message's line instead of a table.
    if (options.message_rate) m_rate.emplace(stdout, options.topics, Clock::now());
    if (options.watch && !m_watch_lines) m_watch.emplace(stdout, STDOUT_FILENO);
  }

  void print(const ReceivedMessage& message) {
    if (m_rate) return m_rate->count(message.topic, Clock::now());
    std::vector<std::string> warnings;
    std::optional<std::string> text;
    if (m_watch || m_watch_lines) {
      text = m_renderer.render_line(message, &warnings);
    } else {
      text = m_renderer.render(message, &warnings);
    }
    if (!m_quiet)
      for (const auto& warning : warnings) fmt::print(stderr, "mqfleet: warning: {}\n", warning);
    if (m_watch) return m_watch->update(message.topic, std::move(*text), Clock::now());
    if (!text) return;
    if (m_watch_lines) text->push_back('\n');
    if (std::fwrite(text->data(), 1, text->size(), stdout) != text->size()) output_failed();
    m_pending = true;
  }

  bool pending() const noexcept { return m_pending || (m_watch && m_watch->dirty()); }

  void flush() {
    if (m_rate) m_rate->tick(Clock::now());
    if (m_watch && m_watch->dirty()) m_watch->draw();
    if (!m_pending) return;
    m_pending = false;
    if (std::fflush(stdout) != 0) output_failed();
  }

  /// At a normal end: the last partial --message-rate interval, then flush.
  void finish() {
    if (m_rate) m_rate->finish(Clock::now());
    flush();
  }

private:
  MessageRenderer m_renderer;
  bool m_watch_lines;
  std::optional<WatchScreen> m_watch;
  std::optional<RateMeter> m_rate;
  bool m_quiet;
  bool m_pending = false;
};

/// Subscribes to every filter; returns the SUBACK code of each, in order.
template <typename Client>
std::vector<int> subscribe_all(Client& connection, const std::vector<std::string>& filters,
                               const SubscribeOptions& subscribe_options) {
  try {
    return connection.subscribe(filters, subscribe_options);
  } catch (const ProtocolError& e) {
    // Paho reports a refused single-filter SUBSCRIBE as a failure rather than a SUBACK code.
    throw subscription_refused(filters.size() == 1 ? filters.front() : e.where(), e.reason_code());
  }
}

// The same loop serves both clients: the lean one (its I/O runs inside receive()) and the
// Paho-backed one.
template <typename Client>
int run_sub_connected(const SubOptions& options, const std::vector<std::string>& topics, Client& connection,
                      Printer& printer) {
  SubscribeOptions subscribe_options;
  subscribe_options.qos = options.qos;
  subscribe_options.no_local = options.no_local;
  subscribe_options.retain_as_published = options.retain_as_published;
  subscribe_options.retain_handling = options.retain_handling.value_or(0);

  const ConnectResult connected = connection.connect();
  if (options.debug)
    fmt::print(stderr, "mqfleet sub: connected to {}:{} (session present: {})\n", connection.profile().host,
               connection.profile().effective_port(), connected.session_present ? "yes" : "no");
  const auto started = Clock::now();

  if (!topics.empty()) {
    const std::vector<int> granted = subscribe_all(connection, topics, subscribe_options);
    for (std::size_t i = 0; i < granted.size() && i < topics.size(); ++i) {
      if (granted[i] >= 0x80) throw subscription_refused(topics[i], granted[i]);
      if (options.debug)
        fmt::print(stderr, "mqfleet sub: subscribed to {} (granted QoS {})\n", topics[i], granted[i]);
    }
  }
  if (!options.unsubscribe.empty()) {
    connection.unsubscribe(options.unsubscribe);
    if (options.debug)
      for (const auto& filter : options.unsubscribe) fmt::print(stderr, "mqfleet sub: unsubscribed from {}\n", filter);
  }
  if (options.exit_after_suback) {
    connection.disconnect();
    return exit_code::k_success;
  }

  std::optional<Clock::time_point> deadline;
  if (options.wait_seconds)
    deadline = started + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*options.wait_seconds));
  SubMessageFilter filter(options);
  // QoS 1/2 messages printed but not yet flushed: acknowledged only once on the way out.
  std::vector<ReceivedMessage> unacknowledged;
  const auto flush = [&] {
    printer.flush();
    for (const ReceivedMessage& done : unacknowledged) acknowledge(connection, done);
    unacknowledged.clear();
  };
  while (true) {
    auto slice = std::chrono::milliseconds(k_receive_slice);
    if (deadline) {
      const auto now = Clock::now();
      if (now >= *deadline) {
        flush();
        connection.disconnect();
        throw TimeoutError(
            options.count ? fmt::format("timed out after {} s with {} of {} messages", *options.wait_seconds,
                                        filter.printed(), *options.count)
                          : fmt::format("timed out after {} s ({} messages printed)", *options.wait_seconds,
                                        filter.printed()),
            "-W", "raise -W, or check that something publishes to the topic");
      }
      slice = std::min(slice, std::chrono::ceil<std::chrono::milliseconds>(*deadline - now));
    }
    // While output is pending, only take what is already queued: flush before blocking.
    auto message = connection.receive(printer.pending() ? 0ms : slice);
    if (!message) {
      flush();
      continue;
    }
    const SubDecision decision = filter.decide(*message);
    if (decision.clear_retained) {
      OutgoingMessage clear;
      clear.topic = message->topic;
      clear.qos = 1;  // acknowledged before disconnect, so the broker really dropped it
      clear.retain = true;
      connection.publish(clear);
    }
    if (decision.print) {
      printer.print(*message);
      if (message->qos > 0) {
        ReceivedMessage ack;
        ack.qos = message->qos;
        ack.packet_id = message->packet_id;
        unacknowledged.push_back(std::move(ack));
        if (unacknowledged.size() >= k_max_unacknowledged) flush();
      }
    } else {
      acknowledge(connection, *message);
    }
    if (decision.stop) break;
  }
  printer.finish();
  flush(); // acknowledges what finish() wrote out
  connection.disconnect();
  return exit_code::k_success;
}

} // namespace

OutputStyle output_style(const SubOptions& options) {
  OutputStyle style;
  style.format = options.format;
  style.jsonl = options.output == "jsonl";
  style.verbose = options.verbose;
  style.pretty = options.pretty;
  style.no_eol = options.no_eol;
  return style;
}

SubMessageFilter::SubMessageFilter(const SubOptions& options)
    : m_filter_out(options.filter_out), m_remove_retained(options.remove_retained),
      m_retained_only(options.retained_only), m_no_retained(options.no_retained), m_count(options.count) {}

SubDecision SubMessageFilter::decide(const ReceivedMessage& message) {
  SubDecision decision;
  for (const auto& filter : m_filter_out)
    if (mqtt::topic_matches(filter, message.topic)) return decision;
  decision.clear_retained = m_remove_retained && message.retain;
  if (m_retained_only && !message.retain) {
    decision.stop = true;
    return decision;
  }
  if (m_no_retained && message.retain) return decision;
  decision.print = true;
  ++m_printed;
  decision.stop = m_count && m_printed >= *m_count;
  return decision;
}

void validate_sub_options(const SubOptions& options, MqttVersion version) {
  validate_filters(options.topics, "-t");
  validate_filters(options.filter_out, "-T");
  validate_filters(options.unsubscribe, "-U");
  if (version != MqttVersion::v5) {
    const char* flag = options.no_local             ? "--no-local"
                       : options.retain_as_published ? "--retain-as-published"
                       : options.retain_handling     ? "--retain-handling"
                                                     : nullptr;
    if (flag != nullptr)
      throw ConfigError(fmt::format("{} is an MQTT 5 subscription option", flag), flag,
                        "add -V 5 (the broker must support MQTT 5)");
  }
  if (options.wait_seconds && !(*options.wait_seconds > 0))
    throw ConfigError("the -W timeout must be more than 0 seconds", "-W", "give a number of seconds such as -W 5");
}

CLI::App* add_sub_command(CLI::App& app, SubOptions& o) {
  CLI::App* sub = app.add_subcommand("sub", "Subscribe to topics and print the messages (mosquitto_sub-compatible)");
  sub->set_help_flag("--help", "Print this help and exit");
  add_connection_flags(*sub, o.connection);

  auto* topics = sub->add_option_group("Subscriptions", "at least one -t or -U (or a topic in the -L URL)");
  topics->add_option("-t,--topic", o.topics, "Topic filter to subscribe to (repeatable)");
  topics->add_option("-U,--unsubscribe", o.unsubscribe,
                     "Filter to unsubscribe from after subscribing (repeatable; useful with -c)");
  sub->callback([&o] {
    if (o.topics.empty() && o.unsubscribe.empty() && !url_has_topic(o.connection))
      throw CLI::ValidationError("-t", "give at least one topic filter with -t (or -U, or -L mqtt://host/TOPIC)");
  });

  const std::string group = "Subscription";
  sub->add_option("-q,--qos", o.qos, "QoS to request for every filter (0, 1 or 2)")
      ->check(CLI::Range(0, 2))
      ->group(group);
  sub->add_option("-C,--count", o.count, "Exit after printing this many messages")
      ->check(CLI::PositiveNumber)
      ->group(group);
  sub->add_option("-W,--timeout", o.wait_seconds,
                  "Exit with code 6 if not done (-C, --retained-only) this many seconds after connecting")
      ->check(CLI::PositiveNumber)
      ->group(group);
  auto* no_retained = sub->add_flag("-R", o.no_retained, "Do not print retained (stale) messages")->group(group);
  sub->add_flag("--retained-only", o.retained_only,
                "Print only retained messages; exit at the first fresh message")
      ->excludes(no_retained)
      ->group(group);
  sub->add_flag("--no-reconnect", o.no_reconnect,
                "Exit when an established connection drops (default: reconnect with back-off and subscribe again)")
      ->group(group);
  sub->add_flag("-E", o.exit_after_suback, "Exit once the broker has acknowledged the subscriptions")->group(group);
  sub->add_option("-T,--filter-out", o.filter_out, "Do not print topics matching this filter (repeatable)")
      ->group(group);
  sub->add_flag("--remove-retained", o.remove_retained,
                "Clear every retained message received (publishes an empty retained message)")
      ->group(group);
  sub->add_flag("--no-local", o.no_local, "Do not receive this client's own publications (MQTT 5)")->group(group);
  sub->add_flag("--retain-as-published", o.retain_as_published,
                "Keep the publisher's retain flag instead of marking stale messages (MQTT 5)")
      ->group(group);
  sub->add_option("--retain-handling", o.retain_handling,
                  "Retained messages on subscribe: 0 send, 1 only for a new subscription, 2 never (MQTT 5)")
      ->check(CLI::Range(0, 2))
      ->group(group);

  const std::string output = "Output";
  auto* format = sub->add_option("-F", o.format, "mosquitto_sub format string (%t topic, %p payload...; see man mosquitto_sub)")
                     ->group(output);
  auto* output_format = sub->add_option("--format", o.output, "Output style: text (default) or jsonl (one JSON object per message)")
      ->check(CLI::IsMember({"text", "jsonl"}))
      ->excludes(format)
      ->group(output);
  sub->add_flag("-v,--verbose", o.verbose, "Print \"topic payload\"")->group(output);
  sub->add_flag("-N", o.no_eol, "Do not print a newline after each message")->group(output);
  sub->add_flag("--pretty", o.pretty, "Indent the JSON of %j and %J")->group(output);
  sub->add_flag("-d,--debug", o.debug, "Print connection and subscription events on stderr")->group(output);
  sub->add_flag("--quiet", o.quiet, "Do not print warnings")->group(output);
  sub->add_option("-D,--property", o.properties,
                  "MQTT 5 property: connect|subscribe|unsubscribe|will|disconnect NAME VALUE (user-property: "
                  "NAME KEY VALUE), as mosquitto_sub; implies -V 5")
      ->expected(3, 4)
      ->group(group);
  auto* watch = sub->add_flag("-w,--watch", o.watch,
                              "One line per topic, updated in place on a terminal (plain lines otherwise)")
                    ->excludes(output_format)
                    ->group(output);
  sub->add_flag("--message-rate", o.message_rate, "Print messages per second per -t filter, each second, "
                                                  "instead of the messages")
      ->excludes(watch)
      ->group(output);
  return sub;
}

void setup_sub(CLI::App& app) {
  auto options = std::make_shared<SubOptions>();
  CLI::App* sub = add_sub_command(app, *options);
  set_action(sub, [options] { return run_sub(*options); });
}

namespace {

template <typename Client>
int subscribe_with(const SubOptions& options, const std::vector<std::string>& topics, Client& connection,
                   Printer& printer) {
  connection.set_stop_token(stop_token());
  if constexpr (std::is_same_v<Client, LeanConnection>) connection.set_manual_acknowledgement(true);
  connection.start_receiving();
  try {
    return run_sub_connected(options, topics, connection, printer);
  } catch (const InterruptedError&) {
    // Ctrl-C is how a subscription normally ends: no error message, just the code.
    std::fflush(stdout);
    return exit_code::k_interrupted;
  } catch (const OutputClosed&) {
    // The reader of stdout is gone (`| head -1`): what was not written was not
    // acknowledged either, so a persistent session gets it again.
    return exit_code::k_success;
  }
}

} // namespace

int run_sub(const SubOptions& options) {
  // As mosquitto_sub, a topic in the URL's path is one more filter to subscribe to.
  std::vector<std::string> topics = options.topics;
  if (const std::string url_topic = topic_from_url(options.connection);
      !url_topic.empty() && std::find(topics.begin(), topics.end(), url_topic) == topics.end())
    topics.push_back(url_topic);
  ConnectionProfile profile = resolve_connection(options.connection);
  // The lean client reconnects unless --no-reconnect; the Paho comparison backend keeps
  // the profile's setting (its automatic reconnect leaks under LeakSanitizer).
  const bool paho_reconnect = profile.reconnect.enabled && !options.no_reconnect;
  profile.reconnect.enabled = !options.no_reconnect;
  apply_property_flags(parse_property_flags(options.properties, "sub"), options.connection.version, profile);
  SubOptions checked = options;
  checked.topics = topics;
  validate_sub_options(checked, profile.version);
  Printer printer(options);  // parses -F before anything touches the network
  std::string why_not_lean;
  if (use_lean_client(profile, "MQFLEET_SUB_CLIENT", why_not_lean)) {
    LeanConnection connection(std::move(profile));
    return subscribe_with(options, topics, connection, printer);
  }
  if (options.debug) fmt::print(stderr, "mqfleet sub: using the Paho client ({})\n", why_not_lean);
  profile.reconnect.enabled = paho_reconnect;
  Connection connection(std::move(profile));
  return subscribe_with(options, topics, connection, printer);
}

} // namespace mqfleet::cli
