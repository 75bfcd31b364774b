// Packet encoders: each packet computes its body size first, then writes into memory
// sized exactly once, so encoding allocates nothing beyond the caller's buffer growth.
#include <mqfleet/mqtt/codec.hpp>

#include "wire.hpp"

#include <type_traits>

namespace mqfleet::mqtt {
namespace detail {
void write_properties(const Properties& props, std::size_t size, Writer& w);
}
namespace {

using detail::string_size;
using detail::Writer;

bool is_v5(ProtocolVersion v) noexcept { return v == ProtocolVersion::v5; }

/// Property length prefix plus properties; 0 before 5.0.
std::size_t property_block_size(const Properties& p, ProtocolVersion v, std::size_t& props) {
  if (!is_v5(v)) return 0;
  props = properties_size(p);
  return variable_byte_integer_size(static_cast<std::uint32_t>(props)) + props;
}

void write_property_block(const Properties& p, ProtocolVersion v, std::size_t props, Writer& w) {
  if (is_v5(v)) detail::write_properties(p, props, w);
}

std::uint8_t reason_byte(ReasonCode code) noexcept { return static_cast<std::uint8_t>(code); }

std::uint8_t suback_byte_v3(ReasonCode code) noexcept {
  return is_error(code) ? k_suback_failure_v3 : reason_byte(code) & 0x03;
}

/// The encoder of one packet: first byte, body size and body writer. Property sizes are
/// remembered between sizing and writing.
struct Encoder {
  ProtocolVersion v;
  std::size_t props = 0;
  std::size_t will_props = 0;

  // CONNECT
  std::uint8_t first_byte(const Connect&) const { return 0x10; }
  std::size_t body_size(const Connect& c) {
    std::size_t n = (v == ProtocolVersion::v3_1 ? 8 : 6) + 1 + 1 + 2;
    n += property_block_size(c.properties, v, props);
    n += string_size(c.client_id, "client identifier");
    if (c.will) {
      n += property_block_size(c.will->properties, v, will_props);
      n += string_size(c.will->topic, "will topic") + string_size(c.will->payload, "will payload");
    }
    if (c.username) n += string_size(*c.username, "user name");
    if (c.password) n += string_size(*c.password, "password");
    return n;
  }
  void write(const Connect& c, Writer& w) {
    w.string(v == ProtocolVersion::v3_1 ? "MQIsdp" : "MQTT");
    w.u8(static_cast<std::uint8_t>(v));
    std::uint8_t flags = c.clean_start ? 0x02 : 0x00;
    if (c.will) {
      flags |= 0x04 | static_cast<std::uint8_t>(static_cast<unsigned>(c.will->qos) << 3);
      if (c.will->retain) flags |= 0x20;
    }
    if (c.password) flags |= 0x40;
    if (c.username) flags |= 0x80;
    w.u8(flags);
    w.u16(c.keep_alive);
    write_property_block(c.properties, v, props, w);
    w.string(c.client_id);
    if (c.will) {
      write_property_block(c.will->properties, v, will_props, w);
      w.string(c.will->topic);
      w.string(c.will->payload);
    }
    if (c.username) w.string(*c.username);
    if (c.password) w.string(*c.password);
  }

  // CONNACK
  std::uint8_t first_byte(const Connack&) const { return 0x20; }
  std::size_t body_size(const Connack& c) { return 2 + property_block_size(c.properties, v, props); }
  void write(const Connack& c, Writer& w) {
    w.u8(v != ProtocolVersion::v3_1 && c.session_present ? 0x01 : 0x00);
    w.u8(is_v5(v) ? reason_byte(c.reason_code)
                  : static_cast<std::uint8_t>(to_connack_return_code(c.reason_code)));
    write_property_block(c.properties, v, props, w);
  }

  // PUBLISH
  std::uint8_t first_byte(const Publish& p) const {
    return static_cast<std::uint8_t>(0x30 | (p.dup ? 0x08 : 0) | (static_cast<unsigned>(p.qos) << 1) |
                                     (p.retain ? 0x01 : 0));
  }
  std::size_t body_size(const Publish& p) {
    return string_size(p.topic, "topic name") + (p.qos != QoS::at_most_once ? 2 : 0) +
           property_block_size(p.properties, v, props) + p.payload.size();
  }
  void write(const Publish& p, Writer& w) {
    w.string(p.topic);
    if (p.qos != QoS::at_most_once) w.u16(p.packet_id);
    write_property_block(p.properties, v, props, w);
    w.bytes(p.payload);
  }

