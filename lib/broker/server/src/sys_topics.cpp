#include "sys_topics.hpp"

#include "persistence.hpp"

#include <cstdio>
#include <string>

namespace mqfleet::broker {
namespace {

void put(BrokerState& state, const std::string& topic, std::string value, WakeList& wake) {
  auto message = std::make_shared<Message>();
  message->topic = "$SYS/broker/" + topic;
  message->payload = std::move(value);
  message->retain = true;
  state.publish(message, "", wake);
}

std::string rate(std::uint64_t now, std::uint64_t before, double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", seconds > 0 ? static_cast<double>(now - before) / seconds : 0.0);
  return text;
}

} // namespace

SysPublisher::SysPublisher() : m_started(std::chrono::steady_clock::now()), m_last(m_started) {}

void SysPublisher::publish(BrokerState& state, WakeList& wake) {
  const BrokerStats& s = state.stats();
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - m_last).count();
  const auto messages_in = s.messages_received.load();
  const auto messages_out = s.messages_sent.load();
  const auto bytes_in = s.bytes_received.load();
  const auto bytes_out = s.bytes_sent.load();
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(now - m_started).count();
  put(state, "version", "mqfleet", wake);
  put(state, "uptime", std::to_string(uptime) + " seconds", wake);
  put(state, "clients/connected", std::to_string(s.clients_connected.load()), wake);
  put(state, "clients/total", std::to_string(state.session_count()), wake);
  put(state, "clients/auth_failures", std::to_string(s.auth_failures.load()), wake);
  put(state, "clients/auth_throttled", std::to_string(s.auth_throttled.load()), wake);
  put(state, "messages/received", std::to_string(messages_in), wake);
  put(state, "messages/sent", std::to_string(messages_out), wake);
  put(state, "messages/dropped", std::to_string(s.messages_dropped.load()), wake);
  put(state, "bytes/received", std::to_string(bytes_in), wake);
  put(state, "bytes/sent", std::to_string(bytes_out), wake);
  put(state, "retained messages/count", std::to_string(state.retained_count()), wake);
  put(state, "load/messages/received/per_second", rate(messages_in, m_last_messages_in, elapsed), wake);
  put(state, "load/messages/sent/per_second", rate(messages_out, m_last_messages_out, elapsed), wake);
  put(state, "load/bytes/received/per_second", rate(bytes_in, m_last_bytes_in, elapsed), wake);
  put(state, "load/bytes/sent/per_second", rate(bytes_out, m_last_bytes_out, elapsed), wake);
  if (const auto* persistence = state.persistence()) {
    put(state, "persistence/pending", std::to_string(persistence->pending_changes()), wake);
    put(state, "persistence/committed", std::to_string(persistence->committed_ops()), wake);
  }
  m_last = now;
  m_last_messages_in = messages_in;
  m_last_messages_out = messages_out;
  m_last_bytes_in = bytes_in;
  m_last_bytes_out = bytes_out;
}

} // namespace mqfleet::broker
