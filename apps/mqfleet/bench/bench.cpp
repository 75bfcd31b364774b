#include "bench/bench.hpp"

#include "bench/bench_plan.hpp"
#include "cli.hpp"
#include "exit_codes.hpp"
#include "signals.hpp"

#include <mqfleet/bench/html.hpp>
#include <mqfleet/bench/name_template.hpp>
#include <mqfleet/bench/probe.hpp>
#include <mqfleet/bench/report.hpp>
#include <mqfleet/bench/schedule.hpp>
#include <mqfleet/error.hpp>
#include <mqfleet/profile_resolve.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <unistd.h>

namespace mqfleet::cli {
namespace {

/// The connection flags bench shares with pub/sub (-c and -I mean clients and interval
/// here, as in emqtt-bench, so add_connection_flags() does not fit as a whole).
void add_bench_connection_flags(CLI::App& sub, ConnectionFlags& flags) {
  const char* group = "Connection";
  sub.add_option("--profile", flags.profile, "Connection profile to start from (see `mqfleet profile`)")->group(group);
  sub.add_option("-L,--url", flags.url, "Broker URL: mqtt[s]://host:port or ws[s]://host:port/path")->group(group);
  sub.add_option("-h,--host", flags.host, "Broker host (default localhost)")->group(group);
  sub.add_option("-p,--port", flags.port, "Broker port (default 1883, or 8883 with TLS)")
      ->check(CLI::Range(1, 65535))
      ->group(group);
  sub.add_option("-u,--username", flags.username, "User name template (%i index, %c client id)")->group(group);
  sub.add_option("-P,--password", flags.password,
                 "Password template (%i %c %u), literally (visible in ps: prefer --password-env)")
      ->group(group);
  sub.add_option("--password-env", flags.password_env, "Read the password (template) from this environment variable")
      ->group(group);
  sub.add_option("--password-file", flags.password_file, "Read the password (template) from this file's first line")
      ->group(group);
  sub.add_option("-V,--protocol-version", flags.version, "MQTT version: 31, 311 or 5")->group(group);
  sub.add_option("-k,--keepalive", flags.keepalive, "Keepalive interval in seconds")
      ->check(CLI::Range(0, 65535))
      ->group(group);
  sub.add_option("--connect-timeout", flags.connect_timeout, "Seconds to wait for each CONNACK (default 10)")
      ->check(CLI::PositiveNumber)
      ->group(group);
  add_tls_and_transport_flags(sub, flags);
}

CLI::App* add_mode(CLI::App& bench, const std::string& mode, const std::string& description,
                   std::shared_ptr<BenchOptions> options) {
  auto* sub = bench.add_subcommand(mode, description);
  sub->set_help_flag("--help", "Print this help message and exit");
  options->mode = mode;
  BenchOptions& o = *options;
  add_bench_connection_flags(*sub, o.connection);
  const char* load = "Load";
  sub->add_option("-c,--clients", o.clients,
                  mode == "pubsub" ? "Publishers (default 1)" : mode == "sub" ? "Subscribers (default 1)"
                                                                              : "Connections (default 1)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10'000'000}))
      ->group(load);
  sub->add_option("-R,--connect-rate", o.connect_rate, "New connections per second (default: all at once)")
      ->check(CLI::NonNegativeNumber)
      ->group(load);
  sub->add_option("--client-id", o.client_id, "Client id template (default mqfleet-bench-%i)")->group(load);
  if (mode != "conn") {
    sub->add_option("-q,--qos", o.qos, "QoS 0, 1 or 2")->check(CLI::Range(0, 2))->group(load);
    sub->add_option("-t,--topic", o.topic,
                    mode == "sub" ? "Subscription filter template (default bench/%i)"
                                  : "Topic template: %i index, %c client id, %u username (default bench/%i)")
        ->group(load);
    sub->add_option("--count", o.count,
                    mode == "sub" ? "Stop after this many messages per subscriber" : "Messages per publisher")
        ->group(load);
    sub->add_option("--warmup", o.warmup, "Seconds excluded from the statistics before the measurement")
        ->check(CLI::NonNegativeNumber)
        ->group(load);
  }
  if (mode == "pub" || mode == "pubsub") {
    auto* interval = sub->add_option("-I,--interval", o.interval_ms, "Milliseconds between messages, per client")
                         ->check(CLI::PositiveNumber)
                         ->group(load);
    sub->add_option("--rate", o.rate, "Total messages per second over all clients (open loop)")
        ->check(CLI::PositiveNumber)
        ->excludes(interval)
        ->group(load);
    sub->add_option("-s,--size", o.payload_size, "Payload size in bytes (default 256)")
        ->check(CLI::Range(std::size_t{0}, std::size_t{256} * 1024 * 1024))
        ->group(load);
    sub->add_option("--inflight", o.inflight, "QoS 1/2 messages in flight per client (default 100)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{65535}))
        ->group(load);
    sub->add_option("--drain-timeout", o.drain_timeout, "Seconds to wait for acknowledgements at the end")
        ->check(CLI::NonNegativeNumber)
        ->group(load);
  }
  if (mode == "pubsub") {
    sub->add_option("--subscribers", o.subscribers, "Subscribers (default 1)")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10'000'000}))
        ->group(load);
    sub->add_option("--sub-topic", o.sub_topic, "Subscribers' filter template (default: -t, templated levels as +)")
        ->group(load);
  }
  sub->add_option("--duration", o.duration,
                  mode == "conn" ? "Seconds to hold the connections once connected"
                                 : "Seconds to measure (default 10; unlimited with --count)")
      ->check(CLI::NonNegativeNumber)
      ->group(load);
  const char* run = "Run";
  sub->add_option("--bind", o.bind, "Source addresses, round-robin (a,b,...): more than 64k connections")
      ->delimiter(',')
      ->group(run);
  sub->add_option("--shard", o.shard, "Run slice K of N of the client indexes (K 0-based)")->group(run);
  sub->add_option("--threads", o.threads, "Engine threads (default: one per CPU)")
      ->check(CLI::Range(0U, 1024U))
      ->group(run);
  sub->add_option("--engine", o.engine, "fast (default) or paho (conn and pub, for comparison)")
      ->check(CLI::IsMember({"fast", "paho"}))
      ->group(run);
  sub->add_option("--report", o.report, "Write the full report (histograms included) as JSON")->group(run);
  sub->add_option("--html", o.html, "Write a self-contained HTML report with SVG plots")->group(run);
  sub->add_flag("--quiet", o.quiet, "No summary table on stdout")->group(run);
  set_action(sub, [options] { return run_bench(*options); });
  return sub;
}

/// -t with every level that holds a %-sequence replaced by "+".
std::string default_filter(const std::string& topic) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = topic.find('/', start);
    const std::string level = topic.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    out += bench::is_template(level) ? "+" : level;
    if (slash == std::string::npos) {
      return out;
    }
    out += '/';
    start = slash + 1;
  }
}

