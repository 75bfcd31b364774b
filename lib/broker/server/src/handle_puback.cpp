// The acknowledgements of the QoS 1 and QoS 2 flows: PUBACK, PUBREC, PUBREL, PUBCOMP.

#include "broker_state.hpp"
#include "connection.hpp"
#include "handlers.hpp"
#include "persistence.hpp"
#include "server.hpp"

namespace mqfleet::broker {

void handle_puback(Connection& connection, const mqtt::Puback& packet) {
  {
    auto lock = connection.server().state().lock();
    if (connection.client().session->session.on_puback(packet.packet_id))
      if (auto* persistence = connection.server().state().persistence())
        persistence->finished(connection.client().session->session.key(), packet.packet_id);
  }
  connection.post_flush(); // the window has room again
}

void handle_pubrec(Connection& connection, const mqtt::Pubrec& packet) {
  const bool accepted = !mqtt::is_error(packet.reason_code);
  bool known = false;
  {
    auto lock = connection.server().state().lock();
    known = connection.client().session->session.on_pubrec(packet.packet_id, accepted);
    auto* persistence = connection.server().state().persistence();
    if (known && persistence) {
      if (accepted) persistence->released(connection.client().session->session.key(), packet.packet_id);
      else persistence->finished(connection.client().session->session.key(), packet.packet_id);
    }
  }
  if (!accepted) {
    connection.post_flush(); // the message is released; its slot is free
    return;
  }
  mqtt::Pubrel pubrel;
  pubrel.packet_id = packet.packet_id;
  if (!known && connection.client().v5()) pubrel.reason_code = mqtt::ReasonCode::packet_identifier_not_found;
  connection.send(pubrel);
}

void handle_pubrel(Connection& connection, const mqtt::Pubrel& packet) {
  bool known = false;
  {
    auto lock = connection.server().state().lock();
    known = connection.client().session->session.incoming_qos2_release(packet.packet_id);
  }
  mqtt::Pubcomp pubcomp;
  pubcomp.packet_id = packet.packet_id;
  if (!known && connection.client().v5()) pubcomp.reason_code = mqtt::ReasonCode::packet_identifier_not_found;
  connection.send(pubcomp);
}

void handle_pubcomp(Connection& connection, const mqtt::Pubcomp& packet) {
  {
    auto lock = connection.server().state().lock();
    if (connection.client().session->session.on_pubcomp(packet.packet_id))
      if (auto* persistence = connection.server().state().persistence())
        persistence->finished(connection.client().session->session.key(), packet.packet_id);
  }
  connection.post_flush();
}

} // namespace mqfleet::broker
