// The zero-copy PUBLISH path: views into the frame, allocation-free encoders.
#include "codec_samples.hpp"

#include <mqfleet/mqtt/codec.hpp>
#include <mqfleet/mqtt/publish_view.hpp>

#include <gtest/gtest.h>

#include <array>
#include <string>

using namespace mqfleet::mqtt;

TEST(CodecPublishView, DecodesViewsIntoTheFrame) {
  Publish p{"sensors/1/temp", "22.5", QoS::exactly_once, true, true, 42, {}};
  p.properties.topic_alias = 7;
  p.properties.message_expiry_interval = 60;
  std::string bytes;
  encode(p, ProtocolVersion::v5, bytes);
  const auto frame = parse_frame(bytes, k_max_packet_size);
  ASSERT_TRUE(frame);
  const PublishView view = decode_publish_view(*frame, ProtocolVersion::v5);
  EXPECT_EQ(view.topic, "sensors/1/temp");
  EXPECT_EQ(view.payload, "22.5");
  EXPECT_EQ(view.qos, QoS::exactly_once);
  EXPECT_TRUE(view.retain);
  EXPECT_TRUE(view.dup);
  EXPECT_EQ(view.packet_id, 42);
  EXPECT_EQ(view.topic_alias, 7);
  EXPECT_GE(view.topic.data(), bytes.data());
  EXPECT_LT(view.payload.data(), bytes.data() + bytes.size());
  EXPECT_EQ(decode_properties(view.properties, scope_of(PacketType::publish)), p.properties);
}

TEST(CodecPublishView, EncodesIntoCallerMemoryLikeTheOwningEncoder) {
  for (const ProtocolVersion v : {ProtocolVersion::v3_1, ProtocolVersion::v3_1_1, ProtocolVersion::v5}) {
    for (const Packet& packet : mqfleet::test::sample_packets(v)) {
      const auto* p = std::get_if<Publish>(&packet);
      if (p == nullptr) continue;
      std::string expected;
      encode(*p, v, expected);
      std::string props;
      if (v == ProtocolVersion::v5 && !p->properties.empty()) {
        encode_properties(p->properties, props);
        props.erase(0, variable_byte_integer_size(static_cast<std::uint32_t>(properties_size(p->properties))));
      }
      const PublishView view{p->topic, p->payload, props, p->qos, p->retain, p->dup, p->packet_id, 0};
      EXPECT_EQ(encoded_publish_size(view, v), expected.size());
      std::array<char, 4096> buf{};
      const std::size_t n = encode_publish_into(view, v, buf);
      ASSERT_EQ(n, expected.size());
      EXPECT_EQ(std::string(buf.data(), n), expected);
      const std::size_t header = encode_publish_header_into(view, v, buf);
      EXPECT_EQ(header, encoded_publish_header_size(view, v));
      EXPECT_EQ(std::string(buf.data(), header) + std::string(p->payload), expected);
      std::string appended = "x";
      encode_publish(view, v, appended);
      EXPECT_EQ(appended, "x" + expected);
    }
  }
}

TEST(CodecPublishView, ReportsTooSmallBuffersWithoutWriting) {
  const PublishView view{"t", "payload", {}, QoS::at_most_once, false, false, 0, 0};
  std::array<char, 8> small{};
  small.fill('z');
  EXPECT_EQ(encode_publish_into(view, ProtocolVersion::v3_1_1, small), 0u);
  EXPECT_EQ(small[0], 'z');
  EXPECT_EQ(encode_publish_header_into(view, ProtocolVersion::v3_1_1, std::span<char>(small.data(), 4)), 0u);
  EXPECT_EQ(encode_publish_header_into(view, ProtocolVersion::v3_1_1, small), 5u);
}
