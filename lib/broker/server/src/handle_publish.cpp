// PUBLISH from a client: topic alias, topic checks, access rules, QoS 2 duplicate
// detection, routing, then PUBACK / PUBREC.

#include "broker_state.hpp"
#include "connection.hpp"
#include "handlers.hpp"
#include "persistence.hpp"
#include "server.hpp"

#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/topic.hpp>

namespace mqfleet::broker {
namespace {

template <class Ack> void acknowledge(Connection& connection, std::uint16_t packet_id, mqtt::ReasonCode code,
                                      const std::string& reason = {}) {
  Ack ack;
  ack.packet_id = packet_id;
  if (connection.client().v5()) {
    ack.reason_code = code;
    // Request Problem Information 0: no reason string on acknowledgements (MQTT-3.1.2-29).
    if (connection.client().may_send_problem_information()) ack.properties = reason_properties(reason);
  }
  connection.send(ack);
}

void acknowledge(Connection& connection, const mqtt::Publish& packet, mqtt::ReasonCode code,
                 const std::string& reason = {}) {
  if (packet.qos == mqtt::QoS::at_least_once) acknowledge<mqtt::Puback>(connection, packet.packet_id, code, reason);
  if (packet.qos == mqtt::QoS::exactly_once) acknowledge<mqtt::Pubrec>(connection, packet.packet_id, code, reason);
}

/// --durable-ack: the PUBACK / PUBREC goes out once everything this PUBLISH changed is
/// committed. Callbacks run in commit order, so acknowledgements keep the PUBLISH order.
void acknowledge_when_durable(Connection& connection, Persistence& persistence, mqtt::QoS qos,
                              std::uint16_t packet_id, mqtt::ReasonCode accepted) {
  persistence.after_durable([self = connection.ref(), qos, packet_id, accepted](bool durable) {
    asio::post(self->executor(), [self, qos, packet_id, durable, accepted] {
      if (!durable && !self->client().v5()) {
        // 3.x has no negative acknowledgement: without one the client sends it again.
        self->close_now();
        return;
      }
      const auto code = durable ? accepted : mqtt::ReasonCode::unspecified_error;
      const std::string reason = durable ? std::string() : "not stored";
      if (qos == mqtt::QoS::at_least_once) acknowledge<mqtt::Puback>(*self, packet_id, code, reason);
      else acknowledge<mqtt::Pubrec>(*self, packet_id, code, reason);
    });
  });
}

MessagePtr make_message(const ClientState& client, mqtt::Publish& packet, std::string_view topic) {
  auto message = std::make_shared<Message>();
  message->topic = client.mount.mount_topic(topic);
  message->payload = std::move(packet.payload);
  message->qos = static_cast<std::uint8_t>(packet.qos);
  message->retain = packet.retain;
  mqtt::Properties& p = packet.properties;
  message->properties.payload_format_indicator = p.payload_format_indicator;
  message->properties.content_type = std::move(p.content_type);
  message->properties.response_topic = std::move(p.response_topic);
  message->properties.correlation_data = std::move(p.correlation_data);
  message->properties.user_properties = std::move(p.user_properties);
  if (p.message_expiry_interval) message->expires_at = Clock::now() + std::chrono::seconds(*p.message_expiry_interval);
  return message;
}

} // namespace

void handle_publish(Connection& connection, mqtt::Publish& packet) {
  ClientState& client = connection.client();
  BrokerState& state = connection.server().state();
  state.stats().messages_received.fetch_add(1, std::memory_order_relaxed);

  // 0. Subscription Identifiers are the server's to send (MQTT-3.3.4-6).
  if (!packet.properties.subscription_identifiers.empty())
    throw ProtocolError(0x82, "PUBLISH from a client carries a Subscription Identifier");

  // 1. Topic alias (v5): bind or resolve; errors close the connection (0x94 / 0x82).
  std::string_view topic = packet.topic;
  if (packet.properties.topic_alias) {
    auto lock = state.lock();
    topic = client.session->session.topic_aliases().resolve(*packet.properties.topic_alias, packet.topic);
    packet.topic = std::string(topic);
    topic = packet.topic;
  }
  if (mqtt::check_topic_name(topic) != mqtt::TopicStatus::ok)
    throw ProtocolError(0x90, "invalid topic name in PUBLISH");

  // 2. Receive maximum: QoS 2 messages awaiting PUBREL count against our window.
  if (packet.qos == mqtt::QoS::exactly_once && client.v5()) {
    auto lock = state.lock();
    if (client.session->session.incoming_qos2_count() >= state.config().limits.max_inflight)
      throw ProtocolError(0x93, "receive maximum exceeded");
  }

  // 3. Access: $SYS is read-only, then the access rules. Refused: dropped, v5 0x87.
  if (!client.mount.may_publish(topic) || !client.rules().check_publish(topic).allowed) {
    state.stats().messages_dropped.fetch_add(1, std::memory_order_relaxed);
    if (packet.qos == mqtt::QoS::exactly_once && !client.v5()) {
      // 3.x has no negative PUBREC: finish the flow normally so the client can go on.
      auto lock = state.lock();
      client.session->session.incoming_qos2_begin(packet.packet_id);
    }
    acknowledge(connection, packet, mqtt::ReasonCode::not_authorized, "not authorized");
    return;
  }

  // 4. Route (a QoS 2 duplicate awaiting PUBREL is only acknowledged again).
  WakeList wake;
  MessagePtr routed;
  bool matched = true; // a QoS 2 duplicate was routed (or not) the first time
  {
    auto lock = state.lock();
    // A v5 QoS 1/2 retained message over the account's retained limits is refused with
    // 0x97 Quota exceeded (not routed: the publisher is told it failed). Without a way
    // to say no (QoS 0, 3.x) BrokerState::publish routes it and does not store it.
    if (packet.retain && client.v5() && packet.qos != mqtt::QoS::at_most_once &&
        !state.retained_fits(client.mount.mount_topic(topic), packet.payload.size())) {
      state.quota_refused(client.mount.account(), "retained");
      state.stats().messages_dropped.fetch_add(1, std::memory_order_relaxed);
      lock.unlock();
      acknowledge(connection, packet, mqtt::ReasonCode::quota_exceeded, "retained message quota exceeded");
      return;
    }
    const bool fresh = packet.qos != mqtt::QoS::exactly_once ||
                       client.session->session.incoming_qos2_begin(packet.packet_id);
    if (fresh) {
      routed = make_message(client, packet, topic);
      matched = state.publish(routed, client.session_key(), wake);
    }
  }
  wake_all(wake);
  // 5. Data buckets (outside the lock; only queues the payload for the writer thread).
  if (routed && state.bucket_ingest() != nullptr)
    state.bucket_ingest()->on_publish(client.account(), client.client_id(), topic, routed->payload);
  // v5: 0x10 tells the publisher nobody subscribed (the message was still accepted and,
  // when retained, stored).
  const auto accepted = matched ? mqtt::ReasonCode::success : mqtt::ReasonCode::no_matching_subscribers;
  if (packet.qos != mqtt::QoS::at_most_once && state.config().durable_ack && state.persistence()) {
    acknowledge_when_durable(connection, *state.persistence(), packet.qos, packet.packet_id, accepted);
    return;
  }
  acknowledge(connection, packet, accepted);
}

} // namespace mqfleet::broker
