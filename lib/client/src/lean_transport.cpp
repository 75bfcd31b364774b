#include "lean_transport.hpp"

#include "client_checks.hpp"

#include <mqfleet/error.hpp>

#include <fmt/format.h>
#include <openssl/err.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace mqfleet::detail {
namespace {

using namespace std::chrono_literals;

constexpr auto k_stop_check = 100ms;

// Waits until fd has `events` or the deadline passes, checking `stop` between slices.
// Returns false on timeout.
bool wait_for(int fd, short events, Transport::Clock::time_point deadline, const std::stop_token& stop,
              const std::string& where) {
  for (;;) {
    if (stop.stop_requested()) throw InterruptedError("interrupted while connecting", where);
    const auto now = Transport::Clock::now();
    if (now >= deadline) return false;
    const auto slice = std::min<Transport::Clock::duration>(deadline - now, k_stop_check);
    pollfd p{fd, events, 0};
    const int timeout = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(slice).count());
    const int ready = ::poll(&p, 1, timeout);
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return true; // let the caller's next call report the error
  }
}

} // namespace

Transport::~Transport() { close(); }

void Transport::open(const ConnectionProfile& profile, const TlsClientContext* tls, Clock::time_point deadline,
                     const std::stop_token& stop, const std::string& where) {
  close();
  if (profile.transport == TransportKind::unix_socket) connect_unix(profile, where);
  else connect_tcp(profile, deadline, stop, where);
  if (tls != nullptr) handshake(profile, *tls, deadline, stop, where);
  if (profile.transport == TransportKind::websocket) upgrade_to_websocket(profile, deadline, stop, where);
}

void Transport::connect_unix(const ConnectionProfile& profile, const std::string& where) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (profile.unix_path.empty() || profile.unix_path.size() >= sizeof address.sun_path)
    throw ConfigError(fmt::format("'{}' is not a usable Unix socket path", profile.unix_path), "--unix",
                      fmt::format("give the path of the broker's socket (1 to {} bytes)", sizeof address.sun_path - 1));
  std::memcpy(address.sun_path, profile.unix_path.data(), profile.unix_path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ConnectError(-1, fmt::format("cannot create a Unix socket: {}", std::strerror(errno)), where);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    ::close(fd);
    throw ConnectError(-1, fmt::format("cannot connect to the Unix socket '{}': {}", profile.unix_path, std::strerror(error)),
                       where, "check the path (--unix) and that the broker listens there");
  }
  // Connected (a local connect completes at once); from here on the socket does not block.
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  m_fd = fd;
}

void Transport::upgrade_to_websocket(const ConnectionProfile& profile, Clock::time_point deadline,
                                     const std::stop_token& stop, const std::string& where) {
  const ws::ClientHandshake handshake;
  const int port = profile.effective_port();
  const bool default_port = port == (profile.tls.enabled ? 443 : 80);
  std::string host = profile.host;
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  const std::string request = handshake.request(default_port ? host : fmt::format("{}:{}", host, port), profile.ws_path);
  const auto timeout = [&] {
    return TimeoutError(fmt::format("the WebSocket upgrade took longer than {} ms", profile.connect_timeout.count()),
                        where, "check that the port is the broker's WebSocket listener, or raise --connect-timeout");
  };
  for (std::size_t sent = 0; sent < request.size();) {
    const IoResult r = stream_write(request.data() + sent, request.size() - sent);
    if (r.status == IoStatus::ok) sent += r.bytes;
    else if (r.status == IoStatus::would_block) {
      if (!wait_for(m_fd, POLLOUT, deadline, stop, where)) throw timeout();
    } else {
      throw ConnectError(-1, fmt::format("the WebSocket upgrade failed: {}", m_error), where, k_tls_connect_hint);
    }
  }
  std::string answer;
  char chunk[4096];
  for (;;) {
    const IoResult r = stream_read(chunk, sizeof chunk);
    if (r.status == IoStatus::would_block) {
      if (!wait_for(m_fd, static_cast<short>(POLLIN | extra_events()), deadline, stop, where)) throw timeout();
      continue;
    }
    if (r.status != IoStatus::ok)
      throw ConnectError(-1, fmt::format("the server closed the connection during the WebSocket upgrade: {}", m_error),
                         where, "check that the port is the broker's WebSocket listener and the path (" + profile.ws_path + ")");
    answer.append(chunk, r.bytes);
    if (const std::size_t end = handshake.parse_response(answer, where); end > 0) {
      m_ws = true;
      std::vector<ws::ControlFrame> controls;
      m_ws_decoder.decode(std::string_view(answer).substr(end), m_ws_in, controls);
      return;
    }
  }
}

