#include "lean_session.hpp"

#include <mqfleet/mqtt/codec.hpp>
#include <mqfleet/mqtt/publish_view.hpp>
#include <mqfleet/mqtt/reason_codes.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace mqfleet::detail {
namespace {

constexpr std::size_t k_max_window = 65535;
// Written bytes are dropped from the front of the buffer once they exceed this and
// outnumber the unwritten ones, so compaction copies little and rarely.
constexpr std::size_t k_compact_bytes = 64 * 1024;

mqtt::Properties to_codec(const PublishProperties& p) {
  mqtt::Properties result;
  if (p.payload_is_utf8) result.payload_format_indicator = *p.payload_is_utf8 ? 1 : 0;
  result.message_expiry_interval = p.message_expiry_seconds;
  result.content_type = p.content_type;
  result.response_topic = p.response_topic;
  result.correlation_data = p.correlation_data;
  result.user_properties = p.user_properties;
  result.topic_alias = p.topic_alias;
  return result;
}

// An acknowledgement packet for one identifier (no reason code, no properties).
template <typename Ack>
Ack ack_for(std::uint16_t packet_id) {
  Ack ack;
  ack.packet_id = packet_id;
  return ack;
}

// "Unsupported Protocol Version" -> "unsupported protocol version"; words with more
// capitals ("QoS") stay as they are.
std::string lower_words(std::string_view text) {
  std::string result(text);
  for (std::size_t start = 0; start < result.size();) {
    std::size_t end = result.find(' ', start);
    if (end == std::string::npos) end = result.size();
    const bool more_capitals = std::any_of(result.begin() + static_cast<std::ptrdiff_t>(start) + 1,
                                           result.begin() + static_cast<std::ptrdiff_t>(end),
                                           [](unsigned char c) { return std::isupper(c) != 0; });
    if (!more_capitals)
      result[start] = static_cast<char>(std::tolower(static_cast<unsigned char>(result[start])));
    start = end + 1;
  }
  return result;
}

} // namespace

mqtt::ProtocolVersion wire_version(MqttVersion version) noexcept {
  switch (version) {
  case MqttVersion::v31: return mqtt::ProtocolVersion::v3_1;
  case MqttVersion::v311: return mqtt::ProtocolVersion::v3_1_1;
  case MqttVersion::v5: return mqtt::ProtocolVersion::v5;
  }
  return mqtt::ProtocolVersion::v3_1_1;
}

mqtt::Connect make_connect(const ConnectionProfile& profile, const std::string& password) {
  mqtt::Connect connect;
  connect.version = wire_version(profile.version);
  connect.client_id = profile.client_id;
  connect.clean_start = profile.clean_session;
  connect.keep_alive = static_cast<std::uint16_t>(std::clamp(profile.keepalive_seconds, 0, 65535));
  if (!profile.username.empty()) connect.username = profile.username;
  const bool v5 = profile.version == MqttVersion::v5;
  if (!password.empty() && (v5 || connect.username)) connect.password = password;
  if (profile.will) {
    mqtt::Will will;
    will.topic = profile.will->topic;
    will.payload = profile.will->payload;
    will.qos = static_cast<mqtt::QoS>(std::clamp(profile.will->qos, 0, 2));
    will.retain = profile.will->retain;
    if (v5) will.properties = profile.properties.will;
    connect.will = std::move(will);
  }
  if (v5) connect.properties = profile.properties.connect;
  if (v5 && profile.session_expiry_seconds) connect.properties.session_expiry_interval = *profile.session_expiry_seconds;
  return connect;
}

std::string describe_connack_code(int code, bool v5) {
  if (!v5) {
    switch (code) {
    case 1: return "unacceptable protocol version";
    case 2: return "client identifier rejected";
    case 3: return "server unavailable";
    case 4: return "bad user name or password";
    case 5: return "not authorized";
    default: return fmt::format("return code {}", code);
    }
  }
  const std::string_view name = mqtt::reason_name(static_cast<mqtt::ReasonCode>(code));
  if (name == "Unknown reason code") return fmt::format("reason code 0x{:02X}", code);
  return lower_words(name);
}

ConnectError connack_refusal(int code, bool v5, const std::string& where) {
  const bool auth = code == 4 || code == 5 || code == 0x86 || code == 0x87 || code == 0x8C;
  return ConnectError(code,
                      fmt::format("the broker refused the connection: {} (CONNACK {})", describe_connack_code(code, v5),
                                  code),
                      where,
                      auth ? "check the user name (-u) and the password (-P, --password-env or --password-file)"
                           : "check the MQTT version (-V), the client id (-i) and the broker's configuration");
}

