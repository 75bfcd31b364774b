#include "sim/sim.hpp"

#include "cli.hpp"
#include "exit_codes.hpp"
#include "signals.hpp"

#include <mqfleet/error.hpp>
#include <mqfleet/profile_resolve.hpp>
#include <mqfleet/profile_store.hpp>
#include <mqfleet/scenario/credentials_file.hpp>
#include <mqfleet/sim/engine_transport.hpp>
#include <mqfleet/scenario/overrides.hpp>
#include <mqfleet/sim/runner.hpp>
#include <mqfleet/scenario/scenario_loader.hpp>
#include <mqfleet/scenario/units.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <unistd.h>

namespace mqfleet::cli {
namespace {

using sim::Millis;

/// Copies the inline keys written in the scenario onto a stored profile.
void overlay(ConnectionProfile& profile, const sim::ConnectionSpec& spec) {
  const ConnectionProfile& inline_fields = spec.settings;
  for (const auto& key : spec.explicit_keys) {
    if (key == "host") profile.host = inline_fields.host;
    else if (key == "port") profile.port = inline_fields.port;
    else if (key == "version") profile.version = inline_fields.version;
    else if (key == "username") profile.username = inline_fields.username;
    else if (key == "credential") profile.credential = inline_fields.credential;
    else if (key == "keepalive") profile.keepalive_seconds = inline_fields.keepalive_seconds;
    else if (key == "clean_session") profile.clean_session = inline_fields.clean_session;
    else if (key == "session_expiry") profile.session_expiry_seconds = inline_fields.session_expiry_seconds;
    else if (key == "connect_timeout") profile.connect_timeout = inline_fields.connect_timeout;
    else if (key == "reconnect") profile.reconnect = inline_fields.reconnect;
    else if (key == "tls") profile.tls = inline_fields.tls;
  }
}

/// Each device's password, from the fleet's credential setting or the connection's.
sim::CredentialFn make_credentials(const sim::Scenario& scenario, const ConnectionProfile& connection,
                                   const std::string& credentials_file) {
  const std::string shared =
      resolve_secret(connection.credential, "connection.credential", "", SecretPrompt{});
  std::vector<std::string> from_env(scenario.fleets.size());
  for (std::size_t f = 0; f < scenario.fleets.size(); ++f) {
    const sim::FleetSpec& fleet = scenario.fleets[f];
    const std::string where = fmt::format("fleets[{}].credential", f);
    switch (fleet.credential.kind) {
    case sim::CredentialKind::env: {
      const char* value = std::getenv(fleet.credential.env_name.c_str());
      if (!value)
        throw ConfigError(fmt::format("environment variable {} is not set", fleet.credential.env_name), where,
                          "export it before running the scenario");
      from_env[f] = value;
      break;
    }
    default: break;
    }
  }
  const bool any_provisioned = std::any_of(scenario.fleets.begin(), scenario.fleets.end(), [](const auto& fleet) {
    return fleet.credential.kind == sim::CredentialKind::provisioned;
  });
  auto provisioned = any_provisioned ? std::make_shared<const sim::ProvisionedCredentials>(scenario, credentials_file)
                                     : nullptr;
  return [&scenario, shared, from_env = std::move(from_env), provisioned](const sim::FleetSpec& fleet,
                                                                          const sim::DeviceState& device) {
    const auto f = static_cast<std::size_t>(&fleet - scenario.fleets.data());
    switch (fleet.credential.kind) {
    case sim::CredentialKind::literal:
    case sim::CredentialKind::templated: return fleet.credential.value.expand(device.vars());
    case sim::CredentialKind::env: return from_env[f];
    case sim::CredentialKind::provisioned: return provisioned->secret(f, device.account, device.device_id);
    default: return shared;
    }
  };
}

std::uint64_t pick_seed(const SimOptions& options, const sim::Scenario& scenario) {
  if (options.seed) return *options.seed;
  if (scenario.run.seed) return *scenario.run.seed;
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32 | device()) & 0xFFFFFFFFFFFFull;
}

int check(const SimOptions& options) {
  const sim::CheckResult result = sim::check_scenario_file(options.file);
  for (const auto& diagnostic : result.diagnostics) fmt::print(stderr, "{}\n", sim::to_string(diagnostic));
  if (!result.ok()) {
    fmt::print(stderr, "mqfleet: error: {}: {} problem{} found\n", options.file, result.diagnostics.size(),
               result.diagnostics.size() == 1 ? "" : "s");
    return exit_code::k_config;
  }
  fmt::print("{}: ok ({} fleet{}, {} devices)\n", options.file, result.scenario->fleets.size(),
             result.scenario->fleets.size() == 1 ? "" : "s", result.scenario->device_count());
  return exit_code::k_success;
}

/// The live status line on stderr (TTY only), rewritten in place.
class StatusLine {
public:
  explicit StatusLine(bool enabled) : m_enabled(enabled) {}
  ~StatusLine() { clear(); }
  StatusLine(const StatusLine&) = delete;
  StatusLine& operator=(const StatusLine&) = delete;

