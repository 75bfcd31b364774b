#include "broker/broker.hpp"

#include "cli.hpp"
#include "exit_codes.hpp"
#include "signals.hpp"

#include <mqfleet/broker/broker.hpp>
#include <mqfleet/broker/broker_config.hpp>
#include <mqfleet/error.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

namespace mqfleet::cli {
namespace {

void log_line(std::string_view line) {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

broker::BrokerConfig make_config(const BrokerOptions& o) {
  broker::BrokerConfig config;
  if (!o.config_file.empty()) broker::apply_config_file(config, o.config_file);
  if (!o.bind.empty()) config.mqtt.host = config.mqtts.host = config.http.host = config.https.host = o.bind;
  if (o.port) {
    config.mqtt.enabled = true;
    config.mqtt.port = *o.port;
  }
  if (o.tls_port) {
    config.mqtts.enabled = true;
    config.mqtts.port = *o.tls_port;
  }
  if (o.http_port) {
    config.http.enabled = true;
    config.http.port = *o.http_port;
  }
  if (o.https_port) {
    config.https.enabled = true;
    config.https.port = *o.https_port;
  }
  if (!o.cert.empty()) config.mqtts.cert_file = o.cert;
  if (!o.key.empty()) config.mqtts.key_file = o.key;
  if (!o.cafile.empty()) config.mqtts.ca_file = o.cafile;
  if (!o.registry.empty()) config.registry_path = o.registry;
  if (!o.data_dir.empty()) config.data_dir = o.data_dir;
  if (o.allow_anonymous) config.allow_anonymous = true;
  if (o.max_connections) config.limits.max_connections = *o.max_connections;
  if (o.max_packet_size) config.limits.max_packet_size = *o.max_packet_size;
  if (o.max_inflight) config.limits.max_inflight = *o.max_inflight;
  if (o.max_queued) config.limits.max_queued = *o.max_queued;
  if (o.max_keepalive) config.limits.max_keepalive = *o.max_keepalive;
  if (o.max_account_retained) config.limits.account.max_retained = *o.max_account_retained;
  if (o.max_account_retained_bytes) config.limits.account.max_retained_bytes = *o.max_account_retained_bytes;
  if (o.max_account_sessions) config.limits.account.max_sessions = *o.max_account_sessions;
  if (o.max_account_subscriptions) config.limits.account.max_subscriptions = *o.max_account_subscriptions;
  if (o.connect_timeout) config.limits.connect_timeout_seconds = *o.connect_timeout;
  if (o.threads) config.io_threads = *o.threads;
  if (o.sys_interval) config.sys_interval_seconds = *o.sys_interval;
  if (o.durable_ack) config.durable_ack = true;
  config.log_sink = log_line;
  broker::validate_config(config);
  return config;
}

} // namespace

void setup_broker(CLI::App& app) {
  auto options = std::make_shared<BrokerOptions>();
  auto* sub = app.add_subcommand("broker", "Run the reference MQTT broker (3.1, 3.1.1, 5.0) in the foreground.");
  sub->add_option("--port", options->port, "Plain MQTT port (default 1883; 0 = pick a free port)");
  sub->add_option("--tls-port", options->tls_port, "Enable the TLS listener on this port (0 = free port)");
  sub->add_option("--http-port", options->http_port,
                  "Enable the HTTP listener (MQTT over WebSocket on /mqtt, REST API, /metrics; 0 = free port)");
  sub->add_option("--https-port", options->https_port, "The HTTP listener over TLS (uses --cert/--key; 0 = free port)");
  sub->add_option("--cert", options->cert, "TLS server certificate chain (PEM)");
  sub->add_option("--key", options->key, "TLS server private key (PEM)");
  sub->add_option("--cafile", options->cafile, "Require TLS client certificates signed by this CA");
  sub->add_option("--bind", options->bind, "Address to listen on (default 0.0.0.0)");
  sub->add_option("--registry", options->registry, "Device registry (accounts, devices, credentials, rules)");
  sub->add_option("--data-dir", options->data_dir, "Directory of the broker's data (bucket points, durable state)");
  sub->add_flag("--allow-anonymous", options->allow_anonymous, "Open single-tenant broker: no credentials");
  sub->add_option("--config", options->config_file, "JSON configuration file (flags override it)");
  sub->add_option("--max-connections", options->max_connections, "Connections beyond this are closed at once");
  sub->add_option("--max-packet-size", options->max_packet_size, "Largest accepted packet in bytes");
  sub->add_option("--max-inflight", options->max_inflight, "Unacknowledged QoS 1/2 messages per client");
  sub->add_option("--max-queued", options->max_queued, "Queued messages per session before dropping");
  sub->add_option("--max-keepalive", options->max_keepalive, "Largest client keepalive in seconds (0 = no limit)");
  sub->add_option("--max-account-retained", options->max_account_retained,
                  "Retained messages one account may hold (0 = no limit)");
  sub->add_option("--max-account-retained-bytes", options->max_account_retained_bytes,
                  "Topic + payload bytes of one account's retained messages (0 = no limit)");
  sub->add_option("--max-account-sessions", options->max_account_sessions,
                  "Sessions one account may hold, connected or not (0 = no limit)");
  sub->add_option("--max-account-subscriptions", options->max_account_subscriptions,
                  "Subscriptions one account may hold over its sessions (0 = no limit)");
  sub->add_option("--connect-timeout", options->connect_timeout,
                  "Seconds from accept to a complete CONNECT (absolute; default 30)");
  sub->add_option("--threads", options->threads, "io threads (default 2; 0 = one per core)");
  sub->add_option("--sys-interval", options->sys_interval, "Seconds between $SYS publications (0 = off)");
  sub->add_flag("--durable-ack", options->durable_ack, "Acknowledge QoS 1/2 PUBLISHes only once stored on disk");
  set_action(sub, [options] { return run_broker(*options); });
}

int run_broker(const BrokerOptions& options) {
  broker::Broker broker(make_config(options));
  if (broker.config().allow_anonymous && !broker.config().registry_path.empty()) {
    // Documented (docs/broker.md): the registry's access rules apply, its credentials do not.
    std::fputs("mqfleet: warning: --allow-anonymous with --registry: no credential is checked and no account is "
               "mounted; every client connects without a password, registered or not (only the registry's access "
               "rules apply). Drop --allow-anonymous to require the devices' credentials.\n",
               stderr);
  }
  broker.start();
  nlohmann::json line{{"event", "listening"}};
  line["mqtt"] = broker.bound_port() != 0 ? nlohmann::json(broker.bound_port()) : nlohmann::json(nullptr);
  line["mqtts"] = broker.bound_tls_port() != 0 ? nlohmann::json(broker.bound_tls_port()) : nlohmann::json(nullptr);
  if (broker.bound_http_port() != 0) line["http"] = broker.bound_http_port();
  if (broker.bound_https_port() != 0) line["https"] = broker.bound_https_port();
  std::printf("%s\n", line.dump().c_str());
  std::fflush(stdout);
  set_reload_handler([&broker] {
    try {
      broker.reload_registry();
    } catch (const std::exception&) {
      // Already logged once by the broker ("reload_failed"); the old registry stays.
    }
  });
  const auto token = stop_token();
  while (!token.stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  set_reload_handler({});
  broker.stop();
  return exit_code::k_success;
}

} // namespace mqfleet::cli
