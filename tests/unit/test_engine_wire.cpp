// The socket-free pieces of the fast engine: frame cutting with a kept partial tail, the
// outgoing QoS 1/2 window, incoming QoS 2 duplicate detection, ack encoding.
#include <mqfleet/engine/wire.hpp>
#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/codec.hpp>
#include <mqfleet/mqtt/publish_view.hpp>

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

using namespace mqfleet;
using namespace mqfleet::engine;

namespace {

std::string publish_bytes(const std::string& topic, const std::string& payload) {
  std::string out;
  mqtt::encode_publish(mqtt::PublishView{topic, payload, {}, mqtt::QoS::at_most_once}, mqtt::ProtocolVersion::v3_1_1, out);
  return out;
}

std::vector<std::string> cut(std::string& partial, std::string_view data) {
  std::vector<std::string> payloads;
  for_each_frame(partial, data, 1024 * 1024, [&](const mqtt::Frame& frame) {
    payloads.emplace_back(mqtt::decode_publish_view(frame, mqtt::ProtocolVersion::v3_1_1).payload);
    return true;
  });
  return payloads;
}

} // namespace

TEST(EngineFrames, WholeFramesLeaveNoPartial) {
  const std::string stream = publish_bytes("a", "one") + publish_bytes("b", "two");
  std::string partial;
  EXPECT_EQ(cut(partial, stream), (std::vector<std::string>{"one", "two"}));
  EXPECT_TRUE(partial.empty());
}

TEST(EngineFrames, EverySplitPointGivesTheSameFrames) {
  const std::string stream = publish_bytes("a/b", "first") + publish_bytes("c", std::string(300, 'x')) +
                             publish_bytes("d", "last");
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    std::string partial;
    auto got = cut(partial, std::string_view(stream).substr(0, split));
    const auto rest = cut(partial, std::string_view(stream).substr(split));
    got.insert(got.end(), rest.begin(), rest.end());
    ASSERT_EQ(got.size(), 3u) << "split at " << split;
    EXPECT_EQ(got[0], "first");
    EXPECT_EQ(got[1], std::string(300, 'x'));
    EXPECT_EQ(got[2], "last");
    EXPECT_TRUE(partial.empty());
  }
}

TEST(EngineFrames, ByteByByte) {
  const std::string stream = publish_bytes("t", "abc") + publish_bytes("t", "def");
  std::string partial;
  std::vector<std::string> got;
  for (char c : stream) {
    const auto some = cut(partial, std::string_view(&c, 1));
    got.insert(got.end(), some.begin(), some.end());
  }
  EXPECT_EQ(got, (std::vector<std::string>{"abc", "def"}));
}

TEST(EngineFrames, StopsWhenTheCallbackSaysSo) {
  const std::string stream = publish_bytes("a", "1") + publish_bytes("a", "2");
  std::string partial;
  int calls = 0;
  EXPECT_FALSE(for_each_frame(partial, stream, 1024, [&](const mqtt::Frame&) { return ++calls < 1; }));
  EXPECT_EQ(calls, 1);
}

TEST(EngineFrames, OversizedFrameThrows) {
  const std::string stream = publish_bytes("a", std::string(2000, 'x'));
  std::string partial;
  EXPECT_THROW(for_each_frame(partial, std::string_view(stream).substr(0, 5), 1000,
                              [](const mqtt::Frame&) { return true; }),
               ProtocolError);
}

TEST(EngineInflight, HandsOutDistinctIdsUpToTheCapacity) {
  InflightWindow window;
  window.reset(5);
  std::set<std::uint16_t> ids;
  for (int i = 0; i < 5; ++i) {
    const auto id = window.acquire(mqtt::QoS::at_least_once);
    ASSERT_TRUE(id);
    EXPECT_GE(*id, 1);
    EXPECT_LE(*id, 5);
    ids.insert(*id);
  }
  EXPECT_EQ(ids.size(), 5u);
  EXPECT_FALSE(window.acquire(mqtt::QoS::at_least_once));
  EXPECT_EQ(window.in_use(), 5u);
  window.set_state(3, InflightState::free);
  EXPECT_EQ(window.in_use(), 4u);
  EXPECT_EQ(window.acquire(mqtt::QoS::exactly_once), std::optional<std::uint16_t>(3));
  EXPECT_EQ(window.state(3), InflightState::awaiting_pubrec);
}

TEST(EngineInflight, QoS2StatesAndUnknownIds) {
  InflightWindow window;
  window.reset(2);
  const auto id = *window.acquire(mqtt::QoS::exactly_once);
  window.set_state(id, InflightState::awaiting_pubcomp);
  EXPECT_EQ(window.state(id), InflightState::awaiting_pubcomp);
  window.set_state(999, InflightState::free); // outside the window: ignored
  window.set_state(2, InflightState::free);   // not in use: ignored
  EXPECT_EQ(window.in_use(), 1u);
  EXPECT_EQ(window.clear(), 1u);
  EXPECT_EQ(window.in_use(), 0u);
  EXPECT_EQ(window.state(id), InflightState::free);
  EXPECT_TRUE(window.acquire(mqtt::QoS::at_least_once)); // usable again after clear()
}

TEST(EngineIncomingQos2, DuplicateUntilReleased) {
  IncomingQos2 ids;
  EXPECT_TRUE(ids.begin(7));
  EXPECT_FALSE(ids.begin(7));
  EXPECT_TRUE(ids.begin(65535));
  ids.release(7);
  EXPECT_TRUE(ids.begin(7));
}

TEST(EngineAcks, EncodeAsTheCodecDoes) {
  for (auto version : {mqtt::ProtocolVersion::v3_1_1, mqtt::ProtocolVersion::v5}) {
    char ack[4];
    std::string expected;
    encode_ack(mqtt::PacketType::puback, 0x1234, ack);
    mqtt::encode(mqtt::Puback{0x1234, mqtt::ReasonCode::success, {}}, version, expected);
    EXPECT_EQ(std::string(ack, 4), expected);
    expected.clear();
    encode_ack(mqtt::PacketType::pubrel, 0x00FF, ack);
    mqtt::encode(mqtt::Pubrel{0x00FF, mqtt::ReasonCode::success, {}}, version, expected);
    EXPECT_EQ(std::string(ack, 4), expected);
  }
}
