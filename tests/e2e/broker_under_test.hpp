#pragma once
// The broker an end-to-end conformance test runs against: Debian's mosquitto (to check
// the tests themselves) or the reference broker `mqfleet broker` (the subject), on
// ephemeral ports, plus a runner for the python3-paho-mqtt scenario scripts in py/.

#include "support/mosquitto_broker.hpp"
#include "support/process.hpp"
#include "support/reference_broker.hpp"
#include "support/temp_dir.hpp"

#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace mqfleet::test {

/// Which broker implementation.
enum class BrokerKind { mosquitto, reference };

/// "mosquitto" or "reference" (also used in test names).
std::string to_string(BrokerKind kind);

/// Prints the kind in GoogleTest messages.
void PrintTo(BrokerKind kind, std::ostream* out);

/// How to start the broker under test.
struct BrokerUnderTestOptions {
  bool tls = false;                    ///< add a TLS listener with make_test_certificates()
  std::string registry;                ///< reference only: --registry FILE instead of anonymous
  std::vector<std::string> extra_args; ///< reference only: appended to the command line
  std::string mosquitto_config;        ///< mosquitto only: appended to mosquitto.conf
};

/// A running broker of either kind (RAII).
class BrokerUnderTest {
public:
  BrokerUnderTest(BrokerKind kind, BrokerUnderTestOptions options = {});
  ~BrokerUnderTest();
  BrokerUnderTest(const BrokerUnderTest&) = delete;
  BrokerUnderTest& operator=(const BrokerUnderTest&) = delete;

  BrokerKind kind() const noexcept { return m_kind; }
  int port() const noexcept { return m_port; }
  int tls_port() const noexcept { return m_tls_port; }
  /// The CA that signed the TLS listener's certificate (empty without TLS).
  std::string ca_file() const;
  /// Everything the broker logged so far (stderr).
  std::string log();
  /// The `mqfleet broker` child process (reference kind only; throws for mosquitto).
  Process& process();

private:
  BrokerKind m_kind;
  TestCertificates m_certs;
  std::unique_ptr<MosquittoBroker> m_mosquitto;
  std::unique_ptr<ReferenceBrokerProcess> m_reference;
  int m_port = 0;
  int m_tls_port = 0;
};

/// Runs tests/e2e/py/<script> with /usr/bin/python3 against `broker` (over TLS when
/// `tls`), appending `args`. The scripts bound their own run time.
ProcessResult run_scenario(const std::string& script, BrokerUnderTest& broker,
                           const std::vector<std::string>& args = {}, bool tls = false);

/// The command line that runs tests/e2e/py/<script> against 127.0.0.1:`port` (for
/// scenarios the test drives itself, e.g. stopping the broker in the middle).
std::vector<std::string> scenario_command(const std::string& script, int port);

/// A readable account of a failed scenario: exit code, script output, broker log tail.
std::string describe(const ProcessResult& result, BrokerUnderTest& broker);

} // namespace mqfleet::test
