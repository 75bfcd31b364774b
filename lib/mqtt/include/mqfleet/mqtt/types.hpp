#pragma once
// Basic MQTT vocabulary shared by every codec header: protocol versions, packet types,
// QoS levels and the protocol's size limits.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mqfleet::mqtt {

/// The protocol level byte of CONNECT. 3.1 uses the protocol name "MQIsdp", the others "MQTT".
enum class ProtocolVersion : std::uint8_t {
  v3_1 = 3,   ///< MQTT 3.1 ("MQIsdp").
  v3_1_1 = 4, ///< MQTT 3.1.1.
  v5 = 5,     ///< MQTT 5.0.
};

/// The control packet type: the high nibble of the first byte.
enum class PacketType : std::uint8_t {
  connect = 1,
  connack = 2,
  publish = 3,
  puback = 4,
  pubrec = 5,
  pubrel = 6,
  pubcomp = 7,
  subscribe = 8,
  suback = 9,
  unsubscribe = 10,
  unsuback = 11,
  pingreq = 12,
  pingresp = 13,
  disconnect = 14,
  auth = 15, ///< MQTT 5.0 only.
};

/// Quality of service of a message or the maximum QoS of a subscription.
enum class QoS : std::uint8_t {
  at_most_once = 0,
  at_least_once = 1,
  exactly_once = 2,
};

/// What the server does with retained messages when a v5 subscription is made.
enum class RetainHandling : std::uint8_t {
  send_on_subscribe = 0,     ///< Send retained messages at the time of the subscribe.
  send_if_new = 1,           ///< Only if the subscription did not exist already.
  do_not_send = 2,           ///< Never send retained messages for this subscribe.
};

/// Largest value a Variable Byte Integer (and so a remaining length) can hold.
inline constexpr std::uint32_t k_max_variable_byte_integer = 268'435'455;
/// Largest possible control packet: 1 type byte + 4 length bytes + 268,435,455.
inline constexpr std::size_t k_max_packet_size = 268'435'460;
/// Default limit of FrameReader: frames larger than this are refused with 0x95.
inline constexpr std::size_t k_default_max_packet_size = 1024 * 1024;
/// Largest string or binary field: its length travels in two bytes.
inline constexpr std::size_t k_max_string_length = 65'535;

/// "CONNECT", "PUBLISH", ...; "RESERVED" for values outside 1..15.
std::string_view packet_type_name(PacketType type) noexcept;

/// "3.1", "3.1.1" or "5.0".
std::string_view version_name(ProtocolVersion version) noexcept;

/// The fixed-header flags (low nibble) a packet type must carry, except PUBLISH whose
/// flags are DUP, QoS and RETAIN: 0b0010 for PUBREL, SUBSCRIBE, UNSUBSCRIBE, else 0.
constexpr std::uint8_t required_fixed_header_flags(PacketType type) noexcept {
  return (type == PacketType::pubrel || type == PacketType::subscribe ||
          type == PacketType::unsubscribe)
             ? 0x02
             : 0x00;
}

} // namespace mqfleet::mqtt
