#include "server.hpp"

#include "broker_state.hpp"
#include "connection.hpp"

#include <mqfleet/error.hpp>

namespace mqfleet::broker {
namespace {

asio::ssl::context make_tls_context(const ListenerConfig& listener) {
  asio::ssl::context context(asio::ssl::context::tls_server);
  context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::single_dh_use);
  asio::error_code ec;
  if (listener.cert_file.empty() || listener.key_file.empty())
    throw ConfigError("the TLS listener needs a certificate and a key", "--tls-port",
                      "pass --cert FILE and --key FILE");
  if (context.use_certificate_chain_file(listener.cert_file, ec); ec)
    throw ConfigError("cannot load the TLS certificate: " + ec.message(), listener.cert_file,
                      "give a PEM certificate chain");
  if (context.use_private_key_file(listener.key_file, asio::ssl::context::pem, ec); ec)
    throw ConfigError("cannot load the TLS private key: " + ec.message(), listener.key_file,
                      "give an unencrypted PEM private key that matches the certificate");
  if (!listener.ca_file.empty()) {
    if (context.load_verify_file(listener.ca_file, ec); ec)
      throw ConfigError("cannot load the client CA: " + ec.message(), listener.ca_file, "give a PEM CA file");
    context.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  }
  return context;
}

} // namespace

Server::Server(const BrokerConfig& config, BrokerState& state, BrokerStats& stats)
    : m_config(config), m_state(state), m_stats(stats), m_acceptor(m_io), m_tls_acceptor(m_io),
      m_housekeeping_timer(m_io) {}

Server::~Server() { stop(); }

void Server::open_acceptor(asio::ip::tcp::acceptor& acceptor, const ListenerConfig& listener, const char* name) {
  asio::error_code ec;
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
  if (m_config.mqtt.enabled) {
    open_acceptor(m_acceptor, m_config.mqtt, "MQTT");
    m_port = m_acceptor.local_endpoint().port();
  }
  if (m_config.mqtts.enabled) {
    m_tls_context.emplace(make_tls_context(m_config.mqtts));
    open_acceptor(m_tls_acceptor, m_config.mqtts, "MQTT over TLS");
    m_tls_port = m_tls_acceptor.local_endpoint().port();
  }
  if (m_config.mqtt.enabled) accept(m_acceptor, nullptr);
  if (m_config.mqtts.enabled) accept(m_tls_acceptor, &*m_tls_context);
  m_work.emplace(m_io.get_executor());
  housekeeping();
  unsigned threads = m_config.io_threads != 0 ? m_config.io_threads : std::thread::hardware_concurrency();
  if (threads == 0) threads = 2;
  for (unsigned i = 0; i < threads; ++i) m_threads.emplace_back([this] { m_io.run(); });
  m_running = true;
}

void Server::accept(asio::ip::tcp::acceptor& acceptor, asio::ssl::context* tls) {
  auto strand = asio::make_strand(m_io);
  auto socket = std::make_shared<asio::ip::tcp::socket>(strand);
  acceptor.async_accept(*socket, [this, &acceptor, tls, strand, socket](const asio::error_code& ec) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      if (m_connections.fetch_add(1, std::memory_order_relaxed) >= m_config.limits.max_connections) {
        // At the limit: refuse by closing at once (before CONNECT, so no CONNACK).
        m_connections.fetch_sub(1, std::memory_order_relaxed);
        m_stats.connections_refused.fetch_add(1, std::memory_order_relaxed);
        asio::error_code ignored;
        socket->close(ignored);
      } else {
        std::make_shared<Connection>(*this, strand, std::move(*socket), tls)->start();
      }
    }
    accept(acceptor, tls);
  });
}

// Once a second: due wills, expired sessions and, every sys_interval, $SYS counters.
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
  m_housekeeping_timer.expires_after(std::chrono::seconds(1));
  m_housekeeping_timer.async_wait([this](const asio::error_code& ec) {
    if (!ec) housekeeping();
  });
}

void Server::stop() {
  if (!m_running) return;
  m_running = false;
  m_work.reset();
  m_io.stop();
  for (auto& thread : m_threads) thread.join();
  m_threads.clear();
  asio::error_code ec;
  m_acceptor.close(ec);
  m_tls_acceptor.close(ec);
  // The pending handlers (and with them the connections) go with the io_context.
  m_state.drop_all_connections();
}

} // namespace mqfleet::broker
