#pragma once
// The byte stream under LeanConnection: a non-blocking TCP socket, optionally wrapped in
// OpenSSL TLS. Opening resolves the host, tries its addresses in order and completes the
// TLS handshake before a deadline; afterwards reads and writes never block (the caller
// polls fd()).

#include <mqfleet/profile.hpp>

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

/// A profile's TLS settings loaded into an OpenSSL context (CA, client certificate and
/// key are read here, so a bad file is a ConfigError before any connection is made).
class TlsContext {
public:
  explicit TlsContext(const TlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const noexcept { return m_ctx; }

private:
  SSL_CTX* m_ctx = nullptr;
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
  void open(const ConnectionProfile& profile, const TlsContext* tls, Clock::time_point deadline,
            const std::stop_token& stop, const std::string& where);

  /// Writes as much of data as the socket takes now.
  IoResult write_some(const char* data, std::size_t size);
  /// Reads what has arrived, up to size bytes.
  IoResult read_some(char* data, std::size_t size);
  /// Extra poll events the stream needs besides POLLIN (TLS may need to write to read).
  short extra_events() const noexcept { return m_read_wants_write ? POLLOUT : 0; }
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
  void handshake(const ConnectionProfile& profile, const TlsContext& tls, Clock::time_point deadline,
                 const std::stop_token& stop, const std::string& where);
  IoResult tls_result(int ret, bool writing);

  int m_fd = -1;
  SSL* m_ssl = nullptr;
  bool m_read_wants_write = false;
  std::size_t m_retry_write_size = 0; ///< TLS: a write that must be retried with this size
  std::string m_error;
};

} // namespace mqfleet::detail