nlohmann::json config_json(const BenchOptions& o, const BenchPlan& plan) {
  return {{"mode", o.mode},
          {"engine", o.engine},
          {"host", plan.profile.host},
          {"port", plan.profile.effective_port()},
          {"tls", plan.profile.tls.enabled},
          {"version", to_string(plan.profile.version)},
          {"clients", o.clients},
          {"subscribers", o.mode == "pubsub" ? o.subscribers : (o.mode == "sub" ? o.clients : 0)},
          {"connect_rate", o.connect_rate},
          {"interval_ms", o.interval_ms},
          {"rate", o.rate},
          {"per_client_rate", plan.per_client_rate},
          {"loop", plan.per_client_rate > 0 ? "open" : "closed"},
          {"payload_size", o.payload_size},
          {"qos", o.qos},
          {"topic", plan.topic_template},
          {"sub_topic", plan.filter_template},
          {"client_id", o.client_id},
          {"duration", plan.duration},
          {"warmup", o.warmup},
          {"inflight", o.inflight},
          {"count", o.count},
          {"bind", o.bind},
          {"shard", o.shard},
          {"threads", o.threads}};
}

BenchPlan make_plan(const BenchOptions& o) {
  BenchPlan plan;
  plan.mode = o.mode;
  ConnectionFlags flags = o.connection;
  const std::string username = flags.username;
  flags.username.clear(); // templates are expanded per client, not validated as a name
  plan.profile = resolve_connection(flags);
  plan.username_template = username.empty() ? plan.profile.username : username;
  plan.password_template = resolve_secret(plan.profile.credential, "-P", "Password template: ", {});
  plan.client_id_template = o.client_id;
  plan.shard = bench::parse_shard(o.shard);
  if (o.mode == "sub") {
    plan.filter_template = o.topic;
    plan.subscribers = bench::shard_range(o.clients, plan.shard);
  } else {
    plan.topic_template = o.topic;
    plan.publishers = bench::shard_range(o.clients, plan.shard);
    if (o.mode == "pubsub") {
      plan.filter_template = o.sub_topic.empty() ? default_filter(o.topic) : o.sub_topic;
      plan.subscribers = bench::shard_range(o.subscribers, plan.shard);
    }
  }
  plan.connect_rate = o.connect_rate;
  plan.per_client_rate = bench::per_client_rate(o.interval_ms, o.rate, o.clients);
  plan.payload_size = o.payload_size;
  if (o.mode == "pubsub" && o.payload_size < bench::k_probe_size) {
    throw ConfigError(fmt::format("pubsub payloads carry a {}-byte probe (time stamp, publisher, sequence)",
                                  bench::k_probe_size),
                      "-s", fmt::format("use -s {} or more", bench::k_probe_size));
  }
  plan.qos = o.qos;
  plan.duration_given = o.duration.has_value();
  plan.duration = o.duration.value_or(o.mode == "conn" ? 0.0 : 10.0);
  plan.warmup = o.warmup;
  plan.inflight = o.inflight;
  plan.count = o.count;
  plan.bind = o.bind;
  plan.threads = o.threads;
  plan.drain_timeout = o.drain_timeout;
  plan.live_status = ::isatty(STDERR_FILENO) == 1;
  // Expand one identity now, so a bad template fails before any connection.
  (void)plan.identity(0, o.mode == "sub");
  if (o.mode == "pubsub") {
    (void)plan.identity(0, true);
  }
  plan.config = config_json(o, plan);
  return plan;
}