void Transport::connect_tcp(const ConnectionProfile& profile, Clock::time_point deadline,
                            const std::stop_token& stop, const std::string& where) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(profile.effective_port());
  std::string host = profile.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0)
    throw ConnectError(-1, fmt::format("cannot resolve the broker's host name '{}': {}", host, gai_strerror(rc)),
                       where, "check the host name (-h) and the network");
  std::string last_error = "no address";
  bool timed_out = false;
  for (addrinfo* a = found; a != nullptr && m_fd < 0; a = a->ai_next) {
    const int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int error = 0;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      error = errno;
      if (error == EINPROGRESS) {
        bool ready = false;
        try {
          ready = wait_for(fd, POLLOUT, deadline, stop, where);
        } catch (...) {
          ::close(fd);
          freeaddrinfo(found);
          throw;
        }
        socklen_t length = sizeof error;
        if (!ready) {
          timed_out = true;
          error = ETIMEDOUT;
        } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
          error = errno;
        }
      }
    }
    if (error != 0) {
      last_error = std::strerror(error);
      ::close(fd);
      if (timed_out) break;
      continue;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); // we batch packets ourselves
    m_fd = fd;
  }
  freeaddrinfo(found);
  if (m_fd >= 0) return;
  if (timed_out)
    throw TimeoutError(fmt::format("connecting to the broker took longer than {} ms", profile.connect_timeout.count()),
                       where, "check that the broker is reachable, or raise --connect-timeout");
  throw ConnectError(-1, fmt::format("cannot connect to the broker: {}", last_error), where,
                     profile.tls.enabled ? k_tls_connect_hint : "check the host and port (-h, -p) and that the broker is running");
}

void Transport::handshake(const ConnectionProfile& profile, const TlsClientContext& tls, Clock::time_point deadline,
                          const std::stop_token& stop, const std::string& where) {
  m_ssl = SSL_new(tls.native());
  if (m_ssl == nullptr || SSL_set_fd(m_ssl, m_fd) != 1 || !tls.prepare(m_ssl, profile.host))
    throw ConnectError(-1, "cannot start TLS: " + TlsClientContext::failure_text(m_ssl, "out of memory"), where,
                       k_tls_connect_hint);
  for (;;) {
    ERR_clear_error();
    const int ret = SSL_connect(m_ssl);
    if (ret == 1) return;
    const int error = SSL_get_error(m_ssl, ret);
    short events = 0;
    if (error == SSL_ERROR_WANT_READ) events = POLLIN;
    else if (error == SSL_ERROR_WANT_WRITE) events = POLLOUT;
    if (events == 0) {
      if (tls.verifies() && SSL_get_verify_result(m_ssl) != X509_V_OK)
        throw ConnectError(-1, TlsClientContext::failure_text(m_ssl, "unknown error"), where,
                           "--cafile/--capath must hold the CA that signed the broker's certificate and -h must "
                           "match its name; --insecure skips verification for testing");
      const std::string cause = TlsClientContext::failure_text(
          nullptr, error == SSL_ERROR_SYSCALL ? "the broker closed the connection" : "unknown error");
      throw ConnectError(-1, fmt::format("the TLS handshake failed: {}", cause), where, k_tls_connect_hint);
    }
    if (!wait_for(m_fd, events, deadline, stop, where))
      throw TimeoutError(
          fmt::format("the TLS handshake took longer than {} ms", profile.connect_timeout.count()), where,
          "check that the port is a TLS listener, or raise --connect-timeout");
  }
}

