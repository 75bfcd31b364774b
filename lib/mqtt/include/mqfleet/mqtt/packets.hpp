#pragma once
// The 15 MQTT control packets as plain value types. One set of structs serves every
// protocol version: fields a version does not have (properties and reason codes before
// 5.0, session_present in 3.1) are ignored when encoding for it and left at their
// defaults when decoding.

#include <mqfleet/mqtt/properties.hpp>
#include <mqfleet/mqtt/reason_codes.hpp>
#include <mqfleet/mqtt/types.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace mqfleet::mqtt {

/// The will message carried in CONNECT.
struct Will {
  std::string topic;
  std::string payload; ///< Binary.
  QoS qos = QoS::at_most_once;
  bool retain = false;
  Properties properties; ///< v5 will properties (Will Delay Interval, Message Expiry...).
  friend bool operator==(const Will&, const Will&) = default;
};

/// CONNECT. Decoding sets version from the protocol name and level in the packet.
struct Connect {
  ProtocolVersion version = ProtocolVersion::v3_1_1;
  std::string client_id;
  bool clean_start = true; ///< "Clean Session" before 5.0.
  std::uint16_t keep_alive = 60;
  std::optional<std::string> username;
  std::optional<std::string> password; ///< Binary. Never log it.
  std::optional<Will> will;
  Properties properties;
  friend bool operator==(const Connect&, const Connect&) = default;
};

/// CONNACK. reason_code is a v5 code for every version; for 3.x it is mapped to and from
/// the CONNACK return code (see to_connack_return_code).
struct Connack {
  bool session_present = false; ///< Not sent in 3.1.
  ReasonCode reason_code = ReasonCode::success;
  Properties properties;
  friend bool operator==(const Connack&, const Connack&) = default;
};

/// PUBLISH. With a v5 Topic Alias the topic may be empty: the receiver resolves it.
struct Publish {
  std::string topic;
  std::string payload; ///< Binary.
  QoS qos = QoS::at_most_once;
  bool retain = false;
  bool dup = false;
  std::uint16_t packet_id = 0; ///< Non-zero for QoS 1 and 2, absent for QoS 0.
  Properties properties;
  friend bool operator==(const Publish&, const Publish&) = default;
};

/// PUBACK, PUBREC, PUBREL and PUBCOMP share one shape; the template keeps them distinct.
template <PacketType Type>
struct PublishAck {
  static constexpr PacketType k_type = Type;
  std::uint16_t packet_id = 0;
  ReasonCode reason_code = ReasonCode::success; ///< v5 only.
  Properties properties;                        ///< v5 only: Reason String, User Property.
  friend bool operator==(const PublishAck&, const PublishAck&) = default;
};

/// QoS 1 acknowledgement.
using Puback = PublishAck<PacketType::puback>;
/// QoS 2 step 1: publish received.
using Pubrec = PublishAck<PacketType::pubrec>;
/// QoS 2 step 2: publish release.
using Pubrel = PublishAck<PacketType::pubrel>;
/// QoS 2 step 3: publish complete.
using Pubcomp = PublishAck<PacketType::pubcomp>;

/// The options byte of one SUBSCRIBE entry. Only max_qos exists before 5.0.
struct SubscribeOptions {
  QoS max_qos = QoS::at_most_once;
  bool no_local = false;
  bool retain_as_published = false;
  RetainHandling retain_handling = RetainHandling::send_on_subscribe;
  friend bool operator==(const SubscribeOptions&, const SubscribeOptions&) = default;
};

/// One topic filter of a SUBSCRIBE with its options.
struct Subscription {
  std::string filter;
  SubscribeOptions options;
  friend bool operator==(const Subscription&, const Subscription&) = default;
};

/// SUBSCRIBE: at least one subscription.
struct Subscribe {
  std::uint16_t packet_id = 0;
  std::vector<Subscription> subscriptions;
  Properties properties; ///< Subscription Identifier (at most one), User Property.
  friend bool operator==(const Subscribe&, const Subscribe&) = default;
};

/// SUBACK: one code per subscription. For 3.x, granted_qos_0..2 travel as 0..2 and any
/// error code as 0x80 (decoded back as unspecified_error).
struct Suback {
  std::uint16_t packet_id = 0;
  std::vector<ReasonCode> reason_codes;
  Properties properties;
  friend bool operator==(const Suback&, const Suback&) = default;
};

/// UNSUBSCRIBE: at least one filter.
struct Unsubscribe {
  std::uint16_t packet_id = 0;
  std::vector<std::string> filters;
  Properties properties;
  friend bool operator==(const Unsubscribe&, const Unsubscribe&) = default;
};

/// UNSUBACK: one reason code per filter in v5; no payload (empty vector) before 5.0.
struct Unsuback {
  std::uint16_t packet_id = 0;
  std::vector<ReasonCode> reason_codes;
  Properties properties;
  friend bool operator==(const Unsuback&, const Unsuback&) = default;
};

/// PINGREQ: no content.
struct Pingreq {
  friend bool operator==(const Pingreq&, const Pingreq&) = default;
};

/// PINGRESP: no content.
struct Pingresp {
  friend bool operator==(const Pingresp&, const Pingresp&) = default;
};

/// DISCONNECT: reason code and properties in v5, empty before.
struct Disconnect {
  ReasonCode reason_code = ReasonCode::normal_disconnection;
  Properties properties; ///< Session Expiry Interval, Reason String, Server Reference...
  friend bool operator==(const Disconnect&, const Disconnect&) = default;
};

/// AUTH (v5 only): enhanced authentication exchange.
struct Auth {
  ReasonCode reason_code = ReasonCode::success;
  Properties properties; ///< Authentication Method and Data, Reason String, User Property.
  friend bool operator==(const Auth&, const Auth&) = default;
};

/// Any control packet. The index is the packet type minus one.
using Packet = std::variant<Connect, Connack, Publish, Puback, Pubrec, Pubrel, Pubcomp,
                            Subscribe, Suback, Unsubscribe, Unsuback, Pingreq, Pingresp,
                            Disconnect, Auth>;

/// True for the 15 packet structs (the alternatives of Packet).
template <typename P, typename V>
struct IsAlternative : std::false_type {};
template <typename P, typename... Ts>
struct IsAlternative<P, std::variant<Ts...>> : std::bool_constant<(std::is_same_v<P, Ts> || ...)> {};
template <typename P>
concept ControlPacket = IsAlternative<P, Packet>::value;

/// The packet type of a Packet.
inline PacketType packet_type(const Packet& packet) noexcept {
  return static_cast<PacketType>(packet.index() + 1);
}

} // namespace mqfleet::mqtt
