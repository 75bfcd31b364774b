#pragma once
// MQTT 5.0 reason codes (section 2.4) and the MQTT 3.1/3.1.1 CONNACK return codes. The
// codec speaks v5 reason codes everywhere; for 3.x CONNACK and SUBACK it maps them to and
// from the older return codes.

#include <mqfleet/mqtt/types.hpp>

#include <cstdint>
#include <string_view>

namespace mqfleet::mqtt {

/// Every MQTT 5.0 reason code. Some values have several names depending on the packet.
enum class ReasonCode : std::uint8_t {
  success = 0x00,
  normal_disconnection = 0x00,
  granted_qos_0 = 0x00,
  granted_qos_1 = 0x01,
  granted_qos_2 = 0x02,
  disconnect_with_will_message = 0x04,
  no_matching_subscribers = 0x10,
  no_subscription_existed = 0x11,
  continue_authentication = 0x18,
  re_authenticate = 0x19,
  unspecified_error = 0x80,
  malformed_packet = 0x81,
  protocol_error = 0x82,
  implementation_specific_error = 0x83,
  unsupported_protocol_version = 0x84,
  client_identifier_not_valid = 0x85,
  bad_user_name_or_password = 0x86,
  not_authorized = 0x87,
  server_unavailable = 0x88,
  server_busy = 0x89,
  banned = 0x8A,
  server_shutting_down = 0x8B,
  bad_authentication_method = 0x8C,
  keep_alive_timeout = 0x8D,
  session_taken_over = 0x8E,
  topic_filter_invalid = 0x8F,
  topic_name_invalid = 0x90,
  packet_identifier_in_use = 0x91,
  packet_identifier_not_found = 0x92,
  receive_maximum_exceeded = 0x93,
  topic_alias_invalid = 0x94,
  packet_too_large = 0x95,
  message_rate_too_high = 0x96,
  quota_exceeded = 0x97,
  administrative_action = 0x98,
  payload_format_invalid = 0x99,
  retain_not_supported = 0x9A,
  qos_not_supported = 0x9B,
  use_another_server = 0x9C,
  server_moved = 0x9D,
  shared_subscriptions_not_supported = 0x9E,
  connection_rate_exceeded = 0x9F,
  maximum_connect_time = 0xA0,
  subscription_identifiers_not_supported = 0xA1,
  wildcard_subscriptions_not_supported = 0xA2,
};

/// The MQTT 3.1/3.1.1 CONNACK return codes.
enum class ConnackReturnCode : std::uint8_t {
  accepted = 0,
  unacceptable_protocol_version = 1,
  identifier_rejected = 2,
  server_unavailable = 3,
  bad_user_name_or_password = 4,
  not_authorized = 5,
};

/// The 3.1/3.1.1 SUBACK failure return code.
inline constexpr std::uint8_t k_suback_failure_v3 = 0x80;

/// True for reason codes 0x80 and above, which signal failure.
constexpr bool is_error(ReasonCode code) noexcept {
  return static_cast<std::uint8_t>(code) >= 0x80;
}

/// The spec's name of a reason code, e.g. "Malformed Packet". For 0x00 "Success"; for
/// values that are not reason codes "Unknown reason code".
std::string_view reason_name(ReasonCode code) noexcept;

/// The spec's name of the code as used in one packet type (0x00 in DISCONNECT is
/// "Normal disconnection", in SUBACK "Granted QoS 0").
std::string_view reason_name(ReasonCode code, PacketType type) noexcept;

/// One sentence saying what the reason code means.
std::string_view reason_description(ReasonCode code) noexcept;

/// True when the code is one of those MQTT 5.0 allows in that packet type.
bool is_allowed_reason(ReasonCode code, PacketType type) noexcept;

/// The 3.1/3.1.1 CONNACK return code closest to a v5 reason code (e.g. 0x84 -> 1,
/// 0x85 -> 2, 0x86/0x8C -> 4, 0x87/0x8A -> 5, other errors -> 3).
ConnackReturnCode to_connack_return_code(ReasonCode code) noexcept;

/// The v5 reason code for a 3.x CONNACK return code (1 -> 0x84, 2 -> 0x85, 3 -> 0x88,
/// 4 -> 0x86, 5 -> 0x87).
ReasonCode from_connack_return_code(ConnackReturnCode code) noexcept;

/// "Connection Accepted", "Connection Refused, not authorized", ...
std::string_view connack_return_code_name(ConnackReturnCode code) noexcept;

} // namespace mqfleet::mqtt