int run_merge(const BenchOptions& o) {
  std::vector<bench::NamedReport> reports;
  for (const std::string& path : o.inputs) {
    reports.emplace_back(path, bench::read_report(path));
  }
  const bench::Report merged = bench::merge_shards(reports);
  if (!o.report.empty()) {
    bench::write_report(o.report, merged);
  }
  if (!o.html.empty()) {
    bench::write_html(o.html, merged);
  }
  if (!o.quiet) {
    std::cout << bench::format_summary(merged) << std::flush;
  }
  return exit_code::k_success;
}

/// The exit code of a finished run: connections all refused, or QoS ≥ 1 not delivered.
int outcome(const BenchOptions& o, const bench::Report& report) {
  if (report.connect.attempted > 0 && report.connect.succeeded == 0) {
    const std::string reason = report.connect.failures.empty() ? "unknown" : report.connect.failures.begin()->first;
    const bool auth = reason.find("0x04") != std::string::npos || reason.find("0x05") != std::string::npos ||
                      reason.find("0x86") != std::string::npos || reason.find("0x87") != std::string::npos ||
                      reason.find("0x8c") != std::string::npos;
    std::cerr << fmt::format("mqfleet: error: no connection succeeded ({}:{}): {}\n",
                             report.config.value("host", ""), report.config.value("port", 0), reason);
    return auth ? exit_code::k_auth : exit_code::k_connect;
  }
  const bench::QosCounters total = report.total();
  if (o.qos > 0 && (o.mode == "pub" || o.mode == "pubsub") && (total.failed > 0 || total.seen.lost > 0)) {
    std::cerr << fmt::format("mqfleet: error: {} QoS {} messages not acknowledged, {} lost (bench {}): see the "
                             "summary\n",
                             total.failed, o.qos, total.seen.lost, o.mode);
    return exit_code::k_delivery;
  }
  return exit_code::k_success;
}

} // namespace

void setup_bench(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Load-test a broker: connections, publishers, subscribers, latency");
  bench->require_subcommand(1);
  add_mode(*bench, "conn", "Connection rate and CONNACK latency", std::make_shared<BenchOptions>());
  add_mode(*bench, "pub", "Publishers at a fixed rate (open loop) or as fast as acknowledged",
           std::make_shared<BenchOptions>());
  add_mode(*bench, "sub", "Subscribers: receive rate (and latency of mqfleet bench payloads)",
           std::make_shared<BenchOptions>());
  add_mode(*bench, "pubsub", "Publishers and subscribers in one process: end-to-end latency, loss, order",
           std::make_shared<BenchOptions>());
  auto merge_options = std::make_shared<BenchOptions>();
  merge_options->mode = "merge";
  auto* merge = bench->add_subcommand("merge", "Merge the --report files of shards into one report");
  merge->add_option("reports", merge_options->inputs, "Report files written by bench --report")->required();
  merge->add_option("--report", merge_options->report, "Write the merged report as JSON");
  merge->add_option("--html", merge_options->html, "Write the merged report as HTML");
  merge->add_flag("--quiet", merge_options->quiet, "No summary table on stdout");
  set_action(merge, [merge_options] { return run_bench(*merge_options); });
}

int run_bench(const BenchOptions& o) {
  if (o.mode == "merge") {
    return run_merge(o);
  }
  const BenchPlan plan = make_plan(o);
  for (const std::string& warning : preflight(plan)) {
    std::cerr << "mqfleet: warning: " << warning << '\n';
  }
  const bench::Report report = o.engine == "paho" ? run_paho_engine(plan) : run_fast_engine(plan);
  if (!o.report.empty()) {
    bench::write_report(o.report, report);
  }
  if (!o.html.empty()) {
    bench::write_html(o.html, report);
  }
  if (!o.quiet) {
    std::cout << bench::format_summary(report) << std::flush;
  }
  if (stop_token().stop_requested()) {
    return exit_code::k_interrupted;
  }
  return outcome(o, report);
}

} // namespace mqfleet::cli
