// Paho C++ 1.2 exposes a received message's packet identifier (for `sub -F %m`) only
// through message::c_struct(), declared when UNIT_TESTS is defined; the define adds
// accessors and changes no layout.
#define UNIT_TESTS 1
#include "paho_convert.hpp"

#include <fmt/format.h>

namespace mqfleet::detail {

int paho_version(MqttVersion version) noexcept {
  switch (version) {
  case MqttVersion::v31: return MQTTVERSION_3_1;
  case MqttVersion::v311: return MQTTVERSION_3_1_1;
  case MqttVersion::v5: return MQTTVERSION_5;
  }
  return MQTTVERSION_3_1_1;
}

std::string server_uri(const ConnectionProfile& profile) {
  const bool ipv6 = profile.host.find(':') != std::string::npos && profile.host.front() != '[';
  const std::string host = ipv6 ? "[" + profile.host + "]" : profile.host;
  if (profile.transport == TransportKind::websocket) // Paho C speaks MQTT over WebSocket itself
    return fmt::format("{}://{}:{}{}", profile.tls.enabled ? "wss" : "ws", host, profile.effective_port(),
                       profile.ws_path);
  return fmt::format("{}://{}:{}", profile.tls.enabled ? "ssl" : "tcp", host, profile.effective_port());
}

::mqtt::properties to_paho(const PublishProperties& properties) {
  ::mqtt::properties result;
  if (properties.payload_is_utf8)
    result.add(::mqtt::property(::mqtt::property::PAYLOAD_FORMAT_INDICATOR, *properties.payload_is_utf8 ? 1 : 0));
  if (properties.message_expiry_seconds)
    result.add(::mqtt::property(::mqtt::property::MESSAGE_EXPIRY_INTERVAL,
                              static_cast<int32_t>(*properties.message_expiry_seconds)));
  if (properties.content_type) result.add(::mqtt::property(::mqtt::property::CONTENT_TYPE, *properties.content_type));
  if (properties.response_topic)
    result.add(::mqtt::property(::mqtt::property::RESPONSE_TOPIC, *properties.response_topic));
  if (properties.correlation_data)
    result.add(::mqtt::property(::mqtt::property::CORRELATION_DATA, *properties.correlation_data));
  for (const auto& [name, value] : properties.user_properties)
    result.add(::mqtt::property(::mqtt::property::USER_PROPERTY, name, value));
  return result;
}

::mqtt::properties to_paho(const mqtt::Properties& p) {
  ::mqtt::properties result;
  auto number = [&](::mqtt::property::code code, const auto& value) {
    if (value) result.add(::mqtt::property(code, static_cast<int32_t>(*value)));
  };
  auto text = [&](::mqtt::property::code code, const std::optional<std::string>& value) {
    if (value) result.add(::mqtt::property(code, *value));
  };
  number(::mqtt::property::PAYLOAD_FORMAT_INDICATOR, p.payload_format_indicator);
  number(::mqtt::property::MESSAGE_EXPIRY_INTERVAL, p.message_expiry_interval);
  text(::mqtt::property::CONTENT_TYPE, p.content_type);
  text(::mqtt::property::RESPONSE_TOPIC, p.response_topic);
  text(::mqtt::property::CORRELATION_DATA, p.correlation_data);
  for (std::uint32_t id : p.subscription_identifiers)
    result.add(::mqtt::property(::mqtt::property::SUBSCRIPTION_IDENTIFIER, static_cast<int32_t>(id)));
  number(::mqtt::property::SESSION_EXPIRY_INTERVAL, p.session_expiry_interval);
  text(::mqtt::property::AUTHENTICATION_METHOD, p.authentication_method);
  text(::mqtt::property::AUTHENTICATION_DATA, p.authentication_data);
  number(::mqtt::property::REQUEST_PROBLEM_INFORMATION, p.request_problem_information);
  number(::mqtt::property::WILL_DELAY_INTERVAL, p.will_delay_interval);
  number(::mqtt::property::REQUEST_RESPONSE_INFORMATION, p.request_response_information);
  number(::mqtt::property::RECEIVE_MAXIMUM, p.receive_maximum);
  number(::mqtt::property::TOPIC_ALIAS_MAXIMUM, p.topic_alias_maximum);
  number(::mqtt::property::MAXIMUM_PACKET_SIZE, p.maximum_packet_size);
  for (const auto& [name, value] : p.user_properties)
    result.add(::mqtt::property(::mqtt::property::USER_PROPERTY, name, value));
  return result;
}

namespace {

std::size_t varint_size(std::size_t value) noexcept {
  std::size_t bytes = 1;
  while (value >= 128) {
    value /= 128;
    ++bytes;
  }
  return bytes;
}

} // namespace

std::size_t publish_packet_size(const OutgoingMessage& message, bool v5) noexcept {
  std::size_t remaining = 2 + message.topic.size() + (message.qos > 0 ? 2 : 0) + message.payload.size();
  if (v5) {
    const PublishProperties& p = message.properties;
    std::size_t props = 0;
    if (p.payload_is_utf8) props += 2;
    if (p.message_expiry_seconds) props += 5;
    if (p.content_type) props += 3 + p.content_type->size();
    if (p.response_topic) props += 3 + p.response_topic->size();
    if (p.correlation_data) props += 3 + p.correlation_data->size();
    for (const auto& [name, value] : p.user_properties) props += 5 + name.size() + value.size();
    remaining += varint_size(props) + props;
  }
  return 1 + varint_size(remaining) + remaining;
}

namespace {

std::string data_of(const MQTTLenString& s) { return s.data ? std::string(s.data, static_cast<size_t>(s.len)) : std::string{}; }

} // namespace

ReceivedMessage from_paho(const ::mqtt::message& message) {
  ReceivedMessage result;
  result.topic = message.get_topic();
  result.payload = message.get_payload_str();
  result.qos = message.get_qos();
  result.retain = message.is_retained();
  result.duplicate = message.is_duplicate();
  result.packet_id = static_cast<std::uint16_t>(message.c_struct().msgid);
  result.received_at = std::chrono::system_clock::now();
  const MQTTProperties& props = message.get_properties().c_struct();
  for (int i = 0; i < props.count; ++i) {
    const MQTTProperty& p = props.array[i];
    switch (p.identifier) {
    case MQTTPROPERTY_CODE_PAYLOAD_FORMAT_INDICATOR: result.properties.payload_is_utf8 = p.value.byte != 0; break;
    case MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL: result.properties.message_expiry_seconds = p.value.integer4; break;
    case MQTTPROPERTY_CODE_CONTENT_TYPE: result.properties.content_type = data_of(p.value.data); break;
    case MQTTPROPERTY_CODE_RESPONSE_TOPIC: result.properties.response_topic = data_of(p.value.data); break;
    case MQTTPROPERTY_CODE_CORRELATION_DATA: result.properties.correlation_data = data_of(p.value.data); break;
    case MQTTPROPERTY_CODE_USER_PROPERTY:
      result.properties.user_properties.emplace_back(data_of(p.value.data), data_of(p.value.value));
      break;
    case MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER:
      result.properties.subscription_identifiers.push_back(p.value.integer4);
      break;
    default: break;
    }
  }
  return result;
}

std::string describe_connack(int reason_code, bool v5) {
  if (!v5) {
    switch (reason_code) {
    case 1: return "unacceptable protocol version";
    case 2: return "client identifier rejected";
    case 3: return "server unavailable";
    case 4: return "bad user name or password";
    case 5: return "not authorized";
    default: return fmt::format("return code {}", reason_code);
    }
  }
  return describe_reason(reason_code);
}

std::string describe_reason(int reason_code) {
  switch (reason_code) {
  case 0x80: return "unspecified error";
  case 0x81: return "malformed packet";
  case 0x82: return "protocol error";
  case 0x83: return "implementation specific error";
  case 0x84: return "unsupported protocol version";
  case 0x85: return "client identifier not valid";
  case 0x86: return "bad user name or password";
  case 0x87: return "not authorized";
  case 0x88: return "server unavailable";
  case 0x89: return "server busy";
  case 0x8A: return "banned";
  case 0x8C: return "bad authentication method";
  case 0x90: return "topic name invalid";
  case 0x95: return "packet too large";
  case 0x97: return "quota exceeded";
  case 0x99: return "payload format invalid";
  case 0x9A: return "retain not supported";
  case 0x9B: return "QoS not supported";
  case 0x9F: return "connection rate exceeded";
  default: return fmt::format("reason code 0x{:02X}", reason_code);
  }
}

} // namespace mqfleet::detail
