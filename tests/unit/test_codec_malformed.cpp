// A table of malformed or forbidden inputs, each with the v5 reason code it must yield.
#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/codec.hpp>
#include <mqfleet/mqtt/publish_view.hpp>
#include <mqfleet/mqtt/topic.hpp>

#include <gtest/gtest.h>

#include <string>
#include <utility>

using namespace mqfleet::mqtt;
using namespace std::string_literals;

namespace {

constexpr auto v31 = ProtocolVersion::v3_1;
constexpr auto v311 = ProtocolVersion::v3_1_1;
constexpr auto v5 = ProtocolVersion::v5;

struct BadInput {
  const char* name;
  ProtocolVersion version;
  std::string bytes;
  int reason_code;
};

/// Wraps a body in a fixed header with a one-byte remaining length.
std::string packet(std::uint8_t first, const std::string& body) {
  return std::string(1, static_cast<char>(first)) + static_cast<char>(body.size()) + body;
}

std::string str(const std::string& s) {
  return std::string{static_cast<char>(s.size() >> 8), static_cast<char>(s.size() & 0xFF)} + s;
}

const std::string k_connect311_head = str("MQTT") + "\x04"s;
const std::string k_connect5_head = str("MQTT") + "\x05"s;

/// Runs the frame parser and the decoder; returns the reason code thrown, or -1.
int reason_of(const std::string& bytes, ProtocolVersion v, std::size_t max = k_max_packet_size) {
  try {
    const auto frame = parse_frame(bytes, max);
    if (!frame) return -2; // incomplete
    if (frame->size != bytes.size()) return -3;
    decode(*frame, v);
    if (frame->type() == PacketType::publish) decode_publish_view(*frame, v);
    return -1;
  } catch (const mqfleet::ProtocolError& e) {
    return e.reason_code();
  }
}

} // namespace

