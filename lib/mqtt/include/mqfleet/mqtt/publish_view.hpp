#pragma once
// The zero-copy PUBLISH path for hot loops (broker fan-out, load engine): decoding gives
// views into the frame, encoding writes into caller memory without allocating.

#include <mqfleet/mqtt/frame.hpp>
#include <mqfleet/mqtt/types.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace mqfleet::mqtt {

/// A PUBLISH whose topic, payload and properties are views into someone else's memory
/// (a Frame's body when decoded). properties is the encoded v5 property block without its
/// length prefix (empty before 5.0); decode_properties() turns it into Properties.
struct PublishView {
  std::string_view topic;
  std::string_view payload;
  std::string_view properties;
  QoS qos = QoS::at_most_once;
  bool retain = false;
  bool dup = false;
  std::uint16_t packet_id = 0;
  std::uint16_t topic_alias = 0; ///< From the properties when decoded; 0 = none.
};

/// Decodes a PUBLISH frame without copying; validates exactly like decode_publish.
PublishView decode_publish_view(const Frame& frame, ProtocolVersion version);

/// Bytes of the encoded PUBLISH without the payload (fixed header, topic, packet id,
/// property length and properties). Throws ProtocolError like encode().
std::size_t encoded_publish_header_size(const PublishView& msg, ProtocolVersion version);

/// Bytes of the whole encoded PUBLISH.
std::size_t encoded_publish_size(const PublishView& msg, ProtocolVersion version);

/// Writes everything but the payload to out (for scatter/gather writes); returns the
/// bytes written, or 0 (writing nothing) when out is smaller than
/// encoded_publish_header_size(). Never allocates.
std::size_t encode_publish_header_into(const PublishView& msg, ProtocolVersion version,
                                       std::span<char> out);

/// Writes the whole PUBLISH to out; returns the bytes written, or 0 when out is too
/// small. Never allocates.
std::size_t encode_publish_into(const PublishView& msg, ProtocolVersion version,
                                std::span<char> out);

/// Appends the whole PUBLISH to out (grows out at most once).
void encode_publish(const PublishView& msg, ProtocolVersion version, std::string& out);

} // namespace mqfleet::mqtt