IoResult Transport::tls_result(int ret, bool writing) {
  const int error = SSL_get_error(m_ssl, ret);
  switch (error) {
  case SSL_ERROR_WANT_READ:
    if (!writing) m_read_wants_write = false;
    return {IoStatus::would_block, 0};
  case SSL_ERROR_WANT_WRITE:
    if (!writing) m_read_wants_write = true;
    return {IoStatus::would_block, 0};
  case SSL_ERROR_ZERO_RETURN:
    m_error = "the broker closed the TLS session";
    return {IoStatus::closed, 0};
  case SSL_ERROR_SYSCALL:
    m_error = errno != 0 ? std::strerror(errno) : "the broker closed the connection";
    ERR_clear_error();
    return {IoStatus::closed, 0};
  default:
    m_error = "TLS: " + TlsClientContext::failure_text(nullptr, "unknown error");
    return {IoStatus::failed, 0};
  }
}

IoResult Transport::write_some(const char* data, std::size_t size) {
  return m_ws ? ws_write(data, size) : stream_write(data, size);
}

IoResult Transport::read_some(char* data, std::size_t size) {
  return m_ws ? ws_read(data, size) : stream_read(data, size);
}

// Sends queued control answers; false when the socket failed (m_error says why).
bool Transport::flush_ws_control() {
  while (!m_ws_control.empty()) {
    const IoResult r = stream_write(m_ws_control.data(), m_ws_control.size());
    if (r.status == IoStatus::would_block) return true;
    if (r.status != IoStatus::ok) return false;
    m_ws_control.erase(0, r.bytes);
  }
  return true;
}

IoResult Transport::ws_write(const char* data, std::size_t size) {
  if (m_fd < 0) return {IoStatus::closed, 0};
  if (m_ws_frame.empty()) {
    // Control answers go between data frames, never inside one.
    if (!flush_ws_control()) return {IoStatus::failed, 0};
    if (!m_ws_control.empty()) return {IoStatus::would_block, 0};
    if (size == 0) return {IoStatus::ok, 0};
    constexpr std::size_t k_max_frame = 256 * 1024;
    m_ws_frame_payload = std::min(size, k_max_frame);
    ws::append_binary_frame(m_ws_frame, std::string_view(data, m_ws_frame_payload));
    m_ws_frame_pos = 0;
  }
  while (m_ws_frame_pos < m_ws_frame.size()) {
    const IoResult r = stream_write(m_ws_frame.data() + m_ws_frame_pos, m_ws_frame.size() - m_ws_frame_pos);
    if (r.status != IoStatus::ok) return {r.status, 0};
    m_ws_frame_pos += r.bytes;
  }
  m_ws_frame.clear();
  return {IoStatus::ok, m_ws_frame_payload};
}

IoResult Transport::ws_read(char* data, std::size_t size) {
  if (m_fd < 0) return {IoStatus::closed, 0};
  if (!flush_ws_control()) return {IoStatus::failed, 0};
  while (m_ws_in_pos == m_ws_in.size()) {
    m_ws_in.clear();
    m_ws_in_pos = 0;
    if (m_ws_peer_closed) return {IoStatus::closed, 0};
    char chunk[16 * 1024];
    const IoResult r = stream_read(chunk, sizeof chunk);
    if (r.status != IoStatus::ok) return r;
    std::vector<ws::ControlFrame> controls;
    try {
      m_ws_decoder.decode(std::string_view(chunk, r.bytes), m_ws_in, controls);
    } catch (const ProtocolError& e) {
      m_error = e.what();
      return {IoStatus::failed, 0};
    }
    for (const auto& control : controls) {
      if (control.opcode == ws::Opcode::ping) {
        ws::append_control_frame(m_ws_control, ws::Opcode::pong, control.payload);
      } else if (control.opcode == ws::Opcode::close) {
        ws::append_close_frame(m_ws_control, 1000);
        m_ws_peer_closed = true;
        m_error = "the broker closed the WebSocket (" + ws::describe_close(control.payload) + ")";
      }
    }
    if (!flush_ws_control()) return {IoStatus::failed, 0};
  }
  const std::size_t n = std::min(size, m_ws_in.size() - m_ws_in_pos);
  std::memcpy(data, m_ws_in.data() + m_ws_in_pos, n);
  m_ws_in_pos += n;
  return {IoStatus::ok, n};
}

