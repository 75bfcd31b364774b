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
#include <map>
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
    client_ids[slot] = config.client_id;
    log(slot, "connect");
    m_events.push_back([this, slot] { m_listener->on_connected(slot); });
  }
  void publish(ClientSlot slot, std::string_view topic, std::string_view payload, int qos, bool,
               std::uint64_t token) override {
    published.push_back({slot, now(), std::string(topic), std::string(payload), qos});
    log(slot, "publish " + std::string(topic) + " " + std::string(payload));
    m_events.push_back([this, slot, token] { m_listener->on_publish_done(slot, token, true); });
  }
  void subscribe(ClientSlot slot, const std::vector<std::pair<std::string, int>>& filters) override {
    for (const auto& f : filters) subscriptions.emplace_back(slot, f.first);
    (hold_subacks ? m_held : m_events).push_back([this, slot] { m_listener->on_subscribed(slot, true); });
  }
  void disconnect(ClientSlot slot) override {
    disconnects.push_back(slot);
    log(slot, "disconnect");
  }
  void abort(ClientSlot slot) override {
    aborts.push_back(slot);
    log(slot, "abort");
  }
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
  /// What happened to each device (by client id), in order, with the time.
  std::map<std::string, std::vector<std::string>> device_events() const {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& [slot, call] : calls) out[client_ids.at(slot)].push_back(call);
    return out;
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
  std::map<ClientSlot, std::string> client_ids;
  std::vector<std::pair<ClientSlot, std::string>> calls; ///< "<ms> what", every call in order

private:
  Millis now() const { return std::chrono::duration_cast<Millis>(*m_clock); }
  void log(ClientSlot slot, const std::string& what) { calls.emplace_back(slot, std::to_string(now().count()) + " " + what); }
  const std::chrono::microseconds* m_clock;
  TransportListener* m_listener = nullptr;
  std::vector<std::function<void()>> m_events;
  std::vector<std::function<void()>> m_held;
};

