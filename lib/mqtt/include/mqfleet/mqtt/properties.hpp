#pragma once
// MQTT 5.0 properties (section 2.2.2): identifiers, their data types, the packets each may
// appear in, and a value type holding every property of one packet.

#include <mqfleet/mqtt/types.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mqfleet::mqtt {

/// Every MQTT 5.0 property identifier.
enum class PropertyId : std::uint8_t {
  payload_format_indicator = 0x01,
  message_expiry_interval = 0x02,
  content_type = 0x03,
  response_topic = 0x08,
  correlation_data = 0x09,
  subscription_identifier = 0x0B,
  session_expiry_interval = 0x11,
  assigned_client_identifier = 0x12,
  server_keep_alive = 0x13,
  authentication_method = 0x15,
  authentication_data = 0x16,
  request_problem_information = 0x17,
  will_delay_interval = 0x18,
  request_response_information = 0x19,
  response_information = 0x1A,
  server_reference = 0x1C,
  reason_string = 0x1F,
  receive_maximum = 0x21,
  topic_alias_maximum = 0x22,
  topic_alias = 0x23,
  maximum_qos = 0x24,
  retain_available = 0x25,
  user_property = 0x26,
  maximum_packet_size = 0x27,
  wildcard_subscription_available = 0x28,
  subscription_identifier_available = 0x29,
  shared_subscription_available = 0x2A,
};

/// The wire data type of a property value.
enum class PropertyType : std::uint8_t {
  byte,
  two_byte_integer,
  four_byte_integer,
  variable_byte_integer,
  utf8_string,
  binary_data,
  utf8_string_pair,
};

/// Where a property may appear: one bit per PacketType (bit n = type n) plus bit 0 for the
/// will properties inside CONNECT (packet type 0 does not exist, so the bit is free).
using PropertyScope = std::uint16_t;

/// The bit of PropertyScope for a packet type.
constexpr PropertyScope scope_of(PacketType type) noexcept {
  return static_cast<PropertyScope>(1u << static_cast<unsigned>(type));
}
/// The bit of PropertyScope for the will properties of CONNECT.
inline constexpr PropertyScope k_will_scope = 1;

/// Static facts about one property identifier.
struct PropertyInfo {
  PropertyId id;
  std::string_view name;   ///< The spec's name, e.g. "Message Expiry Interval".
  PropertyType type;
  PropertyScope scope;     ///< Packets it may appear in.
  bool repeatable;         ///< User Property; Subscription Identifier in PUBLISH.
};

/// Facts about a property identifier; nullptr for bytes that are not property ids.
const PropertyInfo* property_info(std::uint8_t id) noexcept;

/// All 27 properties in identifier order.
const std::vector<PropertyInfo>& all_properties();

/// A user property: a name/value pair of UTF-8 strings. Order and duplicates matter.
using UserProperty = std::pair<std::string, std::string>;

/// Every property of one packet. Absent properties are empty optionals / empty vectors;
/// the codec encodes them in identifier order. Binary values are held in std::string.
struct Properties {
  std::optional<std::uint8_t> payload_format_indicator;
  std::optional<std::uint32_t> message_expiry_interval;
  std::optional<std::string> content_type;
  std::optional<std::string> response_topic;
  std::optional<std::string> correlation_data;
  std::vector<std::uint32_t> subscription_identifiers; ///< One in SUBSCRIBE, many in PUBLISH.
  std::optional<std::uint32_t> session_expiry_interval;
  std::optional<std::string> assigned_client_identifier;
  std::optional<std::uint16_t> server_keep_alive;
  std::optional<std::string> authentication_method;
  std::optional<std::string> authentication_data;
  std::optional<std::uint8_t> request_problem_information;
  std::optional<std::uint32_t> will_delay_interval;
  std::optional<std::uint8_t> request_response_information;
  std::optional<std::string> response_information;
  std::optional<std::string> server_reference;
  std::optional<std::string> reason_string;
  std::optional<std::uint16_t> receive_maximum;
  std::optional<std::uint16_t> topic_alias_maximum;
  std::optional<std::uint16_t> topic_alias;
  std::optional<std::uint8_t> maximum_qos;
  std::optional<std::uint8_t> retain_available;
  std::vector<UserProperty> user_properties;
  std::optional<std::uint32_t> maximum_packet_size;
  std::optional<std::uint8_t> wildcard_subscription_available;
  std::optional<std::uint8_t> subscription_identifier_available;
  std::optional<std::uint8_t> shared_subscription_available;

  /// True when no property is set.
  bool empty() const noexcept;
  friend bool operator==(const Properties&, const Properties&) = default;
};

/// Size of the encoded properties without their length prefix. Throws ProtocolError when
/// a string exceeds 65,535 bytes or a variable byte integer exceeds 268,435,455.
std::size_t properties_size(const Properties& props);

/// Appends the property length (variable byte integer) and the properties to out.
void encode_properties(const Properties& props, std::string& out);

/// Decodes a property block (without its length prefix) found in `scope` (one bit of
/// PropertyScope). Throws ProtocolError: 0x81 for an unknown id, an id not allowed in
/// that packet, a truncated value or invalid UTF-8; 0x82 for a duplicated property or a
/// value out of range (e.g. Receive Maximum 0, Topic Alias 0, a flag not 0 or 1).
Properties decode_properties(std::string_view block, PropertyScope scope);

} // namespace mqfleet::mqtt
