#pragma once
// The few MQTT 3.1.1 packets the load client needs, encoded by hand: a local stand-in
// for lib/mqtt's codec so that the benchmark measures brokers, not a client library.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mqfleet::bench {

/// Control packet types used here.
enum class PacketType : std::uint8_t {
  connect = 1, connack = 2, publish = 3, puback = 4, subscribe = 8, suback = 9, pingreq = 12, pingresp = 13,
};

/// Appends CONNECT (clean session, no credentials unless given) to `out`.
void append_connect(std::string& out, std::string_view client_id, std::uint16_t keepalive,
                    std::string_view username = {}, std::string_view password = {});
/// Appends SUBSCRIBE with one filter.
void append_subscribe(std::string& out, std::uint16_t packet_id, std::string_view filter, int qos);
/// Appends PUBLISH; `packet_id` is used only for QoS > 0.
void append_publish(std::string& out, std::string_view topic, std::string_view payload, int qos,
                    std::uint16_t packet_id);
/// Appends PUBACK.
void append_puback(std::string& out, std::uint16_t packet_id);

/// One received packet, viewing into the receive buffer.
struct Packet {
  PacketType type;
  std::uint8_t flags;
  std::string_view body;
  std::size_t size; ///< bytes consumed, header included
};

/// The first complete packet at the start of `data`, or nullopt when more bytes are needed.
/// Throws std::runtime_error on a malformed remaining length.
std::optional<Packet> parse_packet(std::string_view data);

/// A decoded PUBLISH body.
struct PublishView {
  std::string_view topic;
  std::uint16_t packet_id = 0;
  std::string_view payload;
};

/// Splits a PUBLISH body according to its QoS (from the fixed header flags).
PublishView parse_publish(const Packet& packet);

} // namespace mqfleet::bench
