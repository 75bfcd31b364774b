#pragma once
// One MQTT client connection of the fast engine (plain TCP or TLS, MQTT 3.1.1 or 5.0),
// living on one EventLoop. Designed for thousands per thread:
//   - no read buffer per connection (reads go to the loop's scratch space; only a partial
//     frame is kept), an output buffer that is reused and shrunk when large;
//   - every packet queued during one loop iteration goes out in one write();
//   - QoS 0 publish and received PUBLISH do not allocate (topic/payload are views);
//   - QoS 1 and 2 flows run completely in both directions (PUBACK; PUBREC/PUBREL/PUBCOMP);
//   - keepalive PINGREQ and a connect timeout are checked by the loop twice a second.
// Not done by the engine: automatic reconnect, resending unacknowledged messages after a
// reconnect (in-flight messages complete with an error in on_closed), topic aliases.
//
// Threading: every method and callback runs on the client's loop thread (use
// loop().post() from elsewhere). Callbacks may call any method of any client of the same
// loop, including connect() again after on_closed/on_connect_failed.

#include <mqfleet/engine/event_loop.hpp>
#include <mqfleet/tls.hpp>
#include <mqfleet/websocket.hpp>
#include <mqfleet/engine/wire.hpp>
#include <mqfleet/mqtt/packets.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

typedef struct ssl_st SSL;

