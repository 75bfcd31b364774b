// The runner without sockets: a scripted transport and a hand-driven clock step a shard
// through connects, telemetry, commands and behaviour; plus the schedule, the histogram
// and the report format.

#include <mqfleet/sim/run_report.hpp>
#include <mqfleet/sim/runner.hpp>
#include <mqfleet/scenario/scenario_loader.hpp>
#include <mqfleet/sim/schedule.hpp>
#include <mqfleet/sim/shard.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace mqfleet::sim {
namespace {

using namespace std::chrono_literals;

/// A transport that connects every client at once and records what is published.
class ScriptedTransport final : public Transport {
public:
  struct Published {
    ClientSlot slot;
    Millis at;
    std::string topic;
    std::string payload;
    int qos;
  };

  explicit ScriptedTransport(const std::chrono::microseconds* clock) : m_clock(clock) {}

  void set_listener(TransportListener* listener) override { m_listener = listener; }
  void connect(ClientSlot slot, const ClientConfig& config) override {
    configs.push_back(config);
    connect_times.emplace_back(slot, now());
    m_events.push_back([this, slot] { m_listener->on_connected(slot); });
  }
  void publish(ClientSlot slot, std::string_view topic, std::string_view payload, int qos, bool,
               std::uint64_t token) override {
    published.push_back({slot, now(), std::string(topic), std::string(payload), qos});
    m_events.push_back([this, slot, token] { m_listener->on_publish_done(slot, token, true); });
  }
  void subscribe(ClientSlot slot, const std::vector<std::pair<std::string, int>>& filters) override {
    for (const auto& f : filters) subscriptions.emplace_back(slot, f.first);
    (hold_subacks ? m_held : m_events).push_back([this, slot] { m_listener->on_subscribed(slot, true); });
  }
  void disconnect(ClientSlot slot) override { disconnects.push_back(slot); }
  void abort(ClientSlot slot) override { aborts.push_back(slot); }
  void run(const std::function<bool()>& tick, std::chrono::milliseconds) override {
    while (tick()) deliver();
  }

  /// Delivers the events the calls so far caused.
  void deliver() {
    while (!m_events.empty()) {
      auto events = std::move(m_events);
      m_events.clear();
      for (auto& e : events) e();
    }
  }
  void inject_message(ClientSlot slot, std::string topic, std::string payload) {
    m_listener->on_message(slot, topic, payload);
  }
  /// Lets the SUBACKs held back (hold_subacks) arrive with the next deliver().
  void release_subacks() {
    m_events.insert(m_events.end(), m_held.begin(), m_held.end());
    m_held.clear();
  }

  bool hold_subacks = false; ///< keep SUBACKs until release_subacks(), like a slow broker
  std::vector<ClientConfig> configs;
  std::vector<std::pair<ClientSlot, Millis>> connect_times;
  std::vector<Published> published;
  std::vector<std::pair<ClientSlot, std::string>> subscriptions;
  std::vector<ClientSlot> disconnects;
  std::vector<ClientSlot> aborts;

private:
  Millis now() const { return std::chrono::duration_cast<Millis>(*m_clock); }
  const std::chrono::microseconds* m_clock;
  TransportListener* m_listener = nullptr;
  std::vector<std::function<void()>> m_events;
  std::vector<std::function<void()>> m_held;
};

/// One shard over a scripted transport, stepped in 1 ms increments.
struct Harness {
  explicit Harness(const std::string& text, std::uint64_t seed = 7)
      : scenario(load_scenario(text, "test.json")), shared(scenario.fleets.size()), transport(&clock) {
    settings.scenario = &scenario;
    settings.seed = seed;
    settings.start_unix_ms = 1'700'000'000'000;
    shard = std::make_unique<Shard>(settings, shared, transport, 0, 1, [this] { return clock; });
    transport.set_listener(shard.get());
    shard->start();
  }
  void advance_to(Millis until) {
    while (std::chrono::duration_cast<Millis>(clock) < until) {
      clock += 1ms;
      shard->tick();
      transport.deliver();
    }
  }
  /// After stop_scheduling(): steps the clock like the runner's drain does.
  void drain_to(Millis until) { advance_to(until); }
  FleetReport fleet(std::size_t f = 0) const { return snapshot(shared.counters[f]); }

