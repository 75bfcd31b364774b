#include <mqfleet/broker/session.hpp>

#include <mqfleet/error.hpp>

#include <gtest/gtest.h>

using namespace mqfleet::broker;

namespace {

Delivery delivery(std::uint8_t qos, std::string payload = "p") {
  auto m = std::make_shared<Message>();
  m->topic = "t";
  m->payload = std::move(payload);
  m->qos = qos;
  return Delivery{m, qos, false, {}};
}

} // namespace

TEST(Session, QoS0GoesOutAtOnceWithoutPacketId) {
  Session s("c");
  s.attach();
  EXPECT_EQ(s.push(delivery(0)), PushResult::accepted);
  auto out = s.next();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->packet_id, 0);
  EXPECT_EQ(s.inflight_count(), 0u);
  EXPECT_FALSE(s.next());
}

TEST(Session, WindowLimitsInflightAndAcksOpenIt) {
  SessionLimits limits;
  limits.max_inflight = 2;
  Session s("c", limits);
  s.attach(65535);
  EXPECT_EQ(s.window(), 2);
  for (int i = 0; i < 4; ++i) s.push(delivery(1, std::to_string(i)));
  auto a = s.next();
  auto b = s.next();
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(s.next());
  EXPECT_EQ(s.queued_count(), 2u);
  EXPECT_NE(a->packet_id, b->packet_id);
  EXPECT_TRUE(s.on_puback(a->packet_id));
  EXPECT_FALSE(s.on_puback(a->packet_id));
  auto c = s.next();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->delivery.message->payload, "2");
}

TEST(Session, ClientReceiveMaximumNarrowsWindow) {
  Session s("c");
  s.attach(1);
  EXPECT_EQ(s.window(), 1);
  s.push(delivery(2));
  s.push(delivery(2));
  ASSERT_TRUE(s.next());
  EXPECT_FALSE(s.next());
}

TEST(Session, QoS2OutgoingFlowAndRedeliveryOnReconnect) {
  Session s("c");
  s.attach();
  s.push(delivery(2, "first"));
  s.push(delivery(1, "second"));
  s.push(delivery(2, "third"));
  auto first = s.next();
  auto second = s.next();
  auto third = s.next();
  ASSERT_TRUE(first && second && third);
  EXPECT_FALSE(s.on_puback(first->packet_id)) << "QoS 2 is not acknowledged by PUBACK";
  EXPECT_TRUE(s.on_pubrec(first->packet_id));
  EXPECT_FALSE(s.on_pubrec(first->packet_id));
  s.detach(Clock::now());
  EXPECT_FALSE(s.next());
  const auto resend = s.attach();
  ASSERT_EQ(resend.size(), 3u);
  EXPECT_EQ(resend[0].kind, Outgoing::Kind::pubrel);
  EXPECT_EQ(resend[0].packet_id, first->packet_id);
  EXPECT_EQ(resend[1].kind, Outgoing::Kind::publish);
  EXPECT_TRUE(resend[1].dup);
  EXPECT_EQ(resend[1].delivery.message->payload, "second");
  EXPECT_TRUE(resend[2].dup);
  EXPECT_EQ(resend[2].packet_id, third->packet_id);
  EXPECT_TRUE(s.on_pubcomp(first->packet_id));
  EXPECT_TRUE(s.on_puback(second->packet_id));
  EXPECT_TRUE(s.on_pubrec(third->packet_id, false)); // v5 refusal releases it
  EXPECT_EQ(s.inflight_count(), 0u);
}

TEST(Session, OfflineQueueIsBoundedAndDropsNewest) {
  SessionLimits limits;
  limits.max_queued_messages = 3;
  Session s("c", limits);
  s.attach();
  s.detach(Clock::now());
  EXPECT_EQ(s.push(delivery(0)), PushResult::dropped_qos0_offline);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(s.push(delivery(1, std::to_string(i))), PushResult::accepted);
  EXPECT_EQ(s.push(delivery(1, "3")), PushResult::dropped_queue_full);
  EXPECT_EQ(s.push(delivery(2, "4")), PushResult::dropped_queue_full);
  EXPECT_EQ(s.queued_count(), 3u);
  EXPECT_EQ(s.dropped_queue_full(), 2u);
  EXPECT_EQ(s.dropped_qos0_offline(), 1u);
  s.attach();
  for (const char* expected : {"0", "1", "2"}) {
    auto out = s.next();
    ASSERT_TRUE(out);
    EXPECT_EQ(out->delivery.message->payload, expected);
  }
}

