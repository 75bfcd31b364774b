#include "profile/profile.hpp"

#include "cli.hpp"
#include "connection_resolve.hpp"
#include "exit_codes.hpp"
#include "signals.hpp"

#include <mqfleet/connection.hpp>
#include <mqfleet/error.hpp>
#include <mqfleet/profile_store.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <memory>
#include <random>

namespace mqfleet::cli {
namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

constexpr const char* k_mask = "********";

ProfileStore open_store() {
  ProfileStore store(default_profiles_path());
  store.load();
  for (const auto& warning : store.warnings()) std::cerr << "mqfleet: warning: " << warning << '\n';
  return store;
}

// A profile as JSON with literal secrets masked, its name first.
Json masked_json(const ConnectionProfile& profile) {
  Json out{{"name", profile.name}};
  const Json fields = Json::parse(profile_to_json(profile, true));
  for (const auto& item : fields.items()) out[item.key()] = item.value();
  return out;
}

std::string describe_secret(const Secret& secret) {
  switch (secret.source) {
  case SecretSource::none: return "(none)";
  case SecretSource::literal: return k_mask;
  case SecretSource::env: return "from environment variable " + secret.value;
  case SecretSource::file: return "from file " + secret.value;
  case SecretSource::prompt: return "typed in when connecting";
  }
  return "(none)";
}

std::string broker_of(const ConnectionProfile& profile) {
  const bool v6 = profile.host.find(':') != std::string::npos;
  return fmt::format("{}{}{}:{}", v6 ? "[" : "", profile.host, v6 ? "]" : "", profile.effective_port());
}

void print_rows(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  for (const auto& [key, value] : rows) std::cout << fmt::format("{:<{}}  {}\n", key, width, value);
  std::cout.flush();
}

int run_add(const ProfileOptions& options) {
  const ConnectionFlags& flags = options.connection;
  check_profile_name(options.name);
  if (!flags.id_prefix.empty())
    throw ConfigError("-I makes a client id for one run and cannot be stored", "-I",
                      "store a fixed client id with -i, or leave it out to get a generated one per run");
  const ProfileStoreLock lock(default_profiles_path());
  ProfileStore store = open_store();
  if (!options.force && store.find(options.name))
    throw ConfigError("a profile named '" + options.name + "' already exists", store.path().string(),
                      "add --force to replace it, or choose another name");
  if (!options.preset.empty() && !flags.profile.empty())
    throw ConfigError("--preset and --profile both give a starting point", "--preset", "use one of them");

  ConnectionProfile profile;
  if (!options.preset.empty()) profile = preset(options.preset);
  if (!flags.profile.empty()) profile = store.get(flags.profile);
  std::string credential_where;
  apply(profile, flag_overrides(flags, credential_where));
  profile.name = options.name;
  validate(profile);

  store.put(profile, options.force);
  store.save();
  std::cout << fmt::format("saved profile '{}' in {}\n", profile.name, store.path().string()) << std::flush;
  if (has_literal_secret(profile))
    std::cerr << fmt::format("mqfleet: note: the credential is stored as written in {} (mode 0600); "
                             "--password-env NAME or --password-file PATH store a reference instead\n",
                             store.path().string());
  return exit_code::k_success;
}

int run_list(const ProfileOptions& options) {
  const ProfileStore store = open_store();
  if (options.format == "json") {
    Json out = Json::array();
    for (const auto& name : store.names()) out.push_back(masked_json(store.get(name)));
    std::cout << out.dump(2) << std::endl;
    return exit_code::k_success;
  }
  if (store.names().empty()) {
    std::cerr << fmt::format("no profiles yet in {}; add one with `mqfleet profile add NAME -h HOST ...`\n",
                             store.path().string());
    return exit_code::k_success;
  }
  std::vector<std::array<std::string, 5>> rows{{"NAME", "BROKER", "TLS", "USERNAME", "CLIENT ID"}};
  for (const auto& name : store.names()) {
    const ConnectionProfile p = store.get(name);
    rows.push_back({name, broker_of(p), p.tls.enabled ? "yes" : "no", p.username.empty() ? "-" : p.username,
                    p.client_id.empty() ? "(generated)" : p.client_id});
  }
  std::array<std::size_t, 5> widths{};
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i)
      line += i + 1 < row.size() ? fmt::format("{:<{}}  ", row[i], widths[i]) : row[i];
    std::cout << line << '\n';
  }
  std::cout.flush();
  return exit_code::k_success;
}