  Scenario scenario;
  RunSettings settings;
  SharedRunState shared;
  std::chrono::microseconds clock{0};
  ScriptedTransport transport;
  std::unique_ptr<Shard> shard;
};

const char* k_telemetry = R"({
  "name": "t", "connection": {"host": "127.0.0.1"},
  "fleets": [{ "name": "f", "count": 5, "device_id": "d-{index:02}", "account": "acc",
    "telemetry": [{ "topic": "{account}/{device}/t", "period": {"every": "1s", "jitter": "200ms"}, "qos": 1,
                    "payload": {"v": {"type": "uniform", "min": 0, "max": 100}, "n": {"type": "counter"}} }] }]
})";

TEST(SimSchedule, JitterStaysWithinBoundsAndNominalTimesDoNotDrift) {
  PeriodicSchedule schedule(PeriodSpec{1000ms, 100ms}, Rng(42));
  const Millis first = schedule.start(5000ms);
  EXPECT_GE(first, 5000ms);
  EXPECT_LT(first, 6100ms);
  Millis lowest = first, highest = first;
  Millis previous = first;
  for (int k = 1; k < 2000; ++k) {
    const Millis at = schedule.next();
    const Millis base = at - k * 1000ms; // the phase plus this publication's jitter
    lowest = std::min(lowest, base);
    highest = std::max(highest, base);
    EXPECT_GE(at - previous, 800ms);
    EXPECT_LE(at - previous, 1200ms);
    previous = at;
  }
  EXPECT_LE(highest - lowest, 200ms); // ±100 ms around one fixed nominal grid
  EXPECT_GE(highest - lowest, 150ms); // and the jitter really is used
}

TEST(SimSchedule, SameSeedSameTimes) {
  PeriodicSchedule a(PeriodSpec{10s, 1s}, Rng(1)), b(PeriodSpec{10s, 1s}, Rng(1)), c(PeriodSpec{10s, 1s}, Rng(2));
  std::vector<Millis> ta{a.start(0ms)}, tb{b.start(0ms)}, tc{c.start(0ms)};
  for (int i = 0; i < 50; ++i) {
    ta.push_back(a.next());
    tb.push_back(b.next());
    tc.push_back(c.next());
  }
  EXPECT_EQ(ta, tb);
  EXPECT_NE(ta, tc);
}

