// `mqfleet pub` on the lean client (lib/mqtt codec over a POSIX socket + OpenSSL) end to
// end: TLS version pinning and encrypted client keys, QoS 2 streams for every protocol
// version, keepalive while idle, a broker that closes mid-stream, and the Paho fallback.
// Real mosquitto per test; no timed assertions, timeouts only guard against hangs.
#include "support/mosquitto_broker.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <mqfleet/mqtt/codec.hpp>
#include <mqfleet/mqtt/frame.hpp>
#include <mqfleet/mqtt/publish_view.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <atomic>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace mqfleet::test {
namespace {

constexpr int k_connect = 4, k_auth = 5, k_delivery = 7;

bool wait_for_log(MosquittoBroker& broker, const std::string& text, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (broker.log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// mosquitto_sub, subscribed when constructed; received_lines() waits for its exit.
class Subscriber {
public:
  Subscriber(MosquittoBroker& broker, const std::string& topic, int count, std::vector<std::string> extra = {}) {
    static std::atomic<int> counter{0};
    const std::string id = fmt::format("lean-sub-{}-{}", getpid(), ++counter);
    std::vector<std::string> argv{find_program("mosquitto_sub"), "-p", std::to_string(broker.port()), "-i", id,
                                  "-C", std::to_string(count), "-q", "2", "-W", "280", "-t", topic};
    argv.insert(argv.end(), extra.begin(), extra.end());
    m_process = std::make_unique<Process>(argv);
    EXPECT_TRUE(wait_for_log(broker, "Sending SUBACK to " + id)) << broker.log();
  }
  std::vector<std::string> received_lines() {
    ProcessResult result = m_process->wait(280s);
    EXPECT_FALSE(result.timed_out);
    return split_lines(result.out);
  }

private:
  std::unique_ptr<Process> m_process;
};

std::string numbered_lines(int count, std::vector<std::string>* lines = nullptr) {
  std::string input;
  for (int i = 1; i <= count; ++i) {
    input += fmt::format("msg-{}\n", i);
    if (lines != nullptr) lines->push_back(fmt::format("msg-{}", i));
  }
  return input;
}

// A one-connection MQTT 3.1.1 peer on 127.0.0.1 that accepts CONNECT, acknowledges the
// first `acks` QoS 1 messages and then closes the connection (FIN after the PUBACKs).
class ClosingBroker {
public:
  explicit ClosingBroker(int acks) : m_acks(acks) {
    m_listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    if (bind(m_listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(m_listener, 1) != 0 ||
        getsockname(m_listener, reinterpret_cast<sockaddr*>(&addr), &length) != 0)
      throw std::runtime_error("ClosingBroker: cannot listen");
    m_port = ntohs(addr.sin_port);
    m_thread = std::thread([this] { run(); });
  }
  ~ClosingBroker() {
    m_thread.join();
    close(m_listener);
  }
  int port() const noexcept { return m_port; }
  int acknowledged() const noexcept { return m_sent.load(); }

private:
  static bool wait_readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, 60'000) > 0;
  }
  static void send_all(int fd, const std::string& bytes) {
    for (std::size_t done = 0; done < bytes.size();) {
      const ssize_t n = send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<std::size_t>(n);
    }
  }

  void run() {
    if (!wait_readable(m_listener)) return;
    const int fd = accept(m_listener, nullptr, nullptr);
    if (fd < 0) return;
    mqtt::FrameReader reader(mqtt::k_max_packet_size);
    bool closing = false;
    while (wait_readable(fd)) {
      const std::span<char> space = reader.prepare(16384);
      const ssize_t n = recv(fd, space.data(), space.size(), 0);
      if (n <= 0) break;
      if (closing) continue; // drain until the client closes
      reader.commit(static_cast<std::size_t>(n));
      while (auto frame = reader.next()) {
        std::string out;
        if (frame->type() == mqtt::PacketType::connect) {
          mqtt::encode(mqtt::Connack{}, mqtt::ProtocolVersion::v3_1_1, out);
        } else if (frame->type() == mqtt::PacketType::publish && m_sent < m_acks) {
          const auto message = mqtt::decode_publish_view(*frame, mqtt::ProtocolVersion::v3_1_1);
          mqtt::encode(mqtt::Puback{message.packet_id, mqtt::ReasonCode::success, {}}, mqtt::ProtocolVersion::v3_1_1,
                       out);
          ++m_sent;
        }
        send_all(fd, out);
        if (m_sent == m_acks && !closing) {
          shutdown(fd, SHUT_WR);
          closing = true;
          break;
        }
      }
    }
    close(fd);
  }

  int m_listener = -1;
  int m_port = 0;
  int m_acks;
  std::atomic<int> m_sent{0};
  std::thread m_thread;
};

TEST(LeanPubE2E, BrokerClosingMidStreamIsADeliveryFailure) {
  ClosingBroker broker(5);
  auto result = run_mqfleet(
      {"pub", "-p", std::to_string(broker.port()), "-t", "mid/stream", "-q", "1", "-l", "-d", "--no-reconnect"},
      numbered_lines(5000), 120s);
  EXPECT_EQ(result.exit_code, k_delivery) << result.err;
  EXPECT_EQ(broker.acknowledged(), 5);
  // Exactly the messages the broker acknowledged are reported as delivered.
  EXPECT_NE(result.err.find(", 5 acknowledged, 0 refused"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("not acknowledged"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("connection was lost"), std::string::npos) << result.err;
  // Where the input stopped, and the flag that would have reconnected.
  EXPECT_NE(result.err.find("was never sent"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("leave out --no-reconnect"), std::string::npos) << result.err;
}

TEST(LeanPubE2E, Qos2LinesInOrderForEveryProtocolVersion) {
  MosquittoBroker broker;
  for (const std::string version : {"31", "311", "5"}) {
    const std::string topic = "q2/v" + version;
    std::vector<std::string> expected;
    const std::string input = numbered_lines(2000, &expected);
    Subscriber sub(broker, topic, 2000);
    auto result = run_mqfleet({"pub", "-V", version, "-p", std::to_string(broker.port()), "-t", topic, "-q", "2",
                               "-l", "--max-inflight", "50"},
                              input, 120s);
    EXPECT_EQ(result.exit_code, 0) << version << ": " << result.err;
    EXPECT_EQ(sub.received_lines(), expected) << version;
  }
}

TEST(LeanPubE2E, PingsWhileIdleAndKeepsPublishing) {
  MosquittoBroker broker;
  Subscriber sub(broker, "idle/x", 2, {"-v"});
  Process pub({mqfleet_bin(), "pub", "-p", std::to_string(broker.port()), "-i", "lean-idle", "-k", "1", "-t", "idle/x",
               "-q", "1", "-l"});
  pub.write_stdin("first\n");
  ASSERT_TRUE(wait_for_log(broker, "Sending PUBACK to lean-idle")) << broker.log();
  // Nothing to send for a while: the client must ping rather than be dropped.
  ASSERT_TRUE(wait_for_log(broker, "Received PINGREQ from lean-idle")) << broker.log();
  ASSERT_TRUE(wait_for_log(broker, "Sending PINGRESP to lean-idle")) << broker.log();
  pub.write_stdin("second\n");
  pub.close_stdin();
  ProcessResult result = pub.wait(60s);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(sub.received_lines(), (std::vector<std::string>{"idle/x first", "idle/x second"}));
}

TEST(LeanPubE2E, TlsVersionIsPinned) {
  MosquittoOptions options;
  options.tls = true;
  options.extra_config = "tls_version tlsv1.3"; // the TLS listener's minimum
  MosquittoBroker broker(options);
  const auto& certs = broker.certificates();
  const std::string tls_port = std::to_string(broker.tls_port());
  Subscriber sub(broker, "pin/#", 1, {"-v"});
  auto v13 = run_mqfleet({"pub", "-h", "localhost", "-p", tls_port, "--cafile", certs.ca_file, "--tls-version",
                          "tlsv1.3", "--alpn", "mqtt", "-t", "pin/13", "-q", "1", "-m", "tls13"});
  EXPECT_EQ(v13.exit_code, 0) << v13.err << broker.log();
  // Pinned to 1.2, the client offers nothing a TLS-1.3-only listener accepts.
  auto v12 = run_mqfleet({"pub", "-h", "localhost", "-p", tls_port, "--cafile", certs.ca_file, "--tls-version",
                          "tlsv1.2", "-t", "pin/12", "-q", "1", "-m", "tls12"});
  EXPECT_EQ(v12.exit_code, k_connect) << v12.err;
  EXPECT_NE(v12.err.find("TLS"), std::string::npos) << v12.err;
  EXPECT_EQ(sub.received_lines(), std::vector<std::string>{"pin/13 tls13"});
}

TEST(LeanPubE2E, EncryptedClientKey) {
  MosquittoOptions options;
  options.tls = true;
  options.require_client_certificate = true;
  MosquittoBroker broker(options);
  const auto& certs = broker.certificates();
  const std::string tls_port = std::to_string(broker.tls_port());
  const std::string encrypted = broker.dir().file("client-encrypted.key");
  auto made = run_process({"openssl", "pkey", "-in", certs.client_key, "-aes256", "-passout", "pass:key-pw-9", "-out",
                           encrypted});
  ASSERT_EQ(made.exit_code, 0) << made.err;

  ProcessOptions env;
  env.env["LEAN_KEY_PW"] = "key-pw-9";
  auto ok = run_mqfleet({"pub", "-h", "localhost", "-p", tls_port, "--cafile", certs.ca_file, "--cert",
                         certs.client_cert, "--key", encrypted, "--key-password-env", "LEAN_KEY_PW", "-t", "k", "-q",
                         "1", "-m", "x"},
                        {}, 60s, env);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.err.find("key-pw-9"), std::string::npos);

  env.env["LEAN_KEY_PW"] = "wrong-pw";
  auto wrong = run_mqfleet({"pub", "-h", "localhost", "-p", tls_port, "--cafile", certs.ca_file, "--cert",
                            certs.client_cert, "--key", encrypted, "--key-password-env", "LEAN_KEY_PW", "-t", "k",
                            "-m", "x"},
                           {}, 60s, env);
  EXPECT_EQ(wrong.exit_code, 3) << wrong.err;
  EXPECT_NE(wrong.err.find("--key"), std::string::npos) << wrong.err;
  EXPECT_EQ(wrong.err.find("wrong-pw"), std::string::npos);
}

TEST(LeanPubE2E, AuthFailureForEveryVersion) {
  MosquittoOptions options;
  options.users = {{"carol", "right-pw"}};
  MosquittoBroker broker(options);
  for (const std::string version : {"31", "311", "5"}) {
    auto wrong = run_mqfleet({"pub", "-V", version, "-p", std::to_string(broker.port()), "-u", "carol", "-P",
                              "bad-pw", "-t", "a", "-q", "1", "-m", "x"});
    EXPECT_EQ(wrong.exit_code, k_auth) << version << ": " << wrong.err;
    EXPECT_NE(wrong.err.find("CONNACK"), std::string::npos) << wrong.err;
    EXPECT_EQ(wrong.err.find("bad-pw"), std::string::npos);
  }
}

TEST(LeanPubE2E, PahoFallback) {
  MosquittoBroker broker;
  Subscriber sub(broker, "fb/#", 2, {"-v"});
  ProcessOptions forced;
  forced.env["MQFLEET_PUB_CLIENT"] = "paho";
  auto paho = run_mqfleet({"pub", "-p", std::to_string(broker.port()), "-t", "fb/forced", "-q", "1", "-m", "p", "-d"},
                          {}, 60s, forced);
  EXPECT_EQ(paho.exit_code, 0) << paho.err;
  EXPECT_NE(paho.err.find("using the Paho client (MQFLEET_PUB_CLIENT=paho)"), std::string::npos) << paho.err;

  // A profile with automatic reconnection is served by the lean client (it reconnects).
  TempDir config;
  const std::string profiles = fmt::format(
      R"({{"version":1,"profiles":{{"re":{{"host":"127.0.0.1","port":{},"reconnect":{{"enabled":true}}}}}}}})",
      broker.port());
  const std::string path = config.write("mqfleet/profiles.json", profiles);
  ::chmod(path.c_str(), 0600);
  ProcessOptions with_profile;
  with_profile.env["XDG_CONFIG_HOME"] = config.path().string();
  auto reconnecting =
      run_mqfleet({"pub", "--profile", "re", "-t", "fb/reconnect", "-q", "1", "-m", "r", "-d"}, {}, 60s, with_profile);
  EXPECT_EQ(reconnecting.exit_code, 0) << reconnecting.err;
  EXPECT_EQ(reconnecting.err.find("using the Paho client"), std::string::npos) << reconnecting.err;
  EXPECT_EQ(sub.received_lines(), (std::vector<std::string>{"fb/forced p", "fb/reconnect r"}));
}

} // namespace
} // namespace mqfleet::test
