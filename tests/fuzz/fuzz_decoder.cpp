// libFuzzer entry for the MQTT decoder. The first input byte picks the protocol version
// and how the rest is fed to the FrameReader (in chunks of 1..all bytes); every complete
// frame is decoded, and whatever decodes must re-encode to bytes that decode to the same
// packet, and the zero-copy PUBLISH path must agree with the owning one and re-encode to
// the very bytes received.
#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/codec.hpp>
#include <mqfleet/mqtt/frame.hpp>
#include <mqfleet/mqtt/publish_view.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace mqfleet::mqtt;

namespace {

constexpr std::array<ProtocolVersion, 3> k_versions = {ProtocolVersion::v3_1, ProtocolVersion::v3_1_1,
                                                       ProtocolVersion::v5};
constexpr std::array<std::size_t, 8> k_chunks = {1, 2, 3, 7, 16, 64, 256, 1u << 20};
constexpr std::size_t k_max_fuzz_packet = 64 * 1024;

void check(bool ok) {
  if (!ok) std::abort();
}

void check_round_trip(const Frame& frame, const Packet& packet, ProtocolVersion v) {
  const ProtocolVersion encode_version =
      frame.type() == PacketType::connect ? std::get<Connect>(packet).version : v;
  std::string bytes;
  encode(packet, encode_version, bytes);
  check(bytes.size() == encoded_size(packet, encode_version));
  const auto again = parse_frame(bytes, k_max_packet_size);
  check(again.has_value() && again->size == bytes.size());
  check(decode(*again, encode_version) == packet);
  if (const auto* publish = std::get_if<Publish>(&packet)) {
    const PublishView view = decode_publish_view(frame, v);
    check(view.topic == publish->topic && view.payload == publish->payload);
    check(view.packet_id == publish->packet_id && view.qos == publish->qos);
    check(view.topic_alias == publish->properties.topic_alias.value_or(0));
    check(decode_properties(view.properties, scope_of(PacketType::publish)) == publish->properties);
    // Re-encoding the view reproduces the received frame byte for byte (properties keep
    // their original order, which the owning encoder normalises).
    std::string direct;
    encode_publish(view, v, direct);
    check(direct.size() == frame.size && static_cast<std::uint8_t>(direct[0]) == frame.first_byte);
    check(std::string_view(direct).substr(direct.size() - frame.body.size()) == frame.body);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const ProtocolVersion version = k_versions[data[0] % k_versions.size()];
  const std::size_t chunk = k_chunks[(data[0] / k_versions.size()) % k_chunks.size()];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  FrameReader reader(k_max_fuzz_packet);
  try {
    for (std::size_t pos = 0; pos < input.size(); pos += chunk) {
      reader.feed(input.substr(pos, chunk));
      while (const auto frame = reader.next()) {
        check(frame->size <= k_max_fuzz_packet);
        check(frame->body.size() < frame->size);
        if (frame->type() == PacketType::connect) connect_protocol_level(*frame);
        try {
          const Packet packet = decode(*frame, version);
          check_round_trip(*frame, packet, version);
        } catch (const mqfleet::ProtocolError& e) {
          // A malformed packet: the reason code must be an MQTT 5.0 error code.
          check(e.reason_code() >= 0x80 && e.reason_code() <= 0xA2);
        }
      }
    }
  } catch (const mqfleet::ProtocolError& e) {
    // Framing errors end the stream, as a real connection would be closed.
    check(e.reason_code() == 0x81 || e.reason_code() == 0x95);
  }
  return 0;
}
