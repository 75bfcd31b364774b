#include "lean_transport.hpp"

#include "client_checks.hpp"

#include <mqfleet/error.hpp>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mqfleet::detail {
namespace {

using namespace std::chrono_literals;

constexpr auto k_stop_check = 100ms;

const char* k_tls_hint =
    "check the host and port, and the TLS settings (--cafile/--capath must hold the broker's CA; "
    "--insecure skips verification for testing)";

// The first queued OpenSSL error in words (and the queue cleared); `fallback` when empty.
std::string ssl_error_text(const std::string& fallback) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return fallback;
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : fmt::format("OpenSSL error {:#x}", code);
}

bool is_ip_literal(const std::string& host) {
  in6_addr v6{};
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

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

TlsContext::TlsContext(const TlsOptions& t) {
  require_readable_file(t.ca_file, "--cafile", "CA file");
  if (!t.ca_path.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(t.ca_path, ec))
      throw ConfigError(fmt::format("'{}' is not a directory", t.ca_path), "--capath",
                        "give a directory of hashed CA certificates (see openssl rehash)");
  }
  require_readable_file(t.cert_file, "--cert", "client certificate");
  require_readable_file(t.key_file, "--key", "client key");
  if (t.cert_file.empty() != t.key_file.empty())
    throw ConfigError("a client certificate needs both --cert and --key", t.cert_file.empty() ? "--key" : "--cert",
                      "give both files, or neither");

  int version = 0;
  if (t.version == "tlsv1.2") version = TLS1_2_VERSION;
  else if (t.version == "tlsv1.3") version = TLS1_3_VERSION;
  else if (!t.version.empty())
    throw ConfigError(fmt::format("unknown TLS version '{}'", t.version), "--tls-version", "use tlsv1.2 or tlsv1.3");

  m_ctx = SSL_CTX_new(TLS_client_method());
  if (m_ctx == nullptr) throw ConfigError("cannot create a TLS context: " + ssl_error_text("out of memory"), "TLS");
  // --tls-version pins the version (as mosquitto_pub does); without it, TLS 1.2 or newer.
  SSL_CTX_set_min_proto_version(m_ctx, version != 0 ? version : TLS1_2_VERSION);
  if (version != 0) SSL_CTX_set_max_proto_version(m_ctx, version);
  SSL_CTX_set_mode(m_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_verify(m_ctx, t.insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);

  auto fail = [this](std::string what, const char* flag, const char* hint) {
    SSL_CTX_free(m_ctx);
    m_ctx = nullptr;
    throw ConfigError(std::move(what), flag, hint);
  };
  if (!t.ca_file.empty() || !t.ca_path.empty()) {
    if (SSL_CTX_load_verify_locations(m_ctx, t.ca_file.empty() ? nullptr : t.ca_file.c_str(),
                                      t.ca_path.empty() ? nullptr : t.ca_path.c_str()) != 1)
      fail(fmt::format("cannot load the CA certificates: {}", ssl_error_text("unknown error")),
           t.ca_file.empty() ? "--capath" : "--cafile", "give PEM certificates of the CA that signed the broker's");
  } else if (SSL_CTX_set_default_verify_paths(m_ctx) != 1) {
    ERR_clear_error(); // no system store: verification fails later with a clear message
  }
  if (!t.cert_file.empty()) {
    if (!t.key_password.empty() && t.key_password.source == SecretSource::literal) {
      // OpenSSL's default password callback reads the password from the user data; the
      // key is loaded right below, so the pointer never outlives the string.
      SSL_CTX_set_default_passwd_cb_userdata(m_ctx, const_cast<char*>(t.key_password.value.c_str()));
    }
    if (SSL_CTX_use_certificate_chain_file(m_ctx, t.cert_file.c_str()) != 1)
      fail(fmt::format("cannot load the client certificate: {}", ssl_error_text("unknown error")), "--cert",
           "give the client certificate as a PEM file");
    const bool key_loaded = SSL_CTX_use_PrivateKey_file(m_ctx, t.key_file.c_str(), SSL_FILETYPE_PEM) == 1;
    SSL_CTX_set_default_passwd_cb_userdata(m_ctx, nullptr);
    if (!key_loaded)
      fail(fmt::format("cannot load the client key: {}", ssl_error_text("unknown error")), "--key",
           "give the key as a PEM file (and its password with --key-password-env when it is encrypted)");
    if (SSL_CTX_check_private_key(m_ctx) != 1)
      fail("the client key does not match the client certificate", "--key", "give the key of the --cert certificate");
  }
}

TlsContext::~TlsContext() { SSL_CTX_free(m_ctx); }

Transport::~Transport() { close(); }

void Transport::open(const ConnectionProfile& profile, const TlsContext* tls, Clock::time_point deadline,
                     const std::stop_token& stop, const std::string& where) {
  close();
  connect_tcp(profile, deadline, stop, where);
  if (tls != nullptr) handshake(profile, *tls, deadline, stop, where);
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
                     profile.tls.enabled ? k_tls_hint : "check the host and port (-h, -p) and that the broker is running");
}

void Transport::handshake(const ConnectionProfile& profile, const TlsContext& tls, Clock::time_point deadline,
                          const std::stop_token& stop, const std::string& where) {
  m_ssl = SSL_new(tls.get());
  if (m_ssl == nullptr || SSL_set_fd(m_ssl, m_fd) != 1)
    throw ConnectError(-1, "cannot start TLS: " + ssl_error_text("out of memory"), where, k_tls_hint);
  std::string host = profile.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const bool ip = is_ip_literal(host);
  // SSL_set_tlsext_host_name without its C cast.
  if (!ip) SSL_ctrl(m_ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str()));
  if (!profile.tls.insecure) {
    if (ip) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(m_ssl), host.c_str());
    else SSL_set1_host(m_ssl, host.c_str());
  }
  if (!profile.tls.alpn.empty()) {
    std::string wire;
    for (const auto& name : profile.tls.alpn) {
      if (name.empty() || name.size() > 255)
        throw ConfigError(fmt::format("'{}' is not a valid ALPN protocol name", name), "--alpn",
                          "give names of 1 to 255 bytes");
      wire += static_cast<char>(name.size());
      wire += name;
    }
    SSL_set_alpn_protos(m_ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                        static_cast<unsigned>(wire.size()));
  }
  for (;;) {
    ERR_clear_error();
    const int ret = SSL_connect(m_ssl);
    if (ret == 1) return;
    const int error = SSL_get_error(m_ssl, ret);
    short events = 0;
    if (error == SSL_ERROR_WANT_READ) events = POLLIN;
    else if (error == SSL_ERROR_WANT_WRITE) events = POLLOUT;
    if (events == 0) {
      const long verify = SSL_get_verify_result(m_ssl);
      if (verify != X509_V_OK && !profile.tls.insecure)
        throw ConnectError(-1,
                           fmt::format("the broker's TLS certificate was not accepted: {}",
                                       X509_verify_cert_error_string(verify)),
                           where,
                           "--cafile/--capath must hold the CA that signed the broker's certificate and -h must "
                           "match its name; --insecure skips verification for testing");
      const std::string cause =
          ssl_error_text(error == SSL_ERROR_SYSCALL ? "the broker closed the connection" : "unknown error");
      throw ConnectError(-1, fmt::format("the TLS handshake failed: {}", cause), where, k_tls_hint);
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
    m_error = "TLS: " + ssl_error_text("unknown error");
    return {IoStatus::failed, 0};
  }
}

IoResult Transport::write_some(const char* data, std::size_t size) {
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

IoResult Transport::read_some(char* data, std::size_t size) {
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
