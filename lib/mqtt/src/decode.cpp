// Packet decoders: validate first, fail with the precise reason code, never read past the
// frame. Shared by the owning decoders here and the zero-copy PUBLISH path.
#include <mqfleet/mqtt/codec.hpp>

#include "decode_common.hpp"
#include "wire.hpp"

#include <mqfleet/mqtt/topic.hpp>

namespace mqfleet::mqtt {
namespace {

using detail::fail;
using detail::k_malformed;
using detail::k_protocol_error;
using detail::Reader;

bool is_v5(ProtocolVersion v) noexcept { return v == ProtocolVersion::v5; }

std::string name_of(PacketType type) { return std::string(packet_type_name(type)); }

void expect_type(const Frame& frame, PacketType type) {
  if (frame.type() != type) {
    fail(k_protocol_error, "expected " + name_of(type) + " but got " + name_of(frame.type()), name_of(type));
  }
}

/// Checks the type and the fixed-header flags of every packet but PUBLISH. MQTT 3.1
/// leaves those flags unused except as retry hints (a resent PUBREL, SUBSCRIBE or
/// UNSUBSCRIBE carries DUP=1), so under 3.1 only the type is checked.
void expect_header(const Frame& frame, PacketType type, ProtocolVersion v) {
  expect_type(frame, type);
  if (v == ProtocolVersion::v3_1) return;
  if (frame.flags() != required_fixed_header_flags(type)) {
    fail(k_malformed, "reserved fixed-header flags are " + std::to_string(frame.flags()) + ", must be " +
                          std::to_string(required_fixed_header_flags(type)),
         name_of(type), "fixed header");
  }
}

std::uint16_t packet_id(Reader& r) {
  const std::uint16_t id = r.u16("packet identifier");
  if (id == 0) fail(k_protocol_error, "packet identifier must not be 0", r.packet(), "packet identifier");
  return id;
}

Properties property_block(Reader& r, PropertyScope scope) {
  const std::uint32_t length = r.varint("property length");
  const std::string_view block = r.bytes(length, "properties");
  try {
    return decode_properties(block, scope);
  } catch (const ProtocolError& e) {
    fail(e.reason_code(), e.what(), r.packet(), "properties");
  }
}

ReasonCode reason(Reader& r, PacketType type) {
  const auto code = static_cast<ReasonCode>(r.u8("reason code"));
  if (!is_allowed_reason(code, type)) {
    fail(k_protocol_error, "reason code " + std::to_string(static_cast<unsigned>(code)) + " is not allowed in " + name_of(type),
         name_of(type), "reason code");
  }
  return code;
}

template <PacketType Type>
PublishAck<Type> decode_ack(const Frame& frame, ProtocolVersion v) {
  expect_header(frame, Type, v);
  Reader r(frame.body, packet_type_name(Type));
  PublishAck<Type> ack;
  ack.packet_id = packet_id(r);
  if (is_v5(v)) {
    if (!r.done()) ack.reason_code = reason(r, Type);
    if (!r.done()) ack.properties = property_block(r, scope_of(Type));
  }
  r.expect_end();
  return ack;
}

/// DISCONNECT and AUTH: an empty body means success / normal disconnection.
template <typename P>
P decode_reason_and_properties(const Frame& frame, ProtocolVersion v, PacketType type) {
  expect_header(frame, type, v);
  Reader r(frame.body, packet_type_name(type));
  P p;
  if (is_v5(v)) {
    if (!r.done()) p.reason_code = reason(r, type);
    if (!r.done()) p.properties = property_block(r, scope_of(type));
  }
  r.expect_end();
  return p;
}

std::string_view filter(Reader& r) {
  const std::string_view f = r.utf8("topic filter");
  const TopicStatus status = check_topic_filter(f);
  if (status != TopicStatus::ok) {
    fail(detail::k_topic_filter_invalid, "topic filter " + std::string(describe(status)), r.packet(), "topic filter");
  }
  return f;
}

} // namespace

std::uint8_t connect_protocol_level(const Frame& frame) noexcept {
  if (frame.type() != PacketType::connect || frame.body.size() < 2) return 0;
  const std::size_t name_length = (static_cast<std::uint8_t>(frame.body[0]) << 8) | static_cast<std::uint8_t>(frame.body[1]);
  if (frame.body.size() < 2 + name_length + 1) return 0;
  return static_cast<std::uint8_t>(frame.body[2 + name_length]);
}

Connect decode_connect(const Frame& frame) {
  expect_type(frame, PacketType::connect);
  Reader r(frame.body, "CONNECT");
  Connect c;
  const std::string_view name = r.binary("protocol name");
  const std::uint8_t level = r.u8("protocol level");
  if (name == "MQIsdp" && level == 3) {
    c.version = ProtocolVersion::v3_1;
  } else if (name == "MQTT" && (level == 4 || level == 5)) {
    c.version = static_cast<ProtocolVersion>(level);
  } else {
    fail(detail::k_unsupported_version,
         "unsupported protocol name/level '" + std::string(name.substr(0, 16)) + "'/" + std::to_string(level),
         "CONNECT", "protocol level");
  }
  // The fixed-header flags and the reserved connect flag are unused in 3.1 (ignored, as
  // mosquitto does) and must be 0 from 3.1.1 on (MQTT-2.2.2-2, MQTT-3.1.2-3).
  expect_header(frame, PacketType::connect, c.version);
  const std::uint8_t flags = r.u8("connect flags");
  if ((flags & 0x01) && c.version != ProtocolVersion::v3_1)
    fail(k_malformed, "reserved connect flag is set", "CONNECT", "connect flags");
  const bool has_will = flags & 0x04;
  const auto will_qos = static_cast<std::uint8_t>((flags >> 3) & 0x03);
  const bool will_retain = flags & 0x20;
  const bool has_password = flags & 0x40;
  const bool has_username = flags & 0x80;
  if (!has_will && (will_qos != 0 || will_retain)) {
    fail(k_malformed, "will QoS/retain set without the will flag", "CONNECT", "connect flags");
  }
  if (will_qos == 3) fail(k_malformed, "will QoS is 3", "CONNECT", "connect flags");
  if (has_password && !has_username && !is_v5(c.version)) {
    fail(k_malformed, "password flag set without the user name flag", "CONNECT", "connect flags");
  }
  c.clean_start = flags & 0x02;
  c.keep_alive = r.u16("keep alive");
  if (is_v5(c.version)) c.properties = property_block(r, scope_of(PacketType::connect));
  c.client_id = r.utf8("client identifier");
  if (has_will) {
    Will will;
    will.qos = static_cast<QoS>(will_qos);
    will.retain = will_retain;
    if (is_v5(c.version)) will.properties = property_block(r, k_will_scope);
    will.topic = r.utf8("will topic");
    const TopicStatus status = check_topic_name(will.topic);
    if (status != TopicStatus::ok) {
      fail(detail::k_topic_name_invalid, "will topic " + std::string(describe(status)), "CONNECT", "will topic");
    }
    will.payload = r.binary("will payload");
    c.will = std::move(will);
  }
  if (has_username) c.username = r.utf8("user name");
  if (has_password) c.password = r.binary("password");
  r.expect_end();
  return c;
}

Connack decode_connack(const Frame& frame, ProtocolVersion v) {
  expect_header(frame, PacketType::connack, v);
  Reader r(frame.body, "CONNACK");
  Connack c;
  const std::uint8_t ack_flags = r.u8("acknowledge flags");
  if (v != ProtocolVersion::v3_1) {
    if (ack_flags & 0xFE) fail(k_malformed, "reserved acknowledge flags are set", "CONNACK", "acknowledge flags");
    c.session_present = ack_flags & 0x01;
  }
  if (is_v5(v)) {
    c.reason_code = reason(r, PacketType::connack);
    c.properties = property_block(r, scope_of(PacketType::connack));
  } else {
    const std::uint8_t rc = r.u8("return code");
    if (rc > 5) fail(k_malformed, "CONNACK return code " + std::to_string(rc) + " is reserved", "CONNACK", "return code");
    c.reason_code = from_connack_return_code(static_cast<ConnackReturnCode>(rc));
  }
  if (c.session_present && c.reason_code != ReasonCode::success) {
    fail(k_protocol_error, "session present is set on a refused connection", "CONNACK", "acknowledge flags");
  }
  r.expect_end();
  return c;
}

Publish decode_publish(const Frame& frame, ProtocolVersion v) {
  const PublishView parts = detail::decode_publish_parts(frame, v);
  Publish p;
  p.topic = parts.topic;
  p.payload = parts.payload;
  p.qos = parts.qos;
  p.retain = parts.retain;
  p.dup = parts.dup;
  p.packet_id = parts.packet_id;
  if (!parts.properties.empty()) p.properties = decode_properties(parts.properties, scope_of(PacketType::publish));
  return p;
}

Puback decode_puback(const Frame& frame, ProtocolVersion v) { return decode_ack<PacketType::puback>(frame, v); }
Pubrec decode_pubrec(const Frame& frame, ProtocolVersion v) { return decode_ack<PacketType::pubrec>(frame, v); }
Pubrel decode_pubrel(const Frame& frame, ProtocolVersion v) { return decode_ack<PacketType::pubrel>(frame, v); }
Pubcomp decode_pubcomp(const Frame& frame, ProtocolVersion v) { return decode_ack<PacketType::pubcomp>(frame, v); }

Subscribe decode_subscribe(const Frame& frame, ProtocolVersion v) {
  expect_header(frame, PacketType::subscribe, v);
  Reader r(frame.body, "SUBSCRIBE");
  Subscribe s;
  s.packet_id = packet_id(r);
  if (is_v5(v)) s.properties = property_block(r, scope_of(PacketType::subscribe));
  while (!r.done()) {
    Subscription sub;
    // Only the encoding is checked here: a syntactically invalid filter is one entry's
    // failure (SUBACK 0x8F / 3.x 0x80, MQTT-3.8.3 / 3.9.3), decided by the receiver with
    // check_topic_filter(), not a reason to drop the whole packet.
    sub.filter = r.utf8("topic filter");
    const std::uint8_t options = r.u8("subscription options");
    if (options & (is_v5(v) ? 0xC0 : 0xFC)) {
      fail(k_malformed, "reserved subscription option bits are set", "SUBSCRIBE", "subscription options");
    }
    if ((options & 0x03) == 3) fail(k_malformed, "requested QoS is 3", "SUBSCRIBE", "subscription options");
    sub.options.max_qos = static_cast<QoS>(options & 0x03);
    if (is_v5(v)) {
      sub.options.no_local = options & 0x04;
      sub.options.retain_as_published = options & 0x08;
      const unsigned handling = (options >> 4) & 0x03;
      if (handling == 3) fail(k_protocol_error, "retain handling is 3", "SUBSCRIBE", "subscription options");
      sub.options.retain_handling = static_cast<RetainHandling>(handling);
      if (sub.options.no_local && is_shared_subscription(sub.filter)) {
        fail(k_protocol_error, "no local is set on a shared subscription", "SUBSCRIBE", "subscription options");
      }
    }
    s.subscriptions.push_back(std::move(sub));
  }
  if (s.subscriptions.empty()) fail(k_protocol_error, "SUBSCRIBE has no topic filter", "SUBSCRIBE", "payload");
  return s;
}

Suback decode_suback(const Frame& frame, ProtocolVersion v) {
  expect_header(frame, PacketType::suback, v);
  Reader r(frame.body, "SUBACK");
  Suback s;
  s.packet_id = packet_id(r);
  if (is_v5(v)) s.properties = property_block(r, scope_of(PacketType::suback));
  while (!r.done()) {
    if (is_v5(v)) {
      s.reason_codes.push_back(reason(r, PacketType::suback));
      continue;
    }
    const std::uint8_t rc = r.u8("return code");
    if (rc > 2 && rc != k_suback_failure_v3) {
      fail(k_malformed, "SUBACK return code " + std::to_string(rc) + " is reserved", "SUBACK", "return code");
    }
    s.reason_codes.push_back(rc == k_suback_failure_v3 ? ReasonCode::unspecified_error : static_cast<ReasonCode>(rc));
  }
  if (s.reason_codes.empty()) fail(k_protocol_error, "SUBACK has no return code", "SUBACK", "payload");
  return s;
}

Unsubscribe decode_unsubscribe(const Frame& frame, ProtocolVersion v) {
  expect_header(frame, PacketType::unsubscribe, v);
  Reader r(frame.body, "UNSUBSCRIBE");
  Unsubscribe u;
  u.packet_id = packet_id(r);
  if (is_v5(v)) u.properties = property_block(r, scope_of(PacketType::unsubscribe));
  while (!r.done()) u.filters.emplace_back(filter(r));
  if (u.filters.empty()) fail(k_protocol_error, "UNSUBSCRIBE has no topic filter", "UNSUBSCRIBE", "payload");
  return u;
}

Unsuback decode_unsuback(const Frame& frame, ProtocolVersion v) {
  expect_header(frame, PacketType::unsuback, v);
  Reader r(frame.body, "UNSUBACK");
  Unsuback u;
  u.packet_id = packet_id(r);
  if (is_v5(v)) {
    u.properties = property_block(r, scope_of(PacketType::unsuback));
    while (!r.done()) u.reason_codes.push_back(reason(r, PacketType::unsuback));
    if (u.reason_codes.empty()) fail(k_protocol_error, "UNSUBACK has no reason code", "UNSUBACK", "payload");
  }
  r.expect_end();
  return u;
}

Pingreq decode_pingreq(const Frame& frame, ProtocolVersion v) {
  expect_header(frame, PacketType::pingreq, v);
  Reader(frame.body, "PINGREQ").expect_end();
  return {};
}

Pingresp decode_pingresp(const Frame& frame, ProtocolVersion v) {
  expect_header(frame, PacketType::pingresp, v);
  Reader(frame.body, "PINGRESP").expect_end();
  return {};
}

Disconnect decode_disconnect(const Frame& frame, ProtocolVersion v) {
  return decode_reason_and_properties<Disconnect>(frame, v, PacketType::disconnect);
}

Auth decode_auth(const Frame& frame, ProtocolVersion v) {
  if (!is_v5(v)) fail(k_malformed, "packet type 15 is reserved before MQTT 5.0", "AUTH", "fixed header");
  Auth a = decode_reason_and_properties<Auth>(frame, v, PacketType::auth);
  if (!frame.body.empty() && !a.properties.authentication_method) {
    fail(k_protocol_error, "AUTH without an Authentication Method", "AUTH", "properties");
  }
  return a;
}

Packet decode(const Frame& frame, ProtocolVersion v) {
  switch (frame.type()) {
  case PacketType::connect: return decode_connect(frame);
  case PacketType::connack: return decode_connack(frame, v);
  case PacketType::publish: return decode_publish(frame, v);
  case PacketType::puback: return decode_puback(frame, v);
  case PacketType::pubrec: return decode_pubrec(frame, v);
  case PacketType::pubrel: return decode_pubrel(frame, v);
  case PacketType::pubcomp: return decode_pubcomp(frame, v);
  case PacketType::subscribe: return decode_subscribe(frame, v);
  case PacketType::suback: return decode_suback(frame, v);
  case PacketType::unsubscribe: return decode_unsubscribe(frame, v);
  case PacketType::unsuback: return decode_unsuback(frame, v);
  case PacketType::pingreq: return decode_pingreq(frame, v);
  case PacketType::pingresp: return decode_pingresp(frame, v);
  case PacketType::disconnect: return decode_disconnect(frame, v);
  case PacketType::auth: return decode_auth(frame, v);
  }
  fail(k_malformed, "reserved packet type 0", "fixed header");
}

} // namespace mqfleet::mqtt
