#pragma once
// Wire helpers for the lean client's socket-free unit tests (test_lean_session.cpp,
// test_lean_receive.cpp): decode what a state wrote, and hand it frames as if the broker
// had sent them, both through lib/mqtt's codec.

#include <mqfleet/mqtt/codec.hpp>
#include <mqfleet/mqtt/frame.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace mqfleet::detail {

/// Every packet in `bytes`, decoded; a trailing incomplete packet fails the test.
inline std::vector<mqtt::Packet> decode_all(std::string_view bytes, mqtt::ProtocolVersion version) {
  std::vector<mqtt::Packet> packets;
  while (!bytes.empty()) {
    const auto frame = mqtt::parse_frame(bytes, mqtt::k_max_packet_size);
    if (!frame) {
      ADD_FAILURE() << "incomplete packet at the end";
      break;
    }
    packets.push_back(mqtt::decode(*frame, version));
    bytes.remove_prefix(frame->size);
  }
  return packets;
}

/// Encodes `packet` and passes it to `state.on_frame`, as if the broker had sent it;
/// returns what on_frame returns.
template <typename State, typename Packet, typename Out>
auto feed_frame(State& state, const Packet& packet, mqtt::ProtocolVersion version, Out& out) {
  std::string bytes;
  mqtt::encode(packet, version, bytes);
  const auto frame = mqtt::parse_frame(bytes, mqtt::k_max_packet_size);
  return state.on_frame(*frame, out);
}

} // namespace mqfleet::detail
