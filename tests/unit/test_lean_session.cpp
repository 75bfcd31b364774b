// The socket-free half of the lean client: CONNECT contents, CONNACK refusals, and the
// publishing state (packet identifiers, window, QoS 1/2 handshakes, QoS 0 counted when
// written, batching). Bytes produced are checked by decoding them with lib/mqtt.
#include "lean_session.hpp"

#include <mqfleet/mqtt/codec.hpp>
#include <mqfleet/mqtt/frame.hpp>

#include "lean_wire.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mqfleet::detail {
namespace {

using mqtt::ProtocolVersion;

// Feeds one encoded packet to the state as if the broker had sent it.
template <typename P>
InboundEvent receive(PublishState& state, const P& packet, ProtocolVersion version, OutBuffer& out) {
  return feed_frame(state, packet, version, out);
}

// Takes everything appended so far (as if it had all been written).
std::string take(OutBuffer& out, PublishState& state) {
  std::string bytes(out.pending_data(), out.pending());
  out.consume(out.pending());
  state.on_written(out.written());
  return bytes;
}

template <typename Ack>
Ack ack(std::uint16_t packet_id, mqtt::ReasonCode reason = mqtt::ReasonCode::success) {
  Ack a;
  a.packet_id = packet_id;
  a.reason_code = reason;
  return a;
}

OutgoingMessage message(std::string topic, std::string payload, int qos) {
  OutgoingMessage m;
  m.topic = std::move(topic);
  m.payload = std::move(payload);
  m.qos = qos;
  return m;
}

TEST(LeanSession, ConnectCarriesTheProfile) {
  ConnectionProfile p;
  p.client_id = "dev-1";
  p.username = "alice";
  p.keepalive_seconds = 30;
  p.clean_session = false;
  p.version = MqttVersion::v5;
  p.session_expiry_seconds = 3600;
  p.will = Will{"will/dev-1", "gone", 1, true};
  const mqtt::Connect c = make_connect(p, "secret");
  EXPECT_EQ(c.version, ProtocolVersion::v5);
  EXPECT_EQ(c.client_id, "dev-1");
  EXPECT_EQ(c.username, "alice");
  EXPECT_EQ(c.password, "secret");
  EXPECT_EQ(c.keep_alive, 30);
  EXPECT_FALSE(c.clean_start);
  EXPECT_EQ(c.properties.session_expiry_interval, 3600u);
  ASSERT_TRUE(c.will);
  EXPECT_EQ(c.will->topic, "will/dev-1");
  EXPECT_EQ(c.will->payload, "gone");
  EXPECT_EQ(c.will->qos, mqtt::QoS::at_least_once);
  EXPECT_TRUE(c.will->retain);

  // Encodes and decodes back to the same packet.
  std::string bytes;
  mqtt::encode(c, ProtocolVersion::v5, bytes);
  EXPECT_EQ(mqtt::decode_connect(*mqtt::parse_frame(bytes, mqtt::k_max_packet_size)), c);
}

TEST(LeanSession, ConnectWithoutUserNameDropsThePasswordBefore5) {
  ConnectionProfile p;
  p.client_id = "x";
  p.version = MqttVersion::v311;
  EXPECT_FALSE(make_connect(p, "pw").password);
  p.version = MqttVersion::v31;
  EXPECT_EQ(make_connect(p, "pw").version, ProtocolVersion::v3_1);
  EXPECT_FALSE(make_connect(p, "").password);
  p.version = MqttVersion::v5;
  EXPECT_EQ(make_connect(p, "pw").password, "pw");
  EXPECT_FALSE(make_connect(p, "pw").properties.session_expiry_interval);
}

TEST(LeanSession, ConnackRefusalsMapToTypedErrors) {
  const ConnectError v3_auth = connack_refusal(5, false, "h:1883");
  EXPECT_TRUE(v3_auth.is_authentication_failure());
  EXPECT_EQ(v3_auth.reason_code(), 5);
  EXPECT_NE(std::string(v3_auth.what()).find("not authorized (CONNACK 5)"), std::string::npos) << v3_auth.what();
  EXPECT_EQ(v3_auth.where(), "h:1883");
  EXPECT_TRUE(connack_refusal(4, false, "").is_authentication_failure());
  EXPECT_TRUE(connack_refusal(0x86, true, "").is_authentication_failure());
  EXPECT_TRUE(connack_refusal(0x87, true, "").is_authentication_failure());
  const ConnectError version = connack_refusal(0x84, true, "");
  EXPECT_FALSE(version.is_authentication_failure());
  EXPECT_NE(std::string(version.what()).find("unsupported protocol version"), std::string::npos) << version.what();
  EXPECT_NE(version.hint().find("-V"), std::string::npos);
  EXPECT_EQ(describe_connack_code(1, false), "unacceptable protocol version");
  EXPECT_EQ(describe_connack_code(0xEE, true), "reason code 0xEE");
}

TEST(LeanSession, ManyPublishesBatchIntoOneBuffer) {
  PublishState state(ProtocolVersion::v3_1_1);
  OutBuffer out;
  for (int i = 0; i < 100; ++i) state.publish(message("t/a", "line-" + std::to_string(i), 0), out);
  EXPECT_EQ(state.report().published, 100u);
  EXPECT_EQ(state.report().acknowledged, 0u); // nothing written yet
  const auto packets = decode_all(take(out, state), ProtocolVersion::v3_1_1);
  ASSERT_EQ(packets.size(), 100u);
  EXPECT_EQ(std::get<mqtt::Publish>(packets[7]).payload, "line-7");
  EXPECT_EQ(std::get<mqtt::Publish>(packets[7]).topic, "t/a");
  EXPECT_EQ(state.report().acknowledged, 100u); // QoS 0: delivered once written
}

TEST(LeanSession, Qos0CountsOnlyWhatWasWritten) {
  PublishState state(ProtocolVersion::v3_1_1);
  OutBuffer out;
  state.publish(message("a", "1", 0), out);
  const std::size_t first = out.pending();
  state.on_written(out.written()); // a write attempt that moved nothing
  state.publish(message("a", "2", 0), out);
  out.consume(first); // only the first packet reached the socket
  state.on_written(out.written());
  EXPECT_EQ(state.report().acknowledged, 1u);
  EXPECT_EQ(state.report().in_flight(), 1u);
  out.consume(out.pending());
  state.on_written(out.written());
  EXPECT_EQ(state.report().in_flight(), 0u);
}

TEST(LeanSession, Qos1WindowAndAcknowledgements) {
  PublishState state(ProtocolVersion::v3_1_1, 3);
  OutBuffer out;
  for (int i = 0; i < 3; ++i) state.publish(message("q1", std::to_string(i), 1), out);
  EXPECT_TRUE(state.window_full());
  EXPECT_EQ(state.awaiting(), 3u);
  const auto packets = decode_all(take(out, state), ProtocolVersion::v3_1_1);
  ASSERT_EQ(packets.size(), 3u);
  std::vector<std::uint16_t> ids;
  for (const auto& p : packets) ids.push_back(std::get<mqtt::Publish>(p).packet_id);
  EXPECT_EQ(ids, (std::vector<std::uint16_t>{1, 2, 3}));
  EXPECT_EQ(state.report().acknowledged, 0u); // QoS 1 waits for PUBACK, not for the write

  receive(state, ack<mqtt::Puback>(2), ProtocolVersion::v3_1_1, out);
  receive(state, ack<mqtt::Puback>(2), ProtocolVersion::v3_1_1, out); // a duplicate changes nothing
  receive(state, ack<mqtt::Puback>(999), ProtocolVersion::v3_1_1, out); // nor does an unknown id
  EXPECT_FALSE(state.window_full());
  EXPECT_EQ(state.report().acknowledged, 1u);
  EXPECT_EQ(state.report().in_flight(), 2u);

  state.publish(message("q1", "next", 1), out); // takes a free id, not 2 while 1 and 3 are busy
  const auto next = decode_all(take(out, state), ProtocolVersion::v3_1_1);
  EXPECT_EQ(std::get<mqtt::Publish>(next.at(0)).packet_id, 4);
  EXPECT_EQ(out.pending(), 0u); // PUBACK needs no answer
}

TEST(LeanSession, Qos2HandshakeAndRefusals) {
  PublishState state(ProtocolVersion::v5);
  OutBuffer out;
  state.publish(message("q2", "a", 2), out);
  state.publish(message("q2", "b", 2), out);
  take(out, state);
  receive(state, ack<mqtt::Pubrec>(1), ProtocolVersion::v5, out);
  const auto pubrel = decode_all(take(out, state), ProtocolVersion::v5);
  ASSERT_EQ(pubrel.size(), 1u);
  EXPECT_EQ(std::get<mqtt::Pubrel>(pubrel[0]).packet_id, 1);
  EXPECT_EQ(state.report().acknowledged, 0u); // complete only with PUBCOMP
  receive(state, ack<mqtt::Pubcomp>(1), ProtocolVersion::v5, out);
  EXPECT_EQ(state.report().acknowledged, 1u);

  const auto refused = ack<mqtt::Pubrec>(2, mqtt::ReasonCode::not_authorized);
  receive(state, refused, ProtocolVersion::v5, out);
  EXPECT_EQ(out.pending(), 0u); // no PUBREL for a refused message
  EXPECT_EQ(state.report().failed, 1u);
  EXPECT_EQ(state.report().first_failure_reason, 0x87);
  EXPECT_EQ(state.report().in_flight(), 0u);
}

// After a reconnect every unacknowledged message goes out again, oldest first, with DUP
// and its original identifier; a PUBREC'd QoS 2 message gets its PUBREL again; QoS 0
// messages never written are failures; the acknowledgements then complete them.
TEST(LeanSession, ResumeResendsUnacknowledgedWithDup) {
  const auto v = ProtocolVersion::v3_1_1;
  PublishState state(v);
  OutBuffer out;
  state.publish(message("r", "one", 1), out);
  state.publish(message("r", "two", 2), out);
  state.publish(message("r", "three", 1), out);
  take(out, state);
  receive(state, ack<mqtt::Puback>(1), v, out);  // "one" is done
  receive(state, ack<mqtt::Pubrec>(2), v, out);  // "two" reached the broker: PUBREL queued
  state.publish(message("r", "zero", 0), out);   // never written: lost with the connection
  EXPECT_EQ(state.report().acknowledged, 1u);

  OutBuffer fresh; // the reconnected stream
  EXPECT_EQ(state.resume(fresh, true), 1u);
  const auto resent = decode_all(take(fresh, state), v);
  ASSERT_EQ(resent.size(), 2u);
  EXPECT_EQ(std::get<mqtt::Pubrel>(resent[0]).packet_id, 2);
  const auto& again = std::get<mqtt::Publish>(resent[1]);
  EXPECT_EQ(again.packet_id, 3);
  EXPECT_EQ(again.payload, "three");
  EXPECT_TRUE(again.dup);
  EXPECT_EQ(state.report().failed, 1u); // the QoS 0 message
  receive(state, ack<mqtt::Pubcomp>(2), v, fresh);
  receive(state, ack<mqtt::Puback>(3), v, fresh);
  EXPECT_EQ(state.report().acknowledged, 3u);
  EXPECT_EQ(state.report().in_flight(), 0u);

  // Without a present session a PUBREC'd message counts as delivered (no PUBREL).
  state.publish(message("r", "four", 2), fresh);
  take(fresh, state);
  receive(state, ack<mqtt::Pubrec>(4), v, fresh);
  take(fresh, state);
  OutBuffer clean;
  EXPECT_EQ(state.resume(clean, false), 0u);
  EXPECT_EQ(clean.pending(), 0u);
  EXPECT_EQ(state.report().acknowledged, 4u);
  EXPECT_EQ(state.report().in_flight(), 0u);
}

TEST(LeanSession, Qos2WindowBefore5IsMosquittosDefault) {
  PublishState v311(ProtocolVersion::v3_1_1, 1000);
  PublishState v5(ProtocolVersion::v5, 1000);
  OutBuffer out;
  for (std::size_t i = 0; i < PublishState::k_v3_qos2_window; ++i) {
    v311.publish(message("q2", "x", 2), out);
    v5.publish(message("q2", "x", 2), out);
  }
  EXPECT_TRUE(v311.window_full(2));
  EXPECT_FALSE(v311.window_full(1)); // QoS 1 is not limited by it
  EXPECT_FALSE(v5.window_full(2));   // a v5 broker announces Receive Maximum instead
  take(out, v311);
  receive(v311, ack<mqtt::Pubrec>(1), ProtocolVersion::v3_1_1, out);
  EXPECT_TRUE(v311.window_full(2)); // still in flight until PUBCOMP
  receive(v311, ack<mqtt::Pubcomp>(1), ProtocolVersion::v3_1_1, out);
  EXPECT_FALSE(v311.window_full(2));
}

TEST(LeanSession, NegativePubackIsAFailure) {
  PublishState state(ProtocolVersion::v5);
  OutBuffer out;
  state.publish(message("denied/x", "x", 1), out);
  const auto nack = ack<mqtt::Puback>(1, mqtt::ReasonCode::not_authorized);
  receive(state, nack, ProtocolVersion::v5, out);
  EXPECT_EQ(state.report().failed, 1u);
  EXPECT_EQ(state.report().acknowledged, 0u);
  EXPECT_EQ(state.report().first_failure_reason, 0x87);
  // "No matching subscribers" (0x10) is a success.
  state.publish(message("nobody", "x", 1), out);
  const auto nobody = ack<mqtt::Puback>(2, mqtt::ReasonCode::no_matching_subscribers);
  receive(state, nobody, ProtocolVersion::v5, out);
  EXPECT_EQ(state.report().acknowledged, 1u);
}

TEST(LeanSession, V5PropertiesAreEncoded) {
  PublishState state(ProtocolVersion::v5);
  OutBuffer out;
  OutgoingMessage m = message("v5/x", "{}", 1);
  m.retain = true;
  m.properties.content_type = "application/json";
  m.properties.user_properties = {{"site", "lab"}};
  m.properties.message_expiry_seconds = 60;
  state.publish(m, out);
  state.publish(m, out); // the second one reuses the encoded properties
  const auto packets = decode_all(take(out, state), ProtocolVersion::v5);
  ASSERT_EQ(packets.size(), 2u);
  for (const auto& packet : packets) {
    const auto& p = std::get<mqtt::Publish>(packet);
    EXPECT_TRUE(p.retain);
    EXPECT_EQ(p.properties.content_type, "application/json");
    EXPECT_EQ(p.properties.message_expiry_interval, 60u);
    EXPECT_EQ(p.properties.user_properties, (std::vector<mqtt::UserProperty>{{"site", "lab"}}));
  }
}

TEST(LeanSession, ConnackLimitsApply) {
  PublishState state(ProtocolVersion::v5, 1000);
  mqtt::Connack ack;
  ack.properties.receive_maximum = 2;
  ack.properties.maximum_qos = 1;
  ack.properties.maximum_packet_size = 64;
  state.apply_connack(ack);
  EXPECT_EQ(state.window(), 2u);
  OutBuffer out;
  EXPECT_THROW(state.publish(message("q", "x", 2), out), DeliveryError);
  try {
    state.publish(message("q", std::string(100, 'x'), 1), out);
    ADD_FAILURE() << "an oversized message was accepted";
  } catch (const DeliveryError& e) {
    EXPECT_EQ(e.reason_code(), 0x95);
  }
  EXPECT_EQ(out.pending(), 0u);
  EXPECT_EQ(state.report().published, 0u);
}

// -D publish topic-alias: the topic travels with the alias once per connection and topic,
// then only the alias; a new topic on the same alias maps it anew (MQTT 5.0 3.3.2.3.4).
TEST(LeanSession, TopicAliasLeavesOutARepeatedTopic) {
  PublishState state(ProtocolVersion::v5);
  mqtt::Connack ack;
  ack.properties.topic_alias_maximum = 2;
  state.apply_connack(ack);
  OutBuffer out;
  const auto aliased = [](const std::string& topic, std::uint16_t alias, int qos) {
    OutgoingMessage m = message(topic, "p", qos);
    m.properties.topic_alias = alias;
    return m;
  };
  for (const auto& m : {aliased("a/x", 1, 0), aliased("a/x", 1, 1), aliased("a/y", 1, 0), aliased("a/y", 1, 2),
                        aliased("b", 2, 0), aliased("a/y", 1, 0)})
    state.publish(m, out);
  const auto packets = decode_all(take(out, state), ProtocolVersion::v5);
  const std::vector<std::string> want_topics{"a/x", "", "a/y", "", "b", ""};
  const std::vector<std::uint16_t> want_aliases{1, 1, 1, 1, 2, 1};
  ASSERT_EQ(packets.size(), want_topics.size());
  for (std::size_t i = 0; i < packets.size(); ++i) {
    const auto& p = std::get<mqtt::Publish>(packets[i]);
    EXPECT_EQ(p.topic, want_topics[i]) << i;
    EXPECT_EQ(p.properties.topic_alias, want_aliases[i]) << i;
  }

  // The next connection knows no aliases: the topic travels again.
  PublishState next(ProtocolVersion::v5);
  next.apply_connack(ack);
  next.publish(aliased("a/y", 1, 0), out);
  const auto again = decode_all(take(out, next), ProtocolVersion::v5);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(std::get<mqtt::Publish>(again[0]).topic, "a/y");
}

// After a reconnect no topic alias is known: a resent message whose topic was left out
// carries its topic again, and so does the next message with that alias.
TEST(LeanSession, TopicAliasesStartOverAfterAReconnect) {
  PublishState state(ProtocolVersion::v5);
  mqtt::Connack ack;
  ack.properties.topic_alias_maximum = 2;
  state.apply_connack(ack);
  OutBuffer out;
  OutgoingMessage m = message("a/x", "p", 1);
  m.properties.topic_alias = 1;
  state.publish(m, out);
  state.publish(m, out);
  const auto first = decode_all(take(out, state), ProtocolVersion::v5);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(std::get<mqtt::Publish>(first[1]).topic, ""); // left out on the first connection

  OutBuffer fresh; // the reconnected stream; neither message was acknowledged
  state.apply_connack(ack);
  EXPECT_EQ(state.resume(fresh, true), 2u);
  state.publish(m, fresh);
  const auto resent = decode_all(take(fresh, state), ProtocolVersion::v5);
  ASSERT_EQ(resent.size(), 3u);
  for (std::size_t i = 0; i < resent.size(); ++i) {
    const auto& p = std::get<mqtt::Publish>(resent[i]);
    EXPECT_EQ(p.topic, "a/x") << i;
    EXPECT_EQ(p.properties.topic_alias, 1) << i;
  }
  EXPECT_TRUE(std::get<mqtt::Publish>(resent[1]).dup);
}

TEST(LeanSession, TopicAliasBeyondTheBrokersMaximumIsAConfigError) {
  OutBuffer out;
  const auto with_alias = [](std::uint16_t alias) {
    OutgoingMessage m = message("t", "p", 1);
    m.properties.topic_alias = alias;
    return m;
  };
  PublishState none(ProtocolVersion::v5);
  none.apply_connack(mqtt::Connack{}); // no Topic Alias Maximum: the broker takes none
  EXPECT_THROW(none.publish(with_alias(1), out), ConfigError);
  PublishState two(ProtocolVersion::v5);
  mqtt::Connack ack;
  ack.properties.topic_alias_maximum = 2;
  two.apply_connack(ack);
  EXPECT_THROW(two.publish(with_alias(3), out), ConfigError);
  EXPECT_THROW(two.publish(with_alias(0), out), ConfigError);
  PublishState v3(ProtocolVersion::v3_1_1);
  EXPECT_THROW(v3.publish(with_alias(1), out), ConfigError);
  EXPECT_EQ(out.pending(), 0u);
  EXPECT_EQ(two.report().published + two.awaiting(), 0u);
  EXPECT_NO_THROW(two.publish(with_alias(2), out));
}

TEST(LeanSession, InvalidTopicsAreConfigErrors) {
  PublishState state(ProtocolVersion::v3_1_1);
  OutBuffer out;
  EXPECT_THROW(state.publish(message("a/+", "x", 0), out), ConfigError);
  EXPECT_THROW(state.publish(message("", "x", 0), out), ConfigError);
  EXPECT_THROW(state.publish(message(std::string(70000, 't'), "x", 0), out), DeliveryError);
  EXPECT_EQ(state.report().published, 0u);
}

TEST(LeanSession, ResumedSessionDeliveriesAreAcknowledged) {
  PublishState state(ProtocolVersion::v3_1_1);
  OutBuffer out;
  mqtt::Publish incoming;
  incoming.topic = "old/sub";
  incoming.payload = "queued";
  incoming.qos = mqtt::QoS::at_least_once;
  incoming.packet_id = 77;
  receive(state, incoming, ProtocolVersion::v3_1_1, out);
  incoming.qos = mqtt::QoS::exactly_once;
  incoming.packet_id = 78;
  receive(state, incoming, ProtocolVersion::v3_1_1, out);
  receive(state, ack<mqtt::Pubrel>(78), ProtocolVersion::v3_1_1, out);
  const auto answers = decode_all(take(out, state), ProtocolVersion::v3_1_1);
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(std::get<mqtt::Puback>(answers[0]).packet_id, 77);
  EXPECT_EQ(std::get<mqtt::Pubrec>(answers[1]).packet_id, 78);
  EXPECT_EQ(std::get<mqtt::Pubcomp>(answers[2]).packet_id, 78);
}

mqtt::Suback suback() {
  mqtt::Suback s;
  s.packet_id = 1;
  s.reason_codes = {mqtt::ReasonCode::granted_qos_0};
  return s;
}

TEST(LeanSession, PingrespDisconnectAndUnexpectedPackets) {
  PublishState state(ProtocolVersion::v5);
  OutBuffer out;
  EXPECT_TRUE(receive(state, mqtt::Pingresp{}, ProtocolVersion::v5, out).pingresp);
  mqtt::Disconnect bye;
  bye.reason_code = mqtt::ReasonCode::server_shutting_down;
  EXPECT_EQ(receive(state, bye, ProtocolVersion::v5, out).disconnect_reason, 0x8B);
  EXPECT_THROW(receive(state, suback(), ProtocolVersion::v5, out),
               ProtocolError);
}

TEST(LeanSession, OutBufferKeepsOffsetsAcrossCompaction) {
  OutBuffer out;
  out.data().assign(100'000, 'a');
  out.consume(70'000); // compacts: the written bytes are the bulk
  EXPECT_EQ(out.written(), 70'000u);
  EXPECT_EQ(out.pending(), 30'000u);
  out.data().append(10, 'b');
  EXPECT_EQ(out.appended(), 100'010u);
  EXPECT_EQ(std::string(out.pending_data() + out.pending() - 10, 10), std::string(10, 'b'));
  out.consume(out.pending());
  EXPECT_EQ(out.pending(), 0u);
  EXPECT_EQ(out.written(), 100'010u);
}

} // namespace
} // namespace mqfleet::detail
