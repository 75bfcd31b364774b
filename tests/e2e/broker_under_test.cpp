#include "e2e/broker_under_test.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <stdexcept>

namespace mqfleet::test {
namespace {

// The paho scripts need Debian's interpreter: a pyenv python3 on PATH has no paho.
constexpr const char* k_python = "/usr/bin/python3";

std::string script_path(const std::string& script) {
  const char* source = std::getenv("MQFLEET_SOURCE_DIR");
  if (source == nullptr) throw std::runtime_error("MQFLEET_SOURCE_DIR is not set (run the test through ctest)");
  return std::string(source) + "/tests/e2e/py/" + script;
}

std::string tail(const std::string& text, std::size_t max_chars) {
  return text.size() <= max_chars ? text : "..." + text.substr(text.size() - max_chars);
}

} // namespace

std::string to_string(BrokerKind kind) { return kind == BrokerKind::mosquitto ? "mosquitto" : "reference"; }

void PrintTo(BrokerKind kind, std::ostream* out) { *out << to_string(kind); }

BrokerUnderTest::BrokerUnderTest(BrokerKind kind, BrokerUnderTestOptions options) : m_kind(kind) {
  if (kind == BrokerKind::mosquitto) {
    MosquittoOptions mosquitto_options;
    mosquitto_options.tls = options.tls;
    mosquitto_options.extra_config = options.mosquitto_config;
    m_mosquitto = std::make_unique<MosquittoBroker>(mosquitto_options);
    m_port = m_mosquitto->port();
    m_tls_port = m_mosquitto->tls_port();
    m_certs = m_mosquitto->certificates();
    return;
  }
  ReferenceBrokerOptions reference_options;
  reference_options.allow_anonymous = options.registry.empty();
  reference_options.registry_path = options.registry;
  reference_options.tls = options.tls;
  reference_options.extra_args = options.extra_args;
  m_reference = std::make_unique<ReferenceBrokerProcess>(reference_options);
  m_port = m_reference->port();
  m_tls_port = m_reference->tls_port();
  m_certs = m_reference->certificates();
  if (options.tls && m_tls_port == 0) throw std::runtime_error("mqfleet broker reported no mqtts port");
}

BrokerUnderTest::~BrokerUnderTest() = default;

std::string BrokerUnderTest::ca_file() const { return m_certs.ca_file; }

std::string BrokerUnderTest::log() {
  if (m_mosquitto) return m_mosquitto->log();
  return m_reference ? m_reference->log() : std::string{};
}

Process& BrokerUnderTest::process() {
  if (!m_reference) throw std::logic_error("process(): only the reference broker is a child process here");
  return m_reference->process();
}

ProcessResult run_scenario(const std::string& script, BrokerUnderTest& broker, const std::vector<std::string>& args,
                           bool tls) {
  std::vector<std::string> argv{k_python, "-B", script_path(script), "--host", "127.0.0.1", "--port",
                                std::to_string(broker.port())};
  if (tls) argv.insert(argv.end(), {"--tls-port", std::to_string(broker.tls_port()), "--cafile", broker.ca_file()});
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions options;
  options.env["PYTHONDONTWRITEBYTECODE"] = "1";
  options.env["PYTHONUNBUFFERED"] = "1";
  return run_process(argv, {}, 180s, options);
}

std::vector<std::string> scenario_command(const std::string& script, int port) {
  return {k_python, "-B", script_path(script), "--host", "127.0.0.1", "--port", std::to_string(port)};
}

std::string describe(const ProcessResult& result, BrokerUnderTest& broker) {
  return fmt::format("exit code {}{}\n--- script stdout ---\n{}\n--- script stderr ---\n{}\n--- {} log (tail) ---\n{}",
                     result.exit_code, result.timed_out ? " (killed after the test's timeout)" : "", result.out,
                     result.err, to_string(broker.kind()), tail(broker.log(), 3000));
}

} // namespace mqfleet::test
