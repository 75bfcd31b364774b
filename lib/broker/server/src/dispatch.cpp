// The MQTT side of Connection: frames in, handlers called, session messages out.

#include "broker_state.hpp"
#include "connection.hpp"
#include "handlers.hpp"
#include "log.hpp"
#include "persistence.hpp"
#include "server.hpp"

#include <mqfleet/error.hpp>
#include <mqfleet/store/time_format.hpp>
#include <mqfleet/mqtt/codec.hpp>
#include <mqfleet/mqtt/publish_view.hpp>

namespace mqfleet::broker {
namespace {

/// Most packets encoded per flush before yielding the strand to other work.
constexpr std::size_t k_flush_batch = 512;
/// Encoded bytes waiting for the socket beyond which the outbox is not drained further.
constexpr std::size_t k_max_pending_bytes = 1024 * 1024;

using mqtt::PacketType;

// A CONNECT that cannot be decoded: answer with the CONNACK its version can read, then
// close (MQTT-3.1.2-2: unsupported version -> return code 1 / 0x84).
void refuse_malformed_connect(Connection& connection, const mqtt::Frame& frame, const ProtocolError& error) {
  ClientState& client = connection.client();
  client.set_close_reason(error.what());
  const auto level = mqtt::connect_protocol_level(frame);
  mqtt::Connack connack;
  connack.reason_code = static_cast<mqtt::ReasonCode>(error.reason_code());
  if (error.reason_code() == 0x84 || level == 3 || level == 4) {
    client.version = level == 3 ? mqtt::ProtocolVersion::v3_1 : mqtt::ProtocolVersion::v3_1_1;
  } else if (level == 5) {
    client.version = mqtt::ProtocolVersion::v5;
    connack.properties.reason_string = error.what();
  } else {
    connection.close_now();
    return;
  }
  if (client.version != mqtt::ProtocolVersion::v5 && error.reason_code() != 0x84) {
    // 3.x has no CONNACK code for a malformed packet: just close.
    connection.close_now();
    return;
  }
  connection.send(connack);
  connection.close_after_flush();
}

void dispatch(Connection& connection, const mqtt::Frame& frame) {
  ClientState& client = connection.client();
  if (!client.connected) {
    if (frame.type() != PacketType::connect)
      throw ProtocolError(0x82, "the first packet must be CONNECT");
    if (connection.closing()) return;
    mqtt::Connect connect;
    try {
      connect = mqtt::decode_connect(frame);
    } catch (const ProtocolError& e) {
      refuse_malformed_connect(connection, frame, e);
      return;
    }
    handle_connect(connection, connect);
    return;
  }
  switch (frame.type()) {
  case PacketType::publish: {
    auto packet = mqtt::decode_publish(frame, client.version);
    handle_publish(connection, packet);
    return;
  }
  case PacketType::puback: handle_puback(connection, mqtt::decode_puback(frame, client.version)); return;
  case PacketType::pubrec: handle_pubrec(connection, mqtt::decode_pubrec(frame, client.version)); return;
  case PacketType::pubrel: handle_pubrel(connection, mqtt::decode_pubrel(frame, client.version)); return;
  case PacketType::pubcomp: handle_pubcomp(connection, mqtt::decode_pubcomp(frame, client.version)); return;
  case PacketType::subscribe: handle_subscribe(connection, mqtt::decode_subscribe(frame, client.version)); return;
  case PacketType::unsubscribe:
    handle_unsubscribe(connection, mqtt::decode_unsubscribe(frame, client.version));
    return;
  case PacketType::pingreq:
    mqtt::decode_pingreq(frame, client.version);
    handle_pingreq(connection);
    return;
  case PacketType::disconnect: handle_disconnect(connection, mqtt::decode_disconnect(frame, client.version)); return;
  case PacketType::auth: handle_auth(connection, mqtt::decode_auth(frame, client.version)); return;
  case PacketType::connect: throw ProtocolError(0x82, "second CONNECT on one connection");
  default: throw ProtocolError(0x82, "a client may not send this packet type");
  }
}

/// The v5 property block (without its length prefix) of one outgoing PUBLISH.
void publish_properties(const Message& message, const Delivery& delivery, std::uint16_t topic_alias,
                        Clock::time_point now, std::string& out) {
  mqtt::Properties props;
  if (topic_alias != 0) props.topic_alias = topic_alias;
  props.payload_format_indicator = message.properties.payload_format_indicator;
  props.content_type = message.properties.content_type;
  props.response_topic = message.properties.response_topic;
  props.correlation_data = message.properties.correlation_data;
  props.user_properties = message.properties.user_properties;
  props.message_expiry_interval = message.remaining_expiry(now);
  props.subscription_identifiers = delivery.subscription_identifiers;
  if (props.empty()) return;
  std::string block;
  mqtt::encode_properties(props, block);
  // Skip the variable byte integer length prefix.
  std::size_t prefix = 0;
  while (prefix < block.size() && (static_cast<unsigned char>(block[prefix]) & 0x80) != 0) ++prefix;
  out.assign(block, prefix + 1, std::string::npos);
}

} // namespace

void Connection::send(const mqtt::Packet& packet) {
  if (m_closed) return;
  std::string& out = out_buffer();
  const std::size_t before = out.size();
  mqtt::encode(packet, m_client.version, out);
  const std::uint32_t limit = m_client.client_max_packet_size;
  if (limit != 0 && out.size() - before > limit) {
    // MQTT-3.1.2-24: never larger than the client allows. The Reason String and User
    // Properties are what the spec lets a sender drop (MQTT-3.2.2-19/20 and alike);
    // a packet still too large cannot be sent at all, and without it the client and
    // the broker would disagree, so the connection ends.
    out.resize(before);
    mqtt::Packet slim = packet;
    std::visit(
        [](auto& p) {
          if constexpr (requires { p.properties; }) {
            p.properties.reason_string.reset();
            p.properties.user_properties.clear();
          }
        },
        slim);
    mqtt::encode(slim, m_client.version, out);
    if (out.size() - before > limit) {
      out.resize(before);
      m_client.set_close_reason("a packet for the client exceeds its Maximum Packet Size");
      close_now();
      return;
    }
  }
  kick();
}

void Connection::on_bytes(std::string_view bytes) {
  if (m_closing) {
    if (m_close_after_write) drain_discarded(bytes.size()); // saying goodbye: read, discard
    return;
  }
  m_server.stats().bytes_received.fetch_add(bytes.size(), std::memory_order_relaxed);
  try {
    const std::size_t max_packet_size = m_server.config().limits.max_packet_size;
    if (!m_client.reader) {
      // Nothing left over: cut frames straight from the read buffer and copy only an
      // incomplete tail into a reader, so an idle connection keeps no bytes.
      while (!m_closing && !m_input_paused && !m_client.auth_pending && !bytes.empty()) {
        auto frame = mqtt::parse_frame(bytes, max_packet_size);
        if (!frame) break;
        bytes.remove_prefix(frame->size);
        dispatch(*this, *frame);
      }
      if (m_closing || bytes.empty()) return;
      m_client.reader = std::make_unique<mqtt::FrameReader>(max_packet_size);
    }
    mqtt::FrameReader& reader = *m_client.reader;
    reader.feed(bytes);
    // While a CONNECT's credentials are checked, what follows it waits in the reader.
    while (!m_closing && !m_input_paused && !m_client.auth_pending) {
      auto frame = reader.next();
      if (!frame) break;
      dispatch(*this, *frame);
    }
    // Drained: give the reader back.
    if (m_client.reader && m_client.reader->buffered() == 0) m_client.reader.reset();
  } catch (const ProtocolError& e) {
    m_client.set_close_reason(e.what());
    if (!m_client.connected) {
      // Before CONNACK: answer a CONNECT problem with a CONNACK, anything else by closing.
      close_now();
      return;
    }
    close_with_reason(static_cast<std::uint8_t>(e.reason_code()), e.what());
  }
}

void Connection::close_with_reason(std::uint8_t reason_code, const std::string& reason_string) {
  if (m_closing) return;
  if (reason_code == 0x8D) m_client.set_close_reason("keep alive timeout");
  else if (reason_code == 0x8E) m_client.set_close_reason("session taken over");
  else if (reason_code == 0x8B) m_client.set_close_reason("server shutting down");
  if (m_client.connected && m_client.v5() && reason_code >= 0x80) {
    mqtt::Disconnect disconnect;
    disconnect.reason_code = static_cast<mqtt::ReasonCode>(reason_code);
    if (!reason_string.empty()) disconnect.properties.reason_string = reason_string;
    send(disconnect);
    close_after_flush();
    return;
  }
  close_now();
}

void Connection::on_closed() {
  ClientState& client = m_client;
  if (!client.connected) return;
  client.connected = false;
  m_server.stats().clients_connected.fetch_sub(1, std::memory_order_relaxed);
  if (!client.account().empty()) m_server.state().device_seen(client.account(), client.client_id(), store::now_ms());
  WakeList wake;
  {
    auto lock = m_server.state().lock();
    m_server.state().detach(client.session, this, client.graceful, wake);
  }
  wake_all(wake);
  log_disconnect(m_server.state(), *this);
  client.session.reset();
}

void Connection::flush_outbox() {
  if (m_closing || !m_client.connected || !m_client.session) return;
  if (m_writing_now && m_out && m_out->pending.size() >= k_max_pending_bytes) {
    // Backpressure: leave messages in the session queue (bounded there) until the
    // socket takes what is already encoded.
    m_flush_after_write = true;
    return;
  }
  std::vector<Outgoing> batch;
  bool more = false;
  {
    auto lock = m_server.state().lock();
    if (!m_client.session->owned_by(this)) return; // taken over by a newer connection
    Session& session = m_client.session->session;
    Persistence* persistence = m_server.state().persistence();
    const auto now = Clock::now();
    while (batch.size() < k_flush_batch) {
      auto next = session.next(now);
      if (!next) break;
      if (persistence && next->packet_id != 0 && next->kind == Outgoing::Kind::publish)
        persistence->sent(session.key(), next->delivery.message.get(), next->packet_id, next->delivery.qos);
      batch.push_back(std::move(*next));
    }
    more = batch.size() == k_flush_batch;
  }
  send_outgoing(batch);
  if (more) post_flush();
}

void Connection::send_outgoing(const std::vector<Outgoing>& batch) {
  if (batch.empty() || m_closed) return;
  const auto now = Clock::now();
  std::string& pending = out_buffer();
  std::string properties;
  std::vector<std::uint16_t> too_large;
  for (const auto& out : batch) {
    if (out.kind == Outgoing::Kind::pubrel) {
      mqtt::Pubrel pubrel;
      pubrel.packet_id = out.packet_id;
      mqtt::encode(pubrel, m_client.version, pending);
      continue;
    }
    const Message& message = *out.delivery.message;
    auto topic = m_client.mount.unmount_topic(message.topic);
    if (!topic) continue;
    mqtt::PublishView view;
    view.topic = *topic;
    view.payload = message.payload;
    view.qos = static_cast<mqtt::QoS>(out.delivery.qos);
    view.retain = out.delivery.retain;
    view.dup = out.dup;
    view.packet_id = out.packet_id;
    properties.clear();
    // Broker→client topic alias (v5, the client announced a Topic Alias Maximum).
    OutgoingTopicAliases::Choice alias;
    if (m_client.outgoing_aliases) alias = m_client.outgoing_aliases->choose(view.topic);
    if (m_client.v5()) publish_properties(message, out.delivery, alias.alias, now, properties);
    view.properties = properties;
    if (!alias.send_topic) view.topic = {};
    if (m_client.client_max_packet_size != 0 &&
        mqtt::encoded_publish_size(view, m_client.version) > m_client.client_max_packet_size) {
      // MQTT-3.1.2-25: too large for the client: discard as if delivered.
      if (out.packet_id != 0) too_large.push_back(out.packet_id);
      m_server.stats().messages_dropped.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    mqtt::encode_publish(view, m_client.version, pending);
    if (alias.alias != 0 && alias.send_topic) m_client.outgoing_aliases->bind(*topic, alias.alias);
    m_server.stats().messages_sent.fetch_add(1, std::memory_order_relaxed);
  }
  if (!too_large.empty()) {
    {
      auto lock = m_server.state().lock();
      Persistence* persistence = m_server.state().persistence();
      for (auto id : too_large) {
        if (!m_client.session->session.on_puback(id)) m_client.session->session.on_pubrec(id, false);
        if (persistence) persistence->finished(m_client.session->session.key(), id);
      }
    }
    post_flush();
  }
  kick();
}

void wake_all(WakeList& wake) {
  for (auto& connection : wake) connection->post_flush();
  wake.clear();
}

mqtt::Properties reason_properties(const std::string& reason) {
  mqtt::Properties props;
  if (!reason.empty()) props.reason_string = reason;
  return props;
}

} // namespace mqfleet::broker