TEST(CodecMalformed, EachInputYieldsItsReasonCode) {
  const std::string pub_props_dup = "\x04\x23\x00\x01\x23\x00\x02"s; // topic alias twice
  const BadInput cases[] = {
      // Fixed header and remaining length.
      {"packet type 0", v311, "\x00\x00"s, 0x81},
      {"remaining length of 5 bytes", v311, "\x30\xFF\xFF\xFF\xFF\x01"s, 0x81},
      {"remaining length not minimal", v311, "\xC0\x80\x00"s, 0x81},
      {"AUTH before 5.0", v311, "\xF0\x00"s, 0x81},
      {"PINGREQ with flags", v311, "\xC1\x00"s, 0x81},
      {"PINGREQ with a body", v311, "\xC0\x01\x00"s, 0x81},
      {"PUBREL with flags 0", v311, packet(0x60, "\x00\x01"s), 0x81},
      {"SUBSCRIBE with flags 0", v311, packet(0x80, "\x00\x01"s + str("a") + "\x00"s), 0x81},
      {"UNSUBSCRIBE with flags 0", v5, packet(0xA0, "\x00\x01\x00"s + str("a")), 0x81},
      {"DISCONNECT with flags", v5, "\xE2\x00"s, 0x81},
      // CONNECT.
      {"CONNECT reserved flag", v311, packet(0x10, k_connect311_head + "\x03\x00\x3C"s + str("c")), 0x81},
      {"CONNECT will QoS 3", v311, packet(0x10, k_connect311_head + "\x1E\x00\x3C"s + str("c") + str("t") + str("p")), 0x81},
      {"CONNECT will QoS without will", v311, packet(0x10, k_connect311_head + "\x0A\x00\x3C"s + str("c")), 0x81},
      {"CONNECT will retain without will", v311, packet(0x10, k_connect311_head + "\x22\x00\x3C"s + str("c")), 0x81},
      {"CONNECT password without user", v311, packet(0x10, k_connect311_head + "\x42\x00\x3C"s + str("c") + str("p")), 0x81},
      {"CONNECT truncated client id", v311, packet(0x10, k_connect311_head + "\x02\x00\x3C\x00\x05" "ab"s), 0x81},
      {"CONNECT missing user name", v311, packet(0x10, k_connect311_head + "\x82\x00\x3C"s + str("c")), 0x81},
      {"CONNECT trailing bytes", v311, packet(0x10, k_connect311_head + "\x02\x00\x3C"s + str("c") + "x"), 0x81},
      {"CONNECT client id with U+0000", v311, packet(0x10, k_connect311_head + "\x02\x00\x3C"s + str("a\0b"s)), 0x81},
      {"CONNECT client id with surrogate", v5, packet(0x10, k_connect5_head + "\x02\x00\x3C\x00"s + str("\xED\xA0\x80"s)), 0x81},
      {"CONNECT will topic with wildcard", v311, packet(0x10, k_connect311_head + "\x06\x00\x3C"s + str("c") + str("a/#") + str("p")), 0x90},
      {"CONNECT level 6", v311, packet(0x10, str("MQTT") + "\x06\x02\x00\x3C"s + str("c")), 0x84},
      {"CONNECT level 3 with MQTT", v311, packet(0x10, str("MQTT") + "\x03\x02\x00\x3C"s + str("c")), 0x84},
      {"CONNECT MQIsdp level 4", v31, packet(0x10, str("MQIsdp") + "\x04\x02\x00\x3C"s + str("c")), 0x84},
      {"CONNECT unknown protocol name", v311, packet(0x10, str("HTTP") + "\x04\x02\x00\x3C"s + str("c")), 0x84},
      {"CONNECT v5 property not allowed", v5, packet(0x10, k_connect5_head + "\x02\x00\x3C\x03\x23\x00\x01"s + str("c")), 0x81},
      {"CONNECT v5 unknown property", v5, packet(0x10, k_connect5_head + "\x02\x00\x3C\x02\x7F\x00"s + str("c")), 0x81},
      {"CONNECT v5 receive maximum 0", v5, packet(0x10, k_connect5_head + "\x02\x00\x3C\x03\x21\x00\x00"s + str("c")), 0x82},
      {"CONNECT v5 duplicated property", v5, packet(0x10, k_connect5_head + "\x02\x00\x3C\x0A\x11\x00\x00\x00\x01\x11\x00\x00\x00\x02"s + str("c")), 0x82},
      {"CONNECT v5 property length beyond packet", v5, packet(0x10, k_connect5_head + "\x02\x00\x3C\x09\x11\x00"s), 0x81},
      {"CONNECT v5 request problem info 2", v5, packet(0x10, k_connect5_head + "\x02\x00\x3C\x02\x17\x02"s + str("c")), 0x82},
      {"CONNECT v5 will delay in CONNECT properties", v5, packet(0x10, k_connect5_head + "\x02\x00\x3C\x05\x18\x00\x00\x00\x01"s + str("c")), 0x81},
      {"CONNECT v5 topic alias in will properties", v5, packet(0x10, k_connect5_head + "\x06\x00\x3C\x00"s + str("c") + "\x03\x23\x00\x01"s + str("t") + str("p")), 0x81},
      // CONNACK.
      {"CONNACK reserved flags", v311, "\x20\x02\x02\x00"s, 0x81},
      {"CONNACK return code 6", v311, "\x20\x02\x00\x06"s, 0x81},
      {"CONNACK session present on refusal", v311, "\x20\x02\x01\x05"s, 0x82},
      {"CONNACK v5 reason not allowed", v5, "\x20\x03\x00\x04\x00"s, 0x82},
      {"CONNACK v5 missing properties", v5, "\x20\x02\x00\x00"s, 0x81},
      {"CONNACK v5 maximum QoS 2", v5, "\x20\x05\x00\x00\x02\x24\x02"s, 0x82},
      {"CONNACK truncated", v311, "\x20\x01\x00"s, 0x81},
      // PUBLISH.
      {"PUBLISH QoS 3", v311, packet(0x36, str("t") + "\x00\x01"s), 0x81},
      {"PUBLISH DUP on QoS 0", v311, packet(0x38, str("t")), 0x81},
      {"PUBLISH packet id 0", v311, packet(0x32, str("t") + "\x00\x00"s), 0x82},
      {"PUBLISH topic with +", v311, packet(0x30, str("a/+")), 0x90},
      {"PUBLISH topic with #", v5, packet(0x30, str("#") + "\x00"s), 0x90},
      {"PUBLISH empty topic", v311, packet(0x30, str("")), 0x82},
      {"PUBLISH empty topic without alias", v5, packet(0x30, str("") + "\x00"s), 0x82},
      {"PUBLISH topic invalid UTF-8", v311, packet(0x30, str("\xC3\x28"s)), 0x81},
      {"PUBLISH topic with U+0000", v311, packet(0x30, str("a\0"s)), 0x81},
      {"PUBLISH truncated topic", v311, packet(0x30, "\x00\x09" "abc"s), 0x81},
      {"PUBLISH missing packet id", v311, packet(0x32, str("t") + "\x01"s), 0x81},
      {"PUBLISH topic alias 0", v5, packet(0x30, str("t") + "\x03\x23\x00\x00"s), 0x82},
      {"PUBLISH duplicated topic alias", v5, packet(0x30, str("t") + pub_props_dup), 0x82},
      {"PUBLISH session expiry not allowed", v5, packet(0x30, str("t") + "\x05\x11\x00\x00\x00\x01"s), 0x81},
      {"PUBLISH subscription id 0", v5, packet(0x30, str("t") + "\x02\x0B\x00"s), 0x82},
      {"PUBLISH payload format 2", v5, packet(0x30, str("t") + "\x02\x01\x02"s), 0x82},
      {"PUBLISH response topic with wildcard", v5, packet(0x30, str("t") + "\x06\x08"s + str("r/#")), 0x82},
      {"PUBLISH user property truncated", v5, packet(0x30, str("t") + "\x04\x26\x00\x01" "k"s), 0x81},
      {"PUBLISH property id as multi-byte", v5, packet(0x30, str("t") + "\x02\x80\x01"s), 0x81},
      {"PUBLISH property length 5 bytes", v5, packet(0x30, str("t") + "\x80\x80\x80\x80\x01"s), 0x81},
      // Acknowledgements.
      {"PUBACK packet id 0", v311, "\x40\x02\x00\x00"s, 0x82},
      {"PUBACK truncated", v311, "\x40\x01\x00"s, 0x81},
      {"PUBACK 3.1.1 with reason code", v311, "\x40\x03\x00\x01\x00"s, 0x81},
      {"PUBACK v5 reason not allowed", v5, "\x40\x03\x00\x01\x92"s, 0x82},
      {"PUBREL v5 reason not allowed", v5, "\x62\x03\x00\x01\x10"s, 0x82},
      {"PUBCOMP v5 property not allowed", v5, "\x70\x06\x00\x01\x00\x02\x01\x01"s, 0x81},
      {"PUBREC v5 property length past end", v5, "\x50\x04\x00\x01\x00\x05"s, 0x81},
      // SUBSCRIBE / SUBACK.
      {"SUBSCRIBE without filters", v311, packet(0x82, "\x00\x01"s), 0x82},
      {"SUBSCRIBE v5 without filters", v5, packet(0x82, "\x00\x01\x00"s), 0x82},
      {"SUBSCRIBE packet id 0", v311, packet(0x82, "\x00\x00"s + str("a") + "\x00"s), 0x82},
      {"SUBSCRIBE QoS 3", v311, packet(0x82, "\x00\x01"s + str("a") + "\x03"s), 0x81},
      {"SUBSCRIBE 3.1.1 reserved option bits", v311, packet(0x82, "\x00\x01"s + str("a") + "\x04"s), 0x81},
      {"SUBSCRIBE v5 reserved option bits", v5, packet(0x82, "\x00\x01\x00"s + str("a") + "\x40"s), 0x81},
      {"SUBSCRIBE v5 retain handling 3", v5, packet(0x82, "\x00\x01\x00"s + str("a") + "\x30"s), 0x82},
      {"SUBSCRIBE v5 no local on shared", v5, packet(0x82, "\x00\x01\x00"s + str("$share/g/a") + "\x04"s), 0x82},
      {"SUBSCRIBE missing options byte", v311, packet(0x82, "\x00\x01"s + str("a")), 0x81},
      {"SUBSCRIBE filter invalid UTF-8", v311, packet(0x82, "\x00\x01"s + str("\xFF"s) + "\x00"s), 0x81},
      {"SUBSCRIBE two subscription ids", v5, packet(0x82, "\x00\x01\x04\x0B\x01\x0B\x02"s + str("a") + "\x00"s), 0x82},
      {"SUBACK reserved return code", v311, "\x90\x03\x00\x01\x03"s, 0x81},
      {"SUBACK without return codes", v311, "\x90\x02\x00\x01"s, 0x82},
      {"SUBACK v5 reason not allowed", v5, "\x90\x04\x00\x01\x00\x92"s, 0x82},
      // UNSUBSCRIBE / UNSUBACK.
      {"UNSUBSCRIBE without filters", v311, packet(0xA2, "\x00\x01"s), 0x82},
      {"UNSUBSCRIBE bad filter", v311, packet(0xA2, "\x00\x01"s + str("+a")), 0x8F},
      {"UNSUBSCRIBE truncated filter", v5, packet(0xA2, "\x00\x01\x00\x00\x04" "ab"s), 0x81},
      {"UNSUBACK 3.1.1 with payload", v311, "\xB0\x03\x00\x01\x00"s, 0x81},
      {"UNSUBACK v5 without reason codes", v5, "\xB0\x03\x00\x01\x00"s, 0x82},
      // DISCONNECT / AUTH.
      {"DISCONNECT 3.1.1 with body", v311, "\xE0\x01\x00"s, 0x81},
      {"DISCONNECT v5 reason not allowed", v5, "\xE0\x01\x01"s, 0x82},
      {"DISCONNECT v5 topic alias property", v5, "\xE0\x05\x00\x03\x23\x00\x01"s, 0x81},
      {"AUTH v5 reason not allowed", v5, "\xF0\x01\x80"s, 0x82},
      {"AUTH v5 without method", v5, "\xF0\x02\x18\x00"s, 0x82},
  };
  for (const BadInput& c : cases) {
    EXPECT_EQ(reason_of(c.bytes, c.version), c.reason_code)
        << c.name << ": " << testing::PrintToString(c.bytes);
  }
}

