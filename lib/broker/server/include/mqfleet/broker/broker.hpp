#pragma once
// The reference MQTT broker (3.1, 3.1.1, 5.0) on Boost.Asio, with an HTTP listener
// (MQTT over WebSocket, REST API, metrics) on Boost.Beast.
//
// Threading design
// ----------------
// * `io_threads` asio::io_contexts (default 2: both cores), each run by exactly one
//   thread. There is no thread per connection.
// * A new connection is assigned to the next io_context round robin and stays there: its
//   socket, timers, read loop, write queue and in-flight state are only touched by that
//   one thread, so a connection needs neither a strand nor a lock of its own (a strand
//   per connection cost an allocation and a lock per idle connection).
// * The routing state shared by all connections (sessions by client id, subscription
//   tree, retained store, registry, counters that are not atomics) lives in one
//   BrokerState object behind one mutex. A handler takes the lock, computes the list
//   of recipients and copies the message into each recipient's outbox, then releases it.
// * A connection's outbox is its session's queue (under that lock): a publisher on any
//   thread appends to it and posts at most one pending "flush" to the recipient's io
//   thread. The flush encodes everything queued into one gathered write, so fan-in to
//   one subscriber batches naturally.
// * Counters in BrokerStats are atomics, readable from any thread.
// * start()/stop()/reload_registry() may be called from any non-io thread; stop() closes
//   the listeners, sends v5 clients DISCONNECT 0x8B, joins the io threads, closes every
//   connection and is idempotent (the destructor calls it).

#include <mqfleet/broker/account_quotas.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace mqfleet::broker {

/// One plain-TCP or TLS listener. A port of 0 binds an ephemeral port (see bound_port()).
struct ListenerConfig {
  bool enabled = false;
  std::string host = "0.0.0.0"; ///< address to bind
  int port = 1883;              ///< 0 = ephemeral
  std::string cert_file;        ///< TLS only: server certificate chain (PEM)
  std::string key_file;         ///< TLS only: private key (PEM)
  std::string ca_file;          ///< TLS only, optional: require client certificates signed by it
};

/// Resource limits. Documented, with what happens at each, in docs/broker.md.
struct BrokerLimits {
  /// Connections beyond this are accepted and closed at once (no CONNACK).
  std::size_t max_connections = 10000;
  /// Largest packet accepted (v5: announced in CONNACK); larger is a protocol error.
  std::uint32_t max_packet_size = 1024 * 1024;
  /// Unacknowledged QoS 1/2 messages in flight to one client (v5: min with the
  /// client's receive maximum); also the receive maximum announced to v5 clients.
  std::uint16_t max_inflight = 100;
  /// Messages queued per session while offline or while the window is full; QoS 1/2
  /// beyond this are dropped (oldest kept) and counted in stats.
  std::size_t max_queued = 1000;
  /// Largest keepalive a client may ask for, in seconds (mosquitto's max_keepalive);
  /// 0 = no limit. A v5 client asking for more (or for 0) is told this value as Server
  /// Keep Alive; a 3.x client is refused with CONNACK 2, as mosquitto does.
  std::uint16_t max_keepalive = 0;
  /// Seconds from accept to a complete CONNECT (TLS handshake included). An absolute
  /// deadline, not an idle timer: a client trickling bytes cannot hold a slot longer.
  unsigned connect_timeout_seconds = 30;
  /// What one account (tenant) may hold: retained messages and bytes, sessions,
  /// subscriptions; 0 = unlimited (docs/broker.md, "Per-account limits").
  AccountLimits account;
};

/// Everything the broker needs to run.
struct BrokerConfig {
  ListenerConfig mqtt{true, "0.0.0.0", 1883, {}, {}, {}};
  ListenerConfig mqtts{false, "0.0.0.0", 8883, {}, {}, {}};
  /// The HTTP listener: MQTT over WebSocket on /mqtt, the REST API on /v1/, /metrics.
  ListenerConfig http{false, "0.0.0.0", 8080, {}, {}, {}};
  /// The same over TLS (the certificate and key of `mqtts`).
  ListenerConfig https{false, "0.0.0.0", 8443, {}, {}, {}};
  BrokerLimits limits;
  /// Device registry (JSON) for tenancy and credentials; empty with allow_anonymous.
  std::string registry_path;
  /// Directory of the broker's data (bucket points in buckets.sqlite, durable state in state.db);
  /// empty = nothing is stored.
  std::string data_dir;
  /// Open single-tenant broker: no credentials required.
  bool allow_anonymous = false;
  /// io threads; 0 = one per core.
  unsigned io_threads = 2;
  /// Interval of the $SYS/broker/... publications; 0 disables them.
  unsigned sys_interval_seconds = 10;
  /// Acknowledge QoS 1/2 PUBLISHes only once their effects are committed to data_dir.
  bool durable_ack = false;
  /// Receives one JSON log line per event (connect, disconnect, auth failure, reload).
  /// Called from io threads, possibly concurrently; empty = no logging.
  std::function<void(std::string_view line)> log_sink;
};

/// Live counters, readable from any thread.
struct BrokerStats {
  std::atomic<std::uint64_t> clients_connected{0};
  std::atomic<std::uint64_t> clients_total{0};
  std::atomic<std::uint64_t> connections_refused{0};
  std::atomic<std::uint64_t> messages_received{0};
  std::atomic<std::uint64_t> messages_sent{0};
  std::atomic<std::uint64_t> bytes_received{0};
  std::atomic<std::uint64_t> bytes_sent{0};
  std::atomic<std::uint64_t> messages_dropped{0};
  std::atomic<std::uint64_t> auth_failures{0};
  /// CONNECTs refused unchecked by the failed-login back-off (LoginGuard).
  std::atomic<std::uint64_t> auth_throttled{0};
  /// Retained messages, sessions and subscriptions refused by a per-account limit.
  std::atomic<std::uint64_t> quota_refused{0};
};

class BrokerState;
class Server;

/// The broker. Construct with a config, start(), then stop() (or destroy).
class Broker {
public:
  explicit Broker(BrokerConfig config);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  /// Loads the registry, binds every enabled listener and starts the io threads.
  /// Throws ConfigError (bad registry, bad certificate, port in use).
  void start();
  /// Closes listeners and connections and joins the io threads. Idempotent.
  void stop();
  /// The plain listener's port (the chosen one when configured as 0); 0 if disabled.
  int bound_port() const;
  /// The TLS listener's port; 0 if disabled.
  int bound_tls_port() const;
  /// The HTTP listener's port; 0 if disabled.
  int bound_http_port() const;
  /// The HTTPS listener's port; 0 if disabled.
  int bound_https_port() const;
  /// Re-reads the registry file; connections stay up. Throws ConfigError on a bad file
  /// (the old registry stays in force).
  void reload_registry();
  /// Live counters.
  const BrokerStats& stats() const;
  /// The configuration in force.
  const BrokerConfig& config() const;

private:
  BrokerConfig m_config;
  std::shared_ptr<BrokerStats> m_stats;
  std::shared_ptr<BrokerState> m_state;
  std::unique_ptr<Server> m_server;
};

} // namespace mqfleet::broker
