#pragma once
// The socket-free half of LeanConnection: what goes into CONNECT, what a CONNACK means,
// and the publishing state (packet identifiers, the in-flight window, QoS 1/2 handshakes,
// the delivery report); receiving is lean_receive.hpp. It reads frames and appends
// packets to an OutBuffer; the I/O half (lean_connection.cpp, lean_transport.cpp) moves
// the bytes. Unit-tested without sockets.

#include <mqfleet/connection.hpp>
#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/frame.hpp>
#include <mqfleet/mqtt/packets.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace mqfleet::detail {

/// The wire protocol level for a profile's MQTT version.
mqtt::ProtocolVersion wire_version(MqttVersion version) noexcept;

/// The CONNECT packet for `profile` with the already resolved `password` (empty: none).
/// 3.1/3.1.1 cannot carry a password without a user name, so it is left out then.
mqtt::Connect make_connect(const ConnectionProfile& profile, const std::string& password);

/// "not authorized", "bad user name or password"...: the meaning of a CONNACK return code
/// (3.1/3.1.1) or reason code (5).
std::string describe_connack_code(int code, bool v5);

/// The error for a CONNACK that refused the connection; `code` is the 3.x return code or
/// the v5 reason code, as the Paho-backed Connection reports it.
ConnectError connack_refusal(int code, bool v5, const std::string& where);

/// Outgoing bytes: packets are appended at the back and written from the front. Offsets
/// count every byte ever appended or written, so a position survives compaction.
class OutBuffer {
public:
  /// The buffer to append encoded packets to.
  std::string& data() noexcept { return m_data; }
  /// Bytes appended but not written yet, starting at the first unwritten one.
  const char* pending_data() const noexcept { return m_data.data() + m_begin; }
  std::size_t pending() const noexcept { return m_data.size() - m_begin; }
  /// Marks n pending bytes as written; drops written bytes once they are the bulk.
  void consume(std::size_t n) noexcept;
  /// Stream offset just past the last byte appended / written.
  std::uint64_t appended() const noexcept { return m_written + pending(); }
  std::uint64_t written() const noexcept { return m_written; }

private:
  std::string m_data;
  std::size_t m_begin = 0;
  std::uint64_t m_written = 0;
};

/// What an incoming frame (other than acknowledgements) told the connection.
struct InboundEvent {
  bool pingresp = false;                ///< a PINGRESP arrived
  std::optional<int> disconnect_reason; ///< the broker sent DISCONNECT (v5) with this reason
};

/// Publishing state of one connection.
class PublishState {
public:
  /// State for `version`; `window` QoS >= 1 messages may await acknowledgement at once.
  explicit PublishState(mqtt::ProtocolVersion version, std::size_t window = 1000);

  /// Limits the window (1..65535); a v5 broker's Receive Maximum lowers it further.
  void set_window(std::size_t window) noexcept;
  std::size_t window() const noexcept { return m_window; }
  /// Applies what CONNACK announced (v5 Receive Maximum, Maximum QoS, Maximum Packet
  /// Size, Topic Alias Maximum).
  void apply_connack(const mqtt::Connack& connack);
  /// True when a QoS >= 1 message would exceed the window.
  bool window_full() const noexcept {
    return m_awaiting >= m_window || (m_awaiting > 0 && m_stored_bytes >= k_max_stored_bytes);
  }
  /// Unacknowledged QoS >= 1 messages are kept for a resend after a reconnect; beyond this
  /// many bytes of them the window counts as full, so memory stays bounded.
  static constexpr std::size_t k_max_stored_bytes = 64 * 1024 * 1024;
  /// True when a message of this QoS would exceed the window. Before MQTT 5 a broker
  /// cannot announce how many QoS 2 messages it takes at once, and mosquitto closes the
  /// connection beyond its default of 20, so at most k_v3_qos2_window are in flight then.
  bool window_full(int qos) const noexcept {
    return qos > 0 && (window_full() || (qos == 2 && m_version != mqtt::ProtocolVersion::v5 &&
                                         m_awaiting_qos2 >= k_v3_qos2_window));
  }
  /// The QoS 2 window before MQTT 5 (mosquitto's default max_inflight_messages).
  static constexpr std::size_t k_v3_qos2_window = 20;
  /// QoS >= 1 messages sent and not acknowledged (positively or not) yet.
  std::size_t awaiting() const noexcept { return m_awaiting; }
  /// A packet identifier for a SUBSCRIBE or UNSUBSCRIBE, taken from the same space as
  /// the PUBLISH ones so the two never collide; give it back with release_packet_id().
  std::uint16_t reserve_packet_id();
  /// Frees an identifier from reserve_packet_id() once its acknowledgement arrived.
  void release_packet_id(std::uint16_t packet_id) noexcept;

