// The fast engine against real brokers (Debian's mosquitto and the in-process reference
// broker) on ephemeral ports: many connections, exact QoS 0/1/2 round trips, wills on
// abort(), TLS, refused credentials, source address binding.
#include "e2e/engine_harness.hpp"
#include "support/mosquitto_broker.hpp"
#include "support/reference_broker.hpp"

#include <mqfleet/engine/pool.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

using namespace mqfleet;
using namespace mqfleet::engine;
using namespace mqfleet::test;

namespace {

/// One broker of either kind, plain TCP, that never drops a queued message: the
/// MosquittoBroker fixture sets max_queued_messages 0, and the reference broker gets
/// max_queued 0 here. With a bounded queue a subscriber that falls behind by more than
/// max_inflight + max_queued (100 + 1000 by default) loses messages by design (the
/// publisher's QoS 1/2 flow ends at the broker, whatever the subscriber does). In the ci
/// build a 20 ms stall of the subscriber's thread already lost 157 of 3000 messages.
class AnyBroker {
public:
  explicit AnyBroker(bool mosquitto) {
    if (mosquitto) {
      m_mosquitto = std::make_unique<MosquittoBroker>();
    } else {
      ReferenceBrokerOptions options;
      options.limits.max_queued = 0;
      m_reference = std::make_unique<ReferenceBroker>(options);
    }
  }
  std::uint16_t port() const {
    return static_cast<std::uint16_t>(m_mosquitto ? m_mosquitto->port() : m_reference->port());
  }
  /// What the broker says about dropped messages (for failure messages).
  std::string drops() const {
    if (!m_reference) return "see the mosquitto log";
    return std::to_string(m_reference->broker().stats().messages_dropped.load()) + " dropped by the broker";
  }

private:
  std::unique_ptr<MosquittoBroker> m_mosquitto;
  std::unique_ptr<ReferenceBroker> m_reference;
};

ClientOptions options_for(std::uint16_t port, std::string client_id,
                          mqtt::ProtocolVersion version = mqtt::ProtocolVersion::v3_1_1) {
  ClientOptions options;
  options.port = port;
  options.client_id = std::move(client_id);
  options.version = version;
  return options;
}

struct Case {
  bool mosquitto;
  mqtt::QoS qos;
  mqtt::ProtocolVersion version;
};

std::string case_name(const testing::TestParamInfo<Case>& info) {
  return std::string(info.param.mosquitto ? "Mosquitto" : "Reference") + "Qos" +
         std::to_string(static_cast<int>(info.param.qos)) +
         (info.param.version == mqtt::ProtocolVersion::v5 ? "V5" : "V311");
}

class EnginePubSub : public testing::TestWithParam<Case> {};

} // namespace

TEST_P(EnginePubSub, ExactCountsAndNoDuplicates) {
  const Case param = GetParam();
  constexpr int k_messages = 3000;
  constexpr int k_pause_at = 100;
  constexpr auto k_pause = std::chrono::milliseconds(150);
  AnyBroker broker(param.mosquitto);
  EnginePool pool(2);

  std::atomic<bool> subscribed{false};
  std::atomic<int> received{0};
  std::atomic<int> completed{0};
  std::atomic<int> failures{0};
  std::mutex seen_mutex;
  std::multiset<int> seen;

  LambdaHandler subscriber;
  subscriber.connected = [&](Client& c, const ConnackInfo&) { c.subscribe("engine/t", param.qos); };
  subscriber.suback = [&](Client&, std::uint16_t, std::span<const mqtt::ReasonCode> codes) {
    if (codes.size() == 1 && !mqtt::is_error(codes[0])) subscribed = true;
  };
  subscriber.message = [&](Client&, const IncomingMessage& m) {
    EXPECT_EQ(m.topic, "engine/t");
    EXPECT_EQ(m.qos, param.qos);
    {
      std::lock_guard lock(seen_mutex);
      seen.insert(std::stoi(std::string(m.payload)));
    }
    // The subscriber's loop stalls once, as a preempted thread does under load: the
    // publisher runs on, the broker's queue for the subscriber grows past its default
    // bound, and every message must still arrive exactly once.
    if (++received == k_pause_at) std::this_thread::sleep_for(k_pause);
  };
  subscriber.failed = [&](Client&, const ConnectFailure&) { ++failures; };

  int sent = 0; // publisher's loop thread only
  LambdaHandler publisher;
  std::function<void(Client&)> pump = [&](Client& c) {
    while (sent < k_messages) {
      if (!c.publish("engine/t", std::to_string(sent), param.qos)) return;
      ++sent;
    }
  };
  publisher.connected = [&](Client& c, const ConnackInfo&) { pump(c); };
  publisher.complete = [&](Client& c, std::uint16_t, mqtt::ReasonCode reason) {
    EXPECT_FALSE(mqtt::is_error(reason));
    ++completed;
    pump(c);
  };
  publisher.failed = [&](Client&, const ConnectFailure&) { ++failures; };

  Client& sub = pool.add_client_on(0, options_for(broker.port(), "engine-sub", param.version), subscriber);
  auto publisher_options = options_for(broker.port(), "engine-pub", param.version);
  // mosquitto 2.0.11 drops a 3.1.1 publisher with more than max_inflight_messages (20)
  // unreleased incoming QoS 2 messages (3.1.1 has no Receive Maximum to tell us); 10 keeps a margin.
  publisher_options.max_inflight = 10;
  Client& pub = pool.add_client_on(1, publisher_options, publisher);
  pool.start();
  pool.post_to(sub, [](Client& c) { c.connect(); });
  ASSERT_TRUE(wait_until([&] { return subscribed.load(); }));
  pool.post_to(pub, [](Client& c) { c.connect(); });

  ASSERT_TRUE(wait_until([&] { return received.load() >= k_messages; }))
      << "received " << received << " of " << k_messages << "; " << broker.drops();
  if (param.qos != mqtt::QoS::at_most_once) {
    ASSERT_TRUE(wait_until([&] { return completed.load() == k_messages; }));
  }
  // Let duplicates, if any, arrive before counting.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  pool.stop();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(received.load(), k_messages);
  std::lock_guard lock(seen_mutex);
  EXPECT_EQ(std::set<int>(seen.begin(), seen.end()).size(), static_cast<std::size_t>(k_messages));
}

