#include <mqfleet/engine/tls.hpp>

#include <mqfleet/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace mqfleet::engine {
namespace {

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

} // namespace

std::shared_ptr<TlsContext> TlsContext::create(const TlsOptions& options) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) throw ConfigError("cannot create a TLS context: " + openssl_error());
  auto fail = [ctx](std::string what, const std::string& where, std::string hint) {
    SSL_CTX_free(ctx);
    throw ConfigError(std::move(what), where, std::move(hint));
  };
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Idle connections keep no TLS read/write buffers (tens of KB each otherwise).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (!options.insecure) {
    const bool loaded = options.ca_file.empty()
                            ? SSL_CTX_set_default_verify_paths(ctx) == 1
                            : SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) == 1;
    if (!loaded) {
      fail("cannot load the CA certificates: " + openssl_error(), options.ca_file,
           "give a readable PEM CA file with --cafile");
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!options.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) {
      fail("cannot load the client certificate: " + openssl_error(), options.cert_file,
           "give a PEM certificate file");
    }
    const std::string& key = options.key_file.empty() ? options.cert_file : options.key_file;
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
      fail("cannot load the client key: " + openssl_error(), key,
           "give the PEM key that matches the certificate");
    }
  }
  return std::shared_ptr<TlsContext>(new TlsContext(ctx, !options.insecure));
}

TlsContext::~TlsContext() { SSL_CTX_free(m_ctx); }

} // namespace mqfleet::engine