int run_show(const ProfileOptions& options) {
  const ConnectionProfile p = open_store().get(options.name);
  if (options.format == "json") {
    std::cout << masked_json(p).dump(2) << std::endl;
    return exit_code::k_success;
  }
  std::vector<std::pair<std::string, std::string>> rows{
      {"name", p.name},
      {"broker", broker_of(p)},
      {"username", p.username.empty() ? "(none)" : p.username},
      {"client id", p.client_id.empty() ? "(generated per connection)" : p.client_id},
      {"credential", describe_secret(p.credential)},
      {"MQTT version", to_string(p.version)},
      {"keepalive", fmt::format("{} s", p.keepalive_seconds)},
      {"clean session", p.clean_session ? "yes" : "no"},
  };
  if (p.session_expiry_seconds) rows.emplace_back("session expiry", fmt::format("{} s", *p.session_expiry_seconds));
  if (p.will)
    rows.emplace_back("will", fmt::format("{} (QoS {}{}, {} bytes)", p.will->topic, p.will->qos,
                                          p.will->retain ? ", retained" : "", p.will->payload.size()));
  rows.emplace_back("connect timeout", fmt::format("{:g} s", p.connect_timeout.count() / 1000.0));
  rows.emplace_back("reconnect", p.reconnect.enabled ? fmt::format("{}-{} s back-off", p.reconnect.min_delay.count(),
                                                                   p.reconnect.max_delay.count())
                                                     : "off");
  rows.emplace_back("TLS", p.tls.enabled ? (p.tls.insecure ? "on, NOT verified (insecure)" : "on, verified") : "off");
  if (!p.tls.ca_file.empty()) rows.emplace_back("CA file", p.tls.ca_file);
  if (!p.tls.ca_path.empty()) rows.emplace_back("CA path", p.tls.ca_path);
  if (!p.tls.cert_file.empty()) rows.emplace_back("certificate", p.tls.cert_file);
  if (!p.tls.key_file.empty()) rows.emplace_back("key", p.tls.key_file);
  if (!p.tls.key_password.empty()) rows.emplace_back("key password", describe_secret(p.tls.key_password));
  if (!p.tls.version.empty()) rows.emplace_back("TLS version", p.tls.version);
  if (!p.tls.alpn.empty()) rows.emplace_back("ALPN", fmt::format("{}", fmt::join(p.tls.alpn, ",")));
  print_rows(rows);
  return exit_code::k_success;
}

int run_rm(const ProfileOptions& options) {
  const ProfileStoreLock lock(default_profiles_path());
  ProfileStore store = open_store();
  if (!store.remove(options.name)) store.get(options.name);  // throws, listing the known names
  store.save();
  std::cout << fmt::format("removed profile '{}'\n", options.name) << std::flush;
  return exit_code::k_success;
}

// What `profile test` found out; unset parts were not reached.
struct ProbeReport {
  std::optional<int> connack;
  bool session_present = false;
  std::optional<double> connect_ms;
  std::optional<double> round_trip_ms;
  std::string error;
};

void print_probe(const ProfileOptions& options, const ConnectionProfile& profile, const std::string& topic,
                 const ProbeReport& report) {
  if (options.format == "json") {
    Json out{{"ok", report.error.empty()},
             {"profile", profile.name.empty() ? Json(nullptr) : Json(profile.name)},
             {"host", profile.host},
             {"port", profile.effective_port()},
             {"tls", profile.tls.enabled},
             {"version", to_string(profile.version)},
             {"client_id", profile.client_id},
             {"probe_topic", topic},
             {"connack", report.connack ? Json(*report.connack) : Json(nullptr)},
             {"session_present", report.session_present},
             {"connect_ms", report.connect_ms ? Json(*report.connect_ms) : Json(nullptr)},
             {"round_trip_ms", report.round_trip_ms ? Json(*report.round_trip_ms) : Json(nullptr)}};
    if (!report.error.empty()) out["error"] = report.error;
    std::cout << out.dump(2) << std::endl;
    return;
  }
  if (!report.error.empty()) return;  // the error line on stderr says it all
  print_rows({{"profile", profile.name.empty() ? "(from flags)" : profile.name},
              {"broker", broker_of(profile)},
              {"TLS", profile.tls.enabled ? (profile.tls.insecure ? "on (not verified)" : "on") : "off"},
              {"MQTT version", to_string(profile.version)},
              {"client id", profile.client_id},
              {"CONNACK", fmt::format("{} (accepted)", report.connack.value_or(0))},
              {"connect time", fmt::format("{:.1f} ms", report.connect_ms.value_or(0))},
              {"round trip", fmt::format("{:.1f} ms", report.round_trip_ms.value_or(0))},
              {"probe topic", topic},
              {"result", "ok"}});
}

// Throws DeliveryError when the broker refused the probe publish (v5 PUBACK >= 0x80).
void check_probe_delivery(const Connection& connection, const std::string& topic) {
  const DeliveryReport delivery = connection.delivery_report();
  if (delivery.failed == 0) return;
  throw DeliveryError(delivery.first_failure_reason,
                      fmt::format("the broker refused the probe message (reason code 0x{:02x})",
                                  delivery.first_failure_reason),
                      topic, "let this client publish and subscribe under mqfleet/probe/ (broker ACL)");
}