INSTANTIATE_TEST_SUITE_P(
    Brokers, EnginePubSub,
    testing::Values(Case{true, mqtt::QoS::at_most_once, mqtt::ProtocolVersion::v3_1_1},
                    Case{true, mqtt::QoS::at_least_once, mqtt::ProtocolVersion::v3_1_1},
                    Case{true, mqtt::QoS::exactly_once, mqtt::ProtocolVersion::v3_1_1},
                    Case{true, mqtt::QoS::exactly_once, mqtt::ProtocolVersion::v5},
                    Case{false, mqtt::QoS::at_most_once, mqtt::ProtocolVersion::v3_1_1},
                    Case{false, mqtt::QoS::at_least_once, mqtt::ProtocolVersion::v5},
                    Case{false, mqtt::QoS::exactly_once, mqtt::ProtocolVersion::v3_1_1}),
    case_name);

TEST(EngineConnect, FiveHundredClientsConnectAndDisconnect) {
  constexpr int k_clients = 500;
  ReferenceBroker broker;
  EnginePool pool(2);
  std::atomic<int> connected{0};
  std::atomic<int> closed{0};
  std::atomic<int> failed{0};
  LambdaHandler handler;
  handler.connected = [&](Client&, const ConnackInfo& info) {
    EXPECT_GE(info.times.connack, info.times.started);
    ++connected;
  };
  handler.closed = [&](Client&, const CloseInfo& info) {
    EXPECT_TRUE(info.by_us);
    ++closed;
  };
  handler.failed = [&](Client&, const ConnectFailure&) { ++failed; };
  std::vector<Client*> clients;
  for (int i = 0; i < k_clients; ++i) {
    clients.push_back(&pool.add_client(options_for(static_cast<std::uint16_t>(broker.port()),
                                                   "many-" + std::to_string(i)),
                                       handler, static_cast<std::uint64_t>(i)));
  }
  pool.start();
  for (Client* c : clients) pool.post_to(*c, [](Client& client) { client.connect(); });
  ASSERT_TRUE(wait_until([&] { return connected.load() + failed.load() == k_clients; }));
  EXPECT_EQ(failed.load(), 0);
  for (Client* c : clients) pool.post_to(*c, [](Client& client) { client.disconnect(); });
  ASSERT_TRUE(wait_until([&] { return closed.load() == k_clients; }));
  pool.stop();
}

TEST(EngineWill, AbortFiresTheWill) {
  for (bool mosquitto : {true, false}) {
    SCOPED_TRACE(mosquitto ? "mosquitto" : "reference");
    AnyBroker broker(mosquitto);
    EnginePool pool(1);
    std::atomic<bool> subscribed{false};
    std::atomic<bool> victim_up{false};
    std::atomic<bool> victim_closed{false};
    std::mutex mutex;
    std::string will_payload;
    LambdaHandler watcher;
    watcher.connected = [&](Client& c, const ConnackInfo&) { c.subscribe("will/#", mqtt::QoS::at_least_once); };
    watcher.suback = [&](Client&, std::uint16_t, std::span<const mqtt::ReasonCode>) { subscribed = true; };
    watcher.message = [&](Client&, const IncomingMessage& m) {
      std::lock_guard lock(mutex);
      will_payload = std::string(m.topic) + "=" + std::string(m.payload);
    };
    LambdaHandler victim_handler;
    victim_handler.connected = [&](Client&, const ConnackInfo&) { victim_up = true; };
    victim_handler.closed = [&](Client&, const CloseInfo& info) {
      EXPECT_TRUE(info.by_us);
      victim_closed = true;
    };
    auto victim_options = options_for(broker.port(), "victim");
    auto will = std::make_shared<mqtt::Will>();
    will->topic = "will/victim";
    will->payload = "gone";
    will->qos = mqtt::QoS::at_least_once;
    victim_options.will = will;
    Client& w = pool.add_client(options_for(broker.port(), "watcher"), watcher);
    Client& v = pool.add_client(victim_options, victim_handler);
    pool.start();
    pool.post_to(w, [](Client& c) { c.connect(); });
    ASSERT_TRUE(wait_until([&] { return subscribed.load(); }));
    pool.post_to(v, [](Client& c) { c.connect(); });
    ASSERT_TRUE(wait_until([&] { return victim_up.load(); }));
    pool.post_to(v, [](Client& c) { c.abort(); });
    ASSERT_TRUE(wait_until([&] {
      std::lock_guard lock(mutex);
      return !will_payload.empty();
    }));
    EXPECT_TRUE(victim_closed.load());
    pool.stop();
    std::lock_guard lock(mutex);
    EXPECT_EQ(will_payload, "will/victim=gone");
  }
}
