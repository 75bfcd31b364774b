#include <mqfleet/mqtt/publish_view.hpp>

#include "decode_common.hpp"
#include "wire.hpp"

#include <mqfleet/mqtt/codec.hpp>
#include <mqfleet/mqtt/topic.hpp>

namespace mqfleet::mqtt {
namespace detail {

PublishView decode_publish_parts(const Frame& frame, ProtocolVersion v) {
  if (frame.type() != PacketType::publish) {
    fail(k_protocol_error, "expected PUBLISH but got " + std::string(packet_type_name(frame.type())), "PUBLISH");
  }
  PublishView p;
  const std::uint8_t flags = frame.flags();
  const unsigned qos = (flags >> 1) & 0x03;
  if (qos == 3) fail(k_malformed, "QoS is 3", "PUBLISH", "fixed header");
  p.qos = static_cast<QoS>(qos);
  p.dup = flags & 0x08;
  p.retain = flags & 0x01;
  if (p.dup && p.qos == QoS::at_most_once) fail(k_malformed, "DUP is set on a QoS 0 message", "PUBLISH", "fixed header");
  Reader r(frame.body, "PUBLISH");
  p.topic = r.utf8("topic name");
  if (p.qos != QoS::at_most_once) {
    p.packet_id = r.u16("packet identifier");
    if (p.packet_id == 0) fail(k_protocol_error, "packet identifier must not be 0", "PUBLISH", "packet identifier");
  }
  if (v == ProtocolVersion::v5) {
    const std::uint32_t length = r.varint("property length");
    p.properties = r.bytes(length, "properties");
    try {
      p.topic_alias = validate_publish_properties(p.properties);
    } catch (const ProtocolError& e) {
      fail(e.reason_code(), e.what(), "PUBLISH", "properties");
    }
  }
  if (p.topic.empty()) {
    if (p.topic_alias == 0) fail(k_protocol_error, "topic name is empty and there is no Topic Alias", "PUBLISH", "topic name");
  } else if (has_wildcards(p.topic)) {
    fail(k_topic_name_invalid, "topic name contains a wildcard ('+' or '#')", "PUBLISH", "topic name");
  }
  p.payload = r.rest();
  return p;
}

} // namespace detail
namespace {

std::size_t body_without_payload(const PublishView& m, ProtocolVersion v) {
  std::size_t n = detail::string_size(m.topic, "topic name") + (m.qos != QoS::at_most_once ? 2 : 0);
  if (v == ProtocolVersion::v5) {
    if (m.properties.size() > k_max_variable_byte_integer) {
      throw ProtocolError(detail::k_packet_too_large, "PUBLISH properties are too large", "PUBLISH");
    }
    n += variable_byte_integer_size(static_cast<std::uint32_t>(m.properties.size())) + m.properties.size();
  }
  return n;
}

std::size_t write_header(const PublishView& m, ProtocolVersion v, std::size_t body, char* out) {
  detail::Writer w(out);
  w.u8(static_cast<std::uint8_t>(0x30 | (m.dup ? 0x08 : 0) | (static_cast<unsigned>(m.qos) << 1) |
                                 (m.retain ? 0x01 : 0)));
  w.varint(static_cast<std::uint32_t>(body));
  w.string(m.topic);
  if (m.qos != QoS::at_most_once) w.u16(m.packet_id);
  if (v == ProtocolVersion::v5) {
    w.varint(static_cast<std::uint32_t>(m.properties.size()));
    w.bytes(m.properties);
  }
  return static_cast<std::size_t>(w.position() - out);
}

} // namespace

PublishView decode_publish_view(const Frame& frame, ProtocolVersion version) {
  return detail::decode_publish_parts(frame, version);
}

std::size_t encoded_publish_size(const PublishView& msg, ProtocolVersion version) {
  return detail::frame_size(body_without_payload(msg, version) + msg.payload.size());
}

std::size_t encoded_publish_header_size(const PublishView& msg, ProtocolVersion version) {
  const std::size_t body = body_without_payload(msg, version) + msg.payload.size();
  return detail::frame_size(body) - msg.payload.size();
}

std::size_t encode_publish_header_into(const PublishView& msg, ProtocolVersion version, std::span<char> out) {
  const std::size_t body = body_without_payload(msg, version) + msg.payload.size();
  const std::size_t header = detail::frame_size(body) - msg.payload.size();
  if (out.size() < header) return 0;
  return write_header(msg, version, body, out.data());
}

std::size_t encode_publish_into(const PublishView& msg, ProtocolVersion version, std::span<char> out) {
  const std::size_t body = body_without_payload(msg, version) + msg.payload.size();
  const std::size_t total = detail::frame_size(body);
  if (out.size() < total) return 0;
  const std::size_t header = write_header(msg, version, body, out.data());
  detail::Writer(out.data() + header).bytes(msg.payload);
  return total;
}

void encode_publish(const PublishView& msg, ProtocolVersion version, std::string& out) {
  const std::size_t total = encoded_publish_size(msg, version);
  const std::size_t old = out.size();
  out.resize(old + total);
  encode_publish_into(msg, version, std::span<char>(out.data() + old, total));
}

} // namespace mqfleet::mqtt
