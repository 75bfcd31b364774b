#pragma once
// The mqfleet reference broker under test, as RAII fixtures (like async_mqtt's
// broker_runner): ready when constructed, stopped in the destructor.
//   ReferenceBroker        - lib/broker's Broker in this process, on ephemeral ports.
//   ReferenceBrokerProcess - `mqfleet broker --port 0 ...` as a child process.

#include "support/mosquitto_broker.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <mqfleet/broker/broker.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mqfleet::test {

/// How to configure the reference broker under test.
struct ReferenceBrokerOptions {
  bool allow_anonymous = true;             ///< open broker (no registry needed)
  std::string registry_path;               ///< device registry JSON (set allow_anonymous=false)
  bool tls = false;                        ///< add a TLS listener with generated certificates
  bool require_client_certificate = false; ///< TLS listener demands client certs (test CA)
  broker::BrokerLimits limits;             ///< limits (defaults as in the broker)
  unsigned io_threads = 2;
  unsigned sys_interval_seconds = 0;       ///< $SYS publications (0 = off)
  std::vector<std::string> extra_args;     ///< process fixture only: appended to the command
};

/// The broker running inside the test process.
class ReferenceBroker {
public:
  explicit ReferenceBroker(ReferenceBrokerOptions options = {});
  ~ReferenceBroker();
  ReferenceBroker(const ReferenceBroker&) = delete;
  ReferenceBroker& operator=(const ReferenceBroker&) = delete;

  int port() const { return m_broker->bound_port(); }
  int tls_port() const { return m_broker->bound_tls_port(); }
  broker::Broker& broker() noexcept { return *m_broker; }
  const TestCertificates& certificates() const noexcept { return m_certs; }
  const TempDir& dir() const noexcept { return m_dir; }
  /// Every JSON log line the broker emitted so far.
  std::vector<std::string> log_lines();
  /// Waits until a log line contains `needle`; false on timeout.
  bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout = 10s);

private:
  TempDir m_dir;
  TestCertificates m_certs;
  std::shared_ptr<std::mutex> m_log_mutex = std::make_shared<std::mutex>();
  std::shared_ptr<std::vector<std::string>> m_log = std::make_shared<std::vector<std::string>>();
  std::unique_ptr<broker::Broker> m_broker;
};

/// `mqfleet broker` as a child process (MQFLEET_BIN), ports read from its listening line.
class ReferenceBrokerProcess {
public:
  explicit ReferenceBrokerProcess(ReferenceBrokerOptions options = {});
  ~ReferenceBrokerProcess();

  int port() const noexcept { return m_port; }
  int tls_port() const noexcept { return m_tls_port; }
  Process& process() noexcept { return *m_process; }
  const TestCertificates& certificates() const noexcept { return m_certs; }
  const TempDir& dir() const noexcept { return m_dir; }
  /// Everything the broker wrote on stderr (its JSON log lines).
  std::string log() { return m_process->stderr_so_far(); }

private:
  TempDir m_dir;
  TestCertificates m_certs;
  std::unique_ptr<Process> m_process;
  int m_port = 0;
  int m_tls_port = 0;
};

} // namespace mqfleet::test
