// The codec against independent implementations: our encoder/decoder as a client of a
// real mosquitto broker, and as a one-connection server for mosquitto_pub/mosquitto_sub,
// for MQTT 3.1, 3.1.1 and 5.0.
#include "support/mosquitto_broker.hpp"
#include "support/process.hpp"

#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/codec.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

using namespace mqfleet::mqtt;
using namespace mqfleet::test;

namespace {

/// A blocking TCP connection speaking MQTT through the codec. The receive timeout only
/// guards against hangs.
class MqttSocket {
public:
  MqttSocket(int fd, ProtocolVersion version) : m_fd(fd), m_version(version) {
    timeval tv{20, 0};
    setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~MqttSocket() { ::close(m_fd); }
  MqttSocket(const MqttSocket&) = delete;
  MqttSocket& operator=(const MqttSocket&) = delete;

  static int connect_to(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect failed");
    return fd;
  }

  void set_version(ProtocolVersion v) { m_version = v; }

  template <typename P>
  void send(const P& packet) {
    std::string bytes;
    encode(packet, m_version, bytes);
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(m_fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      done += static_cast<std::size_t>(n);
    }
  }

  /// The next packet, or nullopt when the peer closed the connection.
  std::optional<Packet> receive() {
    for (;;) {
      if (auto frame = m_reader.next()) return decode(*frame, m_version);
      const std::span<char> space = m_reader.prepare(4096);
      const ssize_t n = ::recv(m_fd, space.data(), space.size(), 0);
      if (n == 0) return std::nullopt;
      if (n < 0) throw std::runtime_error("recv failed or timed out");
      m_reader.commit(static_cast<std::size_t>(n));
    }
  }

  template <typename P>
  P expect() {
    std::optional<Packet> packet = receive();
    if (!packet) throw std::runtime_error("connection closed");
    if (!std::holds_alternative<P>(*packet)) {
      throw std::runtime_error("unexpected " + std::string(packet_type_name(packet_type(*packet))));
    }
    return std::get<P>(std::move(*packet));
  }

private:
  int m_fd;
  ProtocolVersion m_version;
  FrameReader m_reader;
};

/// A listening socket on 127.0.0.1 with an ephemeral port.
class Listener {
public:
  Listener() {
    m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(m_fd, 4);
    socklen_t len = sizeof addr;
    ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    m_port = ntohs(addr.sin_port);
  }
  ~Listener() { ::close(m_fd); }
  int port() const { return m_port; }
  int accept_one() const { return ::accept(m_fd, nullptr, nullptr); }

private:
  int m_fd = -1;
  int m_port = 0;
};

const char* version_flag(ProtocolVersion v) {
  return v == ProtocolVersion::v3_1 ? "mqttv31" : v == ProtocolVersion::v3_1_1 ? "mqttv311" : "mqttv5";
}

class CodecInterop : public testing::TestWithParam<ProtocolVersion> {};

} // namespace

TEST_P(CodecInterop, OurPacketsRoundTripThroughMosquitto) {
  const ProtocolVersion v = GetParam();
  const bool v5 = v == ProtocolVersion::v5;
  MosquittoBroker broker;
  MqttSocket client(MqttSocket::connect_to(broker.port()), v);

  Connect connect;
  connect.client_id = "codec-interop";
  connect.keep_alive = 30;
  if (v5) {
    connect.properties.receive_maximum = 20;
    connect.properties.maximum_packet_size = 65536;
    connect.properties.user_properties = {{"who", "codec"}};
  }
  client.send(connect);
  const auto connack = client.expect<Connack>();
  ASSERT_EQ(connack.reason_code, ReasonCode::success);
  EXPECT_FALSE(connack.session_present);

  Subscribe subscribe{1, {{"codec/+/t", {QoS::exactly_once}}}, {}};
  if (v5) subscribe.properties.subscription_identifiers = {7};
  client.send(subscribe);
  const auto suback = client.expect<Suback>();
  EXPECT_EQ(suback.packet_id, 1);
  ASSERT_EQ(suback.reason_codes, std::vector<ReasonCode>{ReasonCode::granted_qos_2});

  Properties props;
  if (v5) {
    props.payload_format_indicator = 1;
    props.content_type = "text/plain";
    props.response_topic = "codec/reply";
    props.correlation_data = std::string("\x01\x00\x02", 3);
    props.message_expiry_interval = 300;
    props.user_properties = {{"k", "v"}, {"k", "v2"}};
  }
  client.send(Publish{"codec/a/t", "zero", QoS::at_most_once, false, false, 0, props});
  client.send(Publish{"codec/b/t", "one", QoS::at_least_once, false, false, 10, props});
  client.send(Publish{"codec/c/t", std::string(1000, 'x'), QoS::exactly_once, false, false, 11, props});
  if (v5) {
    Properties alias;
    alias.topic_alias = 1;
    client.send(Publish{"codec/alias/t", "aliased-1", QoS::at_least_once, false, false, 12, alias});
    client.send(Publish{"", "aliased-2", QoS::at_least_once, false, false, 13, alias});
  }

  // Our own messages come back (no No Local); answer their acknowledgements as we go.
  std::vector<Publish> received;
  bool puback = false;
  bool pubcomp = false;
  int awaiting_pubrel = 0;
  const std::size_t expected_messages = v5 ? 5 : 3;
  while (received.size() < expected_messages || !puback || !pubcomp || awaiting_pubrel > 0) {
    std::optional<Packet> packet = client.receive();
    ASSERT_TRUE(packet.has_value()) << "mosquitto closed the connection";
    if (auto* p = std::get_if<Publish>(&*packet)) {
      if (p->qos == QoS::at_least_once) client.send(Puback{p->packet_id, ReasonCode::success, {}});
      if (p->qos == QoS::exactly_once) {
        client.send(Pubrec{p->packet_id, ReasonCode::success, {}});
        ++awaiting_pubrel;
      }
      received.push_back(std::move(*p));
    } else if (auto* rel = std::get_if<Pubrel>(&*packet)) {
      client.send(Pubcomp{rel->packet_id, ReasonCode::success, {}});
      --awaiting_pubrel;
    } else if (auto* rec = std::get_if<Pubrec>(&*packet)) {
      EXPECT_EQ(rec->packet_id, 11);
      client.send(Pubrel{11, ReasonCode::success, {}});
    } else if (auto* ack = std::get_if<Puback>(&*packet)) {
      puback = puback || ack->packet_id == 10;
    } else if (auto* comp = std::get_if<Pubcomp>(&*packet)) {
      EXPECT_EQ(comp->packet_id, 11);
      pubcomp = true;
    } else {
      FAIL() << "unexpected " << packet_type_name(packet_type(*packet));
    }
  }
  ASSERT_EQ(received.size(), expected_messages);
  // QoS 2 messages are delivered on PUBREL, so order by payload.
  std::map<std::string, Publish> by_payload;
  for (Publish& p : received) by_payload.emplace(p.payload.substr(0, 10), std::move(p));
  ASSERT_TRUE(by_payload.count("zero") && by_payload.count("one") && by_payload.count("xxxxxxxxxx"));
  EXPECT_EQ(by_payload["zero"].topic, "codec/a/t");
  EXPECT_EQ(by_payload["one"].topic, "codec/b/t");
  EXPECT_EQ(by_payload["one"].qos, QoS::at_least_once);
  EXPECT_EQ(by_payload["xxxxxxxxxx"].payload, std::string(1000, 'x'));
  EXPECT_EQ(by_payload["xxxxxxxxxx"].qos, QoS::exactly_once);
  if (v5) {
    const Properties& got = by_payload["one"].properties;
    EXPECT_EQ(got.content_type, props.content_type);
    EXPECT_EQ(got.response_topic, props.response_topic);
    EXPECT_EQ(got.correlation_data, props.correlation_data);
    EXPECT_EQ(got.payload_format_indicator, props.payload_format_indicator);
    EXPECT_EQ(got.user_properties, props.user_properties);
    EXPECT_EQ(got.subscription_identifiers, std::vector<std::uint32_t>{7});
    ASSERT_TRUE(by_payload.count("aliased-1") && by_payload.count("aliased-2"));
    EXPECT_EQ(by_payload["aliased-1"].topic, "codec/alias/t");
    EXPECT_EQ(by_payload["aliased-2"].topic, "codec/alias/t");
  }

  client.send(Unsubscribe{2, {"codec/+/t"}, {}});
  const auto unsuback = client.expect<Unsuback>();
  EXPECT_EQ(unsuback.packet_id, 2);
  client.send(Pingreq{});
  client.expect<Pingresp>();
  client.send(Disconnect{});
  EXPECT_FALSE(client.receive().has_value());
}

TEST_P(CodecInterop, MosquittoClientsUnderstandOurServerSide) {
  const ProtocolVersion v = GetParam();
  const bool v5 = v == ProtocolVersion::v5;
  const std::string mosquitto_pub = find_program("mosquitto_pub");
  const std::string mosquitto_sub = find_program("mosquitto_sub");
  ASSERT_FALSE(mosquitto_pub.empty() || mosquitto_sub.empty());
  Listener listener;
  const std::string port = std::to_string(listener.port());

  // mosquitto_pub: QoS 2 with credentials, a will and (v5) properties.
  std::vector<std::string> pub_args = {mosquitto_pub, "-h", "127.0.0.1", "-p", port, "-V", version_flag(v),
                                       "-i", "pub-1", "-u", "acct", "-P", "s3cret", "-q", "2", "-r",
                                       "-t", "dev/1/temp", "-m", "21.5", "--will-topic", "dev/1/status",
                                       "--will-payload", "gone", "--will-qos", "1"};
  if (v5) {
    for (const char* arg : {"-D", "publish", "content-type", "text/plain", "-D", "publish", "user-property",
                            "k", "v", "-D", "connect", "session-expiry-interval", "60", "-D", "will",
                            "will-delay-interval", "5"}) {
      pub_args.emplace_back(arg);
    }
  }
  Process pub(pub_args);
  {
    MqttSocket server(listener.accept_one(), v);
    const auto connect = server.expect<Connect>();
    EXPECT_EQ(connect.version, v);
    EXPECT_EQ(connect.client_id, "pub-1");
    EXPECT_EQ(connect.username, "acct");
    EXPECT_EQ(connect.password, "s3cret");
    ASSERT_TRUE(connect.will.has_value());
    EXPECT_EQ(connect.will->topic, "dev/1/status");
    EXPECT_EQ(connect.will->payload, "gone");
    EXPECT_EQ(connect.will->qos, QoS::at_least_once);
    if (v5) {
      EXPECT_EQ(connect.properties.session_expiry_interval, 60u);
      EXPECT_EQ(connect.will->properties.will_delay_interval, 5u);
    }
    Connack connack;
    if (v5) {
      connack.properties.receive_maximum = 5;
      connack.properties.retain_available = 1;
      connack.properties.topic_alias_maximum = 0;
      connack.properties.reason_string = "welcome";
    }
    server.send(connack);
    const auto publish = server.expect<Publish>();
    EXPECT_EQ(publish.topic, "dev/1/temp");
    EXPECT_EQ(publish.payload, "21.5");
    EXPECT_EQ(publish.qos, QoS::exactly_once);
    EXPECT_TRUE(publish.retain);
    if (v5) {
      EXPECT_EQ(publish.properties.content_type, "text/plain");
      EXPECT_EQ(publish.properties.user_properties, (std::vector<UserProperty>{{"k", "v"}}));
    }
    server.send(Pubrec{publish.packet_id, ReasonCode::success, {}});
    const auto pubrel = server.expect<Pubrel>();
    EXPECT_EQ(pubrel.packet_id, publish.packet_id);
    server.send(Pubcomp{publish.packet_id, ReasonCode::success, {}});
    server.expect<Disconnect>();
  }
  EXPECT_EQ(pub.wait(30s).exit_code, 0);

  // mosquitto_sub: our SUBACK and a QoS 1 PUBLISH, printed by an independent decoder.
  std::vector<std::string> sub_args = {mosquitto_sub, "-h", "127.0.0.1", "-p", port, "-V", version_flag(v),
                                       "-i", "sub-1", "-q", "1", "-t", "dev/+/temp", "-C", "1", "-F",
                                       v5 ? "%t|%p|%q|%r|%P" : "%t|%p|%q|%r"};
  Process sub(sub_args);
  {
    MqttSocket server(listener.accept_one(), v);
    server.expect<Connect>();
    server.send(Connack{});
    const auto subscribe = server.expect<Subscribe>();
    ASSERT_EQ(subscribe.subscriptions.size(), 1u);
    EXPECT_EQ(subscribe.subscriptions[0].filter, "dev/+/temp");
    EXPECT_EQ(subscribe.subscriptions[0].options.max_qos, QoS::at_least_once);
    server.send(Suback{subscribe.packet_id, {ReasonCode::granted_qos_1}, {}});
    Publish publish{"dev/9/temp", "19.0", QoS::at_least_once, true, false, 77, {}};
    if (v5) publish.properties.user_properties = {{"unit", "C"}};
    server.send(publish);
    EXPECT_EQ(server.expect<Puback>().packet_id, 77);
  }
  const ProcessResult result = sub.wait(30s);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, v5 ? "dev/9/temp|19.0|1|1|unit:C\n" : "dev/9/temp|19.0|1|1\n");
}

INSTANTIATE_TEST_SUITE_P(AllVersions, CodecInterop,
                         testing::Values(ProtocolVersion::v3_1, ProtocolVersion::v3_1_1, ProtocolVersion::v5),
                         [](const auto& param_info) {
                           std::string name(version_name(param_info.param));
                           for (char& c : name) c = c == '.' ? '_' : c;
                           return "v" + name;
                         });
