#include <mqfleet/mqtt/reason_codes.hpp>

#include <algorithm>
#include <array>
#include <initializer_list>

namespace mqfleet::mqtt {
namespace {

struct ReasonInfo {
  std::uint8_t code;
  std::string_view name;
  std::string_view description;
};

constexpr std::array k_reasons = {
    ReasonInfo{0x00, "Success", "The operation succeeded (also Normal disconnection, Granted QoS 0)."},
    ReasonInfo{0x01, "Granted QoS 1", "The subscription is accepted with maximum QoS 1."},
    ReasonInfo{0x02, "Granted QoS 2", "The subscription is accepted with maximum QoS 2."},
    ReasonInfo{0x04, "Disconnect with Will Message", "The client disconnects and wants its will published."},
    ReasonInfo{0x10, "No matching subscribers", "The message is accepted but nobody is subscribed to it."},
    ReasonInfo{0x11, "No subscription existed", "There was no subscription matching the filter."},
    ReasonInfo{0x18, "Continue authentication", "Continue the authentication with another step."},
    ReasonInfo{0x19, "Re-authenticate", "Initiate a re-authentication."},
    ReasonInfo{0x80, "Unspecified error", "The receiver does not wish to reveal the reason, or none of the other codes apply."},
    ReasonInfo{0x81, "Malformed Packet", "The packet could not be parsed according to the specification."},
    ReasonInfo{0x82, "Protocol Error", "The packet is well formed but not allowed by the protocol here."},
    ReasonInfo{0x83, "Implementation specific error", "The packet is valid but not accepted by this implementation."},
    ReasonInfo{0x84, "Unsupported Protocol Version", "The server does not support the requested protocol version."},
    ReasonInfo{0x85, "Client Identifier not valid", "The client identifier is well formed but not accepted."},
    ReasonInfo{0x86, "Bad User Name or Password", "The user name or password was not accepted."},
    ReasonInfo{0x87, "Not authorized", "The client is not authorized to do this."},
    ReasonInfo{0x88, "Server unavailable", "The MQTT server is not available."},
    ReasonInfo{0x89, "Server busy", "The server is busy; try again later."},
    ReasonInfo{0x8A, "Banned", "This client has been banned by administrative action."},
    ReasonInfo{0x8B, "Server shutting down", "The server is shutting down."},
    ReasonInfo{0x8C, "Bad authentication method", "The authentication method is not supported or does not match."},
    ReasonInfo{0x8D, "Keep Alive timeout", "No packet was received within 1.5 times the keep alive."},
    ReasonInfo{0x8E, "Session taken over", "Another connection using the same client id has connected."},
    ReasonInfo{0x8F, "Topic Filter invalid", "The topic filter is well formed but not accepted."},
    ReasonInfo{0x90, "Topic Name invalid", "The topic name is not well formed or not accepted."},
    ReasonInfo{0x91, "Packet Identifier in use", "The packet identifier is already in use."},
    ReasonInfo{0x92, "Packet Identifier not found", "The packet identifier is not known."},
    ReasonInfo{0x93, "Receive Maximum exceeded", "More QoS 1/2 publications are in flight than Receive Maximum allows."},
    ReasonInfo{0x94, "Topic Alias invalid", "The topic alias is zero or above the Topic Alias Maximum."},
    ReasonInfo{0x95, "Packet too large", "The packet exceeds the maximum packet size."},
    ReasonInfo{0x96, "Message rate too high", "The received data rate is too high."},
    ReasonInfo{0x97, "Quota exceeded", "An implementation or administrative quota has been exceeded."},
    ReasonInfo{0x98, "Administrative action", "The connection is closed by administrative action."},
    ReasonInfo{0x99, "Payload format invalid", "The payload does not match the Payload Format Indicator."},
    ReasonInfo{0x9A, "Retain not supported", "The server does not support retained messages."},
    ReasonInfo{0x9B, "QoS not supported", "The QoS is greater than the server's Maximum QoS."},
    ReasonInfo{0x9C, "Use another server", "The client should temporarily use another server."},
    ReasonInfo{0x9D, "Server moved", "The client should permanently use another server."},
    ReasonInfo{0x9E, "Shared Subscriptions not supported", "The server does not support shared subscriptions."},
    ReasonInfo{0x9F, "Connection rate exceeded", "The connection rate limit has been exceeded."},
    ReasonInfo{0xA0, "Maximum connect time", "The maximum connection time for this connection has been exceeded."},
    ReasonInfo{0xA1, "Subscription Identifiers not supported", "The server does not support subscription identifiers."},
    ReasonInfo{0xA2, "Wildcard Subscriptions not supported", "The server does not support wildcard subscriptions."},
};

const ReasonInfo* find_reason(ReasonCode code) noexcept {
  const auto value = static_cast<std::uint8_t>(code);
  const auto it = std::find_if(k_reasons.begin(), k_reasons.end(),
                               [value](const ReasonInfo& r) { return r.code == value; });
  return it == k_reasons.end() ? nullptr : &*it;
}

bool in(std::uint8_t v, std::initializer_list<std::uint8_t> codes) noexcept {
  return std::find(codes.begin(), codes.end(), v) != codes.end();
}

} // namespace

std::string_view packet_type_name(PacketType type) noexcept {
  static constexpr std::array<std::string_view, 16> k_names = {
      "RESERVED", "CONNECT",  "CONNACK",     "PUBLISH",  "PUBACK",  "PUBREC",
      "PUBREL",   "PUBCOMP",  "SUBSCRIBE",   "SUBACK",   "UNSUBSCRIBE", "UNSUBACK",
      "PINGREQ",  "PINGRESP", "DISCONNECT",  "AUTH"};
  const auto index = static_cast<std::size_t>(type);
  return index < k_names.size() ? k_names[index] : "RESERVED";
}

std::string_view version_name(ProtocolVersion version) noexcept {
  switch (version) {
  case ProtocolVersion::v3_1: return "3.1";
  case ProtocolVersion::v3_1_1: return "3.1.1";
  case ProtocolVersion::v5: return "5.0";
  }
  return "unknown";
}

std::string_view reason_name(ReasonCode code) noexcept {
  const ReasonInfo* info = find_reason(code);
  return info ? info->name : "Unknown reason code";
}

std::string_view reason_name(ReasonCode code, PacketType type) noexcept {
  if (code == ReasonCode::success) {
    if (type == PacketType::disconnect) return "Normal disconnection";
    if (type == PacketType::suback) return "Granted QoS 0";
  }
  return reason_name(code);
}

std::string_view reason_description(ReasonCode code) noexcept {
  const ReasonInfo* info = find_reason(code);
  return info ? info->description : "This value is not an MQTT 5.0 reason code.";
}

bool is_allowed_reason(ReasonCode code, PacketType type) noexcept {
  const auto v = static_cast<std::uint8_t>(code);
  switch (type) {
  case PacketType::connack:
    return in(v, {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A,
                  0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F});
  case PacketType::puback:
  case PacketType::pubrec:
    return in(v, {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99});
  case PacketType::pubrel:
  case PacketType::pubcomp:
    return in(v, {0x00, 0x92});
  case PacketType::suback:
    return in(v, {0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2});
  case PacketType::unsuback:
    return in(v, {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91});
  case PacketType::disconnect:
    return in(v, {0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F,
                  0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D,
                  0x9E, 0x9F, 0xA0, 0xA1, 0xA2});
  case PacketType::auth:
    return in(v, {0x00, 0x18, 0x19});
  default:
    return false;
  }
}

ConnackReturnCode to_connack_return_code(ReasonCode code) noexcept {
  switch (code) {
  case ReasonCode::success: return ConnackReturnCode::accepted;
  case ReasonCode::unsupported_protocol_version: return ConnackReturnCode::unacceptable_protocol_version;
  case ReasonCode::client_identifier_not_valid: return ConnackReturnCode::identifier_rejected;
  case ReasonCode::bad_user_name_or_password:
  case ReasonCode::bad_authentication_method: return ConnackReturnCode::bad_user_name_or_password;
  case ReasonCode::not_authorized:
  case ReasonCode::banned: return ConnackReturnCode::not_authorized;
  default: return ConnackReturnCode::server_unavailable;
  }
}

ReasonCode from_connack_return_code(ConnackReturnCode code) noexcept {
  switch (code) {
  case ConnackReturnCode::accepted: return ReasonCode::success;
  case ConnackReturnCode::unacceptable_protocol_version: return ReasonCode::unsupported_protocol_version;
  case ConnackReturnCode::identifier_rejected: return ReasonCode::client_identifier_not_valid;
  case ConnackReturnCode::server_unavailable: return ReasonCode::server_unavailable;
  case ConnackReturnCode::bad_user_name_or_password: return ReasonCode::bad_user_name_or_password;
  case ConnackReturnCode::not_authorized: return ReasonCode::not_authorized;
  }
  return ReasonCode::server_unavailable;
}

std::string_view connack_return_code_name(ConnackReturnCode code) noexcept {
  switch (code) {
  case ConnackReturnCode::accepted: return "Connection Accepted";
  case ConnackReturnCode::unacceptable_protocol_version: return "Connection Refused, unacceptable protocol version";
  case ConnackReturnCode::identifier_rejected: return "Connection Refused, identifier rejected";
  case ConnackReturnCode::server_unavailable: return "Connection Refused, Server unavailable";
  case ConnackReturnCode::bad_user_name_or_password: return "Connection Refused, bad user name or password";
  case ConnackReturnCode::not_authorized: return "Connection Refused, not authorized";
  }
  return "Connection Refused, unknown return code";
}

} // namespace mqfleet::mqtt