void OutBuffer::consume(std::size_t n) noexcept {
  m_begin += n;
  m_written += n;
  if (m_begin == m_data.size()) {
    m_data.clear();
    m_begin = 0;
  } else if (m_begin >= k_compact_bytes && m_begin >= m_data.size() - m_begin) {
    m_data.erase(0, m_begin);
    m_begin = 0;
  }
}

PublishState::PublishState(mqtt::ProtocolVersion version, std::size_t window)
    : m_version(version), m_requested_window(std::clamp<std::size_t>(window, 1, k_max_window)),
      m_window(m_requested_window) {}

void PublishState::set_window(std::size_t window) noexcept {
  m_requested_window = std::clamp<std::size_t>(window, 1, k_max_window);
  m_window = m_requested_window;
}

void PublishState::apply_connack(const mqtt::Connack& connack) {
  const mqtt::Properties& p = connack.properties;
  if (p.receive_maximum) m_window = std::min<std::size_t>(m_requested_window, *p.receive_maximum);
  if (p.maximum_qos) m_maximum_qos = *p.maximum_qos;
  if (p.maximum_packet_size) m_maximum_packet_size = *p.maximum_packet_size;
  m_topic_alias_maximum = p.topic_alias_maximum.value_or(0);
}

std::uint16_t PublishState::next_packet_id() {
  // The window is at most 65535 wide, so a free identifier always exists here.
  do {
    m_last_id = static_cast<std::uint16_t>(m_last_id == 65535 ? 1 : m_last_id + 1);
  } while (slot(m_last_id) != Slot::free);
  return m_last_id;
}

std::uint16_t PublishState::reserve_packet_id() {
  // Requests are rare and answered at once, so the window never runs out of identifiers.
  const std::uint16_t packet_id = next_packet_id();
  if (packet_id >= m_slots.size()) m_slots.resize(std::size_t{packet_id} + 1, Slot::free);
  m_slots[packet_id] = Slot::request;
  return packet_id;
}

void PublishState::release_packet_id(std::uint16_t packet_id) noexcept {
  if (slot(packet_id) == Slot::request) m_slots[packet_id] = Slot::free;
}

const std::string& PublishState::encoded_properties(const PublishProperties& properties) {
  if (!m_cached_properties || !(*m_cached_properties == properties)) {
    std::string block;
    mqtt::encode_properties(to_codec(properties), block);
    // encode_properties writes the length prefix too; PublishView wants the bare block.
    const std::size_t length = mqtt::properties_size(to_codec(properties));
    m_cached_encoding = block.substr(block.size() - length);
    m_cached_properties = properties;
  }
  return m_cached_encoding;
}

void PublishState::check_topic_alias(std::uint16_t alias) const {
  const char* where = "-D publish topic-alias";
  if (m_version != mqtt::ProtocolVersion::v5)
    throw ConfigError("topic aliases need MQTT 5", where, "connect with -V 5, or drop the topic alias");
  if (alias == 0)
    throw ConfigError("topic alias 0 does not exist", where, "give a topic alias from 1 to 65535");
  if (m_topic_alias_maximum == 0)
    throw ConfigError("the broker accepts no topic aliases (its CONNACK has no Topic Alias Maximum)", where,
                      "drop -D publish topic-alias");
  if (alias > m_topic_alias_maximum)
    throw ConfigError(fmt::format("topic alias {} is more than the broker accepts (Topic Alias Maximum {} in its "
                                  "CONNACK)",
                                  alias, m_topic_alias_maximum),
                      where, fmt::format("give a topic alias from 1 to {}", m_topic_alias_maximum));
}

