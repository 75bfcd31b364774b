#pragma once
// Private helpers for connection.cpp: conversions between mqfleet's plain structs and
// Paho's types, and human descriptions of Paho / MQTT codes.

#include <mqfleet/connection.hpp>

#include <mqtt/async_client.h>

#include <string>

namespace mqfleet::detail {

/// The Paho MQTT version constant for `version`.
int paho_version(MqttVersion version) noexcept;

/// "tcp://host:port" or "ssl://host:port" (IPv6 literals bracketed).
std::string server_uri(const ConnectionProfile& profile);

/// v5 PUBLISH properties in Paho's form.
::mqtt::properties to_paho(const PublishProperties& properties);

/// Properties of CONNECT, the will, SUBSCRIBE, UNSUBSCRIBE or DISCONNECT in Paho's form.
::mqtt::properties to_paho(const mqtt::Properties& properties);

/// The bytes a PUBLISH of `message` takes on the wire (the module links no mqfleet code,
/// so it does not use the codec's encoded_publish_size()).
std::size_t publish_packet_size(const OutgoingMessage& message, bool v5) noexcept;

/// A received Paho message as a ReceivedMessage (v5 properties decoded).
ReceivedMessage from_paho(const ::mqtt::message& message);

/// A short description of a CONNACK return code (3.1.1) or v5 reason code.
std::string describe_connack(int reason_code, bool v5);

/// A short description of a v5 reason code on PUBACK/PUBREC.
std::string describe_reason(int reason_code);

} // namespace mqfleet::detail
