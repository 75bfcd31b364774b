#include "rr/rr.hpp"

#include "cli.hpp"
#include "connection_resolve.hpp"
#include "exit_codes.hpp"
#include "pub/pub_input.hpp"
#include "signals.hpp"

#include <mqfleet/error.hpp>
#include <mqfleet/lean_connection.hpp>
#include <mqfleet/mqtt/topic.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <cstdio>

namespace mqfleet::cli {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// How long one receive() blocks before the loop looks at -W and the stop token again.
constexpr auto k_receive_slice = 250ms;

std::string request_payload(const RrOptions& o) {
  if (o.message) return *o.message;
  if (!o.file.empty()) return read_message_file(o.file, max_payload_size(o.topic));  // as pub -f
  if (o.whole_stdin) return LineReader(STDIN_FILENO, stop_token()).read_all();
  return {};
}

void validate(const RrOptions& o, MqttVersion version) {
  if (!mqtt::is_valid_topic_name(o.topic))
    throw ConfigError(fmt::format("'{}' is not a valid topic to publish to", o.topic), "-t",
                      "give a topic name without '+' or '#', at most 65,535 bytes of UTF-8");
  if (!mqtt::is_valid_topic_name(o.response_topic))
    throw ConfigError(fmt::format("'{}' is not a valid response topic", o.response_topic), "-e",
                      "the responder publishes to it: give a topic name without '+' or '#'");
  if (o.wait_seconds && !(*o.wait_seconds > 0))
    throw ConfigError("the -W timeout must be more than 0 seconds", "-W", "give a number of seconds such as -W 5");
  if (o.correlation_data && version != MqttVersion::v5)
    throw ConfigError("--correlation-data is an MQTT 5 property", "--correlation-data",
                      "drop -V (rr speaks MQTT 5 by default) or drop --correlation-data");
}

OutputStyle output_style(const RrOptions& o) {
  OutputStyle style;
  style.format = o.format;
  style.jsonl = o.output == "jsonl";
  style.verbose = o.verbose;
  style.pretty = o.pretty;
  style.no_eol = o.no_eol;
  return style;
}

void write_stdout(const std::string& text) {
  if ((!text.empty() && std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) || std::fflush(stdout) != 0)
    throw Error("cannot write to standard output", "stdout", "check the pipe or file that receives the output");
}

int exchange(const RrOptions& o, LeanConnection& connection, const MessageRenderer& renderer,
             const std::string& payload, const std::string& correlation) {
  const bool v5 = connection.profile().version == MqttVersion::v5;
  connection.set_stop_token(stop_token());
  connection.start_receiving();
  connection.connect();
  const auto started = Clock::now();
  std::optional<Clock::time_point> deadline;
  if (o.wait_seconds)
    deadline = started + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*o.wait_seconds));

  // Subscribed before the request leaves, so even an instant response is not missed.
  SubscribeOptions subscribe;
  subscribe.qos = o.qos;
  subscribe.retain_handling = 2;  // v5: a retained message on the response topic is not a response
  const std::vector<int> granted = connection.subscribe({o.response_topic}, subscribe);
  if (granted.empty() || granted.front() >= 0x80)
    throw ProtocolError(granted.empty() ? 0x80 : granted.front(),
                        fmt::format("the broker refused the subscription to the response topic '{}' (SUBACK 0x{:02X})",
                                    o.response_topic, granted.empty() ? 0x80 : granted.front()),
                        "-e", "check the broker's ACLs for this user (-u)");
  if (o.debug) fmt::print(stderr, "mqfleet rr: subscribed to {}\n", o.response_topic);

  OutgoingMessage request;
  request.topic = o.topic;
  request.payload = payload;
  request.qos = o.qos;
  if (v5) {
    request.properties.response_topic = o.response_topic;
    request.properties.correlation_data = correlation;
  }
  const auto sent = Clock::now();
  connection.publish(request);
  connection.flush();
  if (o.debug)
    fmt::print(stderr, "mqfleet rr: sent {} bytes to {} (QoS {}{})\n", payload.size(), o.topic, o.qos,
               v5 ? ", correlation data " + correlation : std::string());

  while (true) {
    auto slice = std::chrono::milliseconds(k_receive_slice);
    if (deadline) {
      const auto now = Clock::now();
      if (now >= *deadline)
        throw TimeoutError(fmt::format("no response on '{}' within {} s", o.response_topic, *o.wait_seconds), "-W",
                           "raise -W, or check that something answers on " + o.topic);
      slice = std::min(slice, std::chrono::ceil<std::chrono::milliseconds>(*deadline - now));
    }
    auto message = connection.receive(slice);
    if (!message) continue;
    const auto arrived = Clock::now();
    const ResponseMatch match = match_response(*message, v5 ? correlation : std::string());
    if (match != ResponseMatch::accept) {
      if (o.debug)
        fmt::print(stderr, "mqfleet rr: skipped a {} message on {}\n",
                   match == ResponseMatch::stale ? "retained" : "differently correlated", message->topic);
      continue;
    }
    std::vector<std::string> warnings;
    const std::optional<std::string> text = renderer.render(*message, &warnings);
    for (const auto& warning : warnings) fmt::print(stderr, "mqfleet: warning: {}\n", warning);
    if (text) write_stdout(*text);
    if (o.latency)
      fmt::print(stderr, "mqfleet rr: round trip {:.3f} ms\n",
                 std::chrono::duration<double, std::milli>(arrived - sent).count());
    connection.disconnect();
    return exit_code::k_success;
  }
}

} // namespace

