// The broker's reader of WebSocket client frames (lib/broker/server ws_frames.cpp), no
// sockets: unmasking across reads of any size, fragmentation, control frames, and every
// violation RFC 6455 and MQTT 5.0 §6 name.

#include "ws_frames.hpp"

#include <mqfleet/error.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mqfleet::broker {
namespace {

/// One client frame: `opcode`, masked with a fixed key unless `masked` is false.
std::string frame(std::uint8_t opcode, const std::string& payload, bool fin = true, bool masked = true) {
  std::string out;
  out += static_cast<char>((fin ? 0x80 : 0) | opcode);
  const unsigned char mask_bit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    out += static_cast<char>(mask_bit | payload.size());
  } else if (payload.size() < 65536) {
    out += static_cast<char>(mask_bit | 126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size() & 0xff);
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((payload.size() >> shift) & 0xff);
  }
  const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
  if (!masked) return out + payload;
  out.append(reinterpret_cast<const char*>(key), 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out += static_cast<char>(static_cast<unsigned char>(payload[i]) ^ key[i % 4]);
  return out;
}

struct Decoded {
  std::string data;
  std::vector<WsControl> controls;
};

Decoded decode_in_reads(const std::string& stream, std::size_t read_size) {
  WsClientFrames frames;
  Decoded out;
  for (std::size_t at = 0; at < stream.size(); at += read_size)
    frames.decode(std::string_view(stream).substr(at, read_size), out.data, out.controls);
  return out;
}

TEST(WsClientFrames, UnmasksBinaryFramesInReadsOfAnySize) {
  const std::string big(70000, 'b'); // the 64-bit length form
  const std::string mid(300, 'm');   // the 16-bit length form
  const std::string stream = frame(2, "first") + frame(2, mid) + frame(2, big) + frame(2, "") + frame(2, "last");
  for (std::size_t read_size : {1u, 2u, 3u, 7u, 13u, 1536u, 65536u, 1000000u}) {
    const auto decoded = decode_in_reads(stream, read_size);
    EXPECT_EQ(decoded.data, "first" + mid + big + "last") << "reads of " << read_size;
    EXPECT_TRUE(decoded.controls.empty());
  }
}

TEST(WsClientFrames, FragmentsAndControlFramesBetweenThem) {
  const std::string stream = frame(2, "ab", false) + frame(9, "are you there") + frame(0, "cd", false) +
                             frame(10, "") + frame(0, "ef") + frame(8, std::string("\x03\xe8", 2) + "bye");
  for (std::size_t read_size : {1u, 5u, 4096u}) {
    const auto decoded = decode_in_reads(stream, read_size);
    EXPECT_EQ(decoded.data, "abcdef");
    ASSERT_EQ(decoded.controls.size(), 3u);
    EXPECT_EQ(decoded.controls[0].opcode, 9);
    EXPECT_EQ(decoded.controls[0].payload, "are you there");
    EXPECT_EQ(decoded.controls[1].opcode, 10);
    EXPECT_EQ(decoded.controls[2].opcode, 8);
    EXPECT_EQ(decoded.controls[2].payload, std::string("\x03\xe8", 2) + "bye");
  }
}

TEST(WsClientFrames, EveryViolationIsAProtocolError) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {frame(2, "x", true, false), "not masked"},
      {frame(1, "{}"), "text frame"},
      {frame(0, "x"), "continuation frame without"},
      {frame(2, "a", false) + frame(2, "b"), "interrupts a fragmented"},
      {frame(9, "x", false), "control frame is fragmented"},
      {frame(9, std::string(126, 'p')), "longer than 125"},
      {frame(3, "x"), "unknown opcode 3"},
      {std::string("\xc2\x81", 2) + "abcd" + "x", "reserved bits"},
      {frame(8, "") + frame(2, "late"), "after the close frame"},
      {std::string("\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00", 10) + "mask", "most significant bit"},
  };
  for (const auto& [stream, expected] : bad) {
    try {
      decode_in_reads(stream, 4096);
      ADD_FAILURE() << "accepted: " << expected;
    } catch (const ProtocolError& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
      EXPECT_EQ(e.reason_code(), 0x81);
    }
  }
}

} // namespace
} // namespace mqfleet::broker
