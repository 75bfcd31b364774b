#pragma once
// Per-client session state (MQTT 4.1 / v5 4.1): subscriptions, the outgoing in-flight
// window and its redelivery on reconnect, incoming QoS 2 packet ids, a bounded offline
// queue, packet-id allocation, session expiry, the will, and client→broker topic aliases.
//
// It decides, it does not do I/O: the caller pushes deliveries, asks next() for what to
// write, and reports acknowledgements. Not thread-safe: the caller serialises access.
//
// Queue policy (docs/broker.md repeats it): messages wait in the queue while the
// in-flight window is full or the client is offline. When the queue holds
// max_queued_messages (or max_queued_bytes) the NEW message is dropped and counted
// (mosquitto's policy: what is already queued keeps its order). QoS 0 messages for an
// offline client are dropped and counted unless queue_qos0_offline is set. Messages whose
// v5 expiry passes while queued are dropped and counted when they reach the queue head.

#include <mqfleet/broker/message.hpp>
#include <mqfleet/broker/subscription_tree.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mqfleet::broker {

/// The per-session limits (broker-wide settings).
struct SessionLimits {
  /// Queued (not yet in-flight) messages per session; 0 = unlimited.
  std::size_t max_queued_messages = 1000;
  /// Queued payload + topic bytes per session; 0 = unlimited.
  std::size_t max_queued_bytes = 0;
  /// Broker cap on unacknowledged outgoing QoS 1/2 messages; the effective window is
  /// min(this, the client's v5 receive maximum). Must be 1..65535.
  std::uint16_t max_inflight = 20;
  /// Queue QoS 0 messages while the client is offline (mosquitto: queue_qos0_messages).
  bool queue_qos0_offline = false;
};

/// A message on its way to one subscriber, with the subscriber-specific fields.
struct Delivery {
  MessagePtr message;
  std::uint8_t qos = 0;   ///< min(subscription QoS, message QoS)
  bool retain = false;    ///< RETAIN flag to send
  std::vector<std::uint32_t> subscription_identifiers; ///< v5
};

/// What the caller must write next.
struct Outgoing {
  enum class Kind : std::uint8_t { publish, pubrel };
  Kind kind = Kind::publish;
  std::uint16_t packet_id = 0; ///< 0 for a QoS 0 PUBLISH
  bool dup = false;            ///< PUBLISH DUP flag (true on redelivery)
  Delivery delivery;           ///< empty for PUBREL
};

/// The outcome of Session::push().
enum class PushResult : std::uint8_t {
  accepted,             ///< queued; call next() to send it
  dropped_queue_full,   ///< max_queued_messages / max_queued_bytes reached
  dropped_qos0_offline, ///< QoS 0 for an offline client (queue_qos0_offline off)
};

/// The will message with its v5 delay.
struct Will {
  MessagePtr message;
  std::uint32_t delay_interval = 0; ///< seconds (v5 will delay interval)
  /// v5 Message Expiry Interval of the will in seconds; it starts when the will is
  /// published (see message_at()).
  std::optional<std::uint32_t> message_expiry_interval;

  /// The message to route when the will is published at `now`, with its expiry set.
  MessagePtr message_at(Clock::time_point now) const;
};

/// Client→broker topic aliases of one network connection (v5 3.3.2.3.4).
class TopicAliasMap {
public:
  /// `maximum` is the Topic Alias Maximum the broker announced in CONNACK (0 = none).
  explicit TopicAliasMap(std::uint16_t maximum = 0) : m_maximum(maximum) {}
  /// Forgets every alias and sets a new maximum (a new connection).
  void reset(std::uint16_t maximum);
  /// Applies a PUBLISH's alias: a non-empty `topic` (re)binds `alias` and is returned; an
  /// empty one is replaced by the bound topic. Throws ProtocolError 0x94 (topic alias
  /// invalid) for alias 0 or above the maximum, 0x82 (protocol error) for an empty topic
  /// with an unbound alias. The view stays valid until the alias is rebound or reset.
  std::string_view resolve(std::uint16_t alias, std::string_view topic);
  /// The announced maximum.
  std::uint16_t maximum() const noexcept { return m_maximum; }

private:
  std::uint16_t m_maximum;
  /// Created on the first alias: most connections never use one.
  std::unique_ptr<std::unordered_map<std::uint16_t, std::string>> m_aliases;
};

