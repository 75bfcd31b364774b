#include "wire.hpp"

#include <stdexcept>

namespace mqfleet::bench {
namespace {

void append_length(std::string& out, std::size_t length) {
  do {
    auto byte = static_cast<char>(length % 128);
    length /= 128;
    if (length > 0) byte = static_cast<char>(byte | 0x80);
    out.push_back(byte);
  } while (length > 0);
}

void append_u16(std::string& out, std::uint16_t value) {
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value & 0xFF));
}

void append_string(std::string& out, std::string_view text) {
  append_u16(out, static_cast<std::uint16_t>(text.size()));
  out.append(text);
}

std::uint16_t read_u16(std::string_view data, std::size_t pos) {
  return static_cast<std::uint16_t>((static_cast<std::uint8_t>(data[pos]) << 8) | static_cast<std::uint8_t>(data[pos + 1]));
}

} // namespace

void append_connect(std::string& out, std::string_view client_id, std::uint16_t keepalive, std::string_view username,
                    std::string_view password) {
  std::uint8_t flags = 0x02;
  std::size_t length = 10 + 2 + client_id.size();
  if (!username.empty()) {
    flags |= 0x80;
    length += 2 + username.size();
    if (!password.empty()) {
      flags |= 0x40;
      length += 2 + password.size();
    }
  }
  out.push_back(0x10);
  append_length(out, length);
  append_string(out, "MQTT");
  out.push_back(4);
  out.push_back(static_cast<char>(flags));
  append_u16(out, keepalive);
  append_string(out, client_id);
  if (!username.empty()) {
    append_string(out, username);
    if (!password.empty()) append_string(out, password);
  }
}

void append_subscribe(std::string& out, std::uint16_t packet_id, std::string_view filter, int qos) {
  out.push_back(static_cast<char>(0x82));
  append_length(out, 2 + 2 + filter.size() + 1);
  append_u16(out, packet_id);
  append_string(out, filter);
  out.push_back(static_cast<char>(qos));
}

void append_publish(std::string& out, std::string_view topic, std::string_view payload, int qos,
                    std::uint16_t packet_id) {
  out.push_back(static_cast<char>(0x30 | (qos << 1)));
  append_length(out, 2 + topic.size() + (qos > 0 ? 2 : 0) + payload.size());
  append_string(out, topic);
  if (qos > 0) append_u16(out, packet_id);
  out.append(payload);
}

void append_puback(std::string& out, std::uint16_t packet_id) {
  out.push_back(0x40);
  out.push_back(2);
  append_u16(out, packet_id);
}

std::optional<Packet> parse_packet(std::string_view data) {
  if (data.size() < 2) return std::nullopt;
  std::size_t length = 0;
  std::size_t multiplier = 1;
  std::size_t pos = 1;
  for (;;) {
    if (pos >= data.size()) return std::nullopt;
    if (pos > 4) throw std::runtime_error("malformed remaining length from the broker");
    const auto byte = static_cast<std::uint8_t>(data[pos++]);
    length += (byte & 0x7Fu) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80u) == 0) break;
  }
  if (data.size() < pos + length) return std::nullopt;
  const auto first = static_cast<std::uint8_t>(data[0]);
  return Packet{static_cast<PacketType>(first >> 4), static_cast<std::uint8_t>(first & 0x0F), data.substr(pos, length),
                pos + length};
}

PublishView parse_publish(const Packet& packet) {
  const std::string_view body = packet.body;
  if (body.size() < 2) throw std::runtime_error("short PUBLISH from the broker");
  const std::size_t topic_length = read_u16(body, 0);
  std::size_t pos = 2 + topic_length;
  PublishView view;
  view.topic = body.substr(2, topic_length);
  if (((packet.flags >> 1) & 3) > 0) {
    if (body.size() < pos + 2) throw std::runtime_error("short PUBLISH from the broker");
    view.packet_id = read_u16(body, pos);
    pos += 2;
  }
  if (body.size() < pos) throw std::runtime_error("short PUBLISH from the broker");
  view.payload = body.substr(pos);
  return view;
}

} // namespace mqfleet::bench
