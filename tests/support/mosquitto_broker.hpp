#pragma once
// A real Debian mosquitto on an ephemeral port, for the client tests (RAII: started and
// ready in the constructor, stopped in the destructor). Interop peers mosquitto_pub and
// mosquitto_sub are located here too.

#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <map>
#include <memory>
#include <string>

namespace mqfleet::test {

/// Certificate files made by make_test_certificates().
struct TestCertificates {
  std::string ca_file;      ///< the CA that signed server and client
  std::string server_cert;  ///< CN=localhost, SAN DNS:localhost, IP:127.0.0.1
  std::string server_key;
  std::string client_cert;  ///< CN=test-client
  std::string client_key;
  std::string other_ca_file; ///< an unrelated CA (for "wrong CA" tests)
};

/// Generates a CA, a server and a client certificate with the openssl command in `dir`.
TestCertificates make_test_certificates(const TempDir& dir);

/// How to configure the mosquitto under test.
struct MosquittoOptions {
  std::map<std::string, std::string> users;  ///< username -> password; empty = anonymous
  bool tls = false;                          ///< add a TLS listener (needs certificates)
  bool require_client_certificate = false;
  std::string extra_config;                  ///< appended to mosquitto.conf
};

/// A running mosquitto. port() is plain MQTT; tls_port() is the TLS listener (or 0).
class MosquittoBroker {
public:
  explicit MosquittoBroker(MosquittoOptions options = {});
  ~MosquittoBroker();

  int port() const noexcept { return m_port; }
  int tls_port() const noexcept { return m_tls_port; }
  const TestCertificates& certificates() const noexcept { return m_certs; }
  const TempDir& dir() const noexcept { return m_dir; }
  /// Everything mosquitto logged so far.
  std::string log();

private:
  bool try_start(const MosquittoOptions& options);

  TempDir m_dir;
  TestCertificates m_certs;
  std::unique_ptr<Process> m_process;
  int m_port = 0;
  int m_tls_port = 0;
};

/// Waits until something accepts TCP connections on 127.0.0.1:port.
bool wait_for_tcp_port(int port, std::chrono::milliseconds timeout = 10s);

} // namespace mqfleet::test