/// Broker→client topic aliases of one network connection (v5 3.3.2.3.4), used when the
/// client announced a Topic Alias Maximum in CONNECT. The first topics sent get aliases
/// 1..limit and keep them for the life of the connection (no replacement: a rebinding
/// would cost the bytes it saves); later topics go out without an alias.
class OutgoingTopicAliases {
public:
  /// At most this many aliases per connection, whatever the client allows (memory).
  static constexpr std::uint16_t k_max_aliases = 256;
  /// `client_maximum` is the client's Topic Alias Maximum (0 = never use an alias).
  explicit OutgoingTopicAliases(std::uint16_t client_maximum) noexcept
      : m_limit(client_maximum < k_max_aliases ? client_maximum : k_max_aliases) {}
  /// How to send a PUBLISH to `topic`.
  struct Choice {
    std::uint16_t alias = 0; ///< 0 = no alias
    bool send_topic = true;  ///< false: the alias is bound, send an empty topic
  };
  /// The choice for `topic`; a new alias is only reserved by bind(), once the PUBLISH
  /// that carries the topic with it has actually been sent.
  Choice choose(std::string_view topic) const;
  /// Records that `alias` (from choose()) was sent with `topic`.
  void bind(std::string_view topic, std::uint16_t alias);
  /// Number of bound aliases.
  std::size_t size() const noexcept { return m_aliases.size(); }

private:
  std::uint16_t m_limit;
  std::map<std::string, std::uint16_t, std::less<>> m_aliases;
};

/// The subscriptions a session records, by filter.
using SubscriptionMap = std::map<std::string, SubscriptionOptions, std::less<>>;

/// One client session.
///
/// Memory: every connected client has one, so what most sessions never use lives out of
/// line and is created on first use — the subscription map (first SUBSCRIBE), the
/// message flow state (queue, in-flight window, incoming QoS 2 ids, drop counters; first
/// message) and the will (CONNECT with a will).
class Session {
public:
  /// `key` is the session's SubscriberKey (e.g. mounted client id).
  Session(std::string key, SessionLimits limits = {});

  /// The session key.
  const std::string& key() const noexcept { return m_key; }
  /// The limits in force.
  const SessionLimits& limits() const noexcept { return *m_limits; }

  // --- connection lifecycle -------------------------------------------------------
  /// A network connection took the session: sets the client's receive maximum
  /// (65535 when absent) and cancels a pending expiry or delayed will. Returns what
  /// must be retransmitted first, in order: unacknowledged PUBLISHes with DUP set and
  /// PUBRELs for QoS 2 messages already PUBREC'd (MQTT 4.4).
  std::vector<Outgoing> attach(std::uint16_t client_receive_maximum = 65535);
  /// The connection ended at `now`: starts the session-expiry and will-delay clocks.
  /// Clear the will first on a normal DISCONNECT.
  void detach(Clock::time_point now);
  /// True between attach() and detach().
  bool connected() const noexcept { return m_connected; }

  // --- subscriptions (the session's record; SubscriptionTree is the index) ---------
  /// Records a subscription (filter as stored in the tree) and its options.
  void set_subscription(std::string filter, const SubscriptionOptions& options);
  /// Forgets a subscription; false when it was not recorded.
  bool remove_subscription(std::string_view filter);
  /// Every recorded subscription.
  const SubscriptionMap& subscriptions() const noexcept;

  // --- outgoing messages -------------------------------------------------------------
  /// Offers a message for delivery; see the queue policy above.
  PushResult push(Delivery delivery);
  /// The next PUBLISH to write now, if any: QoS 0 messages at once, QoS 1/2 while the
  /// in-flight window has room (they get a packet id and become in-flight). Nothing
  /// while detached. Expired messages at the queue head are dropped and counted.
  std::optional<Outgoing> next(Clock::time_point now = Clock::now());
  /// PUBACK for an in-flight QoS 1 message; false when `packet_id` is not one.
  bool on_puback(std::uint16_t packet_id);
  /// PUBREC for an in-flight QoS 2 message; with `accepted` (reason < 0x80) the message
  /// waits for PUBCOMP and the caller sends PUBREL, otherwise it is released. False when
  /// `packet_id` is not awaiting PUBREC.
  bool on_pubrec(std::uint16_t packet_id, bool accepted = true);
  /// PUBCOMP for a released QoS 2 message; false when `packet_id` is not awaiting it.
  bool on_pubcomp(std::uint16_t packet_id);
  /// Puts back an in-flight message read from durable state (broker restart): with
  /// `released` only its PUBREL is pending. attach() then retransmits it as usual.
  void restore_inflight(std::uint16_t packet_id, bool released, Delivery delivery);
  /// Number of in-flight (unacknowledged) QoS 1/2 messages.
  std::size_t inflight_count() const noexcept { return m_flow ? m_flow->inflight.size() : 0; }
  /// The effective in-flight window.
  std::uint16_t window() const noexcept { return m_window; }
  /// Number of queued (not yet in-flight) messages.
  std::size_t queued_count() const noexcept { return m_flow && m_flow->queue ? m_flow->queue->size() : 0; }
  /// Bytes (topic + payload) in the queue.
  std::size_t queued_bytes() const noexcept { return m_flow ? m_flow->queued_bytes : 0; }
  /// Messages dropped because the queue was full.
  std::uint64_t dropped_queue_full() const noexcept { return m_flow ? m_flow->dropped_full : 0; }
  /// QoS 0 messages dropped because the client was offline.
  std::uint64_t dropped_qos0_offline() const noexcept { return m_flow ? m_flow->dropped_qos0 : 0; }
  /// Messages dropped because their v5 expiry passed while queued.
  std::uint64_t dropped_expired() const noexcept { return m_flow ? m_flow->dropped_expired : 0; }

