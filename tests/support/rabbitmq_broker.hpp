#pragma once
// A real RabbitMQ node (Debian's rabbitmq-server) with its MQTT plugin, on free ports, for
// the tests against a second broker family. Everything it writes (Mnesia database, logs,
// Erlang cookie) stays in a temporary directory; it runs its own epmd on its own port, so
// it never meets a system RabbitMQ or another test's node. Started in the constructor
// (several seconds: share one node per test binary), stopped by PID in the destructor.

#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <memory>
#include <string>

namespace mqfleet::test {

/// A running RabbitMQ node. Throws std::runtime_error from the constructor, saying why,
/// when it cannot start (not installed, did not come up in time).
class RabbitMqNode {
public:
  RabbitMqNode();
  ~RabbitMqNode();
  RabbitMqNode(const RabbitMqNode&) = delete;
  RabbitMqNode& operator=(const RabbitMqNode&) = delete;

  /// The MQTT listener (plain TCP, 127.0.0.1; anonymous clients log in as guest).
  int mqtt_port() const noexcept { return m_mqtt_port; }
  /// The RabbitMQ version, from its start-up banner ("3.10.8"); empty if not seen.
  const std::string& version() const noexcept { return m_version; }
  /// How long the node took to start, plugin enabling included.
  std::chrono::milliseconds start_time() const noexcept { return m_start_time; }
  /// Everything the node logged so far.
  std::string log();

private:
  void stop();

  TempDir m_dir;
  std::unique_ptr<Process> m_epmd;
  std::unique_ptr<Process> m_server;
  int m_mqtt_port = 0;
  std::string m_version;
  std::chrono::milliseconds m_start_time{0};
};

} // namespace mqfleet::test
