// The frame reader: byte-at-a-time feeding, several frames per read, prepare/commit.
#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/codec.hpp>
#include <mqfleet/mqtt/frame.hpp>
#include <mqfleet/mqtt/publish_view.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <string>

using namespace mqfleet::mqtt;
using namespace std::string_literals;

TEST(CodecFrame, VariableByteIntegersUseTheMinimumLength) {
  const std::pair<std::uint32_t, std::string> cases[] = {
      {0, "\x00"s}, {127, "\x7F"s}, {128, "\x80\x01"s}, {16'383, "\xFF\x7F"s},
      {16'384, "\x80\x80\x01"s}, {2'097'151, "\xFF\xFF\x7F"s}, {2'097'152, "\x80\x80\x80\x01"s},
      {268'435'455, "\xFF\xFF\xFF\x7F"s}};
  for (const auto& [value, bytes] : cases) {
    std::string out;
    append_variable_byte_integer(value, out);
    EXPECT_EQ(out, bytes) << value;
    EXPECT_EQ(variable_byte_integer_size(value), bytes.size());
  }
  std::string out;
  EXPECT_THROW(append_variable_byte_integer(268'435'456, out), mqfleet::ProtocolError);
}

TEST(CodecFrame, ReaderReassemblesFramesFedOneByteAtATime) {
  std::string stream;
  encode(Publish{"a/b", "hello", QoS::at_least_once, false, false, 9, {}}, ProtocolVersion::v5, stream);
  encode(Pingreq{}, ProtocolVersion::v5, stream);
  encode(Publish{"c", std::string(200, 'x'), QoS::at_most_once, true, false, 0, {}}, ProtocolVersion::v5, stream);
  FrameReader reader;
  std::vector<Packet> packets;
  for (const char c : stream) {
    reader.feed(std::string_view(&c, 1));
    while (auto frame = reader.next()) packets.push_back(decode(*frame, ProtocolVersion::v5));
  }
  ASSERT_EQ(packets.size(), 3u);
  EXPECT_EQ(std::get<Publish>(packets[0]).payload, "hello");
  EXPECT_TRUE(std::holds_alternative<Pingreq>(packets[1]));
  EXPECT_EQ(std::get<Publish>(packets[2]).payload.size(), 200u);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(CodecFrame, ReaderHandlesManyFramesPerReadThroughPrepareAndCommit) {
  std::string stream;
  for (std::uint16_t id = 1; id <= 500; ++id) encode(Puback{id, ReasonCode::success, {}}, ProtocolVersion::v3_1_1, stream);
  stream += "\x40\x02\x01"s; // a partial fourth... 501st frame
  FrameReader reader;
  std::size_t pos = 0;
  std::uint16_t expected = 1;
  while (pos < stream.size()) {
    const std::size_t n = std::min<std::size_t>(777, stream.size() - pos);
    const std::span<char> space = reader.prepare(n);
    std::memcpy(space.data(), stream.data() + pos, n);
    reader.commit(n);
    pos += n;
    while (auto frame = reader.next()) EXPECT_EQ(decode_puback(*frame, ProtocolVersion::v3_1_1).packet_id, expected++);
  }
  EXPECT_EQ(expected, 501);
  EXPECT_EQ(reader.buffered(), 3u);
  reader.feed("\xF5"s);
  auto last = reader.next();
  ASSERT_TRUE(last);
  EXPECT_EQ(decode_puback(*last, ProtocolVersion::v3_1_1).packet_id, 0x01F5);
}

TEST(CodecFrame, IncompleteHeadersWaitForMoreBytes) {
  EXPECT_FALSE(parse_frame("", 100));
  EXPECT_FALSE(parse_frame("\x30"s, 100));
  EXPECT_FALSE(parse_frame("\x30\x80"s, 1000));
  EXPECT_FALSE(parse_frame("\x30\x05\x00"s, 100));
  const std::string bytes = "\xD0\x00\xC0"s;
  const auto frame = parse_frame(bytes, 100);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->size, 2u);
  EXPECT_EQ(frame->type(), PacketType::pingresp);
}

TEST(CodecFrame, MaxPacketSizeCanBeChangedAfterNegotiation) {
  FrameReader reader(100);
  reader.set_max_packet_size(10);
  EXPECT_EQ(reader.max_packet_size(), 10u);
  reader.feed("\x30\x09"s);
  EXPECT_THROW(reader.next(), mqfleet::ProtocolError);
}
