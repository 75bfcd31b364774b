// Every packet type, every protocol version: encode, frame, decode, compare.
#include "codec_samples.hpp"

#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/codec.hpp>
#include <mqfleet/mqtt/publish_view.hpp>

#include <gtest/gtest.h>

#include <set>
#include <string>

using namespace mqfleet::mqtt;
using mqfleet::test::sample_packets;

namespace {

class CodecRoundTrip : public testing::TestWithParam<ProtocolVersion> {};

std::string encoded(const Packet& p, ProtocolVersion v) {
  std::string out;
  encode(p, v, out);
  return out;
}

} // namespace

TEST_P(CodecRoundTrip, EveryPacketSurvivesEncodeAndDecode) {
  const ProtocolVersion v = GetParam();
  std::set<PacketType> types;
  for (const Packet& packet : sample_packets(v)) {
    types.insert(packet_type(packet));
    const std::string bytes = encoded(packet, v);
    SCOPED_TRACE(std::string(packet_type_name(packet_type(packet))) + " " + testing::PrintToString(bytes));
    EXPECT_EQ(bytes.size(), encoded_size(packet, v));
    const auto frame = parse_frame(bytes, k_max_packet_size);
    ASSERT_TRUE(frame.has_value());
    EXPECT_EQ(frame->size, bytes.size());
    EXPECT_EQ(frame->type(), packet_type(packet));
    const Packet decoded = decode(*frame, v);
    EXPECT_TRUE(decoded == packet);
    EXPECT_EQ(encoded(decoded, v), bytes);
  }
  EXPECT_EQ(types.size(), v == ProtocolVersion::v5 ? 15u : 14u);
}

TEST_P(CodecRoundTrip, ByteVectorAndStructOverloadsProduceTheSameBytes) {
  const ProtocolVersion v = GetParam();
  for (const Packet& packet : sample_packets(v)) {
    std::vector<std::uint8_t> vec{0xEE};
    encode(packet, v, vec);
    const std::string str = encoded(packet, v);
    ASSERT_EQ(vec.size(), str.size() + 1);
    EXPECT_EQ(std::string(vec.begin() + 1, vec.end()), str);
    std::string direct = "prefix";
    std::visit([&](const auto& p) { encode(p, v, direct); }, packet);
    EXPECT_EQ(direct, "prefix" + str);
  }
}

TEST_P(CodecRoundTrip, ConnectCarriesTheProtocolVersion) {
  const ProtocolVersion v = GetParam();
  Connect c;
  c.client_id = "x";
  const std::string bytes = encoded(c, v);
  const auto frame = parse_frame(bytes, k_max_packet_size);
  ASSERT_TRUE(frame);
  EXPECT_EQ(connect_protocol_level(*frame), static_cast<std::uint8_t>(v));
  EXPECT_EQ(decode_connect(*frame).version, v);
  EXPECT_EQ(bytes.substr(2, v == ProtocolVersion::v3_1 ? 8 : 6),
            v == ProtocolVersion::v3_1 ? std::string("\0\6MQIsdp", 8) : std::string("\0\4MQTT", 6));
}

INSTANTIATE_TEST_SUITE_P(AllVersions, CodecRoundTrip,
                         testing::Values(ProtocolVersion::v3_1, ProtocolVersion::v3_1_1, ProtocolVersion::v5),
                         [](const auto& param_info) {
                           std::string name(version_name(param_info.param));
                           for (char& c : name) c = c == '.' ? '_' : c;
                           return "v" + name;
                         });

TEST(CodecEncode, MatchesKnownBytes) {
  EXPECT_EQ(encoded(Pingreq{}, ProtocolVersion::v3_1_1), std::string("\xC0\x00", 2));
  EXPECT_EQ(encoded(Disconnect{}, ProtocolVersion::v5), std::string("\xE0\x00", 2));
  EXPECT_EQ(encoded(Puback{0x1234, ReasonCode::success, {}}, ProtocolVersion::v5), std::string("\x40\x02\x12\x34"));
  EXPECT_EQ(encoded(Publish{"a/b", "hi", QoS::at_least_once, true, false, 1, {}}, ProtocolVersion::v3_1_1),
            std::string("\x33\x09\x00\x03" "a/b" "\x00\x01" "hi", 11));
  EXPECT_EQ(encoded(Subscribe{1, {{"a", {QoS::exactly_once, true, false, RetainHandling::do_not_send}}}, {}},
                    ProtocolVersion::v5),
            std::string("\x82\x07\x00\x01\x00\x00\x01" "a" "\x26", 9));
  EXPECT_EQ(encoded(Connack{true, ReasonCode::not_authorized, {}}, ProtocolVersion::v3_1_1),
            std::string("\x20\x02\x01\x05", 4));
  EXPECT_EQ(encoded(Suback{1, {ReasonCode::not_authorized}, {}}, ProtocolVersion::v3_1_1),
            std::string("\x90\x03\x00\x01\x80", 5));
}

TEST(CodecEncode, RefusesWhatTheWireCannotCarry) {
  std::string out = "keep";
  try {
    encode(Auth{}, ProtocolVersion::v3_1_1, out);
    FAIL() << "AUTH encoded for 3.1.1";
  } catch (const mqfleet::ProtocolError& e) {
    EXPECT_EQ(e.reason_code(), 0x82);
  }
  try {
    encode(Publish{std::string(70'000, 't'), "", QoS::at_most_once, false, false, 0, {}}, ProtocolVersion::v5, out);
    FAIL() << "oversized topic encoded";
  } catch (const mqfleet::ProtocolError& e) {
    EXPECT_EQ(e.reason_code(), 0x81);
  }
  EXPECT_EQ(out, "keep");
}

TEST(CodecEncode, SizesLargePayloadsWithFourByteRemainingLength) {
  const Publish big{"t", std::string(2'097'152, 'x'), QoS::at_most_once, false, false, 0, {}};
  const std::string bytes = encoded(big, ProtocolVersion::v3_1_1);
  EXPECT_EQ(bytes.size(), 1 + 4 + 3 + 2'097'152u);
  const auto frame = parse_frame(bytes, k_max_packet_size);
  ASSERT_TRUE(frame);
  EXPECT_EQ(decode_publish(*frame, ProtocolVersion::v3_1_1).payload.size(), 2'097'152u);
}