  // PUBACK, PUBREC, PUBREL, PUBCOMP
  template <PacketType Type>
  std::uint8_t first_byte(const PublishAck<Type>&) const {
    return static_cast<std::uint8_t>((static_cast<unsigned>(Type) << 4) | required_fixed_header_flags(Type));
  }
  template <PacketType Type>
  std::size_t body_size(const PublishAck<Type>& a) {
    if (!is_v5(v)) return 2;
    if (!a.properties.empty()) return 3 + property_block_size(a.properties, v, props);
    return a.reason_code == ReasonCode::success ? 2 : 3;
  }
  template <PacketType Type>
  void write(const PublishAck<Type>& a, Writer& w) {
    w.u16(a.packet_id);
    if (!is_v5(v)) return;
    if (a.reason_code != ReasonCode::success || !a.properties.empty()) w.u8(reason_byte(a.reason_code));
    if (!a.properties.empty()) write_property_block(a.properties, v, props, w);
  }

  // SUBSCRIBE
  std::uint8_t first_byte(const Subscribe&) const { return 0x82; }
  std::size_t body_size(const Subscribe& s) {
    std::size_t n = 2 + property_block_size(s.properties, v, props);
    for (const Subscription& sub : s.subscriptions) n += string_size(sub.filter, "topic filter") + 1;
    return n;
  }
  void write(const Subscribe& s, Writer& w) {
    w.u16(s.packet_id);
    write_property_block(s.properties, v, props, w);
    for (const Subscription& sub : s.subscriptions) {
      w.string(sub.filter);
      auto options = static_cast<std::uint8_t>(sub.options.max_qos);
      if (is_v5(v)) {
        if (sub.options.no_local) options |= 0x04;
        if (sub.options.retain_as_published) options |= 0x08;
        options |= static_cast<std::uint8_t>(static_cast<unsigned>(sub.options.retain_handling) << 4);
      }
      w.u8(options);
    }
  }

  // SUBACK
  std::uint8_t first_byte(const Suback&) const { return 0x90; }
  std::size_t body_size(const Suback& s) {
    return 2 + property_block_size(s.properties, v, props) + s.reason_codes.size();
  }
  void write(const Suback& s, Writer& w) {
    w.u16(s.packet_id);
    write_property_block(s.properties, v, props, w);
    for (const ReasonCode code : s.reason_codes) w.u8(is_v5(v) ? reason_byte(code) : suback_byte_v3(code));
  }

  // UNSUBSCRIBE
  std::uint8_t first_byte(const Unsubscribe&) const { return 0xA2; }
  std::size_t body_size(const Unsubscribe& u) {
    std::size_t n = 2 + property_block_size(u.properties, v, props);
    for (const std::string& filter : u.filters) n += string_size(filter, "topic filter");
    return n;
  }
  void write(const Unsubscribe& u, Writer& w) {
    w.u16(u.packet_id);
    write_property_block(u.properties, v, props, w);
    for (const std::string& filter : u.filters) w.string(filter);
  }

  // UNSUBACK
  std::uint8_t first_byte(const Unsuback&) const { return 0xB0; }
  std::size_t body_size(const Unsuback& u) {
    if (!is_v5(v)) return 2;
    return 2 + property_block_size(u.properties, v, props) + u.reason_codes.size();
  }
  void write(const Unsuback& u, Writer& w) {
    w.u16(u.packet_id);
    if (!is_v5(v)) return;
    write_property_block(u.properties, v, props, w);
    for (const ReasonCode code : u.reason_codes) w.u8(reason_byte(code));
  }

  // PINGREQ, PINGRESP
  std::uint8_t first_byte(const Pingreq&) const { return 0xC0; }
  std::size_t body_size(const Pingreq&) { return 0; }
  void write(const Pingreq&, Writer&) {}
  std::uint8_t first_byte(const Pingresp&) const { return 0xD0; }
  std::size_t body_size(const Pingresp&) { return 0; }
  void write(const Pingresp&, Writer&) {}

