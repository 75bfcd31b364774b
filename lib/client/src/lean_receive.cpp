#include "lean_receive.hpp"

#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/codec.hpp>
#include <mqfleet/mqtt/properties.hpp>
#include <mqfleet/mqtt/publish_view.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace mqfleet::detail {
namespace {

template <typename Ack>
Ack ack_for(std::uint16_t packet_id) {
  Ack ack;
  ack.packet_id = packet_id;
  return ack;
}

std::vector<int> to_ints(const std::vector<mqtt::ReasonCode>& codes) {
  std::vector<int> result;
  result.reserve(codes.size());
  for (mqtt::ReasonCode code : codes) result.push_back(static_cast<int>(code));
  return result;
}

} // namespace

ReceivedMessage to_received(const mqtt::PublishView& publish, mqtt::ProtocolVersion version) {
  ReceivedMessage result;
  result.topic.assign(publish.topic);
  result.payload.assign(publish.payload);
  result.qos = static_cast<int>(publish.qos);
  result.retain = publish.retain;
  result.duplicate = publish.dup;
  result.packet_id = publish.qos == mqtt::QoS::at_most_once ? 0 : publish.packet_id;
  result.received_at = std::chrono::system_clock::now();
  if (version == mqtt::ProtocolVersion::v5 && !publish.properties.empty()) {
    mqtt::Properties p = mqtt::decode_properties(publish.properties, mqtt::scope_of(mqtt::PacketType::publish));
    PublishProperties& out = result.properties;
    if (p.payload_format_indicator) out.payload_is_utf8 = *p.payload_format_indicator != 0;
    out.message_expiry_seconds = p.message_expiry_interval;
    out.content_type = std::move(p.content_type);
    out.response_topic = std::move(p.response_topic);
    out.correlation_data = std::move(p.correlation_data);
    out.user_properties = std::move(p.user_properties);
    out.subscription_identifiers = std::move(p.subscription_identifiers);
  }
  return result;
}

ReceiveState::ReceiveState(mqtt::ProtocolVersion version) : m_version(version) {}

void ReceiveState::subscribe(std::uint16_t packet_id, const std::vector<std::string>& filters,
                             const SubscribeOptions& options, const mqtt::Properties& properties,
                             OutBuffer& out) {
  if (filters.empty()) throw ConfigError("no topic filter to subscribe to", "-t", "give at least one -t filter");
  if (options.qos < 0 || options.qos > 2)
    throw ConfigError(fmt::format("QoS {} does not exist", options.qos), "-q", "use 0, 1 or 2");
  mqtt::Subscribe request;
  request.packet_id = packet_id;
  if (m_version == mqtt::ProtocolVersion::v5) request.properties = properties;
  for (const auto& filter : filters) {
    mqtt::Subscription s;
    s.filter = filter;
    s.options.max_qos = static_cast<mqtt::QoS>(options.qos);
    if (m_version == mqtt::ProtocolVersion::v5) {
      s.options.no_local = options.no_local;
      s.options.retain_as_published = options.retain_as_published;
      s.options.retain_handling = static_cast<mqtt::RetainHandling>(std::clamp(options.retain_handling, 0, 2));
    }
    request.subscriptions.push_back(std::move(s));
  }
  try {
    mqtt::encode(request, m_version, out.data());
  } catch (const ProtocolError& e) {
    throw ConfigError(fmt::format("cannot build SUBSCRIBE: {}", e.what()), "-t",
                      "check the topic filters (each at most 65,535 bytes)");
  }
  m_subscribes.push_back({packet_id, filters.size(), std::nullopt});
}

void ReceiveState::unsubscribe(std::uint16_t packet_id, const std::vector<std::string>& filters,
                               const mqtt::Properties& properties, OutBuffer& out) {
  if (filters.empty()) throw ConfigError("no topic filter to unsubscribe from", "-U", "give at least one -U filter");
  mqtt::Unsubscribe request;
  request.packet_id = packet_id;
  request.filters = filters;
  if (m_version == mqtt::ProtocolVersion::v5) request.properties = properties;
  try {
    mqtt::encode(request, m_version, out.data());
  } catch (const ProtocolError& e) {
    throw ConfigError(fmt::format("cannot build UNSUBSCRIBE: {}", e.what()), "-U",
                      "check the topic filters (each at most 65,535 bytes)");
  }
  m_unsubscribes.push_back({packet_id, filters.size(), std::nullopt});
}

