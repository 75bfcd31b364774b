// The socket-free receiving half of the lean client: SUBSCRIBE / UNSUBSCRIBE and their
// acknowledgements, received PUBLISH turned into ReceivedMessage (v5 properties too), and
// the inbound QoS 1/2 handshakes. Bytes produced are checked by decoding them with
// lib/mqtt; frames "from the broker" are encoded with lib/mqtt.
#include "lean_receive.hpp"

#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/codec.hpp>
#include <mqfleet/mqtt/frame.hpp>

#include "lean_wire.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mqfleet::detail {
namespace {

using mqtt::ProtocolVersion;

// Every packet the state wrote so far, decoded; the buffer is emptied.
std::vector<mqtt::Packet> take_packets(OutBuffer& out, ProtocolVersion version) {
  auto packets = decode_all(std::string_view(out.pending_data(), out.pending()), version);
  out.consume(out.pending());
  return packets;
}

// Feeds one encoded packet to the state as if the broker had sent it.
template <typename P>
bool feed(ReceiveState& state, const P& packet, ProtocolVersion version, OutBuffer& out) {
  return feed_frame(state, packet, version, out);
}

mqtt::Publish publish(std::string topic, std::string payload, mqtt::QoS qos, std::uint16_t packet_id = 0) {
  mqtt::Publish p;
  p.topic = std::move(topic);
  p.payload = std::move(payload);
  p.qos = qos;
  p.packet_id = packet_id;
  return p;
}

template <typename Ack>
Ack ack(std::uint16_t packet_id) {
  Ack a;
  a.packet_id = packet_id;
  return a;
}

TEST(LeanReceive, SubscribeCarriesEveryFilterAndItsOptions) {
  ReceiveState state(ProtocolVersion::v5);
  state.start_receiving();
  OutBuffer out;
  state.subscribe(7, {"a/#", "b/+"}, SubscribeOptions{1, true, true, 2}, {}, out);
  const auto packets = take_packets(out, ProtocolVersion::v5);
  ASSERT_EQ(packets.size(), 1u);
  const auto& s = std::get<mqtt::Subscribe>(packets[0]);
  EXPECT_EQ(s.packet_id, 7);
  ASSERT_EQ(s.subscriptions.size(), 2u);
  EXPECT_EQ(s.subscriptions[1].filter, "b/+");
  EXPECT_EQ(s.subscriptions[1].options.max_qos, mqtt::QoS::at_least_once);
  EXPECT_TRUE(s.subscriptions[1].options.no_local);
  EXPECT_TRUE(s.subscriptions[1].options.retain_as_published);
  EXPECT_EQ(s.subscriptions[1].options.retain_handling, mqtt::RetainHandling::do_not_send);

  EXPECT_FALSE(state.take_suback(7));
  mqtt::Suback granted = ack<mqtt::Suback>(7);
  granted.reason_codes = {mqtt::ReasonCode::granted_qos_1, mqtt::ReasonCode::not_authorized};
  EXPECT_TRUE(feed(state, granted, ProtocolVersion::v5, out));
  EXPECT_EQ(state.take_suback(7), (std::vector<int>{1, 0x87}));
  EXPECT_FALSE(state.take_suback(7)) << "taken once";
}

TEST(LeanReceive, V311SubscribeHasOnlyQosAndRefusalsRead0x80) {
  ReceiveState state(ProtocolVersion::v3_1_1);
  OutBuffer out;
  state.subscribe(3, {"x", "y"}, SubscribeOptions{2, false, false, 0}, {}, out);
  const auto packets = take_packets(out, ProtocolVersion::v3_1_1);
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(std::get<mqtt::Subscribe>(packets[0]).subscriptions[0].options.max_qos, mqtt::QoS::exactly_once);

  mqtt::Suback answer = ack<mqtt::Suback>(3);
  answer.reason_codes = {mqtt::ReasonCode::granted_qos_2, mqtt::ReasonCode::unspecified_error};
  feed(state, answer, ProtocolVersion::v3_1_1, out);
  EXPECT_EQ(state.take_suback(3), (std::vector<int>{2, 0x80}));
}

TEST(LeanReceive, SubackWithTheWrongNumberOfCodesIsAProtocolError) {
  ReceiveState state(ProtocolVersion::v3_1_1);
  OutBuffer out;
  state.subscribe(1, {"x", "y"}, SubscribeOptions{}, {}, out);
  mqtt::Suback answer = ack<mqtt::Suback>(1);
  answer.reason_codes = {mqtt::ReasonCode::granted_qos_0};
  EXPECT_THROW(feed(state, answer, ProtocolVersion::v3_1_1, out), ProtocolError);
  answer.packet_id = 9; // not ours: ignored
  EXPECT_TRUE(feed(state, answer, ProtocolVersion::v3_1_1, out));
  EXPECT_THROW(state.subscribe(2, {}, SubscribeOptions{}, {}, out), ConfigError);
}

TEST(LeanReceive, UnsubscribeAndItsAcknowledgement) {
  ReceiveState state(ProtocolVersion::v5);
  OutBuffer out;
  state.unsubscribe(4, {"a/#"}, {}, out);
  const auto packets = take_packets(out, ProtocolVersion::v5);
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(std::get<mqtt::Unsubscribe>(packets[0]).filters, std::vector<std::string>{"a/#"});
  mqtt::Unsuback answer = ack<mqtt::Unsuback>(4);
  answer.reason_codes = {mqtt::ReasonCode::no_subscription_existed};
  feed(state, answer, ProtocolVersion::v5, out);
  EXPECT_EQ(state.take_unsuback(4), std::vector<int>{0x11});

  ReceiveState v311(ProtocolVersion::v3_1_1);
  v311.unsubscribe(5, {"b"}, {}, out);
  take_packets(out, ProtocolVersion::v3_1_1);
  feed(v311, ack<mqtt::Unsuback>(5), ProtocolVersion::v3_1_1, out);
  EXPECT_EQ(v311.take_unsuback(5), std::vector<int>{});
}

TEST(LeanReceive, MessagesAreQueuedInOrderWithTheirFlags) {
  ReceiveState state(ProtocolVersion::v3_1_1);
  state.start_receiving();
  OutBuffer out;
  mqtt::Publish retained = publish("t/1", "first", mqtt::QoS::at_most_once);
  retained.retain = true;
  feed(state, retained, ProtocolVersion::v3_1_1, out);
  feed(state, publish("t/2", std::string("\0bin", 4), mqtt::QoS::at_least_once, 12), ProtocolVersion::v3_1_1, out);
  ASSERT_EQ(state.queued(), 2u);
  const ReceivedMessage& a = state.inbox()[0];
  EXPECT_EQ(a.topic, "t/1");
  EXPECT_EQ(a.payload, "first");
  EXPECT_TRUE(a.retain);
  EXPECT_EQ(a.qos, 0);
  const ReceivedMessage& b = state.inbox()[1];
  EXPECT_EQ(b.payload, std::string("\0bin", 4));
  EXPECT_EQ(b.qos, 1);
  EXPECT_FALSE(b.retain);
  const auto answers = take_packets(out, ProtocolVersion::v3_1_1);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(std::get<mqtt::Puback>(answers[0]).packet_id, 12);
}

TEST(LeanReceive, Qos2IsDeliveredOnceEvenWhenResentBeforePubrel) {
  ReceiveState state(ProtocolVersion::v3_1_1);
  state.start_receiving();
  OutBuffer out;
  mqtt::Publish message = publish("q2", "once", mqtt::QoS::exactly_once, 40);
  feed(state, message, ProtocolVersion::v3_1_1, out);
  message.dup = true;
  feed(state, message, ProtocolVersion::v3_1_1, out);
  EXPECT_EQ(state.queued(), 1u) << "the re-sent copy is not delivered again";
  feed(state, ack<mqtt::Pubrel>(40), ProtocolVersion::v3_1_1, out);
  const auto answers = take_packets(out, ProtocolVersion::v3_1_1);
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(std::get<mqtt::Pubrec>(answers[0]).packet_id, 40);
  EXPECT_EQ(std::get<mqtt::Pubrec>(answers[1]).packet_id, 40);
  EXPECT_EQ(std::get<mqtt::Pubcomp>(answers[2]).packet_id, 40);

  // After PUBCOMP the identifier is free: a new message with it is a new delivery.
  message.dup = false;
  message.payload = "again";
  feed(state, message, ProtocolVersion::v3_1_1, out);
  ASSERT_EQ(state.queued(), 2u);
  EXPECT_EQ(state.inbox()[1].payload, "again");
  // A PUBREL for an identifier never seen still completes (the broker may have resent it).
  feed(state, ack<mqtt::Pubrel>(999), ProtocolVersion::v3_1_1, out);
  const auto more = take_packets(out, ProtocolVersion::v3_1_1);
  ASSERT_EQ(more.size(), 2u);
  EXPECT_EQ(std::get<mqtt::Pubcomp>(more[1]).packet_id, 999);
}

TEST(LeanReceive, ManualAcknowledgementWaitsForTheCaller) {
  ReceiveState state(ProtocolVersion::v3_1_1);
  state.start_receiving();
  state.set_manual_acknowledgement(true);
  OutBuffer out;
  feed(state, publish("m/1", "one", mqtt::QoS::at_least_once, 5), ProtocolVersion::v3_1_1, out);
  mqtt::Publish twice = publish("m/2", "two", mqtt::QoS::exactly_once, 6);
  feed(state, twice, ProtocolVersion::v3_1_1, out);
  twice.dup = true;
  feed(state, twice, ProtocolVersion::v3_1_1, out); // re-sent before we acknowledged: still silent
  ASSERT_EQ(state.queued(), 2u);
  EXPECT_EQ(state.inbox()[0].packet_id, 5);
  EXPECT_EQ(out.pending(), 0u) << "nothing is acknowledged before the caller says so";
  state.acknowledge(state.inbox()[0], out);
  state.acknowledge(state.inbox()[1], out);
  state.acknowledge(state.inbox()[1], out); // twice: one PUBREC
  const auto answers = take_packets(out, ProtocolVersion::v3_1_1);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(std::get<mqtt::Puback>(answers[0]).packet_id, 5);
  EXPECT_EQ(std::get<mqtt::Pubrec>(answers[1]).packet_id, 6);
}

TEST(LeanReceive, TopicAliasesUpToTheAnnouncedMaximum) {
  ReceiveState state(ProtocolVersion::v5);
  state.start_receiving();
  OutBuffer out;
  mqtt::Publish first = publish("alias/topic", "a", mqtt::QoS::at_most_once);
  first.properties.topic_alias = 3;
  EXPECT_THROW(feed(state, first, ProtocolVersion::v5, out), ProtocolError) << "none announced";
  state.set_topic_alias_maximum(3);
  feed(state, first, ProtocolVersion::v5, out);
  mqtt::Publish second = publish("", "b", mqtt::QoS::at_most_once);
  second.properties.topic_alias = 3;
  feed(state, second, ProtocolVersion::v5, out);
  ASSERT_EQ(state.queued(), 2u);
  EXPECT_EQ(state.inbox()[1].topic, "alias/topic");
  second.properties.topic_alias = 2;
  EXPECT_THROW(feed(state, second, ProtocolVersion::v5, out), ProtocolError) << "alias 2 never defined";
}

TEST(LeanReceive, V5PropertiesReachTheMessage) {
  ReceiveState state(ProtocolVersion::v5);
  state.start_receiving();
  OutBuffer out;
  mqtt::Publish message = publish("v5", "{}", mqtt::QoS::at_most_once);
  message.properties.payload_format_indicator = 1;
  message.properties.message_expiry_interval = 60;
  message.properties.content_type = "application/json";
  message.properties.response_topic = "reply/here";
  message.properties.correlation_data = std::string("\x01\x00\x02", 3);
  message.properties.user_properties = {{"k", "v"}, {"k", "w"}};
  message.properties.subscription_identifiers = {5, 9};
  feed(state, message, ProtocolVersion::v5, out);
  ASSERT_EQ(state.queued(), 1u);
  const PublishProperties& p = state.inbox().front().properties;
  EXPECT_EQ(p.payload_is_utf8, true);
  EXPECT_EQ(p.message_expiry_seconds, 60u);
  EXPECT_EQ(p.content_type, "application/json");
  EXPECT_EQ(p.response_topic, "reply/here");
  EXPECT_EQ(p.correlation_data, std::string("\x01\x00\x02", 3));
  EXPECT_EQ(p.user_properties, (std::vector<UserProperty>{{"k", "v"}, {"k", "w"}}));
  EXPECT_EQ(p.subscription_identifiers, (std::vector<std::uint32_t>{5, 9}));
}

TEST(LeanReceive, BeforeStartReceivingMessagesAreAcknowledgedAndDropped) {
  ReceiveState state(ProtocolVersion::v3_1_1);
  OutBuffer out;
  feed(state, publish("early", "x", mqtt::QoS::at_least_once, 2), ProtocolVersion::v3_1_1, out);
  EXPECT_EQ(state.queued(), 0u);
  EXPECT_EQ(take_packets(out, ProtocolVersion::v3_1_1).size(), 1u);
  state.start_receiving();
  feed(state, publish("late", "y", mqtt::QoS::at_most_once), ProtocolVersion::v3_1_1, out);
  EXPECT_EQ(state.queued(), 1u);
  state.stop_receiving();
  EXPECT_EQ(state.queued(), 0u);
}

TEST(LeanReceive, OtherFramesAreLeftToThePublishingState) {
  ReceiveState state(ProtocolVersion::v3_1_1);
  OutBuffer out;
  EXPECT_FALSE(feed(state, ack<mqtt::Puback>(1), ProtocolVersion::v3_1_1, out));
  EXPECT_FALSE(feed(state, mqtt::Pingresp{}, ProtocolVersion::v3_1_1, out));
}

TEST(LeanReceive, RequestIdentifiersDoNotCollideWithPublishes) {
  PublishState publishing(ProtocolVersion::v3_1_1);
  OutBuffer out;
  OutgoingMessage m;
  m.topic = "t";
  m.qos = 1;
  publishing.publish(m, out); // takes identifier 1
  const std::uint16_t request = publishing.reserve_packet_id();
  EXPECT_EQ(request, 2);
  publishing.publish(m, out);
  take_packets(out, ProtocolVersion::v3_1_1);
  EXPECT_EQ(publishing.awaiting(), 2u) << "a reserved identifier is not an in-flight message";
  publishing.release_packet_id(request);
  EXPECT_EQ(publishing.reserve_packet_id(), 4) << "identifiers keep moving forward";
}

} // namespace
} // namespace mqfleet::detail