TEST(CodecMalformed, InvalidSubscribeFiltersAreTheReceiversPerEntryDecision) {
  // An invalid filter fails one entry (SUBACK 0x8F / 0x80), not the packet: the decoder
  // keeps every entry and check_topic_filter() flags the bad ones.
  for (const auto& [v, head] : {std::pair{v311, "\x00\x01"s}, std::pair{v5, "\x00\x01\x00"s}}) {
    const std::string bytes = packet(0x82, head + str("a#") + "\x00"s + str("$share/g") + "\x00"s + str("") +
                                               "\x00"s + str("ok/+") + "\x01"s);
    const auto frame = parse_frame(bytes, k_max_packet_size);
    ASSERT_TRUE(frame);
    const Subscribe s = decode_subscribe(*frame, v);
    ASSERT_EQ(s.subscriptions.size(), 4u);
    EXPECT_NE(check_topic_filter(s.subscriptions[0].filter), TopicStatus::ok);
    EXPECT_FALSE(parse_shared_subscription(s.subscriptions[1].filter));
    EXPECT_NE(check_topic_filter(s.subscriptions[2].filter), TopicStatus::ok);
    EXPECT_EQ(check_topic_filter(s.subscriptions[3].filter), TopicStatus::ok);
  }
}

TEST(CodecMalformed, Mqtt31IgnoresUnusedHeaderFlags) {
  // 3.1 resends PUBREL, SUBSCRIBE and UNSUBSCRIBE with DUP=1 and leaves the CONNECT flags
  // unused; 3.1.1 requires the fixed values (MQTT-2.2.2-2).
  const std::string pubrel_dup = "\x6A\x02\x00\x07"s;
  EXPECT_EQ(reason_of(pubrel_dup, v31), -1);
  EXPECT_EQ(reason_of(pubrel_dup, v311), 0x81);
  const std::string subscribe_dup = packet(0x8A, "\x00\x01"s + str("a") + "\x00"s);
  EXPECT_EQ(reason_of(subscribe_dup, v31), -1);
  EXPECT_EQ(reason_of(subscribe_dup, v311), 0x81);
  const std::string connect31 = packet(0x18, str("MQIsdp") + "\x03\x03\x00\x3C"s + str("c"));
  EXPECT_EQ(reason_of(connect31, v31), -1); // header flags 8, reserved connect flag 1
  const std::string connect311 = packet(0x18, str("MQTT") + "\x04\x02\x00\x3C"s + str("c"));
  EXPECT_EQ(reason_of(connect311, v311), 0x81);
  const std::string connect311_reserved = packet(0x10, str("MQTT") + "\x04\x03\x00\x3C"s + str("c"));
  EXPECT_EQ(reason_of(connect311_reserved, v311), 0x81);
}

