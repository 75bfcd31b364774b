#pragma once
// mosquitto_pub/sub's `-D COMMAND NAME VALUE [VALUE]`: MQTT 5 properties for CONNECT, the
// will, PUBLISH (pub), SUBSCRIBE and UNSUBSCRIBE (sub) and DISCONNECT, checked against
// what each packet may carry and what each command sends.

#include <mqfleet/connection.hpp>
#include <mqfleet/profile.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqfleet::cli {

/// The -D groups of one command line, sorted by packet.
struct PropertyFlags {
  PublishProperties publish;                           ///< -D publish ... (pub only)
  PacketProperties packets;                            ///< connect, will, subscribe, unsubscribe, disconnect
  std::optional<std::uint32_t> session_expiry_seconds; ///< -D connect session-expiry-interval
  bool any = false;                                    ///< at least one -D was given
};

/// Parses the -D groups of `command` ("pub" or "sub"); throws ConfigError naming the
/// property and saying which packets (and which command) can carry it.
PropertyFlags parse_property_flags(const std::vector<std::vector<std::string>>& groups, std::string_view command);

/// Puts the CONNECT, will, SUBSCRIBE, UNSUBSCRIBE and DISCONNECT properties into the
/// profile; as mosquitto's clients, -D makes the connection MQTT 5 unless -V chose another
/// version (`version_flag` is -V as given), which is a ConfigError.
void apply_property_flags(const PropertyFlags& flags, const std::string& version_flag, ConnectionProfile& profile);

/// The v5 PUBLISH properties of -D groups that may only name PUBLISH properties.
PublishProperties parse_publish_properties(const std::vector<std::vector<std::string>>& groups);

} // namespace mqfleet::cli
