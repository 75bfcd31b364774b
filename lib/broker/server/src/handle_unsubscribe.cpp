// UNSUBSCRIBE: remove each filter; v5 says per filter whether it existed.

#include "broker_state.hpp"
#include "connection.hpp"
#include "handlers.hpp"
#include "server.hpp"

namespace mqfleet::broker {

void handle_unsubscribe(Connection& connection, const mqtt::Unsubscribe& packet) {
  ClientState& client = connection.client();
  BrokerState& state = connection.server().state();
  mqtt::Unsuback unsuback;
  unsuback.packet_id = packet.packet_id;
  {
    auto lock = state.lock();
    for (const auto& filter : packet.filters) {
      const bool existed = state.unsubscribe(client.session, client.mount.mount_filter(filter));
      unsuback.reason_codes.push_back(existed ? mqtt::ReasonCode::success : mqtt::ReasonCode::no_subscription_existed);
    }
  }
  if (!client.v5()) unsuback.reason_codes.clear();
  connection.send(unsuback);
}

} // namespace mqfleet::broker
