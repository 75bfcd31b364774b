#pragma once
// The network side of the broker: N io_contexts, each run by exactly one thread, the
// acceptors (MQTT, MQTT over TLS, HTTP, HTTPS), and the connection limit. Connections (connection.hpp) do
// the rest. A new connection goes to the next io_context round robin and stays there,
// which serialises its handlers without a per-connection strand (one less allocation
// and lock per connection).

#include "sys_topics.hpp"

#include <mqfleet/broker/broker.hpp>
#include <mqfleet/broker/work_pool.hpp>

#include "asio.hpp"

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace mqfleet::broker {

class BrokerState;

/// Owns the io_context, its threads and the listeners.
class Server {
public:
  Server(const BrokerConfig& config, BrokerState& state, BrokerStats& stats);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds the listeners (throws ConfigError) and starts the io threads.
  void start();
  /// Stops accepting, sends v5 clients DISCONNECT 0x8B (server shutting down) and waits
  /// briefly for those to go out, then stops the io threads and drops every connection.
  /// Idempotent.
  void stop();
  int bound_port() const noexcept { return m_port; }
  int bound_tls_port() const noexcept { return m_tls_port; }
  int bound_http_port() const noexcept { return m_http_port; }
  int bound_https_port() const noexcept { return m_https_port; }

  BrokerState& state() noexcept { return m_state; }
  BrokerStats& stats() noexcept { return m_stats; }
  const BrokerConfig& config() const noexcept { return m_config; }

  /// Where CONNECT credentials are verified (PBKDF2 off the io threads); only with a
  /// registry (not --allow-anonymous).
  WorkPool& auth_pool() noexcept { return *m_auth_pool; }
  /// Where streamed HTTP bodies (bucket exports) are produced, page by page, off the io
  /// threads; only with an HTTP or HTTPS listener.
  WorkPool& export_pool() noexcept { return *m_export_pool; }
  /// Takes one of the k_max_streamed_exports slots, given back when the returned handle
  /// is released (on any thread, even after the server is gone); null when all are taken.
  std::shared_ptr<void> start_export();

  /// Called once by every connection when it closes (keeps the connection count).
  void connection_closed() noexcept { m_connections.fetch_sub(1, std::memory_order_relaxed); }
  /// A connection said goodbye and drains its input until it closes (stop() waits for it).
  void goodbye_started() noexcept { m_goodbyes.fetch_add(1, std::memory_order_relaxed); }
  /// The connection of goodbye_started() closed.
  void goodbye_finished() noexcept { m_goodbyes.fetch_sub(1, std::memory_order_relaxed); }

private:
  void open_acceptor(asio::ip::tcp::acceptor& acceptor, const ListenerConfig& listener, const char* name);
  void accept(asio::ip::tcp::acceptor& acceptor, asio::ssl::context* tls, bool http);
  void housekeeping();
  void close_connections_for_shutdown();

  // The TLS context outlives the io_contexts: pending handlers own TLS streams.
  std::optional<asio::ssl::context> m_tls_context;
  std::optional<asio::ssl::context> m_https_context; ///< HTTPS: same certificate, no client certificates
  // Destroyed after everything below, which holds their handlers. The first one also
  // runs the acceptors and the housekeeping timer.
  std::vector<std::unique_ptr<asio::io_context>> m_ios;
  /// Destroyed before the io_contexts: its jobs post their answers to them.
  std::unique_ptr<WorkPool> m_auth_pool;
  std::unique_ptr<WorkPool> m_export_pool; ///< likewise
  const BrokerConfig& m_config;
  BrokerState& m_state;
  BrokerStats& m_stats;
  asio::ip::tcp::acceptor m_acceptor;
  asio::ip::tcp::acceptor m_tls_acceptor;
  asio::ip::tcp::acceptor m_http_acceptor;
  asio::ip::tcp::acceptor m_https_acceptor;
  asio::steady_timer m_housekeeping_timer;
  SysPublisher m_sys;
  unsigned m_ticks = 0;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> m_work;
  std::vector<std::thread> m_threads;
  std::size_t m_next_io = 0; ///< round robin over m_ios (used by the accepting thread only)
  std::atomic<std::size_t> m_connections{0};
  std::atomic<std::size_t> m_goodbyes{0}; ///< connections between goodbye and close
  /// Streamed exports in progress (shared: a slot may be released after the server).
  std::shared_ptr<std::atomic<std::size_t>> m_exports = std::make_shared<std::atomic<std::size_t>>(0);
  int m_port = 0;
  int m_tls_port = 0;
  int m_http_port = 0;
  int m_https_port = 0;
  bool m_running = false;
};

} // namespace mqfleet::broker
