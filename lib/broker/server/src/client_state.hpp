#pragma once
// The MQTT state of one connection (owned by Connection, touched only on its io thread).
// The session it is attached to lives in BrokerState and is touched only under its lock.
//
// Kept small on purpose (every idle connection pays for it): the client id and session
// key are not copied here (they are the attached session's key), the frame reader
// exists only while an incomplete frame is buffered, and access rules that allow
// everything are not stored.

#include "broker_state.hpp"

#include <mqfleet/broker/access_rules.hpp>
#include <mqfleet/broker/tenancy.hpp>
#include <mqfleet/mqtt/frame.hpp>
#include <mqfleet/mqtt/types.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace mqfleet::broker {

/// Per-connection protocol state.
struct ClientState {
  std::unique_ptr<mqtt::FrameReader> reader;    ///< holds an incomplete frame; null when none
  SessionPtr session;                           ///< attached session (use under the state lock)
  TenantMount mount;                            ///< topic mounting of the tenant
  std::unique_ptr<const BoundRules> bound_rules; ///< access rules; null = everything allowed
  std::unique_ptr<std::string> close_reason_text; ///< for the disconnect log line; null = "connection closed"
  std::unique_ptr<OutgoingTopicAliases> outgoing_aliases; ///< v5 client's Topic Alias Maximum > 0 only
  std::uint32_t client_max_packet_size = 0;     ///< v5 Maximum Packet Size of the client; 0 = none
  mqtt::ProtocolVersion version = mqtt::ProtocolVersion::v3_1_1;
  bool connected = false;                       ///< CONNECT accepted (CONNACK 0 sent)
  bool graceful = false;                        ///< normal DISCONNECT seen: drop the will
  bool problem_information = true;              ///< v5 Request Problem Information (CONNECT)
  bool auth_pending = false;                    ///< CONNECT's credentials are on the auth pool

  /// True for MQTT 5.0 clients.
  bool v5() const noexcept { return version == mqtt::ProtocolVersion::v5; }
  /// The access rules of this client.
  const BoundRules& rules() const noexcept {
    static const BoundRules k_allow_all;
    return bound_rules ? *bound_rules : k_allow_all;
  }
  /// Sets the access rules (not stored when they allow everything).
  void set_rules(BoundRules rules) {
    if (rules.allows_everything()) bound_rules.reset();
    else bound_rules = std::make_unique<const BoundRules>(std::move(rules));
  }
  /// The session key (mounted client id); empty before CONNECT is accepted.
  std::string_view session_key() const noexcept {
    return session ? std::string_view(session->session.key()) : std::string_view();
  }
  /// The client id as the client sent it (or as assigned); empty before CONNECT.
  std::string_view client_id() const noexcept { return session_key().substr(mount.prefix().size()); }
  /// The account (the username; empty when anonymous).
  std::string_view account() const noexcept { return mount.account(); }
  /// Why the connection closed, for the log line.
  std::string_view close_reason() const noexcept {
    return close_reason_text ? std::string_view(*close_reason_text) : std::string_view("connection closed");
  }
  /// Records why the connection closes (a later reason replaces an earlier one).
  void set_close_reason(std::string_view reason) { close_reason_text = std::make_unique<std::string>(reason); }
  /// True when reason strings and user properties may be sent on packets other than
  /// PUBLISH, CONNACK and DISCONNECT (v5 Request Problem Information, MQTT-3.1.2-29).
  bool may_send_problem_information() const noexcept { return v5() && problem_information; }
};

} // namespace mqfleet::broker
