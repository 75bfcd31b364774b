#include "support/rabbitmq_broker.hpp"

#include "support/mosquitto_broker.hpp" // wait_for_tcp_port

#include <fmt/format.h>

#include <csignal>
#include <signal.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>

namespace mqfleet::test {
namespace {

// Debian's scripts. /usr/sbin/rabbitmq-server would switch to the rabbitmq user, who
// cannot write our temporary directory; the scripts under /usr/lib run as we are.
constexpr const char* k_scripts = "/usr/lib/rabbitmq/bin";

// Start-up takes 3 to 12 s on a loaded 2-core machine; this only guards against a hang.
constexpr auto k_start_timeout = 120s;

/// `count` distinct free ports.
std::vector<int> free_ports(std::size_t count) {
  std::set<int> ports;
  while (ports.size() < count) ports.insert(free_tcp_port());
  return {ports.begin(), ports.end()};
}

/// The first line of a log that says why start-up failed, or the log's tail.
std::string why(const std::string& log) {
  for (const auto& line : split_lines(log))
    if (line.find("[error]") != std::string::npos || line.find("BOOT FAILED") != std::string::npos ||
        line.find("eaddrinuse") != std::string::npos)
      return line;
  return log.size() > 600 ? log.substr(log.size() - 600) : log;
}

} // namespace

RabbitMqNode::RabbitMqNode() {
  const std::string server = std::string(k_scripts) + "/rabbitmq-server";
  const std::string plugins = std::string(k_scripts) + "/rabbitmq-plugins";
  const std::string epmd = find_program("epmd");
  if (!std::filesystem::exists(server) || !std::filesystem::exists(plugins) || epmd.empty())
    throw std::runtime_error("rabbitmq-server is not installed (scripts/install-deps.sh installs it)");
  const auto begin = std::chrono::steady_clock::now();

  const std::vector<int> ports = free_ports(4);
  const int amqp_port = ports[0], epmd_port = ports[2], dist_port = ports[3];
  m_mqtt_port = ports[1];
  const std::string base = m_dir.path().string();
  const std::string config = m_dir.write("rabbitmq.conf", fmt::format(R"(listeners.tcp.default = 127.0.0.1:{}
mqtt.listeners.tcp.default = 127.0.0.1:{}
mqtt.allow_anonymous = true
loopback_users = none
log.console = true
log.console.level = info
log.file = false
)",
                                                                      amqp_port, m_mqtt_port));
  ProcessOptions options;
  options.cwd = base;
  options.env = {
      {"HOME", base}, // the Erlang cookie
      {"ERL_EPMD_PORT", std::to_string(epmd_port)},
      {"RABBITMQ_NODENAME", fmt::format("mqfleet-test-{}@localhost", amqp_port)},
      {"RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1"},
      {"RABBITMQ_DIST_PORT", std::to_string(dist_port)},
      {"RABBITMQ_MNESIA_BASE", base + "/mnesia"},
      {"RABBITMQ_LOG_BASE", base + "/log"},
      {"RABBITMQ_CONFIG_FILE", config},
      {"RABBITMQ_ENABLED_PLUGINS_FILE", base + "/enabled_plugins"},
      {"RABBITMQ_CONF_ENV_FILE", base + "/rabbitmq-env.conf"}, // none: not /etc's
      {"RABBITMQ_ADVANCED_CONFIG_FILE", base + "/advanced.config"},
      {"RABBITMQ_PID_FILE", base + "/rabbitmq.pid"},
      {"ERL_CRASH_DUMP", base + "/erl_crash.dump"},
  };

  // Our own epmd in the foreground, so that it is ours to stop by PID (the one the
  // node would start daemonizes and outlives it).
  m_epmd = std::make_unique<Process>(std::vector<std::string>{epmd, "-port", std::to_string(epmd_port)}, options);
  if (!wait_for_tcp_port(epmd_port, 10s)) throw std::runtime_error("epmd did not start");

  const ProcessResult enabled = run_process({plugins, "--offline", "enable", "rabbitmq_mqtt"}, {}, 60s, options);
  if (enabled.exit_code != 0)
    throw std::runtime_error("rabbitmq-plugins --offline enable rabbitmq_mqtt failed: " + enabled.err + enabled.out);

  m_server = std::make_unique<Process>(std::vector<std::string>{server}, options);
  const auto ready = m_server->wait_for_stdout_line(
      [](const std::string& line) { return line.find("Server startup complete") != std::string::npos; },
      k_start_timeout);
  if (!ready || !wait_for_tcp_port(m_mqtt_port, 10s)) {
    const std::string reason = why(log());
    stop();
    throw std::runtime_error("RabbitMQ did not start: " + reason);
  }
  for (const auto& line : split_lines(log())) {
    const auto at = line.find("RabbitMQ ");
    if (at != std::string::npos && line.find("Starting") != std::string::npos) {
      const auto rest = line.substr(at + 9);
      m_version = rest.substr(0, rest.find_first_of(" \r\n"));
      break;
    }
  }
  m_start_time = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - begin);
}

RabbitMqNode::~RabbitMqNode() { stop(); }

std::string RabbitMqNode::log() { return m_server ? m_server->stdout_so_far() + m_server->stderr_so_far() : ""; }

void RabbitMqNode::stop() {
  if (m_server) {
    // The script forwards SIGTERM to the Erlang VM and waits for its orderly shutdown.
    pid_t vm = 0;
    std::ifstream(m_dir.file("rabbitmq.pid")) >> vm;
    m_server->signal(SIGTERM);
    m_server->wait(60s);
    if (vm > 0 && ::kill(vm, 0) == 0) ::kill(vm, SIGKILL); // only if the orderly stop failed
    m_server.reset();
  }
  m_epmd.reset(); // SIGTERM to our epmd, by PID
}

} // namespace mqfleet::test
