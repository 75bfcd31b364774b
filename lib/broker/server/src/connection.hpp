#pragma once
// One client connection: the transport (plain or TLS socket), the async read loop, the
// batched write queue, the keepalive timer, and the client's MQTT state.
// Transport code is in connection.cpp; the MQTT side (dispatch to the handle_*.cpp
// handlers, outbox flushing) in dispatch.cpp.
//
// A connection belongs to one io_context, which exactly one io thread runs (server.hpp),
// so its handlers never run concurrently and it needs no strand and no lock of its own.
// It is kept small: every idle connection pays for each byte here.

#include "client_state.hpp"
#include "ref_ptr.hpp"

#include <mqfleet/mqtt/packets.hpp>

#include "asio.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace mqfleet::broker {

class Server;
struct Http;
struct HttpReply;
/// Creates the HTTP state of a connection of the HTTP listener.
Http* new_http();
/// Frees the HTTP/WebSocket state (http_transport.cpp, where Http is complete).
struct HttpDeleter {
  void operator()(Http* http) const noexcept;
};

/// A client connection. Everything except the "thread-safe" members runs on its io thread.
/// Intrusively counted (ConnectionPtr): every pending handler holds one reference.
class Connection : public RefCounted {
public:
  using Executor = asio::io_context::executor_type;
  using Socket = asio::basic_stream_socket<asio::ip::tcp, Executor>;
  using Clock = std::chrono::steady_clock;

  /// `http`: accepted on the HTTP listener: serves HTTP requests until one upgrades to
  /// MQTT over WebSocket on /mqtt; from then on it is an MQTT connection like any other.
  Connection(Server& server, Socket socket, asio::ssl::context* tls, bool http = false);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Starts the TLS handshake (if any) and the read loop.
  void start();

  /// Thread-safe: closes the connection on its io thread; with a v5 reason code (>= 0x80)
  /// and a v5 client, a DISCONNECT with that reason is sent first.
  void post_close(std::uint8_t reason_code, std::string reason_string = {});
  /// Thread-safe: asks the io thread to move queued session messages onto the wire.
  void post_flush();
  /// Thread-safe: on this connection's io thread, processes what has already arrived on
  /// the socket (plain TCP; a TLS connection only finishes the handler it is in), then
  /// calls `then` there. Used to keep one client's order across its connections.
  void post_after_pending_input(std::function<void()> then);

  // ---- io thread only ----
  /// Encodes a packet for this client's version and queues it (batched writes).
  void send(const mqtt::Packet& packet);
  /// The buffer the next write takes; append encoded packets to it, then call kick().
  std::string& out_buffer();
  /// Starts writing what out_buffer() holds, unless a write is already running.
  void kick();
  /// Stops handling input: complete frames that follow stay buffered and the socket is
  /// not read until resume_input().
  void pause_input() noexcept { m_input_paused = true; }
  /// Handles the buffered frames and reads the socket again.
  void resume_input();
  /// Encodes session messages (PUBLISH/PUBREL) and writes them; messages too large for
  /// the client are acknowledged locally and dropped.
  void send_outgoing(const std::vector<Outgoing>& batch);
  /// Sends what is queued, then says goodbye: the sending side is shut down (FIN) and
  /// what the client still sends is read and discarded for a bounded time and amount
  /// before the socket closes, so the last packet (a DISCONNECT with its reason, a
  /// refusing CONNACK) is not destroyed by a reset for unread input.
  void close_after_flush();
  /// Closes the socket now; runs on_closed() once.
  void close_now();
  /// After the CONNECT's credentials were checked off the io thread: dispatches the
  /// frames that arrived behind it and reads again.
  void resume_reading();
  /// Arms the keepalive check for `seconds` (0 disables); the grace is 1.5x.
  void set_keepalive(std::uint16_t seconds);
  bool closing() const noexcept { return m_closing; }
  /// True while input is read: open, or saying goodbye (input then discarded).
  bool reading() const noexcept {
    return !m_closed && !m_input_paused && (!m_closing || m_close_after_write);
  }
  /// The peer's address as "ip:port".
  std::string peer() const;
  bool is_tls() const noexcept { return m_tls != nullptr; }
  /// True for a connection of the HTTP listener (HTTP requests or MQTT over WebSocket).
  bool is_http() const noexcept { return m_http != nullptr; }
  Server& server() noexcept { return m_server; }
  /// A new counted reference to this connection (for handlers that must keep it alive).
  RefPtr<Connection> ref() noexcept { return RefPtr<Connection>(this); }
  /// The executor of the io thread that owns this connection.
  Executor executor() noexcept { return m_socket.get_executor(); }
  /// Live dashboard sockets: sends the messages queued by LiveHub (io thread).
  void drain_live();
  /// The MQTT state of this client (io thread only).
  ClientState& client() noexcept { return m_client; }

private:
  using Timer = asio::basic_waitable_timer<Clock, asio::wait_traits<Clock>, Executor>;
  /// TLS connections only: the stream and its read buffer.
  struct Tls {
    Tls(Socket& socket, asio::ssl::context& context) : stream(socket, context) {}
    asio::ssl::stream<Socket&> stream;
    std::vector<char> read_buffer;
  };

