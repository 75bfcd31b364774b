#pragma once
// Encoding and decoding of every control packet for MQTT 3.1, 3.1.1 and 5.0.
//
// Encoding appends to a caller-owned buffer (std::string or std::vector<std::uint8_t>);
// the buffer grows once per packet, nothing else is allocated. Decoding takes a Frame
// (see frame.hpp) and validates strictly; every violation throws mqfleet::ProtocolError
// whose reason_code() is the MQTT 5.0 reason code to report (DISCONNECT or CONNACK):
//   0x81 malformed packet: truncated or trailing bytes, reserved bits set, QoS 3, invalid
//        UTF-8, unknown property or one not allowed in that packet, bad will flags,
//        packet type 15 (AUTH) before 5.0
//   0x82 protocol error: packet id 0, SUBSCRIBE/UNSUBSCRIBE without entries, duplicated
//        property or value out of range, reason code not allowed for the packet,
//        Retain Handling 3, No Local on a shared subscription, empty PUBLISH topic
//        without a Topic Alias, encoding AUTH before 5.0
//   0x84 unsupported protocol version: CONNECT with an unknown protocol name or level
//   0x8F topic filter invalid (wildcard rules, $share syntax), 0x90 topic name invalid
//        (wildcards in a PUBLISH or will topic)
//   0x95 packet too large (from the frame reader, or when encoding)
// docs/codec.md has the full table.
// Decoding never reads outside the frame and allocates at most in proportion to it.

#include <mqfleet/mqtt/frame.hpp>
#include <mqfleet/mqtt/packets.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace mqfleet::mqtt {

/// Size of the whole encoded packet (fixed header included). Throws ProtocolError 0x95
/// when it exceeds the protocol maximum, 0x81 when a string exceeds 65,535 bytes, 0x82
/// when the packet does not exist in that version (AUTH before 5.0).
std::size_t encoded_size(const Packet& packet, ProtocolVersion version);

/// Appends the encoded packet to out. Throws like encoded_size; out is unchanged then.
/// CONNECT is encoded for version (its own version field is ignored).
void encode(const Packet& packet, ProtocolVersion version, std::string& out);
/// Same, for a byte vector.
void encode(const Packet& packet, ProtocolVersion version, std::vector<std::uint8_t>& out);

/// Same as above for one packet struct, without converting it to a Packet (no copy).
template <ControlPacket P>
std::size_t encoded_size(const P& packet, ProtocolVersion version);
/// Same as above for one packet struct, without converting it to a Packet (no copy).
template <ControlPacket P>
void encode(const P& packet, ProtocolVersion version, std::string& out);
/// Same as above for one packet struct, without converting it to a Packet (no copy).
template <ControlPacket P>
void encode(const P& packet, ProtocolVersion version, std::vector<std::uint8_t>& out);

/// Decodes any packet. CONNECT is decoded for the version it announces.
Packet decode(const Frame& frame, ProtocolVersion version);

/// Decodes a CONNECT; the version comes from its protocol name and level.
Connect decode_connect(const Frame& frame);
/// The protocol level byte of a CONNECT frame (3, 4, 5...) or 0 when it cannot be read.
/// Lets a server answer an unsupported version with the right CONNACK format.
std::uint8_t connect_protocol_level(const Frame& frame) noexcept;

/// Decodes a CONNACK.
Connack decode_connack(const Frame& frame, ProtocolVersion version);
/// Decodes a PUBLISH into owning strings (see publish_view.hpp for the zero-copy path).
Publish decode_publish(const Frame& frame, ProtocolVersion version);
/// Decodes a PUBACK.
Puback decode_puback(const Frame& frame, ProtocolVersion version);
/// Decodes a PUBREC.
Pubrec decode_pubrec(const Frame& frame, ProtocolVersion version);
/// Decodes a PUBREL.
Pubrel decode_pubrel(const Frame& frame, ProtocolVersion version);
/// Decodes a PUBCOMP.
Pubcomp decode_pubcomp(const Frame& frame, ProtocolVersion version);
/// Decodes a SUBSCRIBE; filters are checked as UTF-8 only (the receiver decides each
/// entry with check_topic_filter(): SUBACK 0x8F / 0x80).
Subscribe decode_subscribe(const Frame& frame, ProtocolVersion version);
/// Decodes a SUBACK.
Suback decode_suback(const Frame& frame, ProtocolVersion version);
/// Decodes an UNSUBSCRIBE; filters are checked with the wildcard rules (0x8F).
Unsubscribe decode_unsubscribe(const Frame& frame, ProtocolVersion version);
/// Decodes an UNSUBACK.
Unsuback decode_unsuback(const Frame& frame, ProtocolVersion version);
/// Checks a PINGREQ (empty body, zero flags).
Pingreq decode_pingreq(const Frame& frame, ProtocolVersion version);
/// Checks a PINGRESP (empty body, zero flags).
Pingresp decode_pingresp(const Frame& frame, ProtocolVersion version);
/// Decodes a DISCONNECT.
Disconnect decode_disconnect(const Frame& frame, ProtocolVersion version);
/// Decodes an AUTH (5.0 only).
Auth decode_auth(const Frame& frame, ProtocolVersion version);

} // namespace mqfleet::mqtt