void ReceiveState::on_publish(const mqtt::Frame& frame, OutBuffer& out) {
  const mqtt::PublishView publish = mqtt::decode_publish_view(frame, m_version);
  // Aliases only up to the Topic Alias Maximum CONNECT announced (none by default).
  const std::string* aliased = nullptr;
  if (publish.topic_alias != 0) {
    if (publish.topic_alias > m_alias_maximum)
      throw ProtocolError(0x94, "the broker used a topic alias this client did not allow");
    if (publish.topic_alias >= m_aliases.size()) m_aliases.resize(std::size_t{publish.topic_alias} + 1);
    std::string& known = m_aliases[publish.topic_alias];
    if (!publish.topic.empty()) known.assign(publish.topic);
    else if (known.empty())
      throw ProtocolError(0x82, fmt::format("the broker used topic alias {} before defining it", publish.topic_alias));
    aliased = &known;
  }
  // Manual acknowledgement holds back the PUBACK / PUBREC of a message that is queued.
  const bool queue = m_receiving;
  const bool hold = m_manual_acks && queue;
  bool deliver = true;
  switch (publish.qos) {
  case mqtt::QoS::at_most_once: break;
  case mqtt::QoS::at_least_once:
    if (!hold) mqtt::encode(ack_for<mqtt::Puback>(publish.packet_id), m_version, out.data());
    break;
  case mqtt::QoS::exactly_once: {
    // Delivered once on the first PUBLISH; a copy re-sent (DUP) before PUBREL is only
    // acknowledged again (and not before the first one was).
    const std::size_t id = publish.packet_id;
    if (id >= m_awaiting_pubrel.size()) m_awaiting_pubrel.resize(id + 1);
    if (id >= m_unacknowledged.size()) m_unacknowledged.resize(id + 1);
    deliver = !m_awaiting_pubrel[id];
    m_awaiting_pubrel[id] = true;
    if (deliver && hold) m_unacknowledged[id] = true;
    else if (!m_unacknowledged[id]) mqtt::encode(ack_for<mqtt::Pubrec>(publish.packet_id), m_version, out.data());
    break;
  }
  }
  if (deliver && queue) {
    m_inbox.push_back(to_received(publish, m_version));
    if (aliased != nullptr) m_inbox.back().topic = *aliased;
  }
}

void ReceiveState::acknowledge(const ReceivedMessage& message, OutBuffer& out) {
  if (message.packet_id == 0) return;
  if (message.qos == 1) {
    mqtt::encode(ack_for<mqtt::Puback>(message.packet_id), m_version, out.data());
  } else if (message.qos == 2 && message.packet_id < m_unacknowledged.size() &&
             m_unacknowledged[message.packet_id]) {
    m_unacknowledged[message.packet_id] = false;
    mqtt::encode(ack_for<mqtt::Pubrec>(message.packet_id), m_version, out.data());
  }
}

void ReceiveState::resume(bool session_present) {
  m_aliases.clear();
  if (!session_present) {
    m_awaiting_pubrel.clear();
    m_unacknowledged.clear();
  }
  m_subscribes.clear();
  m_unsubscribes.clear();
}

bool ReceiveState::on_frame(const mqtt::Frame& frame, OutBuffer& out) {
  switch (frame.type()) {
  case mqtt::PacketType::publish: on_publish(frame, out); return true;
  case mqtt::PacketType::pubrel: {
    const mqtt::Pubrel rel = mqtt::decode_pubrel(frame, m_version);
    if (rel.packet_id < m_awaiting_pubrel.size()) m_awaiting_pubrel[rel.packet_id] = false;
    mqtt::encode(ack_for<mqtt::Pubcomp>(rel.packet_id), m_version, out.data());
    return true;
  }
  case mqtt::PacketType::suback: {
    const mqtt::Suback ack = mqtt::decode_suback(frame, m_version);
    auto it = std::find_if(m_subscribes.begin(), m_subscribes.end(),
                           [&](const Request& r) { return r.packet_id == ack.packet_id && !r.codes; });
    if (it == m_subscribes.end()) return true; // not ours (any more): ignored
    if (ack.reason_codes.size() != it->filters)
      throw ProtocolError(0x82, fmt::format("SUBACK has {} codes for {} topic filters", ack.reason_codes.size(),
                                            it->filters));
    it->codes = to_ints(ack.reason_codes);
    return true;
  }
  case mqtt::PacketType::unsuback: {
    const mqtt::Unsuback ack = mqtt::decode_unsuback(frame, m_version);
    auto it = std::find_if(m_unsubscribes.begin(), m_unsubscribes.end(),
                           [&](const Request& r) { return r.packet_id == ack.packet_id && !r.codes; });
    if (it != m_unsubscribes.end()) it->codes = to_ints(ack.reason_codes);
    return true;
  }
  default: return false;
  }
}

std::optional<std::vector<int>> ReceiveState::take(std::vector<Request>& requests, std::uint16_t packet_id) {
  auto it = std::find_if(requests.begin(), requests.end(),
                         [&](const Request& r) { return r.packet_id == packet_id && r.codes; });
  if (it == requests.end()) return std::nullopt;
  std::vector<int> codes = std::move(*it->codes);
  requests.erase(it);
  return codes;
}

std::optional<std::vector<int>> ReceiveState::take_suback(std::uint16_t packet_id) {
  return take(m_subscribes, packet_id);
}

std::optional<std::vector<int>> ReceiveState::take_unsuback(std::uint16_t packet_id) {
  return take(m_unsubscribes, packet_id);
}

} // namespace mqfleet::detail
