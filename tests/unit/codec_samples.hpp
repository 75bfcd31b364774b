#pragma once
// Sample packets for codec tests and the fuzz seed corpus: every packet type, valid for
// the given protocol version, v5 ones carrying every property their packet allows.

#include <mqfleet/mqtt/packets.hpp>

#include <vector>

namespace mqfleet::test {

/// Sets every property allowed in scope (one of each; two of the repeatable ones).
mqtt::Properties full_properties(mqtt::PropertyScope scope);

/// Several valid packets of every type for version (AUTH only for 5.0).
std::vector<mqtt::Packet> sample_packets(mqtt::ProtocolVersion version);

} // namespace mqfleet::test
