#pragma once
// A lean, single-threaded MQTT client: lib/mqtt's codec over one non-blocking POSIX socket
// (OpenSSL for TLS), no library threads. Packets are batched: many
// PUBLISH go out in one write, every packet of one read is decoded at once (received
// messages wait in a queue) and their acknowledgements leave together in the next write.
// Everything happens inside the calls below (and serve()), so a caller that waits for
// something else must call serve() or receive() meanwhile. Same profiles, message types,
// delivery report and typed errors as Connection.
//
// Reconnect: with `profile.reconnect.enabled`, a connection that drops after its CONNACK
// is opened again inside the call that noticed (publish, serve, receive, the drains) with
// exponential back-off between reconnect.min_delay and max_delay (sleeping in slices that
// watch the stop token); unacknowledged QoS 1/2 messages are resent with DUP, pending
// PUBRELs too, and subscriptions are made again when the broker kept no session. The
// first connect is never retried; a CONNACK refusal (other than server unavailable/busy)
// ends reconnecting with that error. Without it, a loss throws as documented below.

#include <mqfleet/connection.hpp>
#include <mqfleet/profile.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace mqfleet {

/// One MQTT connection for publishing and subscribing, without Paho.
class LeanConnection {
public:
  /// True when the lean client can serve `profile` (today every profile, automatic
  /// reconnection included); otherwise `why` (if given) says which feature needs Paho.
  static bool supports(const ConnectionProfile& profile, std::string* why = nullptr);

  /// Checks the profile and loads TLS files; nothing touches the network until
  /// connect(). Throws ConfigError for an unusable profile.
  explicit LeanConnection(ConnectionProfile profile);
  /// Closes the socket; sends DISCONNECT first if still connected (without waiting).
  ~LeanConnection();
  LeanConnection(const LeanConnection&) = delete;
  LeanConnection& operator=(const LeanConnection&) = delete;

  /// Blocking calls check this token and throw InterruptedError when stop is requested.
  void set_stop_token(std::stop_token token);
  /// Most QoS >= 1 messages awaiting acknowledgement at once (a v5 broker's Receive
  /// Maximum lowers it); publish() blocks beyond it.
  void set_max_inflight(std::size_t max_inflight);
  /// Starts queueing received messages (before, they are acknowledged and dropped); call
  /// it before connect() to see what a resumed persistent session delivers at once.
  void start_receiving();

  /// With `manual` true (call before connect()), a received QoS 1/2 message is
  /// acknowledged only when the caller passes it to acknowledge(), e.g. once it was written
  /// out: one that never was is sent again to a resumed persistent session. Messages
  /// skipped before start_receiving() or after disconnect() are acknowledged at once.
  void set_manual_acknowledgement(bool manual) noexcept;
  /// Queues the PUBACK (QoS 1) or PUBREC (QoS 2) of a message receive() returned (with
  /// manual acknowledgement); nothing for QoS 0 or once the connection is gone.
  void acknowledge(const ReceivedMessage& message);

  /// Connects (TCP, TLS, CONNECT/CONNACK); throws ConnectError (with the CONNACK / v5
  /// reason code when the broker refused), TimeoutError, InterruptedError.
  ConnectResult connect();
  /// Opens the connection and queues CONNECT without waiting for CONNACK, so the first
  /// message travels in the same write (a one-shot publish saves a round trip; MQTT lets
  /// a client send before CONNACK, and a broker that refuses processes none of it). The
  /// CONNACK is checked by the next call that waits: flush(), serve(), a second
  /// publish(), wait_for_acknowledgements() or disconnect() then throw what connect()
  /// would have thrown.
  void start_connect();
  /// Queues the message; it is written together with the following ones once enough is
  /// queued, when serve()/flush() run, or at the latest by disconnect(). Blocks while the
  /// window is full. Throws ConfigError for an invalid topic, DeliveryError when the
  /// connection was lost or the message cannot be carried.
  void publish(const OutgoingMessage& message);
  /// Writes everything queued (waiting for the socket as needed).
  void flush();
  /// Keeps the connection alive while the caller waits: writes what is queued, reads
  /// acknowledgements, sends PINGREQ when due. Returns true as soon as `fd` is readable,
  /// false when `timeout` passed (or stop was requested). `fd` -1 waits the whole time.
  bool serve(int fd, std::chrono::milliseconds timeout);
  /// Waits until nothing is in flight; throws DeliveryError naming how many messages
  /// are unacknowledged when `timeout` passes or the connection is lost, or how many were
  /// refused.
  void wait_for_acknowledgements(std::chrono::milliseconds timeout);
  /// Subscribes (one SUBSCRIBE for every filter) and waits for the SUBACK; returns the
  /// granted QoS per filter in order, or the refusal code (3.x: 0x80; v5: the reason
  /// code). Throws TimeoutError, InterruptedError, ConnectError when the connection is lost.
  std::vector<int> subscribe(const std::vector<std::string>& filters, const SubscribeOptions& options);
  /// Unsubscribes and waits for the UNSUBACK; throws ProtocolError when a v5 broker
  /// refuses, otherwise like subscribe().
  void unsubscribe(const std::vector<std::string>& filters);
  /// The next received message, or nullopt when `timeout` passes first (0: only what has
  /// already arrived). Keeps the connection alive meanwhile. Throws ConnectError
  /// ("connection lost: ...") once the connection is lost and the queue is empty, and
  /// InterruptedError when stop is requested and the queue is empty.
  std::optional<ReceivedMessage> receive(std::chrono::milliseconds timeout);
  /// Graceful: waits up to `drain_timeout` for in-flight acknowledgements, then sends
  /// DISCONNECT and closes. Throws DeliveryError if messages stayed unacknowledged.
  void disconnect(std::chrono::milliseconds drain_timeout = std::chrono::seconds(10));

  bool is_connected() const;
  DeliveryReport delivery_report() const;
  const ConnectionProfile& profile() const noexcept;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace mqfleet
