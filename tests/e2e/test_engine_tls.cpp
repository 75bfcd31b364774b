// The fast engine's connection set-up against Debian's mosquitto: TLS with the test
// certificates, a wrong CA, refused credentials (3.1.1 and 5.0 codes), a source address,
// and a port nobody listens on.
#include "e2e/engine_harness.hpp"
#include "support/mosquitto_broker.hpp"

#include <mqfleet/engine/pool.hpp>
#include <mqfleet/error.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

using namespace mqfleet;
using namespace mqfleet::engine;
using namespace mqfleet::test;

namespace {

/// Result of one connection attempt, filled on the loop thread.
struct Attempt {
  std::atomic<bool> done{false};
  std::atomic<bool> ok{false};
  std::mutex mutex;
  int reason_code = 0;
  std::string stage;
  std::string message;
  std::string received;
};

/// Connects one client, subscribes to "tls/echo", publishes there and waits for it.
void connect_and_echo(ClientOptions options, Attempt& attempt) {
  EnginePool pool(1);
  LambdaHandler handler;
  handler.connected = [&](Client& c, const ConnackInfo&) { c.subscribe("tls/echo", mqtt::QoS::at_least_once); };
  handler.suback = [&](Client& c, std::uint16_t, std::span<const mqtt::ReasonCode>) {
    c.publish("tls/echo", "hello over the engine", mqtt::QoS::at_least_once);
  };
  handler.message = [&](Client&, const IncomingMessage& m) {
    {
      std::lock_guard lock(attempt.mutex);
      attempt.received = std::string(m.payload);
    }
    attempt.ok = true;
    attempt.done = true;
  };
  handler.failed = [&](Client&, const ConnectFailure& f) {
    {
      std::lock_guard lock(attempt.mutex);
      attempt.reason_code = f.reason_code;
      attempt.stage = std::string(f.stage);
      attempt.message = std::string(f.message);
    }
    attempt.done = true;
  };
  Client& client = pool.add_client(std::move(options), handler);
  pool.start();
  pool.post_to(client, [](Client& c) { c.connect(); });
  ASSERT_TRUE(wait_until([&] { return attempt.done.load(); }));
  pool.stop();
}

// TLS settings with a CA file and, optionally, a pinned version, ALPN and a client pair.
TlsOptions tls_options(const std::string& ca_file, std::string version = {}, std::vector<std::string> alpn = {},
                       std::string cert_file = {}, std::string key_file = {}) {
  TlsOptions options;
  options.ca_file = ca_file;
  options.version = std::move(version);
  options.alpn = std::move(alpn);
  options.cert_file = std::move(cert_file);
  options.key_file = std::move(key_file);
  return options;
}

ClientOptions base_options(int port) {
  ClientOptions options;
  options.port = static_cast<std::uint16_t>(port);
  options.client_id = "engine-setup";
  return options;
}

/// mosquitto with a TLS listener, requiring a client certificate when asked.
MosquittoOptions tls_broker(bool client_certificate = false) {
  MosquittoOptions options;
  options.tls = true;
  options.require_client_certificate = client_certificate;
  return options;
}

} // namespace

TEST(EngineTls, RoundTripWithTheTestCa) {
  MosquittoBroker broker(tls_broker());
  auto options = base_options(broker.tls_port());
  options.tls = TlsClientContext::create(tls_options(broker.certificates().ca_file));
  Attempt attempt;
  connect_and_echo(options, attempt);
  EXPECT_TRUE(attempt.ok) << attempt.stage << ": " << attempt.message;
  EXPECT_EQ(attempt.received, "hello over the engine");
}

TEST(EngineTls, ClientCertificateAndSniByName) {
  MosquittoBroker broker(tls_broker(true));
  auto options = base_options(broker.tls_port());
  options.host = "localhost";
  options.tls = TlsClientContext::create(tls_options(broker.certificates().ca_file, {}, {}, broker.certificates().client_cert,
                                                      broker.certificates().client_key));
  Attempt attempt;
  connect_and_echo(options, attempt);
  EXPECT_TRUE(attempt.ok) << attempt.stage << ": " << attempt.message;
}

TEST(EngineTls, WrongCaFailsInTheTlsStage) {
  MosquittoBroker broker(tls_broker());
  auto options = base_options(broker.tls_port());
  options.tls = TlsClientContext::create(tls_options(broker.certificates().other_ca_file));
  Attempt attempt;
  connect_and_echo(options, attempt);
  EXPECT_FALSE(attempt.ok);
  EXPECT_EQ(attempt.stage, "tls");
  EXPECT_EQ(attempt.reason_code, -1);
  EXPECT_NE(attempt.message.find("certificate"), std::string::npos) << attempt.message;
}

TEST(EngineTls, PinnedVersionsAndAlpnComeFromTheOneTlsSetup) {
  // bench and sim share pub's TLS setup: --tls-version pins the version, ALPN is offered.
  MosquittoBroker broker(tls_broker());
  auto options = base_options(broker.tls_port());
  for (const char* version : {"tlsv1.2", "tlsv1.3"}) {
    options.tls = TlsClientContext::create(tls_options(broker.certificates().ca_file, version, {"mqtt"}),
                                           TlsSharing::many_connections);
    Attempt attempt;
    connect_and_echo(options, attempt);
    EXPECT_TRUE(attempt.ok) << version << ": " << attempt.stage << ": " << attempt.message;
  }
}

TEST(EngineTls, MissingCaFileIsAConfigError) {
  EXPECT_THROW(TlsClientContext::create(tls_options("/nonexistent/ca.pem")), ConfigError);
}

TEST(EngineConnect, BadCredentialsReportTheReasonCode) {
  MosquittoOptions with_alice;
  with_alice.users = {{"alice", "right-password"}};
  MosquittoBroker broker(with_alice);
  for (auto version : {mqtt::ProtocolVersion::v3_1_1, mqtt::ProtocolVersion::v5}) {
    auto options = base_options(broker.port());
    options.version = version;
    options.username = "alice";
    options.password = "wrong-password";
    Attempt attempt;
    connect_and_echo(options, attempt);
    EXPECT_FALSE(attempt.ok);
    EXPECT_EQ(attempt.stage, "mqtt");
    EXPECT_EQ(attempt.reason_code, version == mqtt::ProtocolVersion::v5 ? 0x87 : 5);
    EXPECT_EQ(attempt.message.find("wrong-password"), std::string::npos);
  }
  auto options = base_options(broker.port());
  options.username = "alice";
  options.password = "right-password";
  Attempt attempt;
  connect_and_echo(options, attempt);
  EXPECT_TRUE(attempt.ok) << attempt.stage << ": " << attempt.message;
}

TEST(EngineConnect, BindAddressIsTheSourceTheBrokerSees) {
  MosquittoBroker broker;
  auto options = base_options(broker.port());
  options.bind_address = "127.0.0.2";
  options.client_id = "from-dot-two";
  Attempt attempt;
  connect_and_echo(options, attempt);
  EXPECT_TRUE(attempt.ok) << attempt.stage << ": " << attempt.message;
  EXPECT_NE(broker.log().find("from 127.0.0.2"), std::string::npos) << broker.log();
}

TEST(EngineConnect, NobodyListeningFailsInTheTcpStage) {
  int port = 0;
  {
    MosquittoBroker broker; // a port that was free a moment ago and is closed now
    port = broker.port();
  }
  Attempt attempt;
  connect_and_echo(base_options(port), attempt);
  EXPECT_FALSE(attempt.ok);
  EXPECT_EQ(attempt.stage, "tcp");
  EXPECT_EQ(attempt.reason_code, -1);
}