TEST(Session, QueueBoundInBytes) {
  SessionLimits limits;
  limits.max_queued_messages = 0;
  limits.max_queued_bytes = 10; // topic "t" + payload
  Session s("c", limits);
  EXPECT_EQ(s.push(delivery(1, "12345678")), PushResult::accepted); // 9 bytes
  EXPECT_EQ(s.push(delivery(1, "1")), PushResult::dropped_queue_full);
  EXPECT_EQ(s.queued_bytes(), 9u);
}

TEST(Session, QueuesQoS0OfflineWhenConfigured) {
  SessionLimits limits;
  limits.queue_qos0_offline = true;
  Session s("c", limits);
  EXPECT_EQ(s.push(delivery(0)), PushResult::accepted);
}

TEST(Session, ExpiredQueuedMessagesAreDropped) {
  Session s("c");
  auto m = std::make_shared<Message>();
  m->topic = "t";
  m->payload = "x";
  const auto now = Clock::now();
  m->expires_at = now + std::chrono::seconds(5);
  s.push(Delivery{m, 1, false, {}});
  s.push(delivery(1, "fresh"));
  s.attach();
  auto out = s.next(now + std::chrono::seconds(6));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->delivery.message->payload, "fresh");
  EXPECT_EQ(s.dropped_expired(), 1u);
}

TEST(Session, PacketIdsWrapAndSkipIdsInUse) {
  SessionLimits limits;
  limits.max_inflight = 2;
  Session s("c", limits);
  s.attach();
  s.push(delivery(1));
  const auto held = s.next()->packet_id; // stays in flight throughout
  EXPECT_EQ(held, 1);
  std::set<std::uint16_t> seen;
  for (int i = 0; i < 70000; ++i) {
    s.push(delivery(1));
    auto out = s.next();
    ASSERT_TRUE(out);
    ASSERT_NE(out->packet_id, 0);
    ASSERT_NE(out->packet_id, held);
    seen.insert(out->packet_id);
    ASSERT_TRUE(s.on_puback(out->packet_id));
  }
  EXPECT_EQ(seen.size(), 65534u); // every id but 0 and the held one
}

TEST(Session, IncomingQoS2Deduplicates) {
  Session s("c");
  EXPECT_TRUE(s.incoming_qos2_begin(7));
  EXPECT_FALSE(s.incoming_qos2_begin(7));
  EXPECT_EQ(s.incoming_qos2_count(), 1u);
  EXPECT_TRUE(s.incoming_qos2_release(7));
  EXPECT_FALSE(s.incoming_qos2_release(7));
  EXPECT_TRUE(s.incoming_qos2_begin(7));
}

TEST(Session, ExpiryBookkeeping) {
  Session s("c");
  s.set_expiry_interval(60);
  s.attach();
  EXPECT_FALSE(s.expires_at());
  const auto t0 = Clock::now();
  s.detach(t0);
  ASSERT_TRUE(s.expires_at());
  EXPECT_FALSE(s.expired(t0 + std::chrono::seconds(59)));
  EXPECT_TRUE(s.expired(t0 + std::chrono::seconds(60)));
  s.attach();
  EXPECT_FALSE(s.expires_at());
  s.set_expiry_interval(0xFFFFFFFFu);
  s.detach(t0);
  EXPECT_FALSE(s.expires_at());
}

TEST(Session, WillDelayIsCappedBySessionExpiryAndCancelledByReconnect) {
  auto will_message = std::make_shared<Message>();
  will_message->topic = "will";
  Session s("c");
  s.set_expiry_interval(30);
  s.attach();
  s.set_will(Will{will_message, 100, std::nullopt});
  const auto t0 = Clock::now();
  s.detach(t0);
  ASSERT_TRUE(s.will_due_at());
  EXPECT_EQ(*s.will_due_at(), t0 + std::chrono::seconds(30));
  EXPECT_FALSE(s.take_due_will(t0 + std::chrono::seconds(29)));
  auto will = s.take_due_will(t0 + std::chrono::seconds(30));
  ASSERT_TRUE(will);
  EXPECT_EQ(will->message->topic, "will");
  EXPECT_FALSE(s.has_will());

  s.attach();
  s.set_will(Will{will_message, 10, std::nullopt});
  s.detach(t0);
  s.attach(); // reconnected in time: the will is not published
  EXPECT_FALSE(s.will_due_at());
  EXPECT_FALSE(s.take_due_will(t0 + std::chrono::hours(1)));
}

TEST(Session, WillWithoutDelayIsDueAtDetach) {
  Session s("c");
  s.attach();
  s.set_will(Will{std::make_shared<Message>(), 0, std::nullopt});
  const auto t0 = Clock::now();
  s.detach(t0);
  EXPECT_TRUE(s.take_due_will(t0));
}

