#pragma once
// A connection profile: everything needed to open one MQTT connection, shaped like the
// seed platform's device form (account = username, device id = client id, credential =
// password). Plain data; resolving secrets and merging layers lives in profile_resolve.hpp.

#include <mqfleet/mqtt/properties.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mqfleet {

/// MQTT protocol level spoken on the wire.
enum class MqttVersion { v31, v311, v5 };

/// Where a secret (device credential, key password) comes from.
enum class SecretSource {
  none,    ///< no secret
  literal, ///< `value` is the secret itself
  env,     ///< `value` names an environment variable that holds it
  file,    ///< `value` is a path to a file whose first line holds it
  prompt,  ///< ask on the terminal (only when stdin is a TTY)
};

/// A secret and the place it is read from; the secret itself is read only when needed.
struct Secret {
  SecretSource source = SecretSource::none;
  std::string value;

  bool empty() const noexcept { return source == SecretSource::none; }
  bool operator==(const Secret&) const = default;
};

/// The last-will message the broker publishes when the connection drops abruptly.
struct Will {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
  bool operator==(const Will&) const = default;
};

/// TLS settings. Verification of the chain and host name is on unless `insecure`.
struct TlsOptions {
  bool enabled = false;
  std::string ca_file;
  std::string ca_path;
  std::string cert_file;
  std::string key_file;
  Secret key_password;
  bool insecure = false;
  std::string version;            ///< "", "tlsv1.2" or "tlsv1.3" ("" = library default)
  std::vector<std::string> alpn;  ///< ALPN protocol names, in preference order
  bool operator==(const TlsOptions&) const = default;
};

/// Automatic reconnection with exponential back-off between `min_delay` and `max_delay`.
struct ReconnectPolicy {
  bool enabled = false;
  std::chrono::seconds min_delay{1};
  std::chrono::seconds max_delay{30};
  bool operator==(const ReconnectPolicy&) const = default;
};

/// How the MQTT byte stream reaches the broker (TLS is orthogonal: `tls.enabled`).
enum class TransportKind {
  tcp,         ///< host:port over TCP (mqtt://, mqtts://)
  websocket,   ///< MQTT over WebSocket on host:port, path `ws_path` (ws://, wss://, --ws)
  unix_socket, ///< a Unix-domain stream socket at `unix_path` (--unix)
};

/// MQTT 5 properties the client adds to the packets it sends other than PUBLISH, as
/// mosquitto_pub/sub's `-D connect|will|subscribe|unsubscribe|disconnect` give them.
/// Ignored under 3.1/3.1.1. CONNECT's Session Expiry Interval is
/// ConnectionProfile::session_expiry_seconds, not `connect`.
struct PacketProperties {
  mqtt::Properties connect;     ///< CONNECT: receive maximum, maximum packet size, user properties...
  mqtt::Properties will;        ///< the will message: will delay interval, content type...
  mqtt::Properties subscribe;   ///< SUBSCRIBE: subscription identifier, user properties
  mqtt::Properties unsubscribe; ///< UNSUBSCRIBE: user properties
  mqtt::Properties disconnect;  ///< DISCONNECT: session expiry interval, user properties
  bool operator==(const PacketProperties&) const = default;
};

/// Everything needed to open one MQTT connection.
struct ConnectionProfile {
  std::string name;                ///< profile name in the store; empty for ad-hoc ones
  std::string host = "localhost";
  std::optional<int> port;         ///< unset: 1883, or 8883 with TLS
  std::string username;            ///< the account
  std::string client_id;           ///< the device id; empty lets the client generate one
  Secret credential;               ///< the device credential (password)
  MqttVersion version = MqttVersion::v311;
  int keepalive_seconds = 60;
  bool clean_session = true;       ///< clean session (3.1.1) / clean start (5)
  std::optional<std::uint32_t> session_expiry_seconds; ///< v5 only
  std::optional<Will> will;
  std::chrono::milliseconds connect_timeout{10000};
  ReconnectPolicy reconnect;
  TlsOptions tls;
  TransportKind transport = TransportKind::tcp;
  std::string ws_path = "/mqtt";   ///< the HTTP path of a WebSocket endpoint
  std::string unix_path;           ///< the socket file of TransportKind::unix_socket
  PacketProperties properties;     ///< v5 only; set from -D, never stored in a profile

  /// The port to connect to: the explicit one, or by transport 1883 / 8883 (TLS) for TCP,
  /// 80 / 443 (TLS) for WebSocket, as the URL schemes define them.
  int effective_port() const noexcept {
    if (port) return *port;
    if (transport == TransportKind::websocket) return tls.enabled ? 443 : 80;
    return tls.enabled ? 8883 : 1883;
  }

  bool operator==(const ConnectionProfile&) const = default;
};

/// Where a profile connects, for messages: "host:port", "ws[s]://host:port/path" or
/// "unix:PATH". Inline: the Paho module links no mqfleet library.
inline std::string endpoint_name(const ConnectionProfile& profile) {
  switch (profile.transport) {
  case TransportKind::unix_socket: return "unix:" + profile.unix_path;
  case TransportKind::websocket:
    return (profile.tls.enabled ? "wss://" : "ws://") + profile.host + ":" + std::to_string(profile.effective_port()) +
           profile.ws_path;
  case TransportKind::tcp: break;
  }
  return profile.host + ":" + std::to_string(profile.effective_port());
}

/// Default host of the seed platform's freemium server.
inline constexpr const char* k_thinger_host = "backend.thinger.io";

/// The seed platform's values: backend.thinger.io, 8883 over TLS, MQTT 3.1.1. Only the
/// account (username), device id (client id) and credential remain to be filled in.
ConnectionProfile thinger_preset();

/// Names of the presets `profile add --preset` accepts.
std::vector<std::string> preset_names();

/// The preset called `name`; throws ConfigError listing the known presets otherwise.
ConnectionProfile preset(const std::string& name);

/// "3.1", "3.1.1" or "5"; parse_mqtt_version accepts those and mosquitto's 31/311/5
/// (also "mqttv31", "mqttv311", "mqttv5"); throws ConfigError otherwise.
std::string to_string(MqttVersion version);
MqttVersion parse_mqtt_version(const std::string& text);

} // namespace mqfleet
