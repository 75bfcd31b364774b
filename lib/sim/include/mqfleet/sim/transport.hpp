#pragma once
// The runner's view of the MQTT client engine: many client connections multiplexed on
// one event loop per shard, driven by calls and answering with listener events. The
// runner only talks to this interface, so the engine is pluggable (tests use a scripted
// one; `mqfleet sim` uses the epoll engine).

#include <mqfleet/profile.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqfleet::sim {

/// A client's number within its shard (the shard's device index).
using ClientSlot = std::uint32_t;

/// What differs between the clients of one transport: identity, session and will. The
/// broker address, TLS and protocol version come from the transport's ConnectionProfile.
struct ClientConfig {
  std::string client_id;
  std::string username;
  std::string password; ///< never logged
  int keepalive_seconds = 60;
  bool clean_session = true;
  std::optional<Will> will;
};

/// Events of the clients of one transport. Called on the transport's loop thread, never
/// from inside a Transport call (events caused by a call arrive later).
class TransportListener {
public:
  virtual ~TransportListener() = default;
  /// CONNACK accepted.
  virtual void on_connected(ClientSlot slot) = 0;
  /// The connection attempt failed; `reason` is a short category ("refused: not
  /// authorized", "timeout", "connection refused"...), used as a report key.
  virtual void on_connect_failed(ClientSlot slot, std::string_view reason) = 0;
  /// An established connection closed without the runner asking for it.
  virtual void on_connection_lost(ClientSlot slot, std::string_view reason) = 0;
  /// A publish finished: QoS 0 once written, QoS >= 1 on its acknowledgement. `ok` is
  /// false for a negative acknowledgement or when the connection closed first.
  virtual void on_publish_done(ClientSlot slot, std::uint64_t token, bool ok) = 0;
  /// The broker answered a SUBSCRIBE; `ok` is false when it refused a filter.
  virtual void on_subscribed(ClientSlot slot, bool ok) = 0;
  /// A message arrived on one of the client's subscriptions.
  virtual void on_message(ClientSlot slot, std::string_view topic, std::string_view payload) = 0;
};

/// One event loop carrying many client connections.
class Transport {
public:
  virtual ~Transport() = default;
  /// Where events go; set once before run().
  virtual void set_listener(TransportListener* listener) = 0;
  /// Starts connecting `slot` (which must be closed).
  virtual void connect(ClientSlot slot, const ClientConfig& config) = 0;
  /// Publishes on a connected client; `token` comes back in on_publish_done.
  virtual void publish(ClientSlot slot, std::string_view topic, std::string_view payload, int qos, bool retain,
                       std::uint64_t token) = 0;
  /// Subscribes a connected client to filters, each with its QoS.
  virtual void subscribe(ClientSlot slot, const std::vector<std::pair<std::string, int>>& filters) = 0;
  /// Sends DISCONNECT and closes (no will); no further events for the slot except
  /// on_publish_done(false) for what was still in flight.
  virtual void disconnect(ClientSlot slot) = 0;
  /// Closes the socket without DISCONNECT, so the broker publishes the will.
  virtual void abort(ClientSlot slot) = 0;
  /// Runs the loop on the calling thread, calling `tick` about every `interval` (on the
  /// loop thread, like the listener) until `tick` returns false.
  virtual void run(const std::function<bool()>& tick, std::chrono::milliseconds interval) = 0;
};

/// Makes the transport of shard `shard` for the broker described by `profile`.
using TransportFactory =
    std::function<std::unique_ptr<Transport>(const ConnectionProfile& profile, std::size_t shard)>;

} // namespace mqfleet::sim