void PublishState::publish(const OutgoingMessage& message, OutBuffer& out) {
  if (message.topic.empty() || message.topic.find_first_of("+#") != std::string::npos)
    throw ConfigError(fmt::format("'{}' is not a valid topic to publish to", message.topic), "-t",
                      "give a topic name without the wildcards + and #");
  if (message.qos < 0 || message.qos > 2)
    throw ConfigError(fmt::format("QoS {} does not exist", message.qos), "-q", "use 0, 1 or 2");
  if (message.qos > m_maximum_qos)
    throw DeliveryError(0x9B, fmt::format("the broker accepts messages up to QoS {} only", m_maximum_qos),
                        message.topic, fmt::format("publish with -q {} or lower", m_maximum_qos));

  // A topic alias maps to the topic last sent with it on this connection (MQTT 5.0
  // section 3.3.2.3.4): the topic is left out while it stays the same.
  const std::optional<std::uint16_t> alias = message.properties.topic_alias;
  bool omit_topic = false;
  if (alias) {
    check_topic_alias(*alias);
    omit_topic = *alias < m_alias_topics.size() && m_alias_topics[*alias] == message.topic;
  }

  mqtt::PublishView view;
  view.topic = omit_topic ? std::string_view() : std::string_view(message.topic);
  view.payload = message.payload;
  view.qos = static_cast<mqtt::QoS>(message.qos);
  view.retain = message.retain;
  if (m_version == mqtt::ProtocolVersion::v5) view.properties = encoded_properties(message.properties);
  if (message.qos > 0) view.packet_id = 1; // a placeholder for sizing; the real one is taken below

  std::size_t size = 0;
  try {
    size = mqtt::encoded_publish_size(view, m_version);
  } catch (const ProtocolError& e) {
    throw DeliveryError(e.reason_code(), fmt::format("the message cannot be sent: {}", e.what()), message.topic,
                        "check the topic and payload size (topics up to 65,535 bytes, packets up to 256 MB)");
  }
  if (m_maximum_packet_size != 0 && size > m_maximum_packet_size)
    throw DeliveryError(0x95,
                        fmt::format("the message is {} bytes, more than the broker's maximum packet size of {}", size,
                                    m_maximum_packet_size),
                        message.topic, "send a smaller payload");

  if (message.qos > 0) {
    view.packet_id = next_packet_id();
    // Identifiers are handed out in order, so the table grows with the highest one used.
    if (view.packet_id >= m_slots.size()) m_slots.resize(std::size_t{view.packet_id} + 1, Slot::free);
    m_slots[view.packet_id] = message.qos == 1 ? Slot::puback : Slot::pubrec;
    ++m_awaiting;
    if (message.qos == 2) ++m_awaiting_qos2;
  }
  std::string& data = out.data();
  const std::size_t old_size = data.size();
  data.resize(old_size + size);
  mqtt::encode_publish_into(view, m_version, std::span<char>(data.data() + old_size, size));
  if (message.qos > 0) {
    if (view.packet_id >= m_stored.size()) m_stored.resize(m_slots.size());
    std::string& stored = m_stored[view.packet_id];
    if (omit_topic) {
      // Kept for a resend after a reconnect, where no alias is known yet: with its topic
      // (and the alias, which the resend then sets up again on the new connection).
      view.topic = message.topic;
      stored.resize(mqtt::encoded_publish_size(view, m_version));
      mqtt::encode_publish_into(view, m_version, std::span<char>(stored.data(), stored.size()));
    } else {
      stored.assign(data, old_size, size);
    }
    m_stored_bytes += stored.size();
  }
  ++m_report.published;
  if (alias && !omit_topic) {
    if (*alias >= m_alias_topics.size()) m_alias_topics.resize(std::size_t{*alias} + 1);
    m_alias_topics[*alias] = message.topic;
  }
  if (message.qos == 0) {
    // Messages appended between two writes share one entry.
    if (!m_unwritten_qos0.empty() && m_qos0_entry_open) {
      m_unwritten_qos0.back().first = out.appended();
      ++m_unwritten_qos0.back().second;
    } else {
      m_unwritten_qos0.emplace_back(out.appended(), 1);
      m_qos0_entry_open = true;
    }
  }
}

void PublishState::on_written(std::uint64_t written) noexcept {
  m_qos0_entry_open = false;
  while (!m_unwritten_qos0.empty() && m_unwritten_qos0.front().first <= written) {
    m_report.acknowledged += m_unwritten_qos0.front().second;
    m_unwritten_qos0.pop_front();
  }
}

void PublishState::forget_stored(std::uint16_t packet_id) noexcept {
  if (packet_id >= m_stored.size()) return;
  m_stored_bytes -= m_stored[packet_id].size();
  std::string().swap(m_stored[packet_id]);
}

std::size_t PublishState::resume(OutBuffer& out, bool session_present) {
  // QoS 0 messages still in the lost connection's buffer are gone.
  for (const auto& [offset, count] : m_unwritten_qos0) {
    (void)offset;
    if (m_report.failed == 0) m_report.first_failure_reason = 0x80;
    m_report.failed += count;
  }
  m_unwritten_qos0.clear();
  m_qos0_entry_open = false;
  // Topic aliases belong to one connection (MQTT 5.0 section 3.3.2.3.4): the next message
  // with an alias sends its topic again.
  m_alias_topics.clear();
  // Identifiers are handed out in increasing order (wrapping after 65535), so the oldest
  // message has the first identifier after the last one given out.
  std::size_t resent = 0;
  for (std::uint32_t step = 1; step <= 65535; ++step) {
    const auto packet_id = static_cast<std::uint16_t>((m_last_id + step - 1) % 65535 + 1);
    switch (slot(packet_id)) {
    case Slot::puback:
    case Slot::pubrec: {
      std::string packet = m_stored[packet_id];
      packet[0] = static_cast<char>(packet[0] | 0x08); // DUP
      out.data() += packet;
      ++resent;
      break;
    }
    case Slot::pubcomp:
      if (session_present) mqtt::encode(ack_for<mqtt::Pubrel>(packet_id), m_version, out.data());
      else complete(packet_id, 0);
      break;
    case Slot::request:
      m_slots[packet_id] = Slot::free;
      break;
    case Slot::free:
      break;
    }
  }
  return resent;
}