  // --- incoming QoS 2 ----------------------------------------------------------------
  /// A QoS 2 PUBLISH arrived with `packet_id`: true when it is new (route it, then send
  /// PUBREC), false when it is a duplicate of one awaiting PUBREL (only resend PUBREC).
  bool incoming_qos2_begin(std::uint16_t packet_id);
  /// PUBREL arrived: forgets the id; false when it was unknown (v5 PUBCOMP 0x92).
  bool incoming_qos2_release(std::uint16_t packet_id);
  /// Number of QoS 2 messages received and awaiting PUBREL.
  std::size_t incoming_qos2_count() const noexcept {
    return m_flow && m_flow->incoming_qos2 ? m_flow->incoming_qos2->size() : 0;
  }

  // --- session expiry ------------------------------------------------------------------
  /// Sets the v5 session expiry interval in seconds (0 = ends with the connection,
  /// 0xFFFFFFFF = never). 3.1.1 clean session = 0; persistent = 0xFFFFFFFF.
  void set_expiry_interval(std::uint32_t seconds) noexcept { m_expiry_interval = seconds; }
  /// The session expiry interval in seconds.
  std::uint32_t expiry_interval() const noexcept { return m_expiry_interval; }
  /// When a detached session expires; empty while connected or when it never expires.
  std::optional<Clock::time_point> expires_at() const noexcept;
  /// True when the session is detached and its expiry passed at `now`.
  bool expired(Clock::time_point now) const noexcept;

  // --- will ------------------------------------------------------------------------------
  /// Sets the will of the current connection.
  void set_will(Will will);
  /// Drops the will (normal DISCONNECT, or after it was published).
  void clear_will() noexcept { m_will.reset(); }
  /// True when a will is set.
  bool has_will() const noexcept { return m_will != nullptr; }
  /// When the will of a detached session becomes due: detach time + min(will delay,
  /// session expiry interval). Empty while connected or without a will.
  std::optional<Clock::time_point> will_due_at() const noexcept { return m_will ? m_will->due : std::nullopt; }
  /// The will when it is due at `now` (it is then cleared), else empty.
  std::optional<Will> take_due_will(Clock::time_point now);

  // --- topic aliases -----------------------------------------------------------------
  /// The client→broker topic aliases of the current connection. detach() forgets them;
  /// after attach() call topic_aliases().reset(maximum announced in CONNACK).
  TopicAliasMap& topic_aliases() noexcept { return m_aliases; }

private:
  enum class State : std::uint8_t { awaiting_puback, awaiting_pubrec, awaiting_pubcomp };
  struct Inflight {
    State state;
    Delivery delivery;
  };
  /// Message flow state, created by the first message in either direction.
  struct Flow {
    /// Created on the first push and released when drained: an empty std::deque still
    /// allocates a block, which idle sessions should not pay for.
    std::unique_ptr<std::deque<Delivery>> queue;
    std::size_t queued_bytes = 0;
    /// In-flight messages in send order (ids are unique; order matters for redelivery).
    std::map<std::uint64_t, std::uint16_t> inflight_order;
    std::unordered_map<std::uint16_t, std::pair<std::uint64_t, Inflight>> inflight;
    std::uint64_t send_sequence = 0;
    std::uint16_t next_packet_id = 1;
    /// Created on the first incoming QoS 2 PUBLISH.
    std::unique_ptr<std::unordered_set<std::uint16_t>> incoming_qos2;
    std::uint64_t dropped_full = 0;
    std::uint64_t dropped_qos0 = 0;
    std::uint64_t dropped_expired = 0;
  };
  /// The will and, once detached, when it is due.
  struct WillState {
    Will will;
    std::optional<Clock::time_point> due;
  };
  std::optional<std::uint16_t> allocate_packet_id();
  Flow& flow();

  std::string m_key;
  const SessionLimits* m_limits; ///< shared by every session with equal limits
  std::unique_ptr<SubscriptionMap> m_subscriptions; ///< created on the first subscription
  std::unique_ptr<Flow> m_flow;                     ///< created on the first message
  std::unique_ptr<WillState> m_will;                ///< set while there is a will
  /// When the session was detached; Clock::time_point::min() while connected or never.
  Clock::time_point m_detached_at = Clock::time_point::min();
  TopicAliasMap m_aliases;
  std::uint32_t m_expiry_interval = 0;
  std::uint16_t m_window;
  bool m_connected = false;
};

} // namespace mqfleet::broker