namespace mqfleet::engine {

/// Everything needed to open one connection.
struct ClientOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 1883;
  std::string bind_address;              ///< Local source address (e.g. 127.0.0.2); empty = any.
  std::shared_ptr<const TlsClientContext> tls; ///< Null = plain TCP.
  std::string sni;                       ///< TLS server name (and name checked); empty = host.
  std::string ws_path;                   ///< Non-empty: MQTT over WebSocket at this HTTP path.
  std::string unix_path;                 ///< Non-empty: a Unix-domain socket instead of host:port.
  mqtt::ProtocolVersion version = mqtt::ProtocolVersion::v3_1_1;
  std::string client_id;
  std::optional<std::string> username;
  std::optional<std::string> password;   ///< Never logged or reported.
  std::uint16_t keepalive_seconds = 60;  ///< 0 = no PINGREQ.
  bool clean_start = true;
  /// Will message (shared: mqtt::Will is large and often the same for many clients).
  std::shared_ptr<const mqtt::Will> will;
  /// v5 CONNECT properties (session expiry...); null = none.
  std::shared_ptr<const mqtt::Properties> connect_properties;
  std::uint16_t max_inflight = 100;      ///< Outgoing QoS 1/2 window (also capped by the
                                         ///< broker's v5 Receive Maximum).
  std::chrono::milliseconds connect_timeout{30'000}; ///< TCP + TLS + CONNACK.
  std::size_t max_packet_size = mqtt::k_default_max_packet_size; ///< Larger frames close.
};

/// Time stamps of one connection attempt, for connect-rate and handshake statistics.
struct ConnectTimes {
  Clock::time_point started;       ///< connect() was called.
  Clock::time_point tcp_connected; ///< TCP handshake done.
  Clock::time_point tls_done;      ///< TLS handshake done (== tcp_connected without TLS).
  Clock::time_point connack;       ///< CONNACK received.
};

/// A successful CONNACK.
struct ConnackInfo {
  bool session_present = false;
  std::uint16_t receive_maximum = 65535; ///< From the v5 CONNACK; 65535 for 3.1.1.
  ConnectTimes times;
};

/// Why a connection attempt failed (before a successful CONNACK).
struct ConnectFailure {
  /// The CONNACK code as received: 3.1.1 return code (e.g. 5) or v5 reason code (e.g.
  /// 0x87); -1 when no CONNACK came (DNS, TCP, TLS, timeout, closed by the peer).
  int reason_code = -1;
  std::string_view stage;   ///< "resolve", "tcp", "tls", "websocket", "mqtt" or "timeout".
  std::string_view message; ///< Human text (strerror, OpenSSL, reason name); no secrets.
  ConnectTimes times;
};

/// Why an established connection (after CONNACK) closed.
struct CloseInfo {
  bool by_us = false;       ///< disconnect() or abort() was called.
  int disconnect_reason = -1; ///< v5 DISCONNECT reason from the broker; -1 if none.
  std::string_view message; ///< Human text: "disconnected", "connection reset", ...
  std::uint32_t inflight_lost = 0; ///< QoS 1/2 publishes that never completed.
};

/// A received PUBLISH. Every view points into the read buffer: valid only during the call.
struct IncomingMessage {
  std::string_view topic;
  std::string_view payload;
  std::string_view properties; ///< Encoded v5 properties (mqtt::decode_properties).
  mqtt::QoS qos = mqtt::QoS::at_most_once;
  bool retain = false;
  bool dup = false;
  std::uint16_t packet_id = 0;
};

/// Receives a client's events. Default implementations ignore them. One handler may serve
/// many clients (use Client::user_data() to tell them apart).
class ClientHandler {
public:
  virtual ~ClientHandler() = default;
  /// CONNACK with success: the client is connected.
  virtual void on_connected(Client&, const ConnackInfo&) {}
  /// The attempt failed; the client is closed (connect() may be called again).
  virtual void on_connect_failed(Client&, const ConnectFailure&) {}
  /// A message arrived (QoS 1/2 acknowledgements are sent by the engine).
  virtual void on_message(Client&, const IncomingMessage&) {}
  /// A QoS 1 (PUBACK) or QoS 2 (PUBCOMP) publish completed; reason from the v5 ack, or
  /// from a v5 PUBREC with an error code (the QoS 2 flow ends there).
  virtual void on_publish_complete(Client&, std::uint16_t /*packet_id*/, mqtt::ReasonCode) {}
  /// QoS 0 publishes left the process (written to the socket): count since the last call.
  virtual void on_qos0_written(Client&, std::uint32_t /*count*/) {}
  /// SUBACK for subscribe()'s packet id, one code per filter (3.1.1 failures: 0x80).
  virtual void on_suback(Client&, std::uint16_t /*packet_id*/,
                         std::span<const mqtt::ReasonCode> /*codes*/) {}
  /// UNSUBACK for unsubscribe()'s packet id.
  virtual void on_unsuback(Client&, std::uint16_t /*packet_id*/) {}
  /// An established connection closed (not called for failed attempts).
  virtual void on_closed(Client&, const CloseInfo&) {}
};

/// Connection state of a client.
enum class ClientState : std::uint8_t {
  idle,        ///< Never connected, or closed.
  connecting,  ///< TCP, TLS or waiting for CONNACK.
  connected,   ///< CONNACK received.
  closing,     ///< disconnect(): DISCONNECT queued, waiting for it to be written.
};

/// One MQTT connection; created by EventLoop::add_client or EnginePool::add_client.
class Client final : public IoHandler {
public:
  Client(EventLoop& loop, ClientOptions options, ClientHandler& handler, std::uint64_t user_data);
  ~Client() override;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Starts connecting (non-blocking; DNS may block for non-numeric hosts the first
  /// time). Ignored unless idle. Failures arrive as on_connect_failed.
  void connect();
  /// Queues SUBSCRIBE; returns its packet id (0 when not connected). Throws
  /// mqfleet::ProtocolError for invalid filters.
  std::uint16_t subscribe(std::span<const mqtt::Subscription> subscriptions);
  /// Same for one filter.
  std::uint16_t subscribe(std::string_view filter, mqtt::QoS qos);
  /// Queues UNSUBSCRIBE; returns its packet id (0 when not connected).
  std::uint16_t unsubscribe(std::span<const std::string> filters);
  /// Queues a PUBLISH. Returns nullopt when not connected or the QoS 1/2 window is full;
  /// else 0 for QoS 0 and the packet id for QoS 1/2. Throws mqfleet::ProtocolError for an
  /// invalid topic. QoS 0 does not allocate (after the output buffer has grown once).
  std::optional<std::uint16_t> publish(std::string_view topic, std::string_view payload,
                                       mqtt::QoS qos, bool retain = false);
  /// Graceful close: DISCONNECT, flush, close; on_closed(by_us) follows. No will.
  void disconnect();
  /// Abrupt close without DISCONNECT (the broker publishes the will); on_closed(by_us)
  /// is called before returning if the client was connected.
  void abort();

  /// Current state.
  ClientState state() const noexcept { return m_state; }
  /// True after CONNACK until closed.
  bool connected() const noexcept { return m_state == ClientState::connected; }
  /// QoS 1/2 publishes waiting for their acknowledgement.
  std::uint32_t inflight() const noexcept { return m_window.in_use(); }
  /// The usable window (max_inflight capped by the broker's Receive Maximum).
  std::uint32_t window() const noexcept { return m_window.capacity(); }
  /// Bytes queued for the socket and not yet written.
  std::size_t pending_output() const noexcept {
    return m_out.size() - m_out_offset + (m_ws ? m_ws->wire.size() - m_ws->wire_offset : 0);
  }
  /// The value given at creation (e.g. the caller's client index).
  std::uint64_t user_data() const noexcept { return m_user_data; }
  /// The options this client connects with.
  const ClientOptions& options() const noexcept { return m_options; }
  /// The loop this client lives on.
  EventLoop& loop() const noexcept { return m_loop; }

  /// epoll callback (engine internal).
  void on_io(std::uint32_t events) override;
  /// Writes queued output (engine internal; called by the loop once per iteration).
  void flush();
  /// Connect timeout and keepalive (engine internal; called by the loop periodically).
  void housekeeping(Clock::time_point now);
  /// Closes without any callback (engine internal; EventLoop::remove_client).
  void abort_silently() noexcept;

private:
  void start_tcp();
  void on_tcp_connected();
  void start_tls();
  bool drive_tls_handshake();
  void on_stream_ready();
  void send_connect();
  bool write_buffer(std::string& buffer, std::size_t& offset);
  void read_websocket(std::string_view data);
  void read_available();
  void process_input(std::string_view data);
  bool handle_frame(const mqtt::Frame& frame);
  void handle_connack(const mqtt::Frame& frame);
  void handle_publish(const mqtt::Frame& frame);
  void queue_ack(mqtt::PacketType type, std::uint16_t packet_id);
  void connection_lost(std::string_view message);
  bool same_connection(std::uint32_t generation) const noexcept {
    return generation == m_generation && m_fd >= 0;
  }
  void fail_connect(int reason_code, std::string_view stage, std::string_view message);
  void close_connected(bool by_us, int disconnect_reason, std::string_view message);
  void close_socket() noexcept;
  void mark_dirty();
  std::uint16_t next_control_id();

  EventLoop& m_loop;
  ClientOptions m_options;
  ClientHandler& m_handler;
  std::uint64_t m_user_data;
  int m_fd = -1;
  SSL* m_ssl = nullptr;
  ClientState m_state = ClientState::idle;
  bool m_tcp_up = false;
  bool m_tls_up = false;
  bool m_dirty = false;
  bool m_ping_outstanding = false;
  std::uint16_t m_next_control_id = 0;
  std::uint32_t m_generation = 0; ///< Bumped at every close: stale callbacks notice it.
  std::uint32_t m_qos0_unwritten = 0;
  ConnectTimes m_times;
  Clock::time_point m_last_write;
  Clock::time_point m_ping_sent;
  std::string m_out;          ///< Encoded packets; [m_out_offset, size) not yet written.
  std::size_t m_out_offset = 0;
  std::string m_partial;      ///< An incomplete frame left over from the last read.
  InflightWindow m_window;
  std::unique_ptr<IncomingQos2> m_incoming_qos2; ///< Allocated at the first QoS 2 receipt.
  /// MQTT over WebSocket: the opening handshake, then the framing of both directions.
  struct WebSocket {
    ws::ClientHandshake handshake;
    bool upgraded = false;
    std::string response;        ///< the server's handshake answer so far
    ws::FrameDecoder decoder;
    std::string decoded;         ///< MQTT bytes cut out of the last read
    std::string wire;            ///< framed bytes; [wire_offset, size) not yet written
    std::size_t wire_offset = 0;
  };
  std::unique_ptr<WebSocket> m_ws; ///< Only for options.ws_path set; reset per connection.
};

} // namespace mqfleet::engine
