#pragma once
// $SYS/broker/... figures, published periodically as retained messages. In anonymous
// mode (one tenant) the broker-wide figures under `$SYS/...`. With accounts every tenant
// gets its own figures under its own `$SYS` (internally `account/$SYS/...`, see
// tenancy.hpp): no tenant sees another's counts, and the broker-wide counters (messages,
// bytes, persistence) are for the admin's /metrics only. Clients cannot publish under $SYS.

#include "broker_state.hpp"

#include <chrono>
#include <cstdint>
#include <set>
#include <string>

namespace mqfleet::broker {

/// Remembers the previous sample to compute per-second rates.
class SysPublisher {
public:
  SysPublisher();
  /// locked: publishes every $SYS topic with the current counters.
  void publish(BrokerState& state, WakeList& wake);

private:
  void publish_global(BrokerState& state, WakeList& wake);
  void publish_tenants(BrokerState& state, WakeList& wake);

  std::chrono::steady_clock::time_point m_started;
  std::chrono::steady_clock::time_point m_last;
  std::uint64_t m_last_messages_in = 0;
  std::uint64_t m_last_messages_out = 0;
  std::uint64_t m_last_bytes_in = 0;
  std::uint64_t m_last_bytes_out = 0;
  /// Tenants whose figures were published last time: one that is gone has its $SYS
  /// topics deleted, so the retained store does not keep every account ever seen.
  std::set<std::string, std::less<>> m_tenants;
};

} // namespace mqfleet::broker