/// One shard over a scripted transport, stepped in 1 ms increments: thread `thread` of
/// `threads` of the process running `slice` (--shard) of the scenario.
struct Harness {
  explicit Harness(const std::string& text, std::uint64_t seed = 7, bench::Shard slice = {}, std::size_t thread = 0,
                   std::size_t threads = 1)
      : scenario(load_scenario(text, "test.json")), shared(scenario.fleets.size()), transport(&clock) {
    settings.scenario = &scenario;
    settings.seed = seed;
    settings.slice = slice;
    settings.start_unix_ms = 1'700'000'000'000;
    shard = std::make_unique<Shard>(settings, shared, transport, thread, threads, [this] { return clock; });
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
  EXPECT_GE(fleets[0].command_rtt.percentile(99), 99'000u); // 100 ms, within a bucket
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

// Two fleets with everything random a device does: jittered telemetry with random
// payloads, commands answered after a random delay, drops, offline cycles and a storm.
const char* k_twins = R"({
  "name": "twins", "connection": {"host": "h"},
  "fleets": [
    { "name": "a", "count": 10, "device_id": "a-{index}", "rate": "20/s",
      "telemetry": [{ "topic": "a/{device}", "period": {"every": "500ms", "jitter": "100ms"}, "qos": 1,
                      "payload": {"v": {"type": "uniform", "min": 0, "max": 1}, "n": {"type": "counter"}} }],
      "commands": [{ "topic": "cmd/{device}", "qos": 1, "delay": {"min": "10ms", "max": "90ms"},
                     "reply": {"topic": "ack/{device}", "payload": {"r": {"type": "uniform", "min": 0, "max": 9}}} }],
      "behaviour": { "drops": {"probability": 0.3, "every": "700ms", "reconnect_after": {"min": "100ms", "max": "400ms"}},
                     "offline": {"probability": 0.2, "every": "900ms", "duration": {"min": "100ms", "max": "300ms"}},
                     "reconnect_storms": [{"at": "2500ms", "fraction": "50%", "down_for": {"min": "200ms", "max": "600ms"}}] } },
    { "name": "b", "count": 7, "first_index": 100, "device_id": "b-{index}",
      "telemetry": [{ "topic": "b/{device}", "period": {"every": "300ms", "jitter": "50ms"},
                      "payload": {"w": {"type": "normal", "mean": 5, "stddev": 2}} }],
      "behaviour": { "drops": {"probability": 0.5, "every": "1s", "reconnect_after": "250ms"} } }
  ]
})";

/// Runs k_twins as `processes` processes (--shard k/processes) of `threads` threads each
/// for 4 s, injecting the same commands into every device, and returns what each device
/// did (by client id) over all of them.
std::map<std::string, std::vector<std::string>> run_twins(std::uint32_t processes, std::size_t threads) {
  std::map<std::string, std::vector<std::string>> all;
  for (std::uint32_t k = 0; k < processes; ++k) {
    for (std::size_t t = 0; t < threads; ++t) {
      Harness h(k_twins, 11, bench::Shard{k, processes}, t, threads);
      for (const Millis at : {1200ms, 2000ms, 3300ms}) {
        h.advance_to(at);
        for (const auto& [slot, id] : h.transport.client_ids)
          h.transport.inject_message(slot, "cmd/" + id, "{}");
      }
      h.advance_to(4000ms);
      for (auto& [id, events] : h.transport.device_events()) {
        EXPECT_FALSE(all.contains(id)) << id << " ran in two shards";
        all[id] = std::move(events);
      }
    }
  }
  return all;
}

TEST(SimShards, ADeviceDoesTheSameInOneProcessAndInShards) {
  const auto whole = run_twins(1, 1);
  ASSERT_EQ(whole.size(), 17u); // every device connected
  std::size_t drops = 0, replies = 0;
  for (const auto& [id, events] : whole)
    for (const auto& e : events) {
      drops += e.ends_with(" abort");
      replies += e.find(" publish ack/") != std::string::npos;
    }
  EXPECT_GT(drops, 5u);   // the failures really happen...
  EXPECT_GT(replies, 10u); // ...and commands are answered
  EXPECT_EQ(run_twins(1, 2), whole); // threads of one process
  EXPECT_EQ(run_twins(3, 1), whole); // three processes
  EXPECT_EQ(run_twins(4, 2), whole); // four processes of two threads
  EXPECT_EQ(run_twins(20, 1), whole); // more shards than some fleets have devices
}

TEST(SimShards, EachShardRunsItsSliceOfEveryFleet) {
  // Fleet a (10 devices) splits 4/3/3, fleet b (7 devices) 3/2/2, by position.
  const std::vector<std::set<std::string>> expected = {
      {"a-0", "a-1", "a-2", "a-3", "b-100", "b-101", "b-102"},
      {"a-4", "a-5", "a-6", "b-103", "b-104"},
      {"a-7", "a-8", "a-9", "b-105", "b-106"}};
  for (std::uint32_t k = 0; k < 3; ++k) {
    Harness h(k_twins, 11, bench::Shard{k, 3});
    EXPECT_EQ(h.shard->device_count(), expected[k].size());
    h.advance_to(600ms);
    std::set<std::string> ids;
    for (const auto& [slot, id] : h.transport.client_ids) ids.insert(id);
    EXPECT_EQ(ids, expected[k]) << "shard " << k;
  }
}

/// The scripted transport on the runner's real clock: its events arrive at every tick.
TransportFactory real_time_transport() {
  return [](const ConnectionProfile&, std::size_t) {
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
}

TEST(SimRunner, RunsOnThreadsAndStopsAtTheMessageCount) {
  const Scenario scenario = load_scenario(R"({"connection": {"host": "h"},
      "fleets": [{"name": "f", "count": 40, "device_id": "d{index}",
                  "telemetry": [{"topic": "t/{device}", "period": "20ms", "payload": {"x": 1}}]}],
      "run": {"messages": 500, "duration": "1m", "expect": {"min_delivered": "100%", "max_error_rate": 0}}})");
  RunOptions options;
  options.threads = 2;
  options.seed = 1;
  options.transport = real_time_transport();
  const RunReport report = run_scenario(scenario, ConnectionProfile{}, options);
  EXPECT_EQ(report.stop, StopReason::messages);
  EXPECT_EQ(report.fleets.at(0).telemetry, 500u);
  EXPECT_EQ(report.fleets.at(0).connects, 40u);
  EXPECT_EQ(report.fleets.at(0).online, 40u); // online_at_end: when the run stopped, not after the drain
  EXPECT_TRUE(report.passed()) << format_summary(report);
}

TEST(SimRunner, AShardRunsItsSliceAndItsShareOfTheMessageCount) {
  const Scenario scenario = load_scenario(R"({"connection": {"host": "h"},
      "fleets": [{"name": "f", "count": 40, "device_id": "d{index}",
                  "telemetry": [{"topic": "t/{device}", "period": "20ms", "payload": {"x": 1}}]},
                 {"name": "g", "count": 2, "device_id": "g{index}"}],
      "run": {"messages": 301, "duration": "1m"}})");
  RunOptions options;
  options.seed = 1;
  options.slice = bench::Shard{1, 3};
  options.transport = real_time_transport();
  const RunReport report = run_scenario(scenario, ConnectionProfile{}, options);
  EXPECT_EQ(report.stop, StopReason::messages);
  ASSERT_EQ(report.shards.size(), 1u);
  EXPECT_EQ(report.shards[0], (bench::Shard{1, 3}));
  EXPECT_EQ(report.fleets.at(0).devices, 13u); // 40 = 14 + 13 + 13
  EXPECT_EQ(report.fleets.at(0).fleet_devices, 40u);
  EXPECT_EQ(report.fleets.at(0).connects, 13u);
  EXPECT_EQ(report.fleets.at(0).telemetry, 100u); // 301 = 101 + 100 + 100
  EXPECT_EQ(report.fleets.at(1).devices, 1u);     // 2 = 1 + 1 + 0
  EXPECT_EQ(report.fleets.at(1).connects, 1u);
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TEST(SimRunner, StartAtWaitsForTheCommonStartAndTheDurationCountsFromIt) {
  const Scenario scenario = load_scenario(R"({"connection": {"host": "h"},
      "fleets": [{"name": "f", "count": 3, "device_id": "d{index}",
                  "telemetry": [{"topic": "t/{device}", "period": "100ms", "payload": {"x": 1}}]}],
      "run": {"duration": "300ms"}})");
  RunOptions options;
  options.transport = real_time_transport();
  const std::int64_t begin = unix_ms_now();
  options.start_unix_ms = begin + 500;
  std::vector<Progress> waiting;
  const RunReport report = run_scenario(
      scenario, ConnectionProfile{}, options, [&](const Progress& p) { if (p.starts_in) waiting.push_back(p); }, 50ms);
  const std::int64_t end = unix_ms_now();
  EXPECT_EQ(report.start_unix_ms, begin + 500);
  EXPECT_GE(end - begin, 800);  // waited for the start, then ran for the duration
  EXPECT_LT(end - begin, 2500);
  EXPECT_GE(report.elapsed, 300ms);
  EXPECT_LT(report.elapsed, 600ms); // measured from the start, not from the call
  ASSERT_FALSE(waiting.empty());
  EXPECT_GT(*waiting.front().starts_in, 300ms);
  EXPECT_EQ(waiting.front().devices, 3u);
  EXPECT_EQ(report.fleets.at(0).connects, 3u);
}