TEST(CodecMalformed, FramesOverTheLimitAreRefusedFromTheHeaderAlone) {
  // Only the fixed header has arrived, announcing a 2 MiB body: refused before buffering.
  const std::string header = "\x30\x80\x80\x80\x01"s;
  EXPECT_EQ(reason_of(header, v311, 1024 * 1024), 0x95);
  FrameReader reader(1000);
  reader.feed("\x30\xE6\x07"s); // 998 bytes of body + 3 header bytes = 1001
  try {
    reader.next();
    FAIL() << "oversized frame accepted";
  } catch (const mqfleet::ProtocolError& e) {
    EXPECT_EQ(e.reason_code(), 0x95);
  }
  FrameReader fits(1001);
  fits.feed("\x30\xE6\x07"s);
  EXPECT_FALSE(fits.next().has_value());
}

TEST(CodecMalformed, ErrorsNameThePacketAndField) {
  try {
    const std::string bytes = packet(0x32, str("t") + "\x00\x00"s);
    const auto frame = parse_frame(bytes, k_max_packet_size);
    decode(*frame, v311);
    FAIL();
  } catch (const mqfleet::ProtocolError& e) {
    EXPECT_EQ(e.where(), "PUBLISH packet identifier");
    EXPECT_NE(std::string(e.what()).find("must not be 0"), std::string::npos);
  }
}

TEST(CodecMalformed, DecodersRefuseTheWrongPacketType) {
  const std::string bytes = "\xC0\x00"s;
  const auto frame = parse_frame(bytes, k_max_packet_size);
  ASSERT_TRUE(frame);
  EXPECT_THROW(decode_publish(*frame, v5), mqfleet::ProtocolError);
  EXPECT_THROW(decode_suback(*frame, v5), mqfleet::ProtocolError);
  EXPECT_THROW(decode_connect(*frame), mqfleet::ProtocolError);
}

TEST(CodecMalformed, EveryTruncationOfValidPacketsThrowsOrIsIncomplete) {
  std::string bytes;
  Connect c;
  c.version = v5;
  c.client_id = "c";
  c.username = "u";
  c.password = "p";
  c.will = Will{"w", "x", QoS::at_least_once, false, {}};
  c.will->properties.will_delay_interval = 5;
  c.properties.user_properties = {{"a", "b"}};
  encode(c, v5, bytes);
  for (std::size_t cut = 2; cut < bytes.size(); ++cut) {
    std::string body = bytes.substr(2, cut - 2);
    const std::string truncated = packet(0x10, body);
    EXPECT_EQ(reason_of(truncated, v5), 0x81) << cut;
  }
}
