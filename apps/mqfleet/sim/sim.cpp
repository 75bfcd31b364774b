#include "sim/sim.hpp"

#include "cli.hpp"
#include "exit_codes.hpp"
#include "signals.hpp"

#include <mqfleet/bench/shard.hpp>
#include <mqfleet/error.hpp>
#include <mqfleet/profile_resolve.hpp>
#include <mqfleet/profile_store.hpp>
#include <mqfleet/scenario/credentials_file.hpp>
#include <mqfleet/sim/engine_transport.hpp>
#include <mqfleet/scenario/overrides.hpp>
#include <mqfleet/sim/runner.hpp>
#include <mqfleet/scenario/scenario_loader.hpp>
#include <mqfleet/scenario/units.hpp>
#include <mqfleet/time_parse.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
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

/// A digest of the scenario file's bytes (FNV-1a, 64 bits): reports of shards that ran
/// different files do not merge. Copies of one file on several machines agree.
std::string scenario_digest(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (std::istreambuf_iterator<char> it(in), end; it != end; ++it) {
    hash ^= static_cast<unsigned char>(*it);
    hash *= 0x100000001b3ull;
  }
  return fmt::format("fnv1a64:{:016x}", hash);
}

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
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
    if (p.starts_in) {
      fmt::print(stderr, "\r\033[Ksim {} devices · starts in {}", p.devices,
                 sim::format_duration(Millis((p.starts_in->count() + 999) / 1000 * 1000)));
      std::fflush(stderr);
      m_dirty = true;
      return;
    }
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

/// Exit code for a run: interrupted; nobody could connect (the cause of every other
/// failure, so it comes before the expectations: 5 for refused credentials, else 4); or
/// the expectations.
int verdict(const sim::RunReport& report) {
  const sim::FleetReport total = report.totals();
  if (report.stop == sim::StopReason::interrupted) return exit_code::k_interrupted;
  if (total.connects == 0 && total.connect_failures > 0) {
    for (const auto& [reason, n] : total.connect_failure_reasons)
      if (reason.find("authori") != std::string::npos || reason.find("password") != std::string::npos)
        return exit_code::k_auth;
    return exit_code::k_connect;
  }
  if (!report.passed()) return exit_code::k_expectation;
  return exit_code::k_success;
}

/// Writes the report file (JSON), or throws naming it.
void write_report(const std::string& path, const sim::RunReport& report) {
  std::ofstream out(path, std::ios::trunc);
  out << sim::report_to_json(report) << '\n';
  if (!out) throw ConfigError("cannot write the report", path, "check that the directory exists and is writable");
}

int run(const SimOptions& options) {
  sim::Scenario scenario = load_scaled_scenario(options.file, options.provisioning);
  const ConnectionProfile connection = sim_connection(scenario.connection, options);
  validate(connection);

  sim::RunOptions run_options;
  run_options.threads = options.threads;
  if (!options.shard.empty()) run_options.slice = bench::parse_shard(options.shard);
  if (run_options.slice.count > 1 && !options.seed && !scenario.run.seed)
    throw ConfigError("the shards of a run need one seed", "--shard",
                      "set run.seed in the scenario or pass the same --seed to every shard, so each device "
                      "behaves as in a single run");
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
  if (!options.start_at.empty()) {
    const std::int64_t now = wall_clock_ms();
    run_options.start_unix_ms = parse_start_at(options.start_at, now);
    const std::optional<Millis> duration = run_options.duration ? run_options.duration : scenario.run.duration;
    if (duration && *run_options.start_unix_ms + duration->count() <= now)
      throw ConfigError(fmt::format("the run starting at {} would already be over", options.start_at), "--start-at",
                        "pick a start in the future, e.g. --start-at $(( $(date +%s) + 60 )) on every machine");
  }

  StatusLine status(!options.no_progress && ::isatty(STDERR_FILENO) == 1);
  sim::RunReport report = sim::run_scenario(scenario, connection, run_options,
                                            [&status](const sim::Progress& p) { status.update(p); });
  status.clear();
  report.scenario_digest = scenario_digest(options.file);

  if (!options.report.empty()) write_report(options.report, report);
  fmt::print("{}", sim::format_summary(report));
  std::fflush(stdout);
  return verdict(report);
}

} // namespace

std::int64_t parse_start_at(const std::string& text, std::int64_t now_unix_ms) {
  const auto fail = [&] {
    return ConfigError(fmt::format("invalid start time \"{}\"", text), "--start-at",
                       "use ISO-8601 (2026-12-04T21:00:00Z), epoch seconds ($(date +%s)), epoch milliseconds or +30s");
  };
  std::int64_t integer = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), integer);
  if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) {
    if (integer < 0) throw fail();
    return text.size() <= 10 ? integer * 1000 : integer; // 10 digits of milliseconds would be 1970
  }
  const auto parsed = parse_time(text, now_unix_ms);
  if (!parsed) throw fail();
  return *parsed;
}

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
  // Not required(): `sim merge` needs no scenario (run_sim asks for it instead).
  sub->add_option("file", options.file, "Scenario file (JSON with comments)");
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
  sub->add_option("--shard", options.shard,
                  "Run slice K of N of every fleet (K 0-based, as JOB_COMPLETION_INDEX); merge with sim merge");
  sub->add_option("--start-at", options.start_at,
                  "Start at this wall-clock time (ISO-8601 or epoch), the same on every shard");
  add_sim_provision_options(*sub, options.provisioning);
  return sub;
}

void setup_sim(CLI::App& app) {
  auto options = std::make_shared<SimOptions>();
  CLI::App* sub = add_sim_command(app, *options);
  set_action(sub, [options] { return run_sim(*options); });
  auto merge_options = std::make_shared<SimMergeOptions>();
  CLI::App* merge = sub->add_subcommand("merge", "Merge the --report files of sim shards into one report");
  merge->add_option("reports", merge_options->inputs, "Report files written by sim --report")->required();
  merge->add_option("--report", merge_options->report, "Write the merged report as JSON to this file");
  merge->add_flag("--quiet", merge_options->quiet, "No summary table on stdout");
  set_action(merge, [merge_options] { return run_sim_merge(*merge_options); });
}

int run_sim(const SimOptions& options) {
  if (options.file.empty()) {
    fmt::print(stderr, "mqfleet: error: no scenario file (sim): run mqfleet sim FILE, or mqfleet sim merge "
                       "REPORT... (see mqfleet sim --help)\n");
    return exit_code::k_usage;
  }
  if (options.provisioning.provision) return run_sim_provision(options.file, options.provisioning);
  return options.check ? check(options) : run(options);
}

int run_sim_merge(const SimMergeOptions& options) {
  std::vector<sim::NamedReport> reports;
  for (const auto& file : options.inputs) reports.emplace_back(file, sim::read_report(file));
  const sim::RunReport merged = sim::merge_reports(reports);
  if (!options.report.empty()) write_report(options.report, merged);
  if (!options.quiet) fmt::print("{}", sim::format_summary(merged));
  std::fflush(stdout);
  return merged.passed() ? exit_code::k_success : exit_code::k_expectation;
}

} // namespace mqfleet::cli