void PublishState::complete(std::uint16_t packet_id, int reason_code) {
  if (m_slots[packet_id] != Slot::puback) --m_awaiting_qos2;
  m_slots[packet_id] = Slot::free;
  forget_stored(packet_id);
  --m_awaiting;
  if (reason_code < 0x80) {
    ++m_report.acknowledged;
  } else if (m_report.failed++ == 0) {
    m_report.first_failure_reason = reason_code;
  }
}

InboundEvent PublishState::on_frame(const mqtt::Frame& frame, OutBuffer& out) {
  InboundEvent event;
  switch (frame.type()) {
  case mqtt::PacketType::puback: {
    const mqtt::Puback ack = mqtt::decode_puback(frame, m_version);
    // An identifier we are not waiting for is ignored, as a duplicate would be.
    if (slot(ack.packet_id) == Slot::puback) complete(ack.packet_id, static_cast<int>(ack.reason_code));
    break;
  }
  case mqtt::PacketType::pubrec: {
    const mqtt::Pubrec rec = mqtt::decode_pubrec(frame, m_version);
    if (slot(rec.packet_id) == Slot::pubrec) {
      if (mqtt::is_error(rec.reason_code)) {
        complete(rec.packet_id, static_cast<int>(rec.reason_code));
      } else {
        m_slots[rec.packet_id] = Slot::pubcomp;
        forget_stored(rec.packet_id); // the broker has it: only PUBREL is ever resent
        mqtt::encode(ack_for<mqtt::Pubrel>(rec.packet_id), m_version, out.data());
      }
    } else if (slot(rec.packet_id) == Slot::pubcomp) {
      mqtt::encode(ack_for<mqtt::Pubrel>(rec.packet_id), m_version, out.data());
    } else {
      auto unknown = ack_for<mqtt::Pubrel>(rec.packet_id);
      if (m_version == mqtt::ProtocolVersion::v5) unknown.reason_code = mqtt::ReasonCode::packet_identifier_not_found;
      mqtt::encode(unknown, m_version, out.data());
    }
    break;
  }
  case mqtt::PacketType::pubcomp: {
    const mqtt::Pubcomp comp = mqtt::decode_pubcomp(frame, m_version);
    if (slot(comp.packet_id) == Slot::pubcomp) complete(comp.packet_id, static_cast<int>(comp.reason_code));
    break;
  }
  case mqtt::PacketType::publish: {
    // LeanConnection hands PUBLISH to ReceiveState first; a state used alone acknowledges
    // what a resumed session (-c) delivers, so the broker does not hold it forever, and
    // drops it.
    const mqtt::PublishView message = mqtt::decode_publish_view(frame, m_version);
    if (message.qos == mqtt::QoS::at_least_once) mqtt::encode(ack_for<mqtt::Puback>(message.packet_id), m_version, out.data());
    if (message.qos == mqtt::QoS::exactly_once) mqtt::encode(ack_for<mqtt::Pubrec>(message.packet_id), m_version, out.data());
    break;
  }
  case mqtt::PacketType::pubrel: {
    const mqtt::Pubrel rel = mqtt::decode_pubrel(frame, m_version);
    mqtt::encode(ack_for<mqtt::Pubcomp>(rel.packet_id), m_version, out.data());
    break;
  }
  case mqtt::PacketType::pingresp:
    mqtt::decode_pingresp(frame, m_version);
    event.pingresp = true;
    break;
  case mqtt::PacketType::disconnect:
    event.disconnect_reason = static_cast<int>(mqtt::decode_disconnect(frame, m_version).reason_code);
    break;
  default:
    throw ProtocolError(0x82,
                        fmt::format("the broker sent an unexpected {}", mqtt::packet_type_name(frame.type())), {},
                        "this client only publishes; check that the port belongs to an MQTT broker");
  }
  return event;
}

} // namespace mqfleet::detail