void probe(const ProfileOptions& options, const ConnectionProfile& profile, const std::string& topic,
           ProbeReport& report) {
  Connection connection(profile);
  connection.set_stop_token(stop_token());
  connection.start_receiving();
  try {
    const ConnectResult connected = connection.connect();
    report.connack = connected.reason_code;
    report.session_present = connected.session_present;
    report.connect_ms = static_cast<double>(connected.connect_time.count()) / 1000.0;
  } catch (const ConnectError& e) {
    if (e.reason_code() >= 0) report.connack = e.reason_code();
    throw;
  }
  const auto granted = connection.subscribe({topic}, SubscribeOptions{1, false, false, 0});
  if (granted.empty() || granted.front() >= 0x80)
    throw DeliveryError(granted.empty() ? 0x80 : granted.front(), "the broker refused the subscription to the probe topic",
                        topic, "let this client subscribe and publish under mqfleet/probe/ (broker ACL)");
  const std::string payload = "mqfleet probe " + random_hex(16);
  const auto timeout = std::chrono::milliseconds(static_cast<long long>(options.timeout_seconds * 1000));
  const auto sent = Clock::now();
  connection.publish(OutgoingMessage{topic, payload, 1, false, {}});
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(sent + timeout - Clock::now());
    if (left.count() <= 0)
      throw TimeoutError(fmt::format("the probe message did not come back within {:g} s", options.timeout_seconds),
                         topic, "the broker accepted the connection but did not deliver; check its ACLs, or raise --timeout");
    check_probe_delivery(connection, topic);
    std::optional<ReceivedMessage> message;
    try {
      message = connection.receive(std::min(left, std::chrono::milliseconds(200)));
    } catch (const ConnectError&) {
      check_probe_delivery(connection, topic);  // a refused probe can take the connection down with it
      throw;
    }
    if (message && message->topic == topic && message->payload == payload) {
      report.round_trip_ms =
          static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent).count()) / 1000.0;
      break;
    }
  }
  connection.disconnect(std::chrono::seconds(2));
}

int run_test(const ProfileOptions& options) {
  ConnectionFlags flags = options.connection;
  if (!options.name.empty()) {
    if (!flags.profile.empty() && flags.profile != options.name)
      throw ConfigError("two profiles given", "--profile", "name the profile once: `mqfleet profile test NAME`");
    flags.profile = options.name;
  }
  const ConnectionProfile profile = resolve_connection(flags);
  const std::string topic = "mqfleet/probe/" + profile.client_id + "/" + random_hex(8);
  ProbeReport report;
  try {
    probe(options, profile, topic, report);
  } catch (const Error& e) {
    report.error = e.what();
    print_probe(options, profile, topic, report);
    throw;
  }
  print_probe(options, profile, topic, report);
  return exit_code::k_success;
}

CLI::App* add_format_option(CLI::App* command, const std::shared_ptr<ProfileOptions>& options) {
  command->add_option("--format", options->format, "Output: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  return command;
}

} // namespace

void setup_profile(CLI::App& app) {
  auto options = std::make_shared<ProfileOptions>();
  CLI::App* profile = app.add_subcommand("profile", "Manage named connection profiles and test them");
  profile->require_subcommand(1);

  CLI::App* add = profile->add_subcommand("add", "Save a connection profile (connection flags as in pub/sub)");
  add->set_help_flag("--help", "Print this help message and exit");
  add->add_option("NAME", options->name, "Profile name (letters, digits, . _ -)")->required();
  add_connection_flags(*add, options->connection);
  add->add_option("--preset", options->preset, "Start from a preset: thinger")
      ->check(CLI::IsMember(preset_names()));
  add->add_flag("--force", options->force, "Replace an existing profile of that name");

  CLI::App* list = profile->add_subcommand("list", "List the saved profiles");
  add_format_option(list, options);

  CLI::App* show = profile->add_subcommand("show", "Show one profile (credentials masked)");
  show->add_option("NAME", options->name, "Profile name")->required();
  add_format_option(show, options);

  CLI::App* rm = profile->add_subcommand("rm", "Delete a profile");
  rm->add_option("NAME", options->name, "Profile name")->required();

  CLI::App* test = profile->add_subcommand(
      "test", "Connect, publish to a subscribed probe topic, report CONNACK, connect time and round trip");
  test->set_help_flag("--help", "Print this help message and exit");
  test->add_option("NAME", options->name, "Profile name (or give connection flags)");
  add_connection_flags(*test, options->connection);
  add_format_option(test, options);
  test->add_option("--timeout", options->timeout_seconds, "Seconds to wait for the probe message (default 10)")
      ->check(CLI::PositiveNumber);

  const std::pair<CLI::App*, ProfileAction> actions[] = {{add, ProfileAction::add},   {list, ProfileAction::list},
                                                         {show, ProfileAction::show}, {rm, ProfileAction::rm},
                                                         {test, ProfileAction::test}};
  for (const auto& [command, action] : actions) {
    set_action(command, [options, action = action] {
      options->action = action;
      return run_profile(*options);
    });
  }
}

int run_profile(const ProfileOptions& options) {
  switch (options.action) {
  case ProfileAction::add: return run_add(options);
  case ProfileAction::list: return run_list(options);
  case ProfileAction::show: return run_show(options);
  case ProfileAction::rm: return run_rm(options);
  case ProfileAction::test: return run_test(options);
  }
  return exit_code::k_internal;
}

} // namespace mqfleet::cli
