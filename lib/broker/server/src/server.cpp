#include "server.hpp"

#include "http_api.hpp"

#include "broker_state.hpp"
#include "connection.hpp"
#include "log.hpp"
#include "persistence.hpp"

#include <mqfleet/error.hpp>

#include <algorithm>
#include <future>

namespace mqfleet::broker {
namespace {

asio::ssl::context make_tls_context(const ListenerConfig& listener, bool client_certificates = true) {
  asio::ssl::context context(asio::ssl::context::tls_server);
  context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::single_dh_use);
  error_code ec;
  if (listener.cert_file.empty() || listener.key_file.empty())
    throw ConfigError("the TLS listener needs a certificate and a key", "--tls-port",
                      "pass --cert FILE and --key FILE");
  if (context.use_certificate_chain_file(listener.cert_file, ec); ec)
    throw ConfigError("cannot load the TLS certificate: " + ec.message(), listener.cert_file,
                      "give a PEM certificate chain");
  if (context.use_private_key_file(listener.key_file, asio::ssl::context::pem, ec); ec)
    throw ConfigError("cannot load the TLS private key: " + ec.message(), listener.key_file,
                      "give an unencrypted PEM private key that matches the certificate");
  if (client_certificates && !listener.ca_file.empty()) {
    if (context.load_verify_file(listener.ca_file, ec); ec)
      throw ConfigError("cannot load the client CA: " + ec.message(), listener.ca_file, "give a PEM CA file");
    context.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  }
  return context;
}

unsigned io_thread_count(const BrokerConfig& config) {
  unsigned threads = config.io_threads != 0 ? config.io_threads : std::thread::hardware_concurrency();
  return threads == 0 ? 2 : threads;
}

std::vector<std::unique_ptr<asio::io_context>> make_io_contexts(unsigned count) {
  std::vector<std::unique_ptr<asio::io_context>> ios;
  // Concurrency hint 1: each io_context is run by one thread only.
  for (unsigned i = 0; i < count; ++i) ios.push_back(std::make_unique<asio::io_context>(1));
  return ios;
}

/// CONNECTs waiting for a credential check at most; beyond, CONNACK "server busy".
constexpr std::size_t k_auth_queue = 1024;

/// Credential checks run on half the cores (at least 1, at most 4): a login storm can
/// slow logins, never the io threads.
unsigned auth_thread_count() {
  const unsigned cores = std::thread::hardware_concurrency();
  return std::clamp(cores / 2, 1u, 4u);
}

/// Export pages are read on two threads: enough to keep exports streaming while others
/// wait for their clients, few enough to leave the cores to the io threads.
constexpr unsigned k_export_threads = 2;

/// How long stop() waits for DISCONNECT 0x8B to reach the clients.
constexpr auto k_shutdown_grace = std::chrono::seconds(2);

} // namespace

Server::Server(const BrokerConfig& config, BrokerState& state, BrokerStats& stats)
    : m_ios(make_io_contexts(io_thread_count(config))), m_config(config), m_state(state), m_stats(stats),
      m_acceptor(*m_ios.front()), m_tls_acceptor(*m_ios.front()), m_http_acceptor(*m_ios.front()), m_https_acceptor(*m_ios.front()),
      m_housekeeping_timer(*m_ios.front()) {}

Server::~Server() { stop(); }

void Server::open_acceptor(asio::ip::tcp::acceptor& acceptor, const ListenerConfig& listener, const char* name) {
  error_code ec;
  auto address = asio::ip::make_address(listener.host, ec);
  if (ec) throw ConfigError("invalid bind address '" + listener.host + "'", "--bind", "give an IP address");
  asio::ip::tcp::endpoint endpoint(address, static_cast<unsigned short>(listener.port));
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw ConfigError(std::string("cannot listen for ") + name + ": " + ec.message(),
                      listener.host + ":" + std::to_string(listener.port),
                      "choose another port (0 picks a free one) or stop what uses it");
}

void Server::start() {
  if (m_running) return;
  if (!m_config.allow_anonymous && !m_auth_pool)
    m_auth_pool = std::make_unique<WorkPool>(auth_thread_count(), k_auth_queue);
  // Each streaming export has at most one page job queued, so the queue never refuses.
  if ((m_config.http.enabled || m_config.https.enabled) && !m_export_pool)
    m_export_pool = std::make_unique<WorkPool>(k_export_threads, k_max_streamed_exports);
  if (m_config.mqtt.enabled) {
    open_acceptor(m_acceptor, m_config.mqtt, "MQTT");
    m_port = m_acceptor.local_endpoint().port();
  }
  if (m_config.mqtts.enabled) {
    m_tls_context.emplace(make_tls_context(m_config.mqtts));
    open_acceptor(m_tls_acceptor, m_config.mqtts, "MQTT over TLS");
    m_tls_port = m_tls_acceptor.local_endpoint().port();
  }
  if (m_config.http.enabled) {
    open_acceptor(m_http_acceptor, m_config.http, "HTTP");
    m_http_port = m_http_acceptor.local_endpoint().port();
  }
  if (m_config.https.enabled) {
    m_https_context.emplace(make_tls_context(m_config.mqtts, false));
    open_acceptor(m_https_acceptor, m_config.https, "HTTPS");
    m_https_port = m_https_acceptor.local_endpoint().port();
  }
  if (m_config.mqtt.enabled) accept(m_acceptor, nullptr, false);
  if (m_config.mqtts.enabled) accept(m_tls_acceptor, &*m_tls_context, false);
  if (m_config.http.enabled) accept(m_http_acceptor, nullptr, true);
  if (m_config.https.enabled) accept(m_https_acceptor, &*m_https_context, true);
  for (auto& io : m_ios) m_work.push_back(asio::make_work_guard(*io));
  housekeeping();
  for (auto& io : m_ios) m_threads.emplace_back([context = io.get()] { context->run(); });
  m_running = true;
}