  /// Encoded bytes on their way out. Out of line and released once drained while small,
  /// so an idle connection holds no write buffers.
  struct WriteBuffers {
    std::string pending; ///< encoded packets waiting for the next write
    std::string writing; ///< the write in progress
  };
  /// The peer address: IPv4 inline (the common case), anything else out of line.
  class Peer {
  public:
    Peer() = default;
    explicit Peer(const asio::ip::tcp::endpoint& endpoint);
    /// "ip:port", or "unknown" when the address could not be read.
    std::string to_string() const;

  private:
    std::unique_ptr<asio::ip::tcp::endpoint> m_other; ///< non-IPv4 peers only
    std::uint32_t m_v4 = 0;                           ///< IPv4 address, host byte order
    std::uint16_t m_port = 0;                         ///< 0 = unknown (or in m_other)
  };

  void read_loop();
  void read_plain();
  /// Plain TCP: reads and handles what the socket holds now (a few rounds at most);
  /// false when the connection closed.
  bool read_available();
  void read_tls();
  void write_loop();
  void keepalive_check();
  void linger();
  void drain_discarded(std::size_t bytes);
  template <class F> void with_stream(F&& f);
  void on_written(const error_code& ec, std::size_t total);

  // HTTP listener side (http_transport.cpp).
  void read_http();
  void write_http(std::size_t total);
  void on_http_request();
  void send_http_response();
  void send_http_stream(HttpReply& reply, unsigned version, bool keep_alive);
  void pull_stream_part();
  void on_stream_part(std::string part, bool more, const std::string& failure);
  void finish_http_stream();
  void read_live();
  void close_http() noexcept;
  /// MQTT over WebSocket: cuts the frames out of what the socket gave and handles them.
  void on_ws_bytes(std::string_view bytes);
  /// Writes the due control frames (pong, close) unless a write runs (it takes them).
  void send_ws_control();
  /// What the socket gave: WebSocket frames after an upgrade, else MQTT bytes.
  void on_input(std::string_view bytes) { m_ws_frames ? on_ws_bytes(bytes) : on_bytes(bytes); }

  // Protocol side (dispatch.cpp).
  void on_bytes(std::string_view bytes);
  void on_closed();
  void flush_outbox();
  void close_with_reason(std::uint8_t reason_code, const std::string& reason_string);

  // Ordered to leave little padding: every idle connection pays for each byte here.
  /// Keepalive grace; during a goodbye (close_after_flush) the input bytes still drained.
  /// Fills the padding after the reference count.
  std::uint32_t m_keepalive_grace_ms = 0;
  Server& m_server;
  Socket m_socket;
  std::unique_ptr<Tls> m_tls;
  std::unique_ptr<Http, HttpDeleter> m_http; ///< HTTP listener connections only
  std::unique_ptr<Timer> m_keepalive_timer; ///< created while a keepalive check is armed
  std::unique_ptr<WriteBuffers> m_out; ///< null while nothing is being written
  Peer m_peer;
  Clock::time_point m_last_received;
  bool m_writing_now = false;
  bool m_flush_after_write = false; ///< outbox flush deferred until the socket drains
  bool m_close_after_write = false;
  bool m_closing = false;
  bool m_lingering = false; ///< goodbye written and FIN sent; input drained until close
  bool m_input_paused = false; ///< pause_input(): frames wait in the reader
  bool m_closed = false;
  bool m_read_paused = false; ///< no read pending while the CONNECT's credentials are checked
  bool m_ws_frames = false; ///< upgraded to MQTT over WebSocket: the socket is read as for TCP
  std::atomic<bool> m_flush_posted{false}; ///< a flush is posted and has not started yet
  ClientState m_client;
};

} // namespace mqfleet::broker
