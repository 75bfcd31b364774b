#pragma once
// One MQTT connection, backed by Eclipse Paho MQTT C++ (the only Paho user in the
// project). The implementation lives in the module mqfleet_paho.so, loaded on the first
// Connection (lib/client/src/paho_backend.hpp), so programs that never connect through
// Paho never load it. RAII: the destructor disconnects. Blocking calls honour a stop
// token and throw InterruptedError.

#include <mqfleet/profile.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

namespace mqfleet {

namespace detail {
class PahoBackend;

/// Passes a stop request on to the backend (Connection::set_stop_token).
struct ForwardStop {
  PahoBackend* backend;
  void operator()() const noexcept;
};
} // namespace detail

/// One MQTT v5 user property (name, value); order and duplicates are preserved.
using UserProperty = std::pair<std::string, std::string>;

/// MQTT v5 PUBLISH properties. Ignored when the connection speaks 3.1/3.1.1.
struct PublishProperties {
  std::optional<bool> payload_is_utf8;                 ///< payload format indicator
  std::optional<std::uint32_t> message_expiry_seconds;
  std::optional<std::string> content_type;
  std::optional<std::string> response_topic;
  std::optional<std::string> correlation_data;         ///< binary data
  std::vector<UserProperty> user_properties;
  std::vector<std::uint32_t> subscription_identifiers; ///< set by the broker on delivery
  /// Outgoing only (lean client): the alias of the topic. The first message on this
  /// connection carries topic and alias; later ones with the same topic only the alias.
  std::optional<std::uint16_t> topic_alias;
  bool operator==(const PublishProperties&) const = default;
};

/// A message to publish.
struct OutgoingMessage {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
  PublishProperties properties;
};

/// A message received on a subscription.
struct ReceivedMessage {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
  bool duplicate = false;
  std::uint16_t packet_id = 0; ///< the PUBLISH's packet identifier (QoS 1/2; 0 for QoS 0)
  PublishProperties properties;
  std::chrono::system_clock::time_point received_at;
};

/// What the broker answered to CONNECT, and how long it took.
struct ConnectResult {
  int reason_code = 0;        ///< 0 = accepted
  bool session_present = false;
  std::chrono::microseconds connect_time{0};
};

/// Per-subscription options (v5 ones are ignored under 3.1/3.1.1).
struct SubscribeOptions {
  int qos = 0;
  bool no_local = false;
  bool retain_as_published = false;
  int retain_handling = 0;    ///< 0 send, 1 send if new subscription, 2 never
};

/// Counts of QoS >= 1 deliveries, for honest exit codes.
struct DeliveryReport {
  std::size_t published = 0;      ///< every publish handed to the library
  std::size_t acknowledged = 0;   ///< QoS >= 1 completed positively (QoS 0: counted when written)
  std::size_t failed = 0;         ///< negative acknowledgements (v5 reason >= 0x80) or errors
  int first_failure_reason = 0;   ///< reason code of the first failure
  std::size_t in_flight() const noexcept { return published - acknowledged - failed; }
};

/// One MQTT client connection.
class Connection {
public:
  /// Prepares the client; nothing touches the network until connect(). Throws
  /// ConfigError for an unusable profile (bad TLS files, unreadable secret...) or when
  /// the Paho module cannot be loaded.
  explicit Connection(ConnectionProfile profile);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Blocking calls check this token and throw InterruptedError when stop is requested.
  void set_stop_token(std::stop_token token);
  /// Most QoS >= 1 messages awaiting acknowledgement at once; publish() blocks beyond it.
  void set_max_inflight(std::size_t max_inflight);
  /// Starts queueing received messages (call before connect() to see retained messages
  /// delivered right after a persistent session resumes).
  void start_receiving();

  /// Connects; throws ConnectError (with the CONNACK / v5 reason code), TimeoutError.
  ConnectResult connect();
  /// Publishes; blocks while the in-flight window is full. Throws DeliveryError when the
  /// library refuses the message, ConnectError when the connection is lost for good.
  void publish(const OutgoingMessage& message);
  /// Waits until nothing is in flight; throws DeliveryError naming how many messages
  /// are unacknowledged when `timeout` passes, or how many were refused.
  void wait_for_acknowledgements(std::chrono::milliseconds timeout);
  /// Subscribes; returns the granted QoS / reason code per filter, in order.
  std::vector<int> subscribe(const std::vector<std::string>& filters, const SubscribeOptions& options);
  /// Unsubscribes from the filters.
  void unsubscribe(const std::vector<std::string>& filters);
  /// The next received message, or nullopt when `timeout` passes first. Throws
  /// ConnectError when the connection is lost and will not come back.
  std::optional<ReceivedMessage> receive(std::chrono::milliseconds timeout);
  /// Graceful: waits up to `drain_timeout` for in-flight acknowledgements, then sends
  /// DISCONNECT. Throws DeliveryError if messages stayed unacknowledged.
  void disconnect(std::chrono::milliseconds drain_timeout = std::chrono::seconds(10));
  /// Closes the socket without DISCONNECT, so the broker publishes the will.
  void drop();

  bool is_connected() const;
  DeliveryReport delivery_report() const;
  const ConnectionProfile& profile() const noexcept;

private:
  std::unique_ptr<detail::PahoBackend> m_impl;
  // Declared after m_impl: destroyed first, so no stop request reaches a deleted backend.
  std::optional<std::stop_callback<detail::ForwardStop>> m_stop_forward;
};

} // namespace mqfleet
