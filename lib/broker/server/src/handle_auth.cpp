// AUTH (v5 enhanced authentication). The broker offers no authentication method, so
// CONNECT with one is refused (0x8C, handle_connect.cpp) and an AUTH packet afterwards
// is a protocol error (MQTT-4.12.0-1... a client must not send AUTH without a method).

#include "connection.hpp"
#include "handlers.hpp"

#include <mqfleet/error.hpp>

namespace mqfleet::broker {

void handle_auth(Connection& /*connection*/, const mqtt::Auth& /*packet*/) {
  throw ProtocolError(0x82, "AUTH without an authentication method");
}

} // namespace mqfleet::broker
