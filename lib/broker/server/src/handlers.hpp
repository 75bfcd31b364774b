#pragma once
// One handler per MQTT control packet (mosquitto's src/handle_*.c model): each validates
// first and returns early with the precise reason code. All run on the connection's
// strand; they take the BrokerState lock only around routing-state changes.

#include "broker_state.hpp"

#include <mqfleet/mqtt/packets.hpp>

#include <string>

namespace mqfleet::broker {

class Connection;

void handle_connect(Connection& connection, mqtt::Connect& packet);
void handle_publish(Connection& connection, mqtt::Publish& packet);
void handle_puback(Connection& connection, const mqtt::Puback& packet);
void handle_pubrec(Connection& connection, const mqtt::Pubrec& packet);
void handle_pubrel(Connection& connection, const mqtt::Pubrel& packet);
void handle_pubcomp(Connection& connection, const mqtt::Pubcomp& packet);
void handle_subscribe(Connection& connection, const mqtt::Subscribe& packet);
void handle_unsubscribe(Connection& connection, const mqtt::Unsubscribe& packet);
void handle_pingreq(Connection& connection);
void handle_disconnect(Connection& connection, const mqtt::Disconnect& packet);
void handle_auth(Connection& connection, const mqtt::Auth& packet);

/// Wakes (post_flush) every connection in the list; call after releasing the lock.
void wake_all(WakeList& wake);

/// A v5 properties block with just a reason string.
mqtt::Properties reason_properties(const std::string& reason);

} // namespace mqfleet::broker