TEST(SimRunner, AShardStartedLateCatchesUpAndStopsOnTheCommonClock) {
  const Scenario scenario = load_scenario(R"({"connection": {"host": "h"},
      "fleets": [{"name": "f", "count": 10, "device_id": "d{index}", "rate": "10/s"}],
      "run": {"duration": "1200ms"}})");
  RunOptions options;
  options.transport = real_time_transport();
  const std::int64_t begin = unix_ms_now();
  options.start_unix_ms = begin - 700; // the other shards started 700 ms ago
  const RunReport report = run_scenario(scenario, ConnectionProfile{}, options);
  const std::int64_t end = unix_ms_now();
  EXPECT_LT(end - begin, 1100); // stopped 1200 ms after the common start, not after the call
  EXPECT_GE(report.elapsed, 1200ms);
  // The ramp caught up: the devices due in the first 700 ms connected at once, the
  // others on schedule (one every 100 ms).
  EXPECT_EQ(report.fleets.at(0).connects, 10u);
}

TEST(SimRunner, AStopWhileWaitingForTheStartEndsWithoutConnecting) {
  const Scenario scenario = load_scenario(R"({"connection": {"host": "h"},
      "fleets": [{"name": "f", "count": 3, "device_id": "d{index}"}], "run": {"duration": "1s"}})");
  std::stop_source stop;
  RunOptions options;
  options.transport = real_time_transport();
  options.stop = stop.get_token();
  options.start_unix_ms = unix_ms_now() + 60'000;
  const auto begin = std::chrono::steady_clock::now();
  const RunReport report = run_scenario(scenario, ConnectionProfile{}, options, [&](const Progress&) {
    stop.request_stop();
  });
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 5s);
  EXPECT_EQ(report.stop, StopReason::interrupted);
  EXPECT_EQ(report.fleets.at(0).connect_attempts, 0u);
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
  for (int i = 0; i < 4; ++i) f.command_rtt.record(static_cast<std::uint64_t>(100'000 + 1000 * i));
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

/// A shard's report of a one-fleet scenario of 90 devices with the given counters.
RunReport shard_report(bench::Shard shard, std::uint64_t published, std::uint64_t failures,
                       std::vector<std::uint64_t> rtts_us) {
  RunReport r;
  r.scenario = "shards";
  r.scenario_digest = "fnv1a64:0123456789abcdef";
  r.seed = 7;
  r.shards = {shard};
  r.start_unix_ms = 1'700'000'000'000 + shard.index * 10; // machines start within a few ms
  r.elapsed = 4000ms;
  FleetReport f;
  f.name = "m";
  f.fleet_devices = 90;
  f.devices = bench::shard_range(90, shard).size();
  f.connect_attempts = f.devices;
  f.connects = f.devices;
  f.online = f.devices;
  f.connect_failure_reasons["timeout"] = shard.index;
  f.published = published;
  f.telemetry = published;
  f.acknowledged = published - failures;
  f.publish_failures = failures;
  f.commands_received = rtts_us.size();
  f.commands_answered = rtts_us.size();
  for (auto us : rtts_us) f.command_rtt.record(us);
  r.fleets.push_back(f);
  ExpectSpec expect;
  expect.max_error_rate = 0.01;
  expect.max_command_rtt_p99 = 100ms;
  evaluate_expectations(r, expect);
  return r;
}

TEST(SimReport, JsonRoundTripIsExact) {
  const RunReport r = shard_report(bench::Shard{2, 3}, 120, 1, {1500, 80'000, 2'000'000});
  const RunReport back = report_from_json(nlohmann::json::parse(report_to_json(r)), "r.json");
  EXPECT_EQ(back.scenario, r.scenario);
  EXPECT_EQ(back.scenario_digest, r.scenario_digest);
  EXPECT_EQ(back.seed, 7u);
  EXPECT_EQ(back.shards, r.shards);
  EXPECT_EQ(back.start_unix_ms, r.start_unix_ms);
  EXPECT_EQ(back.elapsed, r.elapsed);
  ASSERT_EQ(back.fleets.size(), 1u);
  EXPECT_EQ(report_to_json(back), report_to_json(r)); // every counter, reason and limit
  EXPECT_TRUE(back.fleets[0].command_rtt == r.fleets[0].command_rtt);
  EXPECT_EQ(back.expectations.size(), 2u);
}

TEST(SimReport, ReadingSomethingElseNamesTheFile) {
  EXPECT_THROW(report_from_json(nlohmann::json::parse(R"({"mode": "pub"})"), "bench.json"), ConfigError);
  auto doc = nlohmann::json::parse(report_to_json(shard_report(bench::Shard{0, 1}, 1, 0, {})));
  doc["shards"] = {"3/3"};
  try {
    report_from_json(doc, "bad.json");
    FAIL() << "a shard 3/3 was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where(), "bad.json");
  }
  doc["shards"] = {"0/1"};
  doc["fleets"][0].erase("published");
  EXPECT_THROW(report_from_json(doc, "bad.json"), ConfigError);
}

TEST(SimMerge, CountersAndRoundTripsAddUpAndExpectIsJudgedOnTheTotals) {
  // Alone, shards 0 and 1 pass max_error_rate 1 % and shard 2 fails it (2 errors in 130
  // operations); merged, 2 errors in 390 operations pass.
  const std::vector<NamedReport> reports = {
      {"r0.json", shard_report(bench::Shard{0, 3}, 100, 0, {1000, 2000})},
      {"r1.json", shard_report(bench::Shard{1, 3}, 100, 0, {3000})},
      {"r2.json", shard_report(bench::Shard{2, 3}, 100, 2, {90'000, 95'000})}};
  EXPECT_TRUE(reports[0].second.passed());
  EXPECT_FALSE(reports[2].second.passed()) << format_summary(reports[2].second);
  const RunReport merged = merge_reports(reports);
  ASSERT_EQ(merged.fleets.size(), 1u);
  const FleetReport& m = merged.fleets[0];
  EXPECT_EQ(m.devices, 90u);
  EXPECT_EQ(m.fleet_devices, 90u);
  EXPECT_EQ(m.connects, 90u);
  EXPECT_EQ(m.published, 300u);
  EXPECT_EQ(m.publish_failures, 2u);
  EXPECT_EQ(m.connect_failure_reasons.at("timeout"), 3u);
  LatencyHistogram all;
  for (auto us : {1000, 2000, 3000, 90'000, 95'000}) all.record(static_cast<std::uint64_t>(us));
  EXPECT_TRUE(m.command_rtt == all); // exact, bucket by bucket
  EXPECT_EQ(merged.shards, (std::vector<bench::Shard>{{0, 3}, {1, 3}, {2, 3}}));
  EXPECT_EQ(merged.start_unix_ms, 1'700'000'000'000);
  EXPECT_EQ(merged.elapsed, 4020ms); // earliest start to latest end
  ASSERT_EQ(merged.expectations.size(), 2u);
  EXPECT_TRUE(merged.expectations[0].passed) << format_summary(merged);
  EXPECT_NEAR(merged.expectations[0].actual, 2.0 / 390.0, 1e-12);
  EXPECT_TRUE(merged.expectations[1].passed); // p99 of 5 samples: 95 ms < 100 ms
  const std::string summary = format_summary(merged);
  EXPECT_NE(summary.find("shards 0/3 1/3 2/3 · 90 of 90 devices"), std::string::npos) << summary;

  // A merged report fails where its totals do.
  std::vector<NamedReport> slow = reports;
  slow[1].second.fleets[0].command_rtt.record(400'000, 10);
  EXPECT_FALSE(merge_reports(slow).expectations[1].passed);
  // And merged reports merge again.
  const RunReport twice = merge_reports({{"a.json", merge_reports({reports[0], reports[1]})}, reports[2]});
  EXPECT_EQ(report_to_json(twice), report_to_json(merged));
}

/// The `where` of the ConfigError that merging `reports` throws.
std::string merge_error(const std::vector<NamedReport>& reports) {
  try {
    merge_reports(reports);
  } catch (const ConfigError& e) {
    return e.where() + ": " + e.what();
  }
  return "merged";
}

TEST(SimMerge, DifferentScenariosAndOverlappingShardsAreRefusedNamingTheFiles) {
  const RunReport r0 = shard_report(bench::Shard{0, 3}, 10, 0, {});
  const RunReport r1 = shard_report(bench::Shard{1, 3}, 10, 0, {});
  RunReport other_seed = r1;
  other_seed.seed = 8;
  RunReport other_file = r1;
  other_file.scenario_digest = "fnv1a64:ffffffffffffffff";
  RunReport other_size = r1;
  other_size.fleets[0].fleet_devices = 91;
  RunReport other_limit = r1;
  other_limit.expectations[0].limit = 0.5;
  for (const RunReport& other : {other_seed, other_file, other_size, other_limit}) {
    const std::string error = merge_error({{"r0.json", r0}, {"x.json", other}});
    EXPECT_TRUE(error.starts_with("r0.json, x.json: reports of different scenarios")) << error;
  }
  EXPECT_TRUE(merge_error({{"r0.json", r0}, {"again.json", r0}}).starts_with("r0.json, again.json: reports overlap"));
  // 0/2 is devices 0-44 and 1/3 devices 30-59.
  const RunReport half = shard_report(bench::Shard{0, 2}, 10, 0, {});
  const std::string error = merge_error({{"r1.json", r1}, {"h.json", half}});
  EXPECT_TRUE(error.starts_with("h.json, r1.json: reports overlap")) << error;
  EXPECT_NE(error.find("device 30 of fleet m"), std::string::npos) << error;
  // Disjoint slices of different N are fine: 0/2 (0-44) and 3/6 (45-59).
  EXPECT_EQ(merge_error({{"h.json", half}, {"s.json", shard_report(bench::Shard{3, 6}, 10, 0, {})}}), "merged");
  EXPECT_EQ(merge_error({}), "sim merge: nothing to merge");
}

} // namespace
} // namespace mqfleet::sim
