// DISCONNECT from the client: normal (drop the will) or v5 0x04 (keep the will), and a
// v5 Session Expiry Interval update.

#include "broker_state.hpp"
#include "connection.hpp"
#include "handlers.hpp"
#include "server.hpp"

#include <mqfleet/error.hpp>

namespace mqfleet::broker {

void handle_disconnect(Connection& connection, const mqtt::Disconnect& packet) {
  ClientState& client = connection.client();
  if (client.v5() && packet.properties.session_expiry_interval) {
    auto lock = connection.server().state().lock();
    Session& session = client.session->session;
    // MQTT-3.14.2-2: a session that ended with the connection cannot be revived here.
    if (session.expiry_interval() == 0 && *packet.properties.session_expiry_interval != 0)
      throw ProtocolError(0x82, "session expiry set on DISCONNECT after a zero expiry at CONNECT");
    session.set_expiry_interval(*packet.properties.session_expiry_interval);
  }
  client.graceful = packet.reason_code != mqtt::ReasonCode::disconnect_with_will_message;
  client.set_close_reason(client.graceful ? "client disconnected" : "client disconnected with will");
  connection.close_now();
}

} // namespace mqfleet::broker