  /// Appends the PUBLISH for `message` to out (QoS >= 1 needs !window_full()). Throws
  /// ConfigError for a topic that cannot be published to or a topic alias the broker does
  /// not accept, and DeliveryError for a message the protocol or the broker's announced
  /// limits cannot carry; nothing is appended then. With a topic alias the topic name is
  /// left out when this connection last sent the same topic with that alias.
  void publish(const OutgoingMessage& message, OutBuffer& out);
  /// Handles one frame from the broker after CONNACK; appends PUBREL/PUBACK/PUBREC/PUBCOMP
  /// responses to out. Throws ProtocolError for a frame that has no place here.
  InboundEvent on_frame(const mqtt::Frame& frame, OutBuffer& out);
  /// Counts QoS 0 messages as delivered once every byte up to them is written.
  void on_written(std::uint64_t written) noexcept;
  /// After a reconnect, on a fresh `out` (stream offsets start again at 0): appends every
  /// unacknowledged QoS 1/2 PUBLISH again, oldest first, with DUP set and its original
  /// packet identifier, and the PUBREL of each QoS 2 message the broker already received
  /// (PUBREC). Without a present session a PUBREC'd message counts as delivered instead
  /// (the broker took it; a PUBREL would only be answered "identifier not found").
  /// QoS 0 messages that were queued but never written count as failed (QoS 0 has no
  /// redelivery). Packet identifiers reserved for SUBSCRIBE/UNSUBSCRIBE are freed.
  /// Returns how many PUBLISH packets were resent.
  std::size_t resume(OutBuffer& out, bool session_present);

  /// The counts so far; published - acknowledged - failed are still outstanding.
  const DeliveryReport& report() const noexcept { return m_report; }

private:
  enum class Slot : std::uint8_t { free, puback, pubrec, pubcomp, request };

  Slot slot(std::uint16_t packet_id) const noexcept {
    return packet_id < m_slots.size() ? m_slots[packet_id] : Slot::free;
  }
  std::uint16_t next_packet_id();
  void complete(std::uint16_t packet_id, int reason_code);
  void forget_stored(std::uint16_t packet_id) noexcept;
  const std::string& encoded_properties(const PublishProperties& properties);
  void check_topic_alias(std::uint16_t alias) const;

  mqtt::ProtocolVersion m_version;
  std::size_t m_requested_window;
  std::size_t m_window;
  std::uint8_t m_maximum_qos = 2;
  std::uint32_t m_maximum_packet_size = 0; ///< 0: no limit announced
  std::uint16_t m_topic_alias_maximum = 0; ///< CONNACK's Topic Alias Maximum (absent: 0, none)
  std::vector<std::string> m_alias_topics; ///< by topic alias: the topic it stands for now
  std::vector<Slot> m_slots;               ///< by packet identifier, up to the highest used
  std::vector<std::string> m_stored;       ///< encoded PUBLISH awaiting PUBACK/PUBREC, by identifier
  std::size_t m_stored_bytes = 0;
  std::uint16_t m_last_id = 0;
  std::size_t m_awaiting = 0;
  std::size_t m_awaiting_qos2 = 0;
  DeliveryReport m_report;
  /// QoS 0 messages not yet written: (stream offset of their end, count), oldest first.
  std::deque<std::pair<std::uint64_t, std::size_t>> m_unwritten_qos0;
  bool m_qos0_entry_open = false;
  std::optional<PublishProperties> m_cached_properties;
  std::string m_cached_encoding;
};

} // namespace mqfleet::detail