  // DISCONNECT and AUTH: reason code and properties, both optional on the wire.
  std::uint8_t first_byte(const Disconnect&) const { return 0xE0; }
  std::uint8_t first_byte(const Auth&) const { return 0xF0; }
  template <typename P>
  std::size_t body_size(const P& p) requires(std::is_same_v<P, Disconnect> || std::is_same_v<P, Auth>) {
    if constexpr (std::is_same_v<P, Auth>) {
      if (!is_v5(v)) {
        throw ProtocolError(detail::k_protocol_error, "AUTH exists only in MQTT 5.0", "AUTH");
      }
    }
    if (!is_v5(v)) return 0;
    if (!p.properties.empty()) return 1 + property_block_size(p.properties, v, props);
    return p.reason_code == ReasonCode::success ? 0 : 1;
  }
  template <typename P>
  void write(const P& p, Writer& w) requires(std::is_same_v<P, Disconnect> || std::is_same_v<P, Auth>) {
    if (!is_v5(v)) return;
    if (p.reason_code != ReasonCode::success || !p.properties.empty()) w.u8(reason_byte(p.reason_code));
    if (!p.properties.empty()) write_property_block(p.properties, v, props, w);
  }
};

template <typename P, typename Buffer>
void encode_one(const P& p, ProtocolVersion version, Buffer& out) {
  Encoder enc{version};
  const std::size_t body = enc.body_size(p);
  const std::size_t total = detail::frame_size(body);
  const std::size_t old = out.size();
  out.resize(old + total);
  Writer w(reinterpret_cast<char*>(out.data()) + old);
  w.u8(enc.first_byte(p));
  w.varint(static_cast<std::uint32_t>(body));
  enc.write(p, w);
  if (w.position() != reinterpret_cast<char*>(out.data()) + old + total) {
    out.resize(old);
    throw Error("internal error: MQTT encoder size mismatch");
  }
}

} // namespace

template <ControlPacket P>
std::size_t encoded_size(const P& packet, ProtocolVersion version) {
  Encoder enc{version};
  return detail::frame_size(enc.body_size(packet));
}

template <ControlPacket P>
void encode(const P& packet, ProtocolVersion version, std::string& out) {
  encode_one(packet, version, out);
}

template <ControlPacket P>
void encode(const P& packet, ProtocolVersion version, std::vector<std::uint8_t>& out) {
  encode_one(packet, version, out);
}

std::size_t encoded_size(const Packet& packet, ProtocolVersion version) {
  return std::visit([version](const auto& p) { return encoded_size(p, version); }, packet);
}

void encode(const Packet& packet, ProtocolVersion version, std::string& out) {
  std::visit([&](const auto& p) { encode_one(p, version, out); }, packet);
}

void encode(const Packet& packet, ProtocolVersion version, std::vector<std::uint8_t>& out) {
  std::visit([&](const auto& p) { encode_one(p, version, out); }, packet);
}

#define MQFLEET_INSTANTIATE_ENCODE(P)                                                       \
  template std::size_t encoded_size<P>(const P&, ProtocolVersion);                          \
  template void encode<P>(const P&, ProtocolVersion, std::string&);                         \
  template void encode<P>(const P&, ProtocolVersion, std::vector<std::uint8_t>&);
MQFLEET_INSTANTIATE_ENCODE(Connect)
MQFLEET_INSTANTIATE_ENCODE(Connack)
MQFLEET_INSTANTIATE_ENCODE(Publish)
MQFLEET_INSTANTIATE_ENCODE(Puback)
MQFLEET_INSTANTIATE_ENCODE(Pubrec)
MQFLEET_INSTANTIATE_ENCODE(Pubrel)
MQFLEET_INSTANTIATE_ENCODE(Pubcomp)
MQFLEET_INSTANTIATE_ENCODE(Subscribe)
MQFLEET_INSTANTIATE_ENCODE(Suback)
MQFLEET_INSTANTIATE_ENCODE(Unsubscribe)
MQFLEET_INSTANTIATE_ENCODE(Unsuback)
MQFLEET_INSTANTIATE_ENCODE(Pingreq)
MQFLEET_INSTANTIATE_ENCODE(Pingresp)
MQFLEET_INSTANTIATE_ENCODE(Disconnect)
MQFLEET_INSTANTIATE_ENCODE(Auth)
#undef MQFLEET_INSTANTIATE_ENCODE

} // namespace mqfleet::mqtt
