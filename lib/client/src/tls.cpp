#include <mqfleet/tls.hpp>

#include "client_checks.hpp"

#include <mqfleet/error.hpp>
#include <mqfleet/profile_resolve.hpp>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <filesystem>
#include <netinet/in.h>

namespace mqfleet {
namespace {

// The first queued OpenSSL error in words (and the queue cleared); `fallback` when empty.
std::string queued_error(const std::string& fallback) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return fallback;
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : fmt::format("OpenSSL error {:#x}", code);
}

std::string alpn_wire(const std::vector<std::string>& names) {
  std::string wire;
  for (const auto& name : names) {
    if (name.empty() || name.size() > 255)
      throw ConfigError(fmt::format("'{}' is not a valid ALPN protocol name", name), "--alpn",
                        "give names of 1 to 255 bytes");
    wire += static_cast<char>(name.size());
    wire += name;
  }
  return wire;
}

std::string strip_brackets(const std::string& host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

bool is_ip_literal(const std::string& host) {
  in6_addr v6{};
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

} // namespace

std::shared_ptr<const TlsClientContext> TlsClientContext::create(const TlsOptions& t, TlsSharing sharing) {
  detail::require_readable_file(t.ca_file, "--cafile", "CA file");
  if (!t.ca_path.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(t.ca_path, ec))
      throw ConfigError(fmt::format("'{}' is not a directory", t.ca_path), "--capath",
                        "give a directory of hashed CA certificates (see openssl rehash)");
  }
  detail::require_readable_file(t.cert_file, "--cert", "client certificate");
  detail::require_readable_file(t.key_file, "--key", "client key");
  if (t.cert_file.empty() != t.key_file.empty())
    throw ConfigError("a client certificate needs both --cert and --key", t.cert_file.empty() ? "--key" : "--cert",
                      "give both files, or neither");
  int version = 0;
  if (t.version == "tlsv1.2") version = TLS1_2_VERSION;
  else if (t.version == "tlsv1.3") version = TLS1_3_VERSION;
  else if (!t.version.empty())
    throw ConfigError(fmt::format("unknown TLS version '{}'", t.version), "--tls-version", "use tlsv1.2 or tlsv1.3");
  std::string alpn = alpn_wire(t.alpn);
  std::string key_password;
  if (!t.key_password.empty())
    key_password = resolve_secret(t.key_password, "--key-password-env", "Key password: ", {});

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) throw ConfigError("cannot create a TLS context: " + queued_error("out of memory"), "TLS");
  auto fail = [ctx](std::string what, const char* flag, const char* hint) {
    SSL_CTX_free(ctx);
    throw ConfigError(std::move(what), flag, hint);
  };
  // --tls-version pins the version (as mosquitto_pub does); without it, TLS 1.2 or newer.
  SSL_CTX_set_min_proto_version(ctx, version != 0 ? version : TLS1_2_VERSION);
  if (version != 0) SSL_CTX_set_max_proto_version(ctx, version);
  long mode = SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
  if (sharing == TlsSharing::many_connections) mode |= SSL_MODE_RELEASE_BUFFERS;
  SSL_CTX_set_mode(ctx, mode);
  SSL_CTX_set_verify(ctx, t.insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);
  if (!t.ca_file.empty() || !t.ca_path.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, t.ca_file.empty() ? nullptr : t.ca_file.c_str(),
                                      t.ca_path.empty() ? nullptr : t.ca_path.c_str()) != 1)
      fail(fmt::format("cannot load the CA certificates: {}", queued_error("unknown error")),
           t.ca_file.empty() ? "--capath" : "--cafile", "give PEM certificates of the CA that signed the broker's");
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    ERR_clear_error(); // no system store: verification fails later with a clear message
  }
  if (!t.cert_file.empty()) {
    // OpenSSL's default password callback reads the password from the user data; the
    // key is loaded right below, so the pointer never outlives the string.
    if (!key_password.empty()) SSL_CTX_set_default_passwd_cb_userdata(ctx, key_password.data());
    if (SSL_CTX_use_certificate_chain_file(ctx, t.cert_file.c_str()) != 1)
      fail(fmt::format("cannot load the client certificate: {}", queued_error("unknown error")), "--cert",
           "give the client certificate as a PEM file");
    const bool key_loaded = SSL_CTX_use_PrivateKey_file(ctx, t.key_file.c_str(), SSL_FILETYPE_PEM) == 1;
    SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);
    if (!key_loaded)
      fail(fmt::format("cannot load the client key: {}", queued_error("unknown error")), "--key",
           "give the key as a PEM file (and its password with --key-password-env when it is encrypted)");
    if (SSL_CTX_check_private_key(ctx) != 1)
      fail("the client key does not match the client certificate", "--key", "give the key of the --cert certificate");
  }
  return std::shared_ptr<const TlsClientContext>(new TlsClientContext(ctx, !t.insecure, std::move(alpn)));
}

TlsClientContext::~TlsClientContext() { SSL_CTX_free(m_ctx); }

bool TlsClientContext::prepare(SSL* ssl, const std::string& host_or_literal) const {
  const std::string host = strip_brackets(host_or_literal);
  const bool ip = is_ip_literal(host);
  // SSL_set_tlsext_host_name without its C cast; no SNI for IP literals (RFC 6066).
  if (!ip && SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str())) != 1)
    return false;
  if (m_verify) {
    const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str())
                      : SSL_set1_host(ssl, host.c_str());
    if (ok != 1) return false;
  }
  // SSL_set_alpn_protos returns 0 on success.
  if (!m_alpn_wire.empty() &&
      SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(m_alpn_wire.data()),
                          static_cast<unsigned>(m_alpn_wire.size())) != 0)
    return false;
  return true;
}

std::string TlsClientContext::failure_text(SSL* ssl, const std::string& fallback) {
  const long verify = ssl != nullptr ? SSL_get_verify_result(ssl) : X509_V_OK;
  if (verify != X509_V_OK) {
    ERR_clear_error();
    return fmt::format("the broker's TLS certificate was not accepted: {}", X509_verify_cert_error_string(verify));
  }
  return queued_error(fallback);
}

} // namespace mqfleet