TEST(Session, WillMessageExpiryStartsWhenTheWillIsPublished) {
  auto will_message = std::make_shared<Message>();
  will_message->topic = "will";
  const Will with_expiry{will_message, 0, 5};
  const auto published = Clock::now() + std::chrono::hours(1);
  const MessagePtr routed = with_expiry.message_at(published);
  ASSERT_TRUE(routed->expires_at);
  EXPECT_EQ(*routed->expires_at, published + std::chrono::seconds(5));
  EXPECT_EQ(routed->remaining_expiry(published), 5u);
  EXPECT_FALSE(will_message->expires_at) << "the stored will is not changed";

  const Will without_expiry{will_message, 0, std::nullopt};
  EXPECT_EQ(without_expiry.message_at(published), will_message);
}

TEST(Session, AcknowledgementsBeforeAnyMessageAreUnknown) {
  Session s("c");
  s.attach();
  EXPECT_FALSE(s.on_puback(1));
  EXPECT_FALSE(s.on_pubrec(1));
  EXPECT_FALSE(s.on_pubcomp(1));
  EXPECT_FALSE(s.incoming_qos2_release(1));
  EXPECT_FALSE(s.next());
  EXPECT_EQ(s.queued_count(), 0u);
  EXPECT_EQ(s.inflight_count(), 0u);
  EXPECT_TRUE(s.subscriptions().empty());
  EXPECT_FALSE(s.remove_subscription("a"));
}

TEST(Session, SubscriptionRecord) {
  Session s("c");
  s.set_subscription("a/#", SubscriptionOptions{1});
  s.set_subscription("a/#", SubscriptionOptions{2});
  EXPECT_EQ(s.subscriptions().size(), 1u);
  EXPECT_EQ(s.subscriptions().at("a/#").qos, 2);
  EXPECT_TRUE(s.remove_subscription("a/#"));
  EXPECT_FALSE(s.remove_subscription("a/#"));
}

TEST(TopicAliasMap, BindsResolvesAndRejects) {
  TopicAliasMap aliases(2);
  EXPECT_EQ(aliases.resolve(1, "sensors/t"), "sensors/t");
  EXPECT_EQ(aliases.resolve(1, ""), "sensors/t");
  EXPECT_EQ(aliases.resolve(1, "other"), "other");
  EXPECT_EQ(aliases.resolve(1, ""), "other");
  try {
    aliases.resolve(3, "x");
    FAIL();
  } catch (const mqfleet::ProtocolError& e) {
    EXPECT_EQ(e.reason_code(), 0x94);
  }
  EXPECT_THROW(aliases.resolve(0, "x"), mqfleet::ProtocolError);
  try {
    aliases.resolve(2, "");
    FAIL();
  } catch (const mqfleet::ProtocolError& e) {
    EXPECT_EQ(e.reason_code(), 0x82);
  }
  aliases.reset(2);
  EXPECT_THROW(aliases.resolve(1, ""), mqfleet::ProtocolError);
}

TEST(OutgoingTopicAliases, FirstTopicsGetAliasesWithinTheClientsMaximum) {
  OutgoingTopicAliases aliases(2);
  // A new topic: alias 1 offered, but only reserved once sent (bind).
  auto choice = aliases.choose("a");
  EXPECT_EQ(choice.alias, 1u);
  EXPECT_TRUE(choice.send_topic);
  EXPECT_EQ(aliases.choose("b").alias, 1u); // nothing bound yet
  aliases.bind("a", 1);
  choice = aliases.choose("a");
  EXPECT_EQ(choice.alias, 1u);
  EXPECT_FALSE(choice.send_topic); // bound: empty topic + alias
  choice = aliases.choose("b");
  EXPECT_EQ(choice.alias, 2u);
  EXPECT_TRUE(choice.send_topic);
  aliases.bind("b", 2);
  // Full: a third topic goes without an alias; the bound ones keep theirs.
  choice = aliases.choose("c");
  EXPECT_EQ(choice.alias, 0u);
  EXPECT_TRUE(choice.send_topic);
  EXPECT_EQ(aliases.choose("b").alias, 2u);
  EXPECT_EQ(aliases.size(), 2u);
}

TEST(OutgoingTopicAliases, NoneWithoutAMaximumAndCappedForMemory) {
  OutgoingTopicAliases none(0);
  EXPECT_EQ(none.choose("a").alias, 0u);
  OutgoingTopicAliases many(65535);
  for (int i = 0; i < 1000; ++i) {
    const std::string topic = "t/" + std::to_string(i);
    const auto choice = many.choose(topic);
    many.bind(topic, choice.alias);
  }
  EXPECT_EQ(many.size(), OutgoingTopicAliases::k_max_aliases);
  EXPECT_EQ(many.choose("t/999").alias, 0u);
}
