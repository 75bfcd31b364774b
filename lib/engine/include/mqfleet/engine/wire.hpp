#pragma once
// Socket-free building blocks of a connection, unit-tested on their own: cutting received
// bytes into frames with only the partial tail kept, the outgoing QoS 1/2 window with its
// packet ids, the set of incoming QoS 2 ids waiting for PUBREL, and the 4-byte acks.

#include <mqfleet/mqtt/frame.hpp>
#include <mqfleet/mqtt/types.hpp>

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqfleet::engine {

/// Calls on_frame(const mqtt::Frame&) -> bool for every complete frame in partial + data,
/// and leaves the incomplete tail in partial. When partial is empty the frames are views
/// into data (no copy). Stops and returns false as soon as on_frame returns false (the
/// connection closed; partial is then left alone). Throws mqfleet::ProtocolError like
/// mqtt::parse_frame.
template <typename OnFrame>
bool for_each_frame(std::string& partial, std::string_view data, std::size_t max_packet_size,
                    OnFrame&& on_frame) {
  std::string_view input = data;
  if (!partial.empty()) {
    partial.append(data);
    input = partial;
  }
  std::size_t used = 0;
  while (auto frame = mqtt::parse_frame(input.substr(used), max_packet_size)) {
    used += frame->size;
    if (!on_frame(*frame)) return false;
  }
  if (partial.empty()) {
    partial.assign(input.substr(used));
  } else if (used > 0) {
    partial.erase(0, used);
  }
  if (partial.empty() && partial.capacity() > 16 * 1024) std::string().swap(partial);
  return true;
}

/// The state of one outgoing QoS 1/2 packet id.
enum class InflightState : std::uint8_t {
  free,
  awaiting_puback,  ///< QoS 1 sent.
  awaiting_pubrec,  ///< QoS 2 sent.
  awaiting_pubcomp, ///< QoS 2: PUBREC received, PUBREL sent.
};

/// Packet ids 1..capacity for outgoing QoS 1/2 publishes. Memory (3 bytes per slot) is
/// taken at the first acquire, so idle connections hold none.
class InflightWindow {
public:
  /// Sets the window size (1..65535) and frees every id.
  void reset(std::uint16_t capacity);
  /// A free id in the state for qos (1 or 2), or nullopt when the window is full.
  std::optional<std::uint16_t> acquire(mqtt::QoS qos);
  /// The state of an id (free for ids outside the window).
  InflightState state(std::uint16_t id) const noexcept;
  /// Moves id to another state; releasing it when the new state is free.
  void set_state(std::uint16_t id, InflightState state) noexcept;
  /// Ids in use.
  std::uint32_t in_use() const noexcept { return m_in_use; }
  /// The window size.
  std::uint32_t capacity() const noexcept { return m_capacity; }
  /// Frees every id and the memory; returns how many were in use.
  std::uint32_t clear() noexcept;

private:
  std::vector<InflightState> m_states; ///< Index id - 1.
  std::vector<std::uint16_t> m_free;   ///< Stack of free ids.
  std::uint16_t m_capacity = 0;
  std::uint32_t m_in_use = 0;
};

/// Incoming QoS 2 packet ids between PUBLISH and PUBREL (8 KiB, allocated on first use):
/// a resent PUBLISH with the same id is acknowledged again but not delivered twice.
class IncomingQos2 {
public:
  /// Records id; true when it was new (deliver the message), false for a duplicate.
  bool begin(std::uint16_t id) noexcept;
  /// PUBREL received: forgets id.
  void release(std::uint16_t id) noexcept { m_ids.reset(id); }

private:
  std::bitset<65536> m_ids;
};

/// Writes a PUBACK/PUBREC/PUBREL/PUBCOMP with success and no properties (valid for every
/// version): 4 bytes to out.
inline void encode_ack(mqtt::PacketType type, std::uint16_t packet_id, char* out) noexcept {
  out[0] = static_cast<char>((static_cast<unsigned>(type) << 4) |
                             mqtt::required_fixed_header_flags(type));
  out[1] = 2;
  out[2] = static_cast<char>(packet_id >> 8);
  out[3] = static_cast<char>(packet_id & 0xFF);
}

} // namespace mqfleet::engine
