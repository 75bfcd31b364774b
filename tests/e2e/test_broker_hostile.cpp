// The reference broker against hostile input and faults (issue 11, items 7-16), with raw
// sockets on 127.0.0.1 and `mqfleet broker` as a child process: slowloris CONNECTs,
// bucket payloads that must neither vanish nor break a bucket, the data directory's
// modes, a damaged state.db, and --allow-anonymous next to a registry.

#include "support/process.hpp"
#include "support/reference_broker.hpp"
#include "support/temp_dir.hpp"

#include <mqfleet/mqtt/codec.hpp>
#include <mqfleet/mqtt/packets.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>

namespace mqfleet::test {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

/// A blocking TCP socket to 127.0.0.1 with deadline-bounded reads.
class RawClient {
public:
  explicit RawClient(int port) {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (m_fd < 0 || ::connect(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
    int one = 1;
    ::setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~RawClient() {
    if (m_fd >= 0) ::close(m_fd);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  /// False once the broker has closed the connection.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  /// True when the peer closed (EOF or reset) before `deadline`; input is discarded.
  bool closed_by(Clock::time_point deadline) {
    char buffer[256];
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{m_fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      const auto n = ::recv(m_fd, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return true;
    }
  }
  /// The next packet (first byte, then the rest), or nothing by the timeout / on close.
  std::optional<std::string> read_packet(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (auto packet = take_packet()) return packet;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return std::nullopt;
      pollfd p{m_fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buffer[4096];
      const auto n = ::recv(m_fd, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n == 0) return std::nullopt;
      if (n > 0) m_in.append(buffer, static_cast<std::size_t>(n));
    }
  }

private:
  std::optional<std::string> take_packet() {
    std::size_t length = 0;
    std::size_t i = 1;
    for (int shift = 0;; shift += 7, ++i) {
      if (i >= m_in.size()) return std::nullopt;
      length |= static_cast<std::size_t>(static_cast<unsigned char>(m_in[i]) & 0x7F) << shift;
      if ((static_cast<unsigned char>(m_in[i]) & 0x80) == 0) break;
    }
    if (m_in.size() < i + 1 + length) return std::nullopt;
    std::string packet = m_in.substr(0, i + 1 + length);
    m_in.erase(0, i + 1 + length);
    return packet;
  }

  int m_fd = -1;
  std::string m_in;
};

std::string connect_frame(const std::string& client_id, std::optional<std::string> user = {},
                          std::optional<std::string> password = {}) {
  mqtt::Connect connect;
  connect.client_id = client_id;
  connect.username = std::move(user);
  connect.password = std::move(password);
  std::string out;
  mqtt::encode(connect, mqtt::ProtocolVersion::v3_1_1, out);
  return out;
}

std::string publish_frame(const std::string& topic, const std::string& payload, std::uint16_t packet_id) {
  mqtt::Publish publish;
  publish.topic = topic;
  publish.payload = payload;
  publish.qos = mqtt::QoS::at_least_once;
  publish.packet_id = packet_id;
  std::string out;
  mqtt::encode(publish, mqtt::ProtocolVersion::v3_1_1, out);
  return out;
}

bool is_connack_ok(const std::optional<std::string>& packet) {
  return packet && packet->size() == 4 && static_cast<unsigned char>((*packet)[0]) == 0x20 && (*packet)[3] == 0;
}

/// A CONNECT that never completes: a fixed header announcing 200 bytes, then one byte
/// per `every`. Returns the bytes to trickle.
std::string endless_connect() {
  std::string bytes = "\x10\xC8\x01";
  bytes += connect_frame("slow").substr(2);
  bytes.resize(203, 'x');
  return bytes;
}

// Item 7: the CONNECT deadline runs from accept; bytes that arrive do not extend it.
TEST(BrokerHostile, TrickledConnectIsClosedByAnAbsoluteDeadline) {
  ReferenceBrokerOptions options;
  options.limits.connect_timeout_seconds = 2;
  ReferenceBrokerProcess broker(options);
  RawClient slow(broker.port());
  const auto start = Clock::now();
  const auto bytes = endless_connect();
  bool closed = false;
  for (std::size_t i = 0; i < bytes.size() && Clock::now() - start < 8s; ++i) {
    if (!slow.send(bytes.substr(i, 1)) || slow.closed_by(Clock::now() + 250ms)) {
      closed = true;
      break;
    }
  }
  const auto took = Clock::now() - start;
  EXPECT_TRUE(closed) << "a connection trickling one byte every 250 ms was still open after 8 s";
  EXPECT_LT(took, 4s);
  EXPECT_GE(took, 1900ms);
}

// Item 7: trickling connections that fill --max-connections are gone after the deadline,
// so a device with valid credentials gets in while the attack goes on.
TEST(BrokerHostile, FullBrokerUnderTrickleAdmitsAGoodDeviceAfterTheDeadline) {
  ReferenceBrokerOptions options;
  options.limits.connect_timeout_seconds = 2;
  options.limits.max_connections = 4;
  ReferenceBrokerProcess broker(options);
  std::vector<std::unique_ptr<RawClient>> attackers;
  for (int i = 0; i < 4; ++i) attackers.push_back(std::make_unique<RawClient>(broker.port()));
  const auto bytes = endless_connect();
  const auto start = Clock::now();
  bool admitted = false;
  for (std::size_t i = 0; i < bytes.size() && Clock::now() - start < 8s && !admitted; ++i) {
    for (auto& attacker : attackers) attacker->send(bytes.substr(i, 1));
    std::this_thread::sleep_for(250ms);
    if (Clock::now() - start > 2500ms) {
      RawClient good(broker.port());
      good.send(connect_frame("good-device"));
      admitted = is_connack_ok(good.read_packet(1s));
    }
  }
  EXPECT_TRUE(admitted) << "no slot was free 2.5..8 s after four trickling connections took them all";
}

/// A registry with account acme, devices d1..dN (credential "k") and a bucket `b` on w/#.
std::string acme_registry(const TempDir& dir, int devices) {
  const auto registry = dir.file("registry.json");
  ProcessOptions env;
  for (int i = 1; i <= devices; ++i) {
    auto result = run_process({mqfleet_bin(), "device", "add", "acme", "d" + std::to_string(i), "--registry",
                               registry, "--credential-env", "DEVICE_SECRET"},
                              {}, 60s, ProcessOptions{{{"DEVICE_SECRET", "k"}}, {}, {}, {}});
    EXPECT_EQ(result.exit_code, 0) << result.err;
  }
  auto result = run_mqfleet({"bucket", "add", "acme", "b", "--topic", "w/#", "--registry", registry});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return registry;
}

std::unique_ptr<ReferenceBrokerProcess> bucket_broker(const std::string& registry, const std::string& data_dir) {
  ReferenceBrokerOptions options;
  options.allow_anonymous = false;
  options.registry_path = registry;
  options.extra_args = {"--data-dir", data_dir};
  return std::make_unique<ReferenceBrokerProcess>(options);
}

/// Publishes `payloads` at QoS 1 as acme/d1 on w/d1 and waits for every PUBACK.
void publish_all(int port, const std::vector<std::string>& payloads) {
  RawClient client(port);
  ASSERT_TRUE(client.send(connect_frame("d1", "acme", "k")));
  ASSERT_TRUE(is_connack_ok(client.read_packet()));
  std::string burst;
  for (std::size_t i = 0; i < payloads.size(); ++i)
    burst += publish_frame("w/d1", payloads[i], static_cast<std::uint16_t>(i + 1));
  ASSERT_TRUE(client.send(burst)); // one write: the broker receives them within a millisecond or two
  for (std::size_t i = 0; i < payloads.size(); ++i) ASSERT_TRUE(client.read_packet()) << "PUBACK " << i + 1;
}

void stop(ReferenceBrokerProcess& broker) {
  broker.process().signal(SIGTERM);
  const auto stopped = broker.process().wait(60s);
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
}

// Item 9: points without a ts of their own are never lost, however close together; a
// payload's own ts still replaces the earlier point with that ts.
TEST(BrokerHostile, BucketKeepsEveryPointWithoutTsAndOwnTsStillReplaces) {
  TempDir dir;
  const auto registry = acme_registry(dir, 1);
  const auto data_dir = dir.file("data");
  auto broker = bucket_broker(registry, data_dir);
  std::vector<std::string> payloads;
  for (int i = 0; i < 100; ++i) payloads.push_back(Json{{"v", i}}.dump());
  payloads.push_back(R"({"ts":1700000000000,"v":"first"})");
  payloads.push_back(R"({"ts":1700000000000,"v":"second"})");
  publish_all(broker->port(), payloads);
  stop(*broker);
  auto result = run_mqfleet({"bucket", "export", "b", "--data-dir", data_dir, "--format", "ndjson"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::set<int> values;
  std::vector<std::string> own;
  for (const auto& line : split_lines(result.out)) {
    const auto row = Json::parse(line);
    if (row["data"]["v"].is_number()) values.insert(row["data"]["v"].get<int>());
    else own.push_back(row["data"]["v"].get<std::string>());
  }
  EXPECT_EQ(values.size(), 100u) << result.out.substr(0, 400);
  EXPECT_EQ(own, std::vector<std::string>{"second"});
}

// Item 8: a payload nested deeper than the shared limit is rejected at ingest (counted,
// logged once) and every export format and the chart still work.
TEST(BrokerHostile, DeepPayloadIsRejectedAndTheBucketStaysReadable) {
  TempDir dir;
  const auto registry = acme_registry(dir, 1);
  const auto data_dir = dir.file("data");
  auto broker = bucket_broker(registry, data_dir);
  const std::string deep = R"({"v":1,"deep":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  publish_all(broker->port(), {R"({"v":1})", deep, deep, R"({"v":2})"});
  broker->process().signal(SIGTERM);
  const auto stopped = broker->process().wait(60s);
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
  std::size_t logged = 0;
  for (std::size_t at = 0; (at = stopped.err.find("nests deeper than 64 levels", at)) != std::string::npos; ++at)
    ++logged;
  EXPECT_EQ(logged, 1u) << stopped.err;
  auto stats = run_mqfleet({"bucket", "stats", "b", "--data-dir", data_dir, "--format", "json"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_EQ(Json::parse(stats.out)["rejected"], 2);
  EXPECT_EQ(Json::parse(stats.out)["points"], 2);
  for (const char* format : {"csv", "json", "ndjson", "arff"}) {
    auto result = run_mqfleet({"bucket", "export", "b", "--data-dir", data_dir, "--format", format});
    EXPECT_EQ(result.exit_code, 0) << format << ": " << result.err;
  }
  auto chart = run_mqfleet({"bucket", "chart", "b", "--field", "v", "--data-dir", data_dir, "--width", "40", "--height", "5"});
  EXPECT_EQ(chart.exit_code, 0) << chart.err;
}

// Item 14: the data directory is the owner's alone.
TEST(BrokerHostile, DataDirectoryIs0700AndDatabases0600) {
  TempDir dir;
  const auto registry = acme_registry(dir, 1);
  const auto data_dir = dir.file("nested/data");
  auto broker = bucket_broker(registry, data_dir);
  publish_all(broker->port(), {R"({"v":1})"});
  stop(*broker);
  auto mode = [](const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 0777;
  };
  EXPECT_EQ(mode(data_dir), 0700u);
  EXPECT_EQ(mode(dir.file("nested")), 0700u);
  EXPECT_EQ(mode(data_dir + "/state.db"), 0600u);
  EXPECT_EQ(mode(data_dir + "/buckets.sqlite"), 0600u);
  for (const auto& entry : std::filesystem::directory_iterator(data_dir))
    EXPECT_EQ(mode(entry.path().string()) & 077, 0u) << entry.path();
}

// Item 14: a damaged page inside state.db is a problem with the input (exit 3, saying
// what to do), not an internal bug (exit 1).
TEST(BrokerHostile, DamagedStateDbExits3WithWhatToDo) {
  TempDir dir;
  const auto data_dir = dir.file("data");
  {
    ReferenceBrokerOptions options;
    options.extra_args = {"--data-dir", data_dir};
    ReferenceBrokerProcess broker(options);
    RawClient client(broker.port());
    ASSERT_TRUE(client.send(connect_frame("keeper")));
    ASSERT_TRUE(is_connack_ok(client.read_packet()));
    std::string burst;
    for (int i = 0; i < 300; ++i) {
      mqtt::Publish publish;
      publish.topic = "keep/" + std::to_string(i);
      publish.payload = std::string(200, static_cast<char>('a' + i % 26));
      publish.retain = true;
      mqtt::encode(publish, mqtt::ProtocolVersion::v3_1_1, burst);
    }
    ASSERT_TRUE(client.send(burst));
    std::this_thread::sleep_for(500ms);
    stop(broker);
  }
  const auto db = data_dir + "/state.db";
  const auto size = std::filesystem::file_size(db);
  ASSERT_GE(size, 4u * 4096u) << "expected several pages";
  {
    std::fstream file(db, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(4096); // every page but the first (the schema): the tables' pages
    const std::string garbage(size - 4096, '\xA5');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  auto result = run_mqfleet({"broker", "--port", "0", "--allow-anonymous", "--data-dir", data_dir}, {}, 30s);
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_NE(result.err.find("damaged"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("move state.db"), std::string::npos) << result.err;
}

// Items 11 and 12: a flood of failed CONNECTs with 60 KB client ids is throttled (the
// peer is locked, counted in $SYS) and its log stays small (fields cut, lines limited).
TEST(BrokerHostile, FailedLoginFloodIsThrottledCountedAndItsLogBounded) {
  TempDir dir;
  const auto registry = acme_registry(dir, 1);
  ReferenceBrokerOptions options;
  options.allow_anonymous = false;
  options.registry_path = registry;
  options.sys_interval_seconds = 1;
  ReferenceBrokerProcess broker(options);
  const std::string huge_id(60000, 'x');
  for (int i = 0; i < 200; ++i) {
    RawClient client(broker.port());
    client.send(connect_frame(huge_id + std::to_string(i), "acme", "wrong"));
    const auto connack = client.read_packet(5s);
    ASSERT_TRUE(connack && connack->size() == 4 && (*connack)[3] == 5) << "attempt " << i;
  }
  // The legitimate device gets in once the lock has passed (at most a few seconds).
  std::unique_ptr<RawClient> device;
  const auto until = Clock::now() + 20s;
  while (Clock::now() < until) {
    device = std::make_unique<RawClient>(broker.port());
    device->send(connect_frame("d1", "acme", "k"));
    if (is_connack_ok(device->read_packet(5s))) break;
    device.reset();
    std::this_thread::sleep_for(500ms);
  }
  ASSERT_TRUE(device) << "the device never got in after the flood";
  mqtt::Subscribe subscribe;
  subscribe.packet_id = 1;
  subscribe.subscriptions.push_back({"$SYS/broker/clients/auth_throttled", {}});
  std::string frame;
  mqtt::encode(subscribe, mqtt::ProtocolVersion::v3_1_1, frame);
  ASSERT_TRUE(device->send(frame));
  long long throttled = -1;
  for (auto packet = device->read_packet(5s); packet; packet = device->read_packet(5s)) {
    if ((static_cast<unsigned char>((*packet)[0]) & 0xF0) != 0x30) continue;
    const auto topic_length = static_cast<std::size_t>(static_cast<unsigned char>((*packet)[2]) << 8 |
                                                       static_cast<unsigned char>((*packet)[3]));
    throttled = std::stoll(packet->substr(4 + topic_length));
    if (throttled > 100) break; // else wait for the next publication
  }
  EXPECT_GT(throttled, 100) << "most of the 200 attempts were refused without a hash";
  std::this_thread::sleep_for(1500ms); // the log_suppressed summary
  const auto log = broker.log();
  std::size_t auth_lines = 0;
  for (const auto& line : split_lines(log)) {
    EXPECT_LT(line.size(), 1024u) << line.substr(0, 300);
    if (line.find("\"auth_failed\"") != std::string::npos) ++auth_lines;
  }
  EXPECT_LT(auth_lines, 100u) << "auth_failed lines are rate limited";
  EXPECT_NE(log.find("too many failed logins"), std::string::npos);
  EXPECT_NE(log.find("(60001 bytes)"), std::string::npos) << "a cut field says how long it was";
  EXPECT_TRUE(log.find("\"suppressed\"") != std::string::npos || log.find("log_suppressed") != std::string::npos);
}

// Item 10: password hashing runs off the io threads: while wrong-password CONNECTs at the
// iteration cap keep the broker hashing, another client's round trip stays short (one
// io thread, so before the change every ping waited for the hashes in front of it).
TEST(BrokerHostile, CredentialChecksDoNotStallOtherClients) {
  TempDir dir;
  const auto registry = dir.file("registry.json");
  for (const auto& [device, iterations] : {std::pair{"d1", "100000"}, std::pair{"d2", "101"}}) {
    auto result = run_process({mqfleet_bin(), "device", "add", "acme", device, "--registry", registry,
                               "--credential-env", "DEVICE_SECRET", "--iterations", iterations},
                              {}, 60s, ProcessOptions{{{"DEVICE_SECRET", "k"}}, {}, {}, {}});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  ReferenceBrokerOptions options;
  options.allow_anonymous = false;
  options.registry_path = registry;
  options.io_threads = 1;
  ReferenceBrokerProcess broker(options);
  RawClient watcher(broker.port());
  ASSERT_TRUE(watcher.send(connect_frame("d2", "acme", "k")));
  ASSERT_TRUE(is_connack_ok(watcher.read_packet()));

  std::atomic<bool> stop{false};
  std::atomic<int> attempts{0};
  std::vector<std::thread> attackers;
  for (int a = 0; a < 4; ++a) {
    attackers.emplace_back([&, a] {
      // Unknown devices of acme: each costs a hash at d1's 100,000 iterations.
      for (int i = 0; i < 5 && !stop; ++i) {
        RawClient client(broker.port());
        client.send(connect_frame("x" + std::to_string(a) + "-" + std::to_string(i), "acme", "wrong"));
        client.read_packet(10s);
        ++attempts;
      }
    });
  }
  std::vector<double> rtts;
  const std::string pingreq("\xC0\x00", 2);
  while (attempts < 20 && rtts.size() < 300) {
    const auto t = Clock::now();
    ASSERT_TRUE(watcher.send(pingreq));
    ASSERT_TRUE(watcher.read_packet(10s));
    rtts.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
    std::this_thread::sleep_for(5ms);
  }
  stop = true;
  for (auto& t : attackers) t.join();
  ASSERT_GE(rtts.size(), 10u);
  std::sort(rtts.begin(), rtts.end());
  const double median = rtts[rtts.size() / 2];
  EXPECT_LT(median, 15.0) << "median ping " << median << " ms, max " << rtts.back() << " ms over " << rtts.size();
}

// Item 15: an open broker with a registry says at start that credentials are off.
TEST(BrokerHostile, AllowAnonymousWithARegistryWarnsAtStart) {
  TempDir dir;
  ReferenceBrokerOptions options;
  options.allow_anonymous = true;
  options.registry_path = acme_registry(dir, 1);
  ReferenceBrokerProcess broker(options);
  const auto until = Clock::now() + 5s;
  while (broker.log().find("warning: --allow-anonymous with --registry") == std::string::npos && Clock::now() < until)
    std::this_thread::sleep_for(50ms);
  EXPECT_NE(broker.log().find("warning: --allow-anonymous with --registry"), std::string::npos) << broker.log();
  ReferenceBrokerOptions plain;
  ReferenceBrokerProcess open_broker(plain);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(open_broker.log().find("warning"), std::string::npos) << open_broker.log();
}

// ---- Item 16: per-account limits and the tenant's own $SYS ----------------------------

/// A registry with the given accounts, each with devices d1..dN (credential "k").
std::string tenant_registry(const TempDir& dir, const std::vector<std::pair<std::string, int>>& accounts) {
  const auto registry = dir.file("registry.json");
  for (const auto& [account, devices] : accounts)
    for (int i = 1; i <= devices; ++i) {
      auto result = run_process({mqfleet_bin(), "device", "add", account, "d" + std::to_string(i), "--registry",
                                 registry, "--credential-env", "DEVICE_SECRET"},
                                {}, 60s, ProcessOptions{{{"DEVICE_SECRET", "k"}}, {}, {}, {}});
      EXPECT_EQ(result.exit_code, 0) << result.err;
    }
  return registry;
}

std::unique_ptr<ReferenceBrokerProcess> quota_broker(const std::string& registry, std::vector<std::string> flags,
                                                     unsigned sys_interval = 0) {
  ReferenceBrokerOptions options;
  options.sys_interval_seconds = sys_interval;
  options.allow_anonymous = false;
  options.registry_path = registry;
  options.extra_args = std::move(flags);
  return std::make_unique<ReferenceBrokerProcess>(options);
}

/// A raw client logged in as `account`/`device` (v5 or 3.1.1); the CONNACK is read by
/// the caller (connack()).
std::unique_ptr<RawClient> login(int port, const std::string& account, const std::string& device, bool v5,
                                 bool clean = true, std::uint32_t expiry = 0) {
  mqtt::Connect connect;
  connect.version = v5 ? mqtt::ProtocolVersion::v5 : mqtt::ProtocolVersion::v3_1_1;
  connect.client_id = device;
  connect.username = account;
  connect.password = "k";
  connect.clean_start = clean;
  if (v5 && expiry != 0) connect.properties.session_expiry_interval = expiry;
  std::string out;
  mqtt::encode(connect, connect.version, out);
  auto client = std::make_unique<RawClient>(port);
  EXPECT_TRUE(client->send(out));
  return client;
}

/// The CONNACK's reason / return code, or -1 when none came.
int connack(RawClient& client) {
  const auto packet = client.read_packet(10s);
  if (!packet || packet->size() < 4 || static_cast<unsigned char>((*packet)[0]) != 0x20) return -1;
  return static_cast<unsigned char>((*packet)[3]);
}

/// Sends one PUBLISH (QoS 0 or 1) and, at QoS 1, returns the PUBACK's reason (0 when a
/// v5 PUBACK carries none); -1 when nothing came; at QoS 0 returns 0 at once.
int publish_retained(RawClient& client, bool v5, const std::string& topic, const std::string& payload, int qos,
                     std::uint16_t packet_id = 1) {
  mqtt::Publish publish;
  publish.topic = topic;
  publish.payload = payload;
  publish.retain = true;
  publish.qos = qos == 0 ? mqtt::QoS::at_most_once : mqtt::QoS::at_least_once;
  publish.packet_id = qos == 0 ? 0 : packet_id;
  std::string out;
  mqtt::encode(publish, v5 ? mqtt::ProtocolVersion::v5 : mqtt::ProtocolVersion::v3_1_1, out);
  if (!client.send(out)) return -1;
  if (qos == 0) return 0;
  for (auto packet = client.read_packet(10s); packet; packet = client.read_packet(10s)) {
    if (static_cast<unsigned char>((*packet)[0]) != 0x40) continue;
    return packet->size() > 4 ? static_cast<unsigned char>((*packet)[4]) : 0;
  }
  return -1;
}

/// Sends one SUBSCRIBE and returns the SUBACK's codes (empty when none came).
std::vector<int> subscribe(RawClient& client, bool v5, const std::vector<std::string>& filters,
                           std::uint16_t packet_id = 1) {
  mqtt::Subscribe subscribe;
  subscribe.packet_id = packet_id;
  for (const auto& filter : filters) subscribe.subscriptions.push_back({filter, {}});
  std::string out;
  mqtt::encode(subscribe, v5 ? mqtt::ProtocolVersion::v5 : mqtt::ProtocolVersion::v3_1_1, out);
  std::vector<int> codes;
  if (!client.send(out)) return codes;
  for (auto packet = client.read_packet(10s); packet; packet = client.read_packet(10s)) {
    if (static_cast<unsigned char>((*packet)[0]) != 0x90) continue;
    std::size_t i = 1;
    while (static_cast<unsigned char>((*packet)[i]) & 0x80) ++i;
    i += 3; // remaining length done, packet id
    if (v5) i += 1 + static_cast<unsigned char>((*packet)[i]); // property length (< 128 here)
    for (; i < packet->size(); ++i) codes.push_back(static_cast<unsigned char>((*packet)[i]));
    return codes;
  }
  return codes;
}

/// Topic and payload of every PUBLISH `client` receives within `window`.
std::map<std::string, std::string> received(RawClient& client, std::chrono::milliseconds window) {
  std::map<std::string, std::string> out;
  const auto until = Clock::now() + window;
  while (Clock::now() < until) {
    const auto packet = client.read_packet(std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()));
    if (!packet) break;
    if ((static_cast<unsigned char>((*packet)[0]) & 0xF0) != 0x30) continue;
    std::size_t i = 1;
    while (static_cast<unsigned char>((*packet)[i]) & 0x80) ++i;
    ++i;
    const std::size_t length = static_cast<unsigned char>((*packet)[i]) << 8 | static_cast<unsigned char>((*packet)[i + 1]);
    const std::string topic = packet->substr(i + 2, length);
    std::size_t body = i + 2 + length;
    if ((static_cast<unsigned char>((*packet)[0]) & 0x06) != 0) body += 2; // packet id
    out[topic] = packet->substr(body);
  }
  return out;
}

// A retained PUBLISH over the account's count limit: v5 QoS 1 gets PUBACK 0x97 and is not
// stored; 3.1.1 (no way to say no) is delivered but not stored; a replacement and
// another account are not affected; the refusal is logged.
TEST(BrokerQuota, RetainedCountLimitRefusesV5AndStoresNothingOverIt) {
  TempDir dir;
  const auto registry = tenant_registry(dir, {{"acme", 3}, {"globex", 1}});
  auto broker = quota_broker(registry, {"--max-account-retained", "2"});
  auto v5 = login(broker->port(), "acme", "d1", true);
  ASSERT_EQ(connack(*v5), 0);
  auto watcher = login(broker->port(), "acme", "d3", false);
  ASSERT_EQ(connack(*watcher), 0);
  ASSERT_EQ(subscribe(*watcher, false, {"r/#"}), std::vector<int>{0});
  EXPECT_EQ(publish_retained(*v5, true, "r/1", "one", 1, 1), 0x00);
  EXPECT_EQ(publish_retained(*v5, true, "r/2", "two", 1, 2), 0x00);
  EXPECT_EQ(publish_retained(*v5, true, "r/3", "three", 1, 3), 0x97) << "a third retained topic";
  EXPECT_EQ(publish_retained(*v5, true, "r/1", "uno", 1, 4), 0x00) << "replacing one adds nothing";
  auto v3 = login(broker->port(), "acme", "d2", false);
  ASSERT_EQ(connack(*v3), 0);
  EXPECT_EQ(publish_retained(*v3, false, "r/4", "four", 1, 1), 0x00) << "3.1.1: a normal PUBACK";
  EXPECT_EQ(publish_retained(*v3, false, "r/5", "five", 0), 0x00);
  const auto live = received(*watcher, 1500ms);
  EXPECT_EQ(live.count("r/3"), 0u) << "a refused v5 PUBLISH is not delivered either";
  EXPECT_EQ(live.count("r/4"), 1u) << "delivered although not stored";
  EXPECT_EQ(live.count("r/5"), 1u) << "delivered although not stored";
  auto other = login(broker->port(), "globex", "d1", true);
  ASSERT_EQ(connack(*other), 0);
  EXPECT_EQ(publish_retained(*other, true, "r/3", "g", 1), 0x10) << "globex has its own quota (0x10: no subscriber)";
  auto late = login(broker->port(), "acme", "d2", false); // takes d2 over
  ASSERT_EQ(connack(*late), 0);
  ASSERT_EQ(subscribe(*late, false, {"r/#"}), std::vector<int>{0});
  const auto stored = received(*late, 1000ms);
  EXPECT_EQ(stored, (std::map<std::string, std::string>{{"r/1", "uno"}, {"r/2", "two"}}));
  EXPECT_NE(broker->log().find(R"("account":"acme","quota":"retained","limit":2)"),
            std::string::npos)
      << broker->log();
}

// The byte limit counts topic + payload as the client sees them; a replacement counts
// only the difference, and a delete always goes through.
TEST(BrokerQuota, RetainedBytesLimitCountsTopicAndPayload) {
  TempDir dir;
  const auto registry = tenant_registry(dir, {{"acme", 1}});
  auto broker = quota_broker(registry, {"--max-account-retained-bytes", "20"});
  auto client = login(broker->port(), "acme", "d1", true);
  ASSERT_EQ(connack(*client), 0);
  EXPECT_EQ(publish_retained(*client, true, "a", std::string(19, 'x'), 1, 1), 0x10) << "exactly 20 bytes";
  EXPECT_EQ(publish_retained(*client, true, "b", "y", 1, 2), 0x97) << "21 bytes";
  EXPECT_EQ(publish_retained(*client, true, "a", std::string(19, 'z'), 1, 3), 0x10) << "a replacement";
  EXPECT_EQ(publish_retained(*client, true, "a", "", 1, 4), 0x10) << "a delete";
  EXPECT_EQ(publish_retained(*client, true, "b", "y", 1, 5), 0x10) << "space freed by the delete";
}

// A CONNECT that needs a new session beyond the account's limit: v5 CONNACK 0x97, 3.1.1
// return code 3; resuming an existing session and other accounts are not affected.
TEST(BrokerQuota, SessionLimitRefusesANewSessionNotAResumedOne) {
  TempDir dir;
  const auto registry = tenant_registry(dir, {{"acme", 4}, {"globex", 1}});
  auto broker = quota_broker(registry, {"--max-account-sessions", "2"});
  {
    auto persistent = login(broker->port(), "acme", "d1", false, false); // kept offline
    ASSERT_EQ(connack(*persistent), 0);
  }
  auto d2 = login(broker->port(), "acme", "d2", true);
  ASSERT_EQ(connack(*d2), 0);
  auto d3 = login(broker->port(), "acme", "d3", true);
  EXPECT_EQ(connack(*d3), 0x97) << "a third session of acme (v5)";
  EXPECT_TRUE(d3->closed_by(Clock::now() + 5s));
  auto d4 = login(broker->port(), "acme", "d4", false);
  EXPECT_EQ(connack(*d4), 3) << "a third session of acme (3.1.1: server unavailable)";
  auto resumed = login(broker->port(), "acme", "d1", false, false);
  EXPECT_EQ(connack(*resumed), 0) << "the offline session comes back";
  auto other = login(broker->port(), "globex", "d1", false);
  EXPECT_EQ(connack(*other), 0) << "globex has its own limit";
  d2.reset(); // its clean session ends with the connection
  bool admitted = false;
  for (int attempt = 0; attempt < 50 && !admitted; ++attempt) {
    auto again = login(broker->port(), "acme", "d3", true);
    admitted = connack(*again) == 0;
    if (!admitted) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(admitted) << "a session that ended frees its place";
  EXPECT_NE(broker->log().find(R"("quota":"sessions","limit":2)"), std::string::npos) << broker->log();
}

// A SUBSCRIBE entry over the account's limit gets 0x97 (v5) / 0x80 (3.1.1) while the
// packet's other entries and replacements are granted; an unsubscribe frees a place.
TEST(BrokerQuota, SubscriptionLimitRefusesPerEntry) {
  TempDir dir;
  const auto registry = tenant_registry(dir, {{"acme", 2}, {"globex", 1}});
  auto broker = quota_broker(registry, {"--max-account-subscriptions", "2"});
  auto d1 = login(broker->port(), "acme", "d1", true);
  ASSERT_EQ(connack(*d1), 0);
  EXPECT_EQ(subscribe(*d1, true, {"a", "b", "c"}), (std::vector<int>{0, 0, 0x97}));
  EXPECT_EQ(subscribe(*d1, true, {"a"}, 2), std::vector<int>{0}) << "a replacement";
  auto d2 = login(broker->port(), "acme", "d2", false);
  ASSERT_EQ(connack(*d2), 0);
  EXPECT_EQ(subscribe(*d2, false, {"x"}), std::vector<int>{0x80}) << "the limit is the account's, over sessions";
  auto other = login(broker->port(), "globex", "d1", false);
  ASSERT_EQ(connack(*other), 0);
  EXPECT_EQ(subscribe(*other, false, {"x", "y"}), (std::vector<int>{0, 0}));
  mqtt::Unsubscribe unsubscribe;
  unsubscribe.packet_id = 3;
  unsubscribe.filters.push_back("a");
  std::string out;
  mqtt::encode(unsubscribe, mqtt::ProtocolVersion::v5, out);
  ASSERT_TRUE(d1->send(out));
  ASSERT_TRUE(d1->read_packet(10s)); // UNSUBACK
  EXPECT_EQ(subscribe(*d2, false, {"x"}, 2), std::vector<int>{0});
}

// Each tenant's $SYS shows its own figures, never another's nor broker-wide traffic.
TEST(BrokerQuota, EachTenantSeesItsOwnSysFigures) {
  TempDir dir;
  const auto registry = tenant_registry(dir, {{"acme", 2}, {"globex", 1}});
  auto broker = quota_broker(registry, {}, 1);
  auto a1 = login(broker->port(), "acme", "d1", true);
  ASSERT_EQ(connack(*a1), 0);
  auto a2 = login(broker->port(), "acme", "d2", false);
  ASSERT_EQ(connack(*a2), 0);
  EXPECT_EQ(publish_retained(*a1, true, "r/1", "12345", 1, 1), 0x10);
  EXPECT_EQ(publish_retained(*a1, true, "r/2", "1", 1, 2), 0x10);
  auto g1 = login(broker->port(), "globex", "d1", false);
  ASSERT_EQ(connack(*g1), 0);
  ASSERT_EQ(subscribe(*g1, false, {"$SYS/#"}), std::vector<int>{0});
  ASSERT_EQ(subscribe(*a2, false, {"$SYS/broker/#"}), std::vector<int>{0});
  auto figures = [](RawClient& client) {
    // Three windows of 1.1 s: at least two fresh publications after the test's changes
    // (the retained ones sent on SUBSCRIBE may be older); the last value counts.
    std::map<std::string, std::string> seen;
    for (int window = 0; window < 3; ++window)
      for (auto& [topic, value] : received(client, 1100ms)) seen[topic] = value;
    return seen;
  };
  const auto acme = figures(*a2);
  const auto globex = figures(*g1);
  const std::string p = "$SYS/broker/";
  EXPECT_EQ(acme.size(), 10u);
  EXPECT_EQ(acme.count(p + "messages/received"), 0u) << "broker-wide traffic is not a tenant's";
  EXPECT_EQ(globex.count(p + "messages/received"), 0u);
  auto value = [&](const std::map<std::string, std::string>& m, const std::string& topic) {
    const auto it = m.find(p + topic);
    return it == m.end() ? std::string("(none)") : it->second;
  };
  EXPECT_EQ(value(acme, "clients/connected"), "2");
  EXPECT_EQ(value(acme, "clients/total"), "2");
  EXPECT_EQ(value(acme, "retained messages/count"), "2");
  EXPECT_EQ(value(acme, "retained messages/bytes"), std::to_string(3 + 5 + 3 + 1));
  EXPECT_EQ(value(acme, "subscriptions/count"), "1");
  EXPECT_EQ(value(globex, "clients/connected"), "1");
  EXPECT_EQ(value(globex, "clients/total"), "1");
  EXPECT_EQ(value(globex, "retained messages/count"), "0");
  EXPECT_EQ(value(globex, "subscriptions/count"), "1");
  for (const auto& [topic, v] : globex) EXPECT_TRUE(topic.starts_with("$SYS/broker/")) << topic;
}

} // namespace
} // namespace mqfleet::test
