#pragma once
// The byte stream under LeanConnection: a non-blocking TCP or Unix-domain socket,
// optionally wrapped in OpenSSL TLS and/or WebSocket framing. Opening resolves the host,
// tries its addresses in order and completes the TLS and WebSocket handshakes before a
// deadline; afterwards reads and writes never block (the caller polls fd()).

#include <mqfleet/profile.hpp>
#include <mqfleet/tls.hpp>
#include <mqfleet/websocket.hpp>

#include <openssl/ssl.h>
#include <poll.h>

#include <chrono>
#include <cstddef>
#include <stop_token>
#include <string>

namespace mqfleet::detail {

/// Outcome of one non-blocking read or write.
enum class IoStatus { ok, would_block, closed, failed };

/// A status and, for ok, how many bytes moved.
struct IoResult {
  IoStatus status = IoStatus::ok;
  std::size_t bytes = 0;
};

/// One connected stream.
class Transport {
public:
  using Clock = std::chrono::steady_clock;

  Transport() = default;
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  /// Connects to the profile's host and port (with TLS when `tls` is not null) before
  /// `deadline`. Throws ConnectError (reason -1) naming the cause, TimeoutError when the
  /// deadline passes, InterruptedError when `stop` is requested. `where` is "host:port".
  void open(const ConnectionProfile& profile, const TlsClientContext* tls, Clock::time_point deadline,
            const std::stop_token& stop, const std::string& where);

  /// Writes as much of data as the socket takes now. Over WebSocket the bytes go out as
  /// one frame, reported written only once the whole frame is: until then it returns
  /// would_block and the caller offers the same bytes (and maybe more) again.
  IoResult write_some(const char* data, std::size_t size);
  /// Reads what has arrived, up to size bytes.
  IoResult read_some(char* data, std::size_t size);
  /// Extra poll events the stream needs besides POLLIN (TLS may need to write to read; a
  /// WebSocket control answer may be waiting to go out).
  short extra_events() const noexcept { return m_read_wants_write || !m_ws_control.empty() ? POLLOUT : 0; }
  /// The socket, for poll(); -1 when closed.
  int fd() const noexcept { return m_fd; }
  bool is_open() const noexcept { return m_fd >= 0; }
  /// Why the last read or write returned closed or failed, in words.
  const std::string& error() const noexcept { return m_error; }
  /// Sends TLS close_notify (best effort) and closes the socket.
  void close() noexcept;

private:
  void connect_tcp(const ConnectionProfile& profile, Clock::time_point deadline, const std::stop_token& stop,
                   const std::string& where);
  void connect_unix(const ConnectionProfile& profile, const std::string& where);
  void upgrade_to_websocket(const ConnectionProfile& profile, Clock::time_point deadline,
                            const std::stop_token& stop, const std::string& where);
  IoResult stream_write(const char* data, std::size_t size);
  IoResult stream_read(char* data, std::size_t size);
  IoResult ws_write(const char* data, std::size_t size);
  IoResult ws_read(char* data, std::size_t size);
  bool flush_ws_control();
  void handshake(const ConnectionProfile& profile, const TlsClientContext& tls, Clock::time_point deadline,
                 const std::stop_token& stop, const std::string& where);
  IoResult tls_result(int ret, bool writing);

  int m_fd = -1;
  SSL* m_ssl = nullptr;
  bool m_read_wants_write = false;
  std::size_t m_retry_write_size = 0; ///< TLS: a write that must be retried with this size
  std::string m_error;

  bool m_ws = false;                  ///< WebSocket framing is on
  ws::FrameDecoder m_ws_decoder;
  std::string m_ws_in;                ///< decoded MQTT bytes not yet read by the caller
  std::size_t m_ws_in_pos = 0;
  std::string m_ws_frame;             ///< the data frame being written
  std::size_t m_ws_frame_pos = 0;     ///< how much of it went out
  std::size_t m_ws_frame_payload = 0; ///< the caller's bytes it carries
  std::string m_ws_control;           ///< pong/close answers waiting to go out
  bool m_ws_peer_closed = false;      ///< the server's close frame was read
};

} // namespace mqfleet::detail
