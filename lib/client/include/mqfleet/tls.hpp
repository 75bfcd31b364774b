#pragma once
// The one TLS client setup of every mqfleet command that connects (pub, sub, profile test,
// bench, sim): an OpenSSL SSL_CTX built once from a profile's TlsOptions and shared by all
// connections, and the per-connection settings (SNI, host-name check, ALPN). The lean
// client and the epoll engine drive their own non-blocking handshakes over it.

#include <mqfleet/profile.hpp>

#include <memory>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace mqfleet {

/// How many connections will share a TlsClientContext.
enum class TlsSharing {
  one_connection,   ///< pub/sub: keep OpenSSL's buffers for throughput
  many_connections, ///< bench/sim: release idle connections' buffers (tens of KB each)
};

/// An immutable client SSL_CTX built from TlsOptions: CA file and/or directory (or the
/// system store), client certificate and (encrypted) key, the TLS version pinned exactly
/// when asked, verification on unless `insecure`, ALPN names. Share it between clients.
class TlsClientContext {
public:
  /// Loads and checks every file. Throws ConfigError naming the flag and file that failed.
  static std::shared_ptr<const TlsClientContext> create(const TlsOptions& options,
                                                        TlsSharing sharing = TlsSharing::one_connection);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  /// The OpenSSL context (owned).
  SSL_CTX* native() const noexcept { return m_ctx; }
  /// True when server certificates and names are verified.
  bool verifies() const noexcept { return m_verify; }

  /// Prepares a new connection's SSL for a server called `host` (a DNS name, an IP
  /// literal, or a bracketed IPv6 literal): SNI for names, the host-name or IP check when
  /// verifying, the ALPN list. Returns false when OpenSSL refused a setting.
  bool prepare(SSL* ssl, const std::string& host) const;

  /// The handshake failure of `ssl` in words: the certificate verification error when
  /// there is one, else the first queued OpenSSL error (the queue is cleared), else
  /// `fallback`.
  static std::string failure_text(SSL* ssl, const std::string& fallback);

private:
  TlsClientContext(SSL_CTX* ctx, bool verify, std::string alpn_wire)
      : m_ctx(ctx), m_verify(verify), m_alpn_wire(std::move(alpn_wire)) {}
  SSL_CTX* m_ctx;
  bool m_verify;
  std::string m_alpn_wire; ///< ALPN names in wire form (length-prefixed), empty for none
};

/// The hint every TLS connect failure carries.
inline constexpr const char* k_tls_connect_hint =
    "check the host and port, and the TLS settings (--cafile/--capath must hold the broker's CA; "
    "--insecure skips verification for testing)";

} // namespace mqfleet
