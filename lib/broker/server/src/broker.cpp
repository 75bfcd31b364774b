#include <mqfleet/broker/broker.hpp>

#include "broker_state.hpp"
#include "log.hpp"
#include "server.hpp"

namespace mqfleet::broker {

Broker::Broker(BrokerConfig config)
    : m_config(std::move(config)), m_stats(std::make_shared<BrokerStats>()),
      m_state(std::make_shared<BrokerState>(m_config, *m_stats)) {}

Broker::~Broker() { stop(); }

void Broker::start() {
  if (m_server) return;
  m_state->open_buckets();
  m_state->reload();
  m_state->open_persistence();
  auto server = std::make_unique<Server>(m_config, *m_state, *m_stats);
  server->start();
  m_server = std::move(server);
}

void Broker::stop() {
  if (!m_server) return;
  m_server->stop();
  // Before the server goes: the last commit's --durable-ack callbacks post to strands.
  m_state->close_persistence();
  m_server.reset();
  m_state->close_buckets();
}

int Broker::bound_port() const { return m_server ? m_server->bound_port() : 0; }

int Broker::bound_tls_port() const { return m_server ? m_server->bound_tls_port() : 0; }
int Broker::bound_http_port() const { return m_server ? m_server->bound_http_port() : 0; }
int Broker::bound_https_port() const { return m_server ? m_server->bound_https_port() : 0; }

void Broker::reload_registry() {
  try {
    m_state->reload();
  } catch (const std::exception& e) {
    log_event(*m_state, "reload_failed", e.what());
    throw;
  }
  log_event(*m_state, "reload", m_config.registry_path);
}

const BrokerStats& Broker::stats() const { return *m_stats; }

const BrokerConfig& Broker::config() const { return m_config; }

} // namespace mqfleet::broker
