#pragma once
// $SYS/broker/... counters, published periodically as retained messages (global: every
// tenant sees the same broker-wide numbers; clients cannot publish under $SYS).

#include "broker_state.hpp"

#include <chrono>
#include <cstdint>

namespace mqfleet::broker {

/// Remembers the previous sample to compute per-second rates.
class SysPublisher {
public:
  SysPublisher();
  /// locked: publishes every $SYS topic with the current counters.
  void publish(BrokerState& state, WakeList& wake);

private:
  std::chrono::steady_clock::time_point m_started;
  std::chrono::steady_clock::time_point m_last;
  std::uint64_t m_last_messages_in = 0;
  std::uint64_t m_last_messages_out = 0;
  std::uint64_t m_last_bytes_in = 0;
  std::uint64_t m_last_bytes_out = 0;
};

} // namespace mqfleet::broker