TEST(SimSchedule, RampAndBackoff) {
  EXPECT_EQ(ramp_offset(0, 50), 0ms);
  EXPECT_EQ(ramp_offset(49, 50), 980ms);
  EXPECT_EQ(ramp_offset(100, 0), 0ms);
  Rng rng(3);
  for (unsigned attempt = 0; attempt < 12; ++attempt) {
    const Millis d = backoff_delay(attempt, 1000ms, 30'000ms, rng);
    EXPECT_GE(d, std::min<Millis>(1000ms * (1 << attempt), 30'000ms));
    EXPECT_LE(d, 45'000ms);
  }
}

TEST(SimSchedule, TimerQueueFiresInTimeThenInsertionOrder) {
  TimerQueue q;
  q.push({30ms, 1, TimerKind::telemetry, 0, 0, 0});
  q.push({10ms, 2, TimerKind::telemetry, 0, 0, 0});
  q.push({10ms, 3, TimerKind::telemetry, 0, 0, 0});
  EXPECT_FALSE(q.due(9ms));
  ASSERT_TRUE(q.due(10ms));
  EXPECT_EQ(q.pop().device, 2u);
  EXPECT_EQ(q.pop().device, 3u);
  EXPECT_FALSE(q.due(29ms));
  EXPECT_EQ(q.pop().device, 1u);
  EXPECT_TRUE(q.empty());
}

TEST(SimShard, SameSeedGivesTheSamePublicationsAndPayloads) {
  auto record = [](std::uint64_t seed) {
    Harness h(k_telemetry, seed);
    h.advance_to(10s);
    std::vector<std::string> out;
    for (const auto& p : h.transport.published)
      out.push_back(std::to_string(p.slot) + "@" + std::to_string(p.at.count()) + " " + p.topic + " " + p.payload);
    return out;
  };
  const auto a = record(7), b = record(7), c = record(8);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(SimShard, EveryDeviceConnectsAndPublishesOnSchedule) {
  Harness h(k_telemetry);
  h.advance_to(10'000ms);
  const FleetReport r = h.fleet();
  EXPECT_EQ(r.connects, 5u);
  EXPECT_EQ(r.online, 5u);
  std::vector<int> per_device(5);
  for (const auto& p : h.transport.published) {
    ++per_device.at(p.slot);
    EXPECT_EQ(p.topic, "acc/" + h.transport.configs.at(p.slot).client_id + "/t");
    EXPECT_EQ(p.qos, 1);
  }
  // 10 s at one per second from a random phase in the first second: 9 or 10 (jitter may
  // move the last one in or out).
  for (int n : per_device) {
    EXPECT_GE(n, 9);
    EXPECT_LE(n, 11);
  }
  EXPECT_EQ(r.published, h.transport.published.size());
  EXPECT_EQ(r.acknowledged, r.published);
  EXPECT_EQ(r.telemetry, r.published);
  EXPECT_EQ(h.transport.configs[0].username, "acc");
  // The counter generator counts per device.
  std::vector<std::string> first_device;
  for (const auto& p : h.transport.published)
    if (p.slot == 0) first_device.push_back(nlohmann::json::parse(p.payload)["n"].dump());
  ASSERT_GE(first_device.size(), 3u);
  EXPECT_EQ(first_device[0], "0");
  EXPECT_EQ(first_device[1], "1");
  EXPECT_EQ(first_device[2], "2");
}

TEST(SimShard, ConnectRampSpacesConnections) {
  Harness h(R"({"connection": {"host": "h"}, "fleets": [{"name": "f", "count": 10, "device_id": "d{index}",
                "rate": "10/s", "telemetry": []}]})");
  h.advance_to(2s);
  ASSERT_EQ(h.transport.connect_times.size(), 10u);
  for (std::size_t i = 0; i < 10; ++i)
    EXPECT_EQ(h.transport.connect_times[i].second, std::max(Millis(100 * i), 1ms)) << i; // the first tick is at 1 ms
}

const char* k_commands = R"({
  "connection": {"host": "127.0.0.1"},
  "fleets": [{ "name": "gh", "count": 2, "device_id": "gh-{index}", "account": "acme",
    "fields": {"setpoint": 20},
    "telemetry": [{ "topic": "{device}/climate", "period": "1s", "payload": {"sp": {"ref": "setpoint"}} }],
    "commands": [{ "topic": "{account}/{device}/cmd/#", "qos": 1, "delay": "100ms",
                   "set": {"setpoint": "{request.value}"},
                   "reply": {"topic": "{account}/{device}/ack/{request.id}", "qos": 1,
                             "payload": {"id": "{request.id}", "ok": true, "now": {"ref": "setpoint"}, "by": "{device}"}} }] }]
})";

TEST(SimShard, CommandsAreAnsweredFromTheRequestAndChangeTheField) {
  Harness h(k_commands);
  h.advance_to(1500ms);
  ASSERT_EQ(h.transport.subscriptions.size(), 2u);
  EXPECT_EQ(h.transport.subscriptions[0].second, "acme/gh-0/cmd/#");
  h.transport.inject_message(1, "acme/gh-1/cmd/setpoint", R"({"id": "r-7", "value": 23.5})");
  h.advance_to(1590ms);
  EXPECT_EQ(h.fleet().commands_answered, 0u); // the 100 ms delay is not over
  h.advance_to(1700ms);
  const auto reply = std::find_if(h.transport.published.begin(), h.transport.published.end(),
                                  [](const auto& p) { return p.topic.find("/ack/") != std::string::npos; });
  ASSERT_NE(reply, h.transport.published.end());
  EXPECT_EQ(reply->topic, "acme/gh-1/ack/r-7");
  EXPECT_EQ(reply->slot, 1u);
  EXPECT_EQ(nlohmann::json::parse(reply->payload),
            nlohmann::json::parse(R"({"id": "r-7", "ok": true, "now": 23.5, "by": "gh-1"})"));
  h.advance_to(3000ms);
  // The telemetry of device 1 now follows the new setpoint; device 0 keeps its own.
  std::string last0, last1;
  for (const auto& p : h.transport.published) {
    if (p.topic == "gh-0/climate") last0 = p.payload;
    if (p.topic == "gh-1/climate") last1 = p.payload;
  }
  EXPECT_EQ(last0, R"({"sp":20})");
  EXPECT_EQ(last1, R"({"sp":23.5})");
  const FleetReport r = h.fleet();
  EXPECT_EQ(r.commands_received, 1u);
  EXPECT_EQ(r.commands_answered, 1u);
  std::vector<FleetReport> fleets(1);
  h.shard->collect(fleets);
  ASSERT_EQ(fleets[0].command_rtt.count(), 1u);
  EXPECT_GE(fleets[0].command_rtt.percentile(0.99), 100ms);
}

std::size_t replies_to(const ScriptedTransport& transport, const std::string& id) {
  return static_cast<std::size_t>(std::count_if(transport.published.begin(), transport.published.end(),
                                                [&](const auto& p) { return p.topic.ends_with("/ack/" + id); }));
}

// Regression (a manual run answered 2 of 3 commands): a device of a fleet with commands
// counted as online at CONNACK, before the broker had its subscription, so a command sent
// as soon as the status line said "online" could be lost. Online now means subscribed.
TEST(SimShard, ADeviceWithCommandsIsOnlineOnlyOnceItsSubscriptionIsAcknowledged) {
  Harness h(k_commands);
  h.transport.hold_subacks = true;
  h.advance_to(50ms);
  EXPECT_EQ(h.fleet().connects, 2u);
  EXPECT_EQ(h.fleet().online, 0u); // connected, SUBSCRIBE sent, no SUBACK yet
  EXPECT_EQ(h.transport.subscriptions.size(), 2u);
  // A message the broker delivers before the SUBACK (a persistent session's queue) is
  // still a command: answered like any other.
  h.transport.inject_message(0, "acme/gh-0/cmd/setpoint", R"({"id": "early", "value": 21})");
  h.transport.release_subacks();
  h.advance_to(60ms);
  EXPECT_EQ(h.fleet().online, 2u);
  h.advance_to(300ms);
  EXPECT_EQ(replies_to(h.transport, "early"), 1u);
  EXPECT_EQ(h.fleet().commands_answered, 1u);
  EXPECT_EQ(h.fleet().subscribe_failures, 0u);
}

// Regression: stop_scheduling() used to drop every command still waiting for its delay,
// so a command received just before the end of the run was counted but never answered.
TEST(SimShard, CommandsReceivedBeforeTheStopAreAnsweredDuringTheDrain) {
  Harness h(k_commands);
  h.advance_to(1500ms);
  h.transport.inject_message(1, "acme/gh-1/cmd/setpoint", R"({"id": "last", "value": 22})");
  h.advance_to(1550ms); // the 100 ms delay is half over when the run stops
  h.shard->stop_scheduling();
  EXPECT_EQ(h.shard->pending_commands(), 1u);
  h.transport.inject_message(0, "acme/gh-0/cmd/setpoint", R"({"id": "late", "value": 22})");
  const std::size_t published_at_stop = h.transport.published.size();
  h.drain_to(1700ms);
  EXPECT_EQ(replies_to(h.transport, "last"), 1u);
  EXPECT_EQ(replies_to(h.transport, "late"), 0u); // arrived after the stop: dropped, counted
  EXPECT_EQ(h.transport.published.size(), published_at_stop + 1); // no telemetry after the stop
  EXPECT_EQ(h.shard->pending_commands(), 0u);
  EXPECT_EQ(h.shard->in_flight(), 0u);
  h.shard->disconnect_all();
  const FleetReport r = h.fleet();
  EXPECT_EQ(r.commands_received, 2u);
  EXPECT_EQ(r.commands_answered, 1u);
  EXPECT_EQ(r.commands_dropped, 1u);
  EXPECT_EQ(r.online, 0u);
}

TEST(SimShard, ACommandStillWaitingWhenTheDrainEndsIsDropped) {
  Harness h(k_commands);
  h.advance_to(1500ms);
  h.transport.inject_message(1, "acme/gh-1/cmd/setpoint", R"({"id": "slow", "value": 22})");
  h.shard->stop_scheduling();
  h.drain_to(1550ms);
  h.shard->disconnect_all(); // the drain timed out before the reply was due
  h.advance_to(1700ms);
  EXPECT_EQ(replies_to(h.transport, "slow"), 0u);
  EXPECT_EQ(h.fleet().commands_answered, 0u);
  EXPECT_EQ(h.fleet().commands_dropped, 1u);
}

TEST(SimShard, DropsAbortWithoutDisconnectAndReconnect) {
  Harness h(R"({"connection": {"host": "h"}, "fleets": [{"name": "f", "count": 20, "device_id": "d{index}",
                "behaviour": {"drops": {"probability": 1, "every": "1s", "reconnect_after": "500ms"}}}]})");
  // The first check falls within one period of connecting: every device drops once by
  // then, abruptly (abort, never DISCONNECT), and comes back.
  h.advance_to(1100ms);
  EXPECT_EQ(std::set<ClientSlot>(h.transport.aborts.begin(), h.transport.aborts.end()).size(), 20u);
  h.advance_to(5000ms);
  EXPECT_TRUE(h.transport.disconnects.empty());
  const FleetReport r = h.fleet();
  EXPECT_EQ(r.drops, h.transport.aborts.size());
  EXPECT_EQ(r.connects, r.online + r.drops); // every connection is still up or was dropped
  EXPECT_GT(r.connects, 40u);
  EXPECT_EQ(r.lost, 0u); // asked for: not an error
}

