#pragma once
// The network side of the broker: one io_context run by N threads, the plain and TLS
// acceptors, and the connection limit. Connections (connection.hpp) do the rest.

#include "sys_topics.hpp"

#include <mqfleet/broker/broker.hpp>

#include <asio.hpp>
#include <asio/ssl.hpp>

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
  /// Stops accepting, stops the io threads and drops every connection. Idempotent.
  void stop();
  int bound_port() const noexcept { return m_port; }
  int bound_tls_port() const noexcept { return m_tls_port; }

  asio::io_context& io() noexcept { return m_io; }
  BrokerState& state() noexcept { return m_state; }
  BrokerStats& stats() noexcept { return m_stats; }
  const BrokerConfig& config() const noexcept { return m_config; }

  /// Called once by every connection when it closes (keeps the connection count).
  void connection_closed() noexcept { m_connections.fetch_sub(1, std::memory_order_relaxed); }

private:
  void open_acceptor(asio::ip::tcp::acceptor& acceptor, const ListenerConfig& listener, const char* name);
  void accept(asio::ip::tcp::acceptor& acceptor, asio::ssl::context* tls);
  void housekeeping();

  // The TLS context outlives the io_context: pending handlers own TLS streams.
  std::optional<asio::ssl::context> m_tls_context;
  // Destroyed after everything below, which holds its handlers.
  asio::io_context m_io;
  const BrokerConfig& m_config;
  BrokerState& m_state;
  BrokerStats& m_stats;
  asio::ip::tcp::acceptor m_acceptor;
  asio::ip::tcp::acceptor m_tls_acceptor;
  asio::steady_timer m_housekeeping_timer;
  SysPublisher m_sys;
  unsigned m_ticks = 0;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> m_work;
  std::vector<std::thread> m_threads;
  std::atomic<std::size_t> m_connections{0};
  int m_port = 0;
  int m_tls_port = 0;
  bool m_running = false;
};

} // namespace mqfleet::broker