IoResult Transport::stream_write(const char* data, std::size_t size) {
  if (m_fd < 0) return {IoStatus::closed, 0};
  if (size == 0) return {IoStatus::ok, 0};
  if (m_ssl != nullptr) {
    // A write that returned WANT_* must be repeated with the same length.
    const std::size_t length = m_retry_write_size != 0 ? std::min(m_retry_write_size, size) : size;
    ERR_clear_error();
    errno = 0;
    std::size_t written = 0;
    const int ret = SSL_write_ex(m_ssl, data, length, &written);
    if (ret == 1) {
      m_retry_write_size = 0;
      return {IoStatus::ok, written};
    }
    const IoResult result = tls_result(ret, true);
    m_retry_write_size = result.status == IoStatus::would_block ? length : 0;
    return result;
  }
  for (;;) {
    const ssize_t n = ::send(m_fd, data, size, MSG_NOSIGNAL);
    if (n >= 0) return {IoStatus::ok, static_cast<std::size_t>(n)};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {IoStatus::would_block, 0};
    m_error = std::strerror(errno);
    return {errno == EPIPE || errno == ECONNRESET ? IoStatus::closed : IoStatus::failed, 0};
  }
}

IoResult Transport::stream_read(char* data, std::size_t size) {
  if (m_fd < 0) return {IoStatus::closed, 0};
  if (m_ssl != nullptr) {
    ERR_clear_error();
    errno = 0;
    std::size_t read = 0;
    const int ret = SSL_read_ex(m_ssl, data, size, &read);
    if (ret == 1) {
      m_read_wants_write = false;
      return {IoStatus::ok, read};
    }
    return tls_result(ret, false);
  }
  for (;;) {
    const ssize_t n = ::recv(m_fd, data, size, 0);
    if (n > 0) return {IoStatus::ok, static_cast<std::size_t>(n)};
    if (n == 0) {
      m_error = "the broker closed the connection";
      return {IoStatus::closed, 0};
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {IoStatus::would_block, 0};
    m_error = std::strerror(errno);
    return {errno == ECONNRESET ? IoStatus::closed : IoStatus::failed, 0};
  }
}

void Transport::close() noexcept {
  if (m_ws && m_fd >= 0 && !m_ws_peer_closed && m_ws_frame.empty()) {
    // A close frame, best effort: the socket is non-blocking.
    m_ws_control.clear();
    ws::append_close_frame(m_ws_control, 1000);
    (void)flush_ws_control();
  }
  m_ws = false;
  m_ws_decoder = ws::FrameDecoder{};
  m_ws_in.clear();
  m_ws_in_pos = 0;
  m_ws_frame.clear();
  m_ws_frame_pos = 0;
  m_ws_control.clear();
  m_ws_peer_closed = false;
  if (m_ssl != nullptr) {
    if (m_fd >= 0) SSL_shutdown(m_ssl); // close_notify, best effort: the socket is non-blocking
    SSL_free(m_ssl);
    m_ssl = nullptr;
    ERR_clear_error();
  }
  if (m_fd >= 0) {
    ::close(m_fd);
    m_fd = -1;
  }
  m_read_wants_write = false;
  m_retry_write_size = 0;
}

} // namespace mqfleet::detail
