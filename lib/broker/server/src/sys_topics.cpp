#include "sys_topics.hpp"

#include "persistence.hpp"

#include <cstdio>
#include <utility>
#include <vector>
#include <string>

namespace mqfleet::broker {
namespace {

/// `prefix` is "" (broker-wide) or a tenant's "account/".
void put(BrokerState& state, const std::string& prefix, const std::string& topic, std::string value,
         WakeList& wake) {
  auto message = std::make_shared<Message>();
  message->topic = prefix + "$SYS/broker/" + topic;
  message->payload = std::move(value);
  message->retain = true;
  state.publish(message, "", wake);
}

std::string rate(std::uint64_t now, std::uint64_t before, double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", seconds > 0 ? static_cast<double>(now - before) / seconds : 0.0);
  return text;
}

/// The topics of a tenant's own $SYS view (docs/broker.md).
constexpr const char* k_tenant_topics[] = {
    "version", "uptime", "clients/connected", "clients/total", "clients/auth_failures", "clients/auth_throttled",
    "retained messages/count", "retained messages/bytes", "subscriptions/count", "quota/refused"};

} // namespace

SysPublisher::SysPublisher() : m_started(std::chrono::steady_clock::now()), m_last(m_started) {}

void SysPublisher::publish(BrokerState& state, WakeList& wake) {
  if (state.mount_levels() == 0) publish_global(state, wake);
  else publish_tenants(state, wake);
}

void SysPublisher::publish_global(BrokerState& state, WakeList& wake) {
  const BrokerStats& s = state.stats();
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - m_last).count();
  const auto messages_in = s.messages_received.load();
  const auto messages_out = s.messages_sent.load();
  const auto bytes_in = s.bytes_received.load();
  const auto bytes_out = s.bytes_sent.load();
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(now - m_started).count();
  put(state, "", "version", "mqfleet", wake);
  put(state, "", "uptime", std::to_string(uptime) + " seconds", wake);
  put(state, "", "clients/connected", std::to_string(s.clients_connected.load()), wake);
  put(state, "", "clients/total", std::to_string(state.session_count()), wake);
  put(state, "", "clients/auth_failures", std::to_string(s.auth_failures.load()), wake);
  put(state, "", "clients/auth_throttled", std::to_string(s.auth_throttled.load()), wake);
  put(state, "", "messages/received", std::to_string(messages_in), wake);
  put(state, "", "messages/sent", std::to_string(messages_out), wake);
  put(state, "", "messages/dropped", std::to_string(s.messages_dropped.load()), wake);
  put(state, "", "bytes/received", std::to_string(bytes_in), wake);
  put(state, "", "bytes/sent", std::to_string(bytes_out), wake);
  const AccountUsage usage = state.quotas().usage("");
  put(state, "", "retained messages/count", std::to_string(state.retained_count()), wake);
  put(state, "", "retained messages/bytes", std::to_string(usage.retained_bytes), wake);
  put(state, "", "subscriptions/count", std::to_string(usage.subscriptions), wake);
  put(state, "", "quota/refused", std::to_string(s.quota_refused.load()), wake);
  put(state, "", "load/messages/received/per_second", rate(messages_in, m_last_messages_in, elapsed), wake);
  put(state, "", "load/messages/sent/per_second", rate(messages_out, m_last_messages_out, elapsed), wake);
  put(state, "", "load/bytes/received/per_second", rate(bytes_in, m_last_bytes_in, elapsed), wake);
  put(state, "", "load/bytes/sent/per_second", rate(bytes_out, m_last_bytes_out, elapsed), wake);
  if (const auto* persistence = state.persistence()) {
    put(state, "", "persistence/pending", std::to_string(persistence->pending_changes()), wake);
    put(state, "", "persistence/committed", std::to_string(persistence->committed_ops()), wake);
  }
  m_last = now;
  m_last_messages_in = messages_in;
  m_last_messages_out = messages_out;
  m_last_bytes_in = bytes_in;
  m_last_bytes_out = bytes_out;
}

void SysPublisher::publish_tenants(BrokerState& state, WakeList& wake) {
  const auto now = std::chrono::steady_clock::now();
  const std::string uptime =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - m_started).count()) + " seconds";
  const auto connected = state.connected_per_account();
  std::set<std::string, std::less<>> tenants;
  // Collected first: publishing below changes the ledger's map only for $SYS topics,
  // which it does not count, but the walk must not depend on that.
  std::vector<std::pair<std::string, AccountUsage>> usages;
  state.quotas().for_each([&](const std::string& account, const AccountUsage& usage) {
    if (!account.empty()) usages.emplace_back(account, usage);
  });
  for (const auto& [account, usage] : usages) {
    const std::string prefix = account + "/";
    const auto it = connected.find(account);
    put(state, prefix, "version", "mqfleet", wake);
    put(state, prefix, "uptime", uptime, wake);
    put(state, prefix, "clients/connected", std::to_string(it == connected.end() ? 0 : it->second), wake);
    put(state, prefix, "clients/total", std::to_string(usage.sessions), wake);
    put(state, prefix, "clients/auth_failures", std::to_string(usage.auth_failures), wake);
    put(state, prefix, "clients/auth_throttled", std::to_string(usage.auth_throttled), wake);
    put(state, prefix, "retained messages/count", std::to_string(usage.retained), wake);
    put(state, prefix, "retained messages/bytes", std::to_string(usage.retained_bytes), wake);
    put(state, prefix, "subscriptions/count", std::to_string(usage.subscriptions), wake);
    put(state, prefix, "quota/refused", std::to_string(usage.quota_refusals), wake);
    tenants.insert(account);
  }
  for (const auto& gone : m_tenants) {
    if (tenants.contains(gone)) continue;
    for (const char* topic : k_tenant_topics) put(state, gone + "/", topic, "", wake); // empty = deleted
  }
  m_tenants = std::move(tenants);
}

} // namespace mqfleet::broker