TEST(SimShard, ReconnectStormTakesTheFleetDownAndBackAtOnce) {
  Harness h(R"({"connection": {"host": "h"}, "fleets": [{"name": "f", "count": 50, "device_id": "d{index}", "rate": "100/s",
                "behaviour": {"reconnect_storms": [{"at": "2s", "fraction": "100%", "down_for": "1s"}]}}],
                "run": {"duration": "10s"}})");
  h.advance_to(1990ms);
  EXPECT_EQ(h.fleet().online, 50u);
  h.advance_to(2500ms);
  EXPECT_EQ(h.fleet().online, 0u);
  EXPECT_EQ(h.transport.aborts.size(), 50u);
  const std::size_t before = h.transport.connect_times.size();
  h.advance_to(3001ms);
  EXPECT_EQ(h.fleet().online, 50u);
  for (std::size_t i = before; i < h.transport.connect_times.size(); ++i)
    EXPECT_EQ(h.transport.connect_times[i].second, 3000ms); // ignoring the ramp
}

TEST(SimRunner, RunsOnThreadsAndStopsAtTheMessageCount) {
  const Scenario scenario = load_scenario(R"({"connection": {"host": "h"},
      "fleets": [{"name": "f", "count": 40, "device_id": "d{index}",
                  "telemetry": [{"topic": "t/{device}", "period": "20ms", "payload": {"x": 1}}]}],
      "run": {"messages": 500, "duration": "1m", "expect": {"min_delivered": "100%", "max_error_rate": 0}}})");
  RunOptions options;
  options.threads = 2;
  options.seed = 1;
  options.transport = [](const ConnectionProfile&, std::size_t) {
    static const std::chrono::microseconds unused{0};
    struct RealTime final : Transport {
      ScriptedTransport inner{&unused};
      void set_listener(TransportListener* l) override { inner.set_listener(l); }
      void connect(ClientSlot s, const ClientConfig& c) override { inner.connect(s, c); }
      void publish(ClientSlot s, std::string_view t, std::string_view p, int q, bool r, std::uint64_t k) override {
        inner.publish(s, t, p, q, r, k);
      }
      void subscribe(ClientSlot s, const std::vector<std::pair<std::string, int>>& f) override { inner.subscribe(s, f); }
      void disconnect(ClientSlot s) override { inner.disconnect(s); }
      void abort(ClientSlot s) override { inner.abort(s); }
      void run(const std::function<bool()>& tick, std::chrono::milliseconds interval) override {
        while (tick()) {
          inner.deliver();
          std::this_thread::sleep_for(interval);
        }
      }
    };
    return std::unique_ptr<Transport>(std::make_unique<RealTime>());
  };
  const RunReport report = run_scenario(scenario, ConnectionProfile{}, options);
  EXPECT_EQ(report.stop, StopReason::messages);
  EXPECT_EQ(report.fleets.at(0).telemetry, 500u);
  EXPECT_EQ(report.fleets.at(0).connects, 40u);
  EXPECT_EQ(report.fleets.at(0).online, 40u); // online_at_end: when the run stopped, not after the drain
  EXPECT_TRUE(report.passed()) << format_summary(report);
}

