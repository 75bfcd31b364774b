#pragma once
// The MQTT state of one connection (owned by Connection, touched only on its strand).
// The session it is attached to lives in BrokerState and is touched only under its lock.

#include "broker_state.hpp"

#include <mqfleet/broker/access_rules.hpp>
#include <mqfleet/broker/tenancy.hpp>
#include <mqfleet/mqtt/frame.hpp>
#include <mqfleet/mqtt/types.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace mqfleet::broker {

/// Per-connection protocol state.
struct ClientState {
  explicit ClientState(std::size_t max_packet_size) : reader(max_packet_size) {}

  mqtt::FrameReader reader;                     ///< cuts the byte stream into frames
  bool connected = false;                       ///< CONNECT accepted (CONNACK 0 sent)
  mqtt::ProtocolVersion version = mqtt::ProtocolVersion::v3_1_1;
  std::string client_id;
  std::string account;                          ///< the username ("" when anonymous)
  TenantMount mount;                            ///< topic mounting of the tenant
  BoundRules rules;                             ///< access rules of this client
  SessionPtr session;                           ///< attached session (use under the state lock)
  std::string session_key;                      ///< mounted client id
  std::uint32_t client_max_packet_size = 0;     ///< v5 Maximum Packet Size of the client; 0 = none
  bool graceful = false;                        ///< normal DISCONNECT seen: drop the will
  std::string close_reason;                     ///< for the disconnect log line; "" = "connection closed"
  std::chrono::steady_clock::time_point connected_at{};

  /// True for MQTT 5.0 clients.
  bool v5() const noexcept { return version == mqtt::ProtocolVersion::v5; }
};

} // namespace mqfleet::broker
