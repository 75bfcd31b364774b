// pub and sub over every transport of the lean client — WebSocket and WebSocket over TLS
// (through an independent RFC 6455 implementation, python3-websockets, in front of
// mosquitto), a Unix-domain socket — and the clear errors when an upgrade is refused.
#include "support/mosquitto_broker.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace mqfleet::test {
namespace {

constexpr int k_connect = 4;

// python3-websockets relaying to a TCP broker (tests/support/ws_bridge.py).
class WsBridge {
public:
  explicit WsBridge(int broker_port, const TestCertificates* tls = nullptr) {
    const char* source = std::getenv("MQFLEET_SOURCE_DIR");
    std::vector<std::string> argv{"/usr/bin/python3", std::string(source ? source : ".") + "/tests/support/ws_bridge.py",
                                  std::to_string(broker_port)};
    if (tls != nullptr) {
      argv.insert(argv.end(), {"--certfile", tls->server_cert, "--keyfile", tls->server_key});
    }
    m_process = std::make_unique<Process>(argv);
    const auto line = m_process->wait_for_stdout_line([](const std::string& l) { return l.rfind("port ", 0) == 0; }, 20s);
    if (!line) throw std::runtime_error("ws_bridge.py did not start: " + m_process->stderr_so_far());
    m_port = std::stoi(line->substr(5));
  }
  int port() const noexcept { return m_port; }

private:
  std::unique_ptr<Process> m_process;
  int m_port = 0;
};

// Starts `mqfleet sub` with `args` and waits until its subscription is acknowledged
// (-d says "subscribed to" on stderr).
std::unique_ptr<Process> start_sub(std::vector<std::string> args) {
  args.insert(args.begin(), {mqfleet_bin(), "sub", "-d"});
  auto sub = std::make_unique<Process>(args);
  EXPECT_TRUE(sub->wait_for_stderr_line([](const std::string& l) { return l.find("subscribed to") != std::string::npos; }, 20s))
      << sub->stderr_so_far();
  return sub;
}

TEST(Transports, WebSocketPubAndSubThroughAnIndependentServer) {
  MosquittoBroker broker;
  WsBridge bridge(broker.port());
  const std::string url = fmt::format("ws://127.0.0.1:{}/mqtt", bridge.port());
  for (const char* version : {"311", "5"}) {
    auto sub = start_sub({"-L", url, "-V", version, "-t", "ws/t", "-q", "1", "-C", "3"});
    // --ws with -p names the same endpoint as the URL; QoS 0, 1, 2 and a 200 kB message
    // (a frame with a 64-bit length, split across many TCP reads).
    // (The big one through -f: one argument may not exceed 128 KiB.)
    const std::string big(200000, 'b');
    TempDir dir;
    const std::string big_file = dir.write("big", big);
    for (const auto& [qos, message] : std::vector<std::pair<std::string, std::string>>{{"1", "one"}, {"2", "two"}}) {
      const auto pub = run_mqfleet({"pub", "--ws", "-h", "127.0.0.1", "-p", std::to_string(bridge.port()), "-V",
                                    version, "-t", "ws/t", "-q", qos, "-m", message});
      EXPECT_EQ(pub.exit_code, 0) << pub.err;
    }
    const auto pub = run_mqfleet({"pub", "--ws", "-h", "127.0.0.1", "-p", std::to_string(bridge.port()), "-V", version,
                                  "-t", "ws/t", "-q", "0", "-f", big_file});
    EXPECT_EQ(pub.exit_code, 0) << pub.err;
    const auto result = sub->wait(30s);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(split_lines(result.out), (std::vector<std::string>{"one", "two", big})) << "version " << version;
  }
}

TEST(Transports, WebSocketOverTlsVerifiesTheServer) {
  MosquittoBroker broker;
  TempDir dir;
  const TestCertificates certs = make_test_certificates(dir);
  WsBridge bridge(broker.port(), &certs);
  const std::string url = fmt::format("wss://localhost:{}/mqtt", bridge.port());
  auto sub = start_sub({"-L", url, "--cafile", certs.ca_file, "-t", "wss/t", "-C", "1"});
  const auto pub = run_mqfleet({"pub", "-L", url, "--cafile", certs.ca_file, "-t", "wss/t", "-q", "1", "-m", "sealed"});
  EXPECT_EQ(pub.exit_code, 0) << pub.err;
  const auto result = sub->wait(30s);
  EXPECT_EQ(result.out, "sealed\n") << result.err;

  const auto wrong_ca = run_mqfleet({"pub", "-L", url, "--cafile", certs.other_ca_file, "-t", "wss/t", "-m", "x"});
  EXPECT_EQ(wrong_ca.exit_code, k_connect);
  EXPECT_NE(wrong_ca.err.find("certificate"), std::string::npos) << wrong_ca.err;
}

TEST(Transports, RefusedUpgradeNamesTheHttpStatusAndThePath) {
  MosquittoBroker broker;
  WsBridge bridge(broker.port());
  const auto result = run_mqfleet({"pub", "-L", fmt::format("ws://127.0.0.1:{}/wrong", bridge.port()), "-t", "t", "-m", "x"});
  EXPECT_EQ(result.exit_code, k_connect) << result.err;
  EXPECT_NE(result.err.find("HTTP 404"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("path"), std::string::npos) << result.err;
  // A plain MQTT port is no WebSocket endpoint: a clear connect error, not a hang.
  const auto plain = run_mqfleet({"pub", "--ws", "-p", std::to_string(broker.port()), "-t", "t", "-m", "x",
                                  "--connect-timeout", "5"});
  EXPECT_EQ(plain.exit_code, k_connect) << plain.err;
  EXPECT_NE(plain.err.find("WebSocket"), std::string::npos) << plain.err;
}

TEST(Transports, UnixSocketPubAndSub) {
  TempDir dir;
  const std::string socket_path = (dir.path() / "mqtt.sock").string();
  MosquittoOptions unix_listener;
  unix_listener.extra_config = fmt::format("listener 0 {}\nallow_anonymous true\n", socket_path);
  MosquittoBroker broker(unix_listener);
  auto sub = start_sub({"--unix", socket_path, "-t", "unix/t", "-C", "1", "-q", "2"});
  const auto pub = run_mqfleet({"pub", "--unix", socket_path, "-t", "unix/t", "-q", "2", "-m", "local"});
  EXPECT_EQ(pub.exit_code, 0) << pub.err;
  const auto result = sub->wait(30s);
  EXPECT_EQ(result.out, "local\n") << result.err;

  const auto missing = run_mqfleet({"pub", "--unix", (dir.path() / "nothing.sock").string(), "-t", "t", "-m", "x"});
  EXPECT_EQ(missing.exit_code, k_connect);
  EXPECT_NE(missing.err.find("nothing.sock"), std::string::npos) << missing.err;
}

} // namespace
} // namespace mqfleet::test