std::shared_ptr<void> Server::start_export() {
  if (m_exports->fetch_add(1, std::memory_order_relaxed) >= k_max_streamed_exports) {
    m_exports->fetch_sub(1, std::memory_order_relaxed);
    return nullptr;
  }
  // Points at the counter it keeps alive: non-null, and nothing to delete.
  return std::shared_ptr<void>(m_exports.get(),
                               [count = m_exports](void*) { count->fetch_sub(1, std::memory_order_relaxed); });
}

void Server::accept(asio::ip::tcp::acceptor& acceptor, asio::ssl::context* tls, bool http) {
  asio::io_context& target = *m_ios[m_next_io];
  m_next_io = (m_next_io + 1) % m_ios.size();
  acceptor.async_accept(target, [this, &acceptor, tls, http](const error_code& ec, Connection::Socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      if (m_connections.fetch_add(1, std::memory_order_relaxed) >= m_config.limits.max_connections) {
        // At the limit: refuse by closing at once (before CONNECT, so no CONNACK).
        m_connections.fetch_sub(1, std::memory_order_relaxed);
        m_stats.connections_refused.fetch_add(1, std::memory_order_relaxed);
        error_code ignored;
        socket.close(ignored);
      } else {
        make_ref<Connection>(*this, std::move(socket), tls, http)->start();
      }
    }
    accept(acceptor, tls, http);
  });
}

// Once a second: due wills, expired sessions, the durable-state backlog log line and,
// every sys_interval, $SYS counters.
void Server::housekeeping() {
  WakeList wake;
  {
    auto lock = m_state.lock();
    m_state.tick(Clock::now(), wake);
    if (m_config.sys_interval_seconds != 0 && m_ticks % m_config.sys_interval_seconds == 0)
      m_sys.publish(m_state, wake);
  }
  ++m_ticks;
  for (auto& connection : wake) connection->post_flush();
  log_suppressed(m_state);
  if (auto* persistence = m_state.persistence()) persistence->report_backlog(std::chrono::steady_clock::now());
  m_housekeeping_timer.expires_after(std::chrono::seconds(1));
  m_housekeeping_timer.async_wait([this](const error_code& ec) {
    if (!ec) housekeeping();
  });
}

// MQTT 5 (3.14.2.1): a server that shuts down may tell its clients with DISCONNECT 0x8B.
// The acceptors close first, so no new connection arrives meanwhile; clients that do not
// read are not waited for beyond the grace period.
void Server::close_connections_for_shutdown() {
  std::promise<void> closed;
  asio::post(*m_ios.front(), [this, &closed] {
    error_code ec;
    m_acceptor.close(ec);
    m_tls_acceptor.close(ec);
    m_http_acceptor.close(ec);
    m_https_acceptor.close(ec);
    m_housekeeping_timer.cancel();
    closed.set_value();
  });
  closed.get_future().wait();
  for (auto& connection : m_state.attached_connections()) connection->post_close(0x8B, "server shutting down");
  const auto deadline = std::chrono::steady_clock::now() + k_shutdown_grace;
  // Connected clients, then the goodbyes: a socket closed with unread input would reset
  // the connection and destroy the DISCONNECT on its way.
  while ((m_stats.clients_connected.load(std::memory_order_relaxed) != 0 ||
          m_goodbyes.load(std::memory_order_relaxed) != 0) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

void Server::stop() {
  if (!m_running) return;
  m_running = false;
  close_connections_for_shutdown();
  m_work.clear();
  for (auto& io : m_ios) io->stop();
  for (auto& thread : m_threads) thread.join();
  m_threads.clear();
  // Checks still queued post to the stopped io_contexts; their handlers go with them.
  m_auth_pool.reset();
  m_export_pool.reset();
  error_code ec;
  m_acceptor.close(ec);
  m_tls_acceptor.close(ec);
  m_http_acceptor.close(ec);
  m_https_acceptor.close(ec);
  // The pending handlers (and with them the connections) go with the io_context.
  m_state.drop_all_connections();
}

} // namespace mqfleet::broker
