// PINGREQ: answered at once (the read itself already refreshed the keepalive).

#include "connection.hpp"
#include "handlers.hpp"

namespace mqfleet::broker {

void handle_pingreq(Connection& connection) { connection.send(mqtt::Pingresp{}); }

} // namespace mqfleet::broker