ResponseMatch match_response(const ReceivedMessage& message, const std::string& correlation_data) {
  if (message.retain) return ResponseMatch::stale;
  // No correlation data at all: a responder that does not echo it (MQTT 3.1.1, or the
  // simulator's command replies) -- the first such message on the topic is the answer.
  if (!correlation_data.empty() && message.properties.correlation_data &&
      *message.properties.correlation_data != correlation_data)
    return ResponseMatch::other_correlation;
  return ResponseMatch::accept;
}

CLI::App* add_rr_command(CLI::App& app, std::shared_ptr<RrOptions> options) {
  CLI::App* rr = app.add_subcommand("rr", "Send an MQTT 5 request and print the response (mosquitto_rr-compatible)");
  rr->set_help_flag("--help", "Print this help and exit");
  options->connection.version = "5";  // as mosquitto_rr: request/response needs MQTT 5 properties
  add_connection_flags(*rr, options->connection);

  const char* what = "Request";
  rr->add_option("-t,--topic", options->topic, "Topic to send the request to")->required()->group(what);
  rr->add_option("-e,--response-topic", options->response_topic,
                 "Topic the response is expected on (subscribed to before the request is sent)")
      ->required()
      ->group(what);
  auto* payload = rr->add_option_group("Request payload", "exactly one of -m -f -s -n");
  payload->add_option("-m,--message", options->message, "Send this request payload");
  payload->add_option("-f,--file", options->file, "Send the whole file as the request payload");
  payload->add_flag("-s,--stdin-file", options->whole_stdin, "Send all of stdin as the request payload");
  payload->add_flag("-n,--null-message", options->null_message, "Send a zero-length request");
  payload->require_option(1);
  rr->add_option("-q,--qos", options->qos, "QoS of the request and of the response subscription (0, 1 or 2)")
      ->check(CLI::Range(0, 2))
      ->group(what);
  rr->add_option("--correlation-data", options->correlation_data,
                 "Correlation data to send (default: 16 random hex digits)")
      ->group(what);
  rr->add_option("-W,--timeout", options->wait_seconds,
                 "Exit with code 6 if no response came this many seconds after connecting")
      ->check(CLI::PositiveNumber)
      ->group(what);

  const char* output = "Output";
  auto* format = rr->add_option("-F", options->format, "mosquitto_sub format string for the response (see `sub -F`)")
                     ->group(output);
  rr->add_option("--format", options->output, "Output style: text (default) or jsonl (one JSON object)")
      ->check(CLI::IsMember({"text", "jsonl"}))
      ->excludes(format)
      ->group(output);
  rr->add_flag("-v,--verbose", options->verbose, "Print \"topic payload\"")->group(output);
  rr->add_flag("-N", options->no_eol, "Do not print a newline after the response")->group(output);
  rr->add_flag("--pretty", options->pretty, "Indent the JSON of %j and %J")->group(output);
  rr->add_flag("--latency", options->latency, "Print the round trip (request sent to response received) on stderr")
      ->group(output);
  rr->add_flag("-d,--debug", options->debug, "Print what happens on stderr")->group(output);
  return rr;
}

void setup_rr(CLI::App& app) {
  auto options = std::make_shared<RrOptions>();
  CLI::App* rr = add_rr_command(app, options);
  set_action(rr, [options] { return run_rr(*options); });
}

int run_rr(const RrOptions& options) {
  ConnectionProfile profile = resolve_connection(options.connection);
  validate(options, profile.version);
  // One exchange: a lost connection is an error to report, not something to ride out.
  profile.reconnect.enabled = false;
  const MessageRenderer renderer(output_style(options));  // parses -F before anything touches the network
  const std::string payload = request_payload(options);
  const std::string correlation = options.correlation_data.value_or(random_hex(16));
  LeanConnection connection(std::move(profile));
  try {
    return exchange(options, connection, renderer, payload, correlation);
  } catch (const InterruptedError&) {
    return exit_code::k_interrupted;  // Ctrl-C while waiting: no error message, as sub
  }
}

} // namespace mqfleet::cli
