#pragma once
// TLS settings shared by many connections: one OpenSSL SSL_CTX (CA file read once), not
// one per connection as Paho does (its ≈ 65 KB per TLS connection, shared/notes).

#include <memory>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;

namespace mqfleet::engine {

/// What a TLS client context verifies and presents.
struct TlsOptions {
  std::string ca_file;   ///< PEM CA bundle; empty = the system's default paths.
  std::string cert_file; ///< PEM client certificate (optional).
  std::string key_file;  ///< PEM private key of cert_file.
  bool insecure = false; ///< Skip verification of the server certificate and name.
};

/// An immutable client SSL_CTX built from TlsOptions; share it between clients.
class TlsContext {
public:
  /// Loads the files. Throws mqfleet::ConfigError naming the file that failed.
  static std::shared_ptr<TlsContext> create(const TlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  /// The OpenSSL context (owned).
  SSL_CTX* native() const noexcept { return m_ctx; }
  /// True when server certificates are verified.
  bool verifies() const noexcept { return m_verify; }

private:
  TlsContext(SSL_CTX* ctx, bool verify) : m_ctx(ctx), m_verify(verify) {}
  SSL_CTX* m_ctx;
  bool m_verify;
};

} // namespace mqfleet::engine
