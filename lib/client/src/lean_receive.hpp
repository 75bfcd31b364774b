#pragma once
// The socket-free receiving half of LeanConnection: SUBSCRIBE / UNSUBSCRIBE and their
// acknowledgements, inbound PUBLISH turned into ReceivedMessage, and the inbound QoS 1/2
// handshakes (PUBACK; PUBREC, PUBREL, PUBCOMP without delivering a re-sent QoS 2 message
// twice). Like PublishState it reads frames and appends packets to an OutBuffer; the I/O
// half (lean_connection.cpp) moves the bytes. Unit-tested without sockets.

#include "lean_session.hpp"

#include <mqfleet/connection.hpp>
#include <mqfleet/mqtt/frame.hpp>
#include <mqfleet/mqtt/packets.hpp>
#include <mqfleet/mqtt/publish_view.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mqfleet::detail {

/// The receiving state of one connection.
class ReceiveState {
public:
  explicit ReceiveState(mqtt::ProtocolVersion version);

  /// From now on received messages are queued; before, they are acknowledged and dropped
  /// (as the Paho-backed Connection does).
  void start_receiving() noexcept { m_receiving = true; }
  /// Drops the queue and stops queueing (messages still arriving are acknowledged).
  void stop_receiving() noexcept {
    m_receiving = false;
    m_inbox.clear();
  }

  /// With `manual` true, queued QoS 1/2 messages wait for acknowledge() (see
  /// LeanConnection::set_manual_acknowledgement).
  void set_manual_acknowledgement(bool manual) noexcept { m_manual_acks = manual; }
  /// The Topic Alias Maximum this client announced in CONNECT (0: the broker may not use
  /// aliases); inbound aliases up to it are resolved.
  void set_topic_alias_maximum(std::uint16_t maximum) noexcept { m_alias_maximum = maximum; }
  /// Appends the PUBACK / PUBREC of a queued message (manual acknowledgement).
  void acknowledge(const ReceivedMessage& message, OutBuffer& out);

  /// Appends one SUBSCRIBE carrying every filter with `options` (the MQTT 5 options and
  /// `properties` only under MQTT 5). Throws ConfigError for an empty filter list or a
  /// request the protocol cannot carry.
  void subscribe(std::uint16_t packet_id, const std::vector<std::string>& filters, const SubscribeOptions& options,
                 const mqtt::Properties& properties, OutBuffer& out);
  /// Appends one UNSUBSCRIBE for the filters (`properties` only under MQTT 5).
  void unsubscribe(std::uint16_t packet_id, const std::vector<std::string>& filters,
                   const mqtt::Properties& properties, OutBuffer& out);

  /// Handles PUBLISH, PUBREL, SUBACK and UNSUBACK (appending PUBACK / PUBREC / PUBCOMP to
  /// out) and returns true; returns false for any other frame. Throws ProtocolError for a
  /// malformed one or a SUBACK whose codes do not match its SUBSCRIBE.
  bool on_frame(const mqtt::Frame& frame, OutBuffer& out);

  /// The SUBACK codes for `packet_id` once it has arrived (granted QoS 0-2, or 0x80 and
  /// above for a refusal; 3.x refusals read 0x80), one per filter in order.
  std::optional<std::vector<int>> take_suback(std::uint16_t packet_id);
  /// The UNSUBACK codes for `packet_id` once it has arrived (empty before MQTT 5).
  std::optional<std::vector<int>> take_unsuback(std::uint16_t packet_id);

  /// After a reconnect: topic aliases belong to one connection and are forgotten; without a
  /// present session the QoS 2 identifiers awaiting PUBREL are too (the broker forgot them).
  /// Requests still waiting for SUBACK/UNSUBACK are dropped. Queued messages stay.
  void resume(bool session_present);

  /// Messages received and not taken yet, oldest first.
  std::deque<ReceivedMessage>& inbox() noexcept { return m_inbox; }
  /// How many messages wait in the queue.
  std::size_t queued() const noexcept { return m_inbox.size(); }

private:
  struct Request {
    std::uint16_t packet_id = 0;
    std::size_t filters = 0;
    std::optional<std::vector<int>> codes; ///< set when the acknowledgement arrived
  };

  void on_publish(const mqtt::Frame& frame, OutBuffer& out);
  static std::optional<std::vector<int>> take(std::vector<Request>& requests, std::uint16_t packet_id);

  mqtt::ProtocolVersion m_version;
  bool m_receiving = false;
  bool m_manual_acks = false;
  std::uint16_t m_alias_maximum = 0;
  std::vector<std::string> m_aliases; ///< inbound topic aliases, indexed by alias
  /// QoS 2 identifiers whose PUBLISH is queued and not acknowledged yet (manual mode).
  std::vector<bool> m_unacknowledged;
  std::deque<ReceivedMessage> m_inbox;
  /// QoS 2 identifiers whose PUBLISH was delivered and whose PUBREL has not come yet.
  std::vector<bool> m_awaiting_pubrel;
  std::vector<Request> m_subscribes;
  std::vector<Request> m_unsubscribes;
};

/// A received PUBLISH as the Paho-backed Connection reports it (topic, payload, QoS,
/// retain, DUP, the v5 properties a message carries, the time it was received).
ReceivedMessage to_received(const mqtt::PublishView& publish, mqtt::ProtocolVersion version);

} // namespace mqfleet::detail