  void update(const sim::Progress& p) {
    if (!m_enabled) return;
    const double seconds = static_cast<double>((p.elapsed - m_last_elapsed).count()) / 1000.0;
    if (seconds > 0.2) {
      m_rate = static_cast<double>(p.published - m_last_published) / seconds;
      m_last_published = p.published;
      m_last_elapsed = p.elapsed;
    }
    std::string line = fmt::format("sim {} · online {}/{} · {:.0f} msg/s · published {} · errors {}",
                                   sim::format_duration(Millis(p.elapsed.count() / 1000 * 1000)), p.online,
                                   p.devices, m_rate, p.published, p.errors);
    if (p.commands_answered) line += fmt::format(" · commands {}", p.commands_answered);
    if (p.stopping) line += " · stopping";
    else if (p.remaining) line += fmt::format(" · {} left", sim::format_duration(Millis((p.remaining->count() + 999) / 1000 * 1000)));
    fmt::print(stderr, "\r\033[K{}", line);
    std::fflush(stderr);
    m_dirty = true;
  }

  void clear() {
    if (!m_dirty) return;
    fmt::print(stderr, "\r\033[K");
    std::fflush(stderr);
    m_dirty = false;
  }

private:
  bool m_enabled;
  bool m_dirty = false;
  double m_rate = 0;
  std::uint64_t m_last_published = 0;
  Millis m_last_elapsed{0};
};

/// Exit code for a run: interrupted, nobody could connect, or the expectations.
int verdict(const sim::RunReport& report) {
  const sim::FleetReport total = report.totals();
  if (report.stop == sim::StopReason::interrupted) return exit_code::k_interrupted;
  if (!report.passed()) return exit_code::k_expectation;
  if (total.connects == 0 && total.connect_failures > 0) {
    for (const auto& [reason, n] : total.connect_failure_reasons)
      if (reason.find("authori") != std::string::npos || reason.find("password") != std::string::npos)
        return exit_code::k_auth;
    return exit_code::k_connect;
  }
  return exit_code::k_success;
}

int run(const SimOptions& options) {
  sim::Scenario scenario = load_scaled_scenario(options.file, options.provisioning);
  const ConnectionProfile connection = sim_connection(scenario.connection, options);
  validate(connection);

  sim::RunOptions run_options;
  run_options.threads = options.threads;
  run_options.seed = pick_seed(options, scenario);
  run_options.transport = sim::make_engine_transport;
  run_options.credential = make_credentials(scenario, connection, options.provisioning.credentials);
  run_options.stop = stop_token();
  if (!options.duration.empty()) {
    try {
      run_options.duration = sim::parse_duration(options.duration);
      sim::override_duration(scenario, *run_options.duration); // reconnect storms move into the shorter run
    } catch (const ConfigError& e) {
      throw ConfigError(e.what(), "--duration", e.hint());
    }
  }
  if (options.messages) run_options.messages = options.messages;

  StatusLine status(!options.no_progress && ::isatty(STDERR_FILENO) == 1);
  const sim::RunReport report = sim::run_scenario(
      scenario, connection, run_options, [&status](const sim::Progress& p) { status.update(p); });
  status.clear();

  if (!options.report.empty()) {
    std::ofstream out(options.report, std::ios::trunc);
    out << sim::report_to_json(report) << '\n';
    if (!out)
      throw ConfigError("cannot write the report", options.report, "check that the directory exists and is writable");
  }
  fmt::print("{}", sim::format_summary(report));
  std::fflush(stdout);
  return verdict(report);
}

} // namespace

ConnectionProfile sim_connection(const sim::ConnectionSpec& spec, const SimOptions& options) {
  ConnectionProfile profile = spec.settings;
  const std::string& stored = !options.profile.empty() ? options.profile : spec.profile;
  if (!stored.empty()) {
    ProfileStore store(default_profiles_path());
    store.load();
    profile = store.get(stored);
    if (options.profile.empty()) overlay(profile, spec);
  }
  if (!options.host.empty()) profile.host = options.host;
  if (options.port) profile.port = options.port;
  return profile;
}

CLI::App* add_sim_command(CLI::App& app, SimOptions& options) {
  CLI::App* sub = app.add_subcommand("sim", "Run a fleet simulation scenario (scenarios/README.md)");
  sub->set_help_flag("--help", "Print this help message and exit");
  sub->add_option("file", options.file, "Scenario file (JSON with comments)")->required();
  sub->add_flag("--check", options.check, "Validate the scenario, report every problem, do not run");
  sub->add_option("--report", options.report, "Write the run's report as JSON to this file");
  sub->add_option("--duration", options.duration, "Run for this long (\"30s\", \"2m\"), overriding run.duration");
  sub->add_option("--messages", options.messages, "Stop after this many telemetry messages, overriding run.messages");
  sub->add_option("--seed", options.seed, "Random seed, overriding run.seed");
  sub->add_option("--threads", options.threads, "Event loop threads carrying the devices")
      ->check(CLI::Range(1u, 64u));
  sub->add_option("-h,--host", options.host, "Broker host, overriding the scenario's connection");
  sub->add_option("-p,--port", options.port, "Broker port, overriding the scenario's connection")
      ->check(CLI::Range(1, 65535));
  sub->add_option("--profile", options.profile, "Connect with this stored profile instead of the scenario's connection");
  sub->add_flag("--no-progress", options.no_progress, "No live status line, even on a terminal");
  add_sim_provision_options(*sub, options.provisioning);
  return sub;
}

void setup_sim(CLI::App& app) {
  auto options = std::make_shared<SimOptions>();
  CLI::App* sub = add_sim_command(app, *options);
  set_action(sub, [options] { return run_sim(*options); });
}

int run_sim(const SimOptions& options) {
  if (options.provisioning.provision) return run_sim_provision(options.file, options.provisioning);
  return options.check ? check(options) : run(options);
}

} // namespace mqfleet::cli
