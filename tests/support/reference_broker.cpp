#include "support/reference_broker.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include <csignal>
#include <stdexcept>
#include <thread>

namespace mqfleet::test {

ReferenceBroker::ReferenceBroker(ReferenceBrokerOptions options) {
  broker::BrokerConfig config;
  config.mqtt = {true, "127.0.0.1", 0, {}, {}, {}};
  if (options.tls) {
    m_certs = make_test_certificates(m_dir);
    config.mqtts = {true, "127.0.0.1", 0, m_certs.server_cert, m_certs.server_key,
                    options.require_client_certificate ? m_certs.ca_file : std::string{}};
  }
  config.allow_anonymous = options.allow_anonymous;
  config.registry_path = options.registry_path;
  config.limits = options.limits;
  config.io_threads = options.io_threads;
  config.sys_interval_seconds = options.sys_interval_seconds;
  config.log_sink = [mutex = m_log_mutex, log = m_log](std::string_view line) {
    std::lock_guard lock(*mutex);
    log->emplace_back(line);
  };
  m_broker = std::make_unique<broker::Broker>(std::move(config));
  m_broker->start();
}

ReferenceBroker::~ReferenceBroker() { m_broker->stop(); }

std::vector<std::string> ReferenceBroker::log_lines() {
  std::lock_guard lock(*m_log_mutex);
  return *m_log;
}

bool ReferenceBroker::wait_for_log(const std::string& needle, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& line : log_lines())
      if (line.find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

ReferenceBrokerProcess::ReferenceBrokerProcess(ReferenceBrokerOptions options) {
  std::vector<std::string> argv{mqfleet_bin(), "broker", "--bind", "127.0.0.1", "--port", "0"};
  if (options.tls) {
    m_certs = make_test_certificates(m_dir);
    argv.insert(argv.end(), {"--tls-port", "0", "--cert", m_certs.server_cert, "--key", m_certs.server_key});
    if (options.require_client_certificate) argv.insert(argv.end(), {"--cafile", m_certs.ca_file});
  }
  if (options.allow_anonymous) argv.emplace_back("--allow-anonymous");
  if (!options.registry_path.empty()) argv.insert(argv.end(), {"--registry", options.registry_path});
  const broker::BrokerLimits defaults;
  const auto& limits = options.limits;
  if (limits.max_connections != defaults.max_connections)
    argv.insert(argv.end(), {"--max-connections", std::to_string(limits.max_connections)});
  if (limits.max_packet_size != defaults.max_packet_size)
    argv.insert(argv.end(), {"--max-packet-size", std::to_string(limits.max_packet_size)});
  if (limits.max_inflight != defaults.max_inflight)
    argv.insert(argv.end(), {"--max-inflight", std::to_string(limits.max_inflight)});
  if (limits.max_queued != defaults.max_queued)
    argv.insert(argv.end(), {"--max-queued", std::to_string(limits.max_queued)});
  if (limits.connect_timeout_seconds != defaults.connect_timeout_seconds)
    argv.insert(argv.end(), {"--connect-timeout", std::to_string(limits.connect_timeout_seconds)});
  // extra_args may choose the io threads and the $SYS interval themselves (a flag given
  // twice is a usage error).
  const auto given = [&](const char* flag) {
    return std::find(options.extra_args.begin(), options.extra_args.end(), flag) != options.extra_args.end();
  };
  if (!given("--threads")) argv.insert(argv.end(), {"--threads", std::to_string(options.io_threads)});
  if (!given("--sys-interval"))
    argv.insert(argv.end(), {"--sys-interval", std::to_string(options.sys_interval_seconds)});
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  m_process = std::make_unique<Process>(argv);
  auto line = m_process->wait_for_stdout_line(
      [](const std::string& l) { return l.find("\"listening\"") != std::string::npos; }, 30s);
  if (!line) throw std::runtime_error("mqfleet broker did not start: " + m_process->stderr_so_far());
  auto doc = nlohmann::json::parse(*line);
  if (doc["mqtt"].is_number()) m_port = doc["mqtt"].get<int>();
  if (doc["mqtts"].is_number()) m_tls_port = doc["mqtts"].get<int>();
}

ReferenceBrokerProcess::~ReferenceBrokerProcess() {
  if (m_process && m_process->running()) {
    m_process->signal(SIGTERM);
    m_process->wait(10s);
  }
}

} // namespace mqfleet::test