TEST(SimStats, HistogramPercentilesWithinThreePercent) {
  LatencyHistogram h;
  for (int i = 1; i <= 10'000; ++i) h.record(std::chrono::microseconds(i * 100));
  EXPECT_EQ(h.count(), 10'000u);
  const auto near = [](std::chrono::microseconds got, double want) {
    return std::abs(static_cast<double>(got.count()) - want) <= want * 0.035;
  };
  EXPECT_TRUE(near(h.percentile(0.5), 500'000)) << h.percentile(0.5).count();
  EXPECT_TRUE(near(h.percentile(0.99), 990'000)) << h.percentile(0.99).count();
  EXPECT_EQ(h.max(), std::chrono::microseconds(1'000'000));
  EXPECT_EQ(LatencyHistogram{}.percentile(0.99).count(), 0);
}

TEST(SimReport, JsonCarriesPerFleetNumbersAndTheVerdict) {
  RunReport report;
  report.scenario = "greenhouse";
  report.seed = 42;
  report.elapsed = 5000ms;
  FleetReport f;
  f.name = "gh";
  f.devices = 10;
  f.connect_attempts = 12;
  f.connects = 10;
  f.connect_failures = 2;
  f.connect_failure_reasons["refused: not authorized"] = 2;
  f.published = 100;
  f.acknowledged = 97;
  f.publish_failures = 3;
  f.commands_received = 4;
  f.commands_answered = 4;
  for (int i = 0; i < 4; ++i) f.command_rtt.record(std::chrono::milliseconds(100 + i));
  report.fleets.push_back(f);
  ExpectSpec expect;
  expect.max_error_rate = 0.01;
  expect.min_delivered = 0.95;
  expect.max_command_rtt_p99 = 500ms;
  evaluate_expectations(report, expect);
  ASSERT_EQ(report.expectations.size(), 3u);
  EXPECT_FALSE(report.expectations[0].passed); // 5 errors / 112 operations
  EXPECT_NEAR(report.expectations[0].actual, 5.0 / 112.0, 1e-9);
  EXPECT_TRUE(report.expectations[1].passed);  // 97 %
  EXPECT_TRUE(report.expectations[2].passed);
  EXPECT_FALSE(report.passed());

  const auto doc = nlohmann::json::parse(report_to_json(report));
  EXPECT_EQ(doc["scenario"], "greenhouse");
  EXPECT_EQ(doc["seed"], 42);
  EXPECT_EQ(doc["passed"], false);
  const auto& fleet = doc["fleets"][0];
  EXPECT_EQ(fleet["name"], "gh");
  EXPECT_EQ(fleet["connects"], 10);
  EXPECT_EQ(fleet["connect_failure_reasons"]["refused: not authorized"], 2);
  EXPECT_EQ(fleet["published"], 100);
  EXPECT_EQ(fleet["acknowledged"], 97);
  EXPECT_EQ(fleet["commands_answered"], 4);
  EXPECT_EQ(fleet["command_rtt"]["count"], 4);
  EXPECT_NEAR(fleet["command_rtt"]["p99_ms"].get<double>(), 103, 4);
  EXPECT_EQ(doc["total"]["published"], 100);
  EXPECT_EQ(doc["expectations"][0]["name"], "max_error_rate");
  EXPECT_EQ(doc["expectations"][0]["passed"], false);

  const std::string summary = format_summary(report);
  EXPECT_NE(summary.find("gh"), std::string::npos);
  EXPECT_NE(summary.find("refused: not authorized"), std::string::npos);
  EXPECT_NE(summary.find("FAILED"), std::string::npos);
}

TEST(SimReport, RoundTripExpectationNeedsAnsweredCommands) {
  RunReport report;
  report.fleets.push_back(FleetReport{});
  ExpectSpec expect;
  expect.max_command_rtt_p99 = 500ms;
  evaluate_expectations(report, expect);
  ASSERT_EQ(report.expectations.size(), 1u);
  EXPECT_FALSE(report.expectations[0].passed);
  EXPECT_EQ(report.expectations[0].note, "no command was answered");
}

} // namespace
} // namespace mqfleet::sim
