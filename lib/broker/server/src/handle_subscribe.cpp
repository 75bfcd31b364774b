// SUBSCRIBE: per filter validate, check the access rules and the account's subscription
// limit, mount, store; then SUBACK and
// the retained messages the retain-handling option asks for.

#include "broker_state.hpp"
#include "connection.hpp"
#include "handlers.hpp"
#include "server.hpp"

#include <mqfleet/mqtt/topic.hpp>

namespace mqfleet::broker {
namespace {

/// The reason code of one subscription, or granted QoS on success.
struct Granted {
  mqtt::ReasonCode code = mqtt::ReasonCode::unspecified_error;
  std::string mounted;        ///< mounted filter as stored (with $share/group/ if any)
  std::string retained_filter; ///< mounted filter for the retained lookup; empty = none
  SubscriptionOptions options;
};

Granted check(const ClientState& client, const mqtt::Subscription& sub, std::uint32_t identifier) {
  Granted g;
  if (mqtt::check_topic_filter(sub.filter) != mqtt::TopicStatus::ok) {
    g.code = mqtt::ReasonCode::topic_filter_invalid;
    return g;
  }
  std::string_view inner = sub.filter;
  const bool shared = mqtt::is_shared_subscription(sub.filter);
  if (shared) {
    auto parts = mqtt::parse_shared_subscription(sub.filter);
    if (!parts) {
      g.code = mqtt::ReasonCode::topic_filter_invalid;
      return g;
    }
    inner = parts->filter;
  }
  if (!client.rules().check_subscribe(inner).allowed) {
    g.code = mqtt::ReasonCode::not_authorized;
    return g;
  }
  g.options.qos = static_cast<std::uint8_t>(sub.options.max_qos);
  g.options.no_local = sub.options.no_local;
  g.options.retain_as_published = sub.options.retain_as_published;
  g.options.retain_handling = static_cast<std::uint8_t>(sub.options.retain_handling);
  g.options.subscription_identifier = identifier;
  g.mounted = client.mount.mount_filter(sub.filter);
  if (!shared) g.retained_filter = g.mounted;
  g.code = static_cast<mqtt::ReasonCode>(g.options.qos);
  return g;
}

} // namespace

void handle_subscribe(Connection& connection, const mqtt::Subscribe& packet) {
  ClientState& client = connection.client();
  BrokerState& state = connection.server().state();
  const std::uint32_t identifier =
      packet.properties.subscription_identifiers.empty() ? 0 : packet.properties.subscription_identifiers.front();

  mqtt::Suback suback;
  suback.packet_id = packet.packet_id;
  bool queued_retained = false;
  {
    auto lock = state.lock();
    Session& session = client.session->session;
    for (const auto& sub : packet.subscriptions) {
      Granted g = check(client, sub, identifier);
      if (!mqtt::is_error(g.code) && !state.subscription_fits(client.session, g.mounted)) {
        // Over the account's subscription limit: v5 0x97 Quota exceeded, 3.x 0x80.
        state.quota_refused(client.mount.account(), "subscriptions");
        g.code = mqtt::ReasonCode::quota_exceeded;
      }
      suback.reason_codes.push_back(g.code);
      if (mqtt::is_error(g.code)) continue;
      const bool is_new = state.subscribe(client.session, g.mounted, g.options);
      // Retain handling: 0 always, 1 only for a new subscription, 2 never.
      const bool send_retained = g.options.retain_handling == 0 || (g.options.retain_handling == 1 && is_new);
      if (!send_retained || g.retained_filter.empty()) continue;
      for (auto& message : state.retained(g.retained_filter)) {
        Delivery delivery;
        delivery.qos = std::min(g.options.qos, message->qos);
        delivery.retain = true; // MQTT-3.3.1-8: retained on subscribe keeps RETAIN
        if (identifier != 0) delivery.subscription_identifiers.push_back(identifier);
        delivery.message = std::move(message);
        if (session.push(std::move(delivery)) == PushResult::accepted) queued_retained = true;
      }
    }
  }
  connection.send(suback);
  if (queued_retained) connection.post_flush();
}

} // namespace mqfleet::broker
