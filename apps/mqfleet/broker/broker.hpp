#pragma once
// `mqfleet broker`: runs the reference MQTT broker in the foreground.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace mqfleet::cli {

/// The flags of `mqfleet broker`; unset ones fall back to --config, then to defaults.
struct BrokerOptions {
  std::optional<int> port;
  std::optional<int> tls_port;
  std::optional<int> http_port;  ///< --http-port
  std::optional<int> https_port; ///< --https-port
  std::string cert, key, cafile;
  std::string bind;
  std::string registry;
  std::string data_dir;
  bool allow_anonymous = false;
  std::string config_file;
  std::optional<std::size_t> max_connections;
  std::optional<std::uint32_t> max_packet_size;
  std::optional<std::uint16_t> max_inflight;
  std::optional<std::size_t> max_queued;
  std::optional<std::uint16_t> max_keepalive;
  std::optional<std::size_t> max_account_retained;       ///< --max-account-retained
  std::optional<std::size_t> max_account_retained_bytes; ///< --max-account-retained-bytes
  std::optional<std::size_t> max_account_sessions;       ///< --max-account-sessions
  std::optional<std::size_t> max_account_subscriptions;  ///< --max-account-subscriptions
  std::optional<unsigned> connect_timeout;
  std::optional<unsigned> threads;
  std::optional<unsigned> sys_interval;
  bool durable_ack = false;
};

/// Adds the `broker` subcommand.
void setup_broker(CLI::App& app);

/// Runs the broker until SIGINT/SIGTERM; SIGHUP reloads the registry. Returns the exit code.
int run_broker(const BrokerOptions& options);

} // namespace mqfleet::cli
