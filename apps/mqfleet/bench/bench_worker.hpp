#pragma once
// The fast engine's bench worker: one BenchWorker (a ClientHandler) per event loop owns
// its clients' state and a partial Report, so the hot path takes no lock. Everything
// here runs on that loop's thread; the main thread only reads the atomics in Shared
// until the pool has stopped. Internal to bench_fast.cpp.

#include "bench/bench_plan.hpp"
#include "bench/bench_status.hpp"
#include "signals.hpp"

#include <mqfleet/bench/probe.hpp>
#include <mqfleet/bench/schedule.hpp>
#include <mqfleet/bench/sequence.hpp>
#include <mqfleet/engine/pool.hpp>
#include <mqfleet/tls.hpp>
#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/reason_codes.hpp>
#include <mqfleet/mqtt/topic.hpp>

#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <optional>
#include <queue>
#include <thread>
#include <unordered_map>

namespace mqfleet::cli::fast {

using bench::MonoNanos;
using engine::Client;

/// Marks a warmup message's sequence number: receivers skip it.
inline constexpr std::uint64_t k_warmup_bit = std::uint64_t{1} << 63;
inline constexpr MonoNanos k_tick = 1'000'000;              // 1 ms between pacing ticks
inline constexpr std::size_t k_closed_loop_buffer = 64 * 1024; // QoS 0 closed loop: bytes queued per client
inline constexpr std::uint64_t k_max_per_tick = 20000;      // keeps a loop responsive after a stall

inline MonoNanos to_mono(engine::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

inline std::uint64_t micros(MonoNanos from, MonoNanos to) {
  return to > from ? static_cast<std::uint64_t>((to - from) / 1000) : 0;
}

/// A sent QoS 1/2 message awaiting its acknowledgement.
struct Pending {
  MonoNanos since = 0;
  bool warm = false;
};

/// One bench client.
struct Member {
  Client* client = nullptr;
  std::uint64_t index = 0;     ///< global index within its role
  bool subscriber = false;
  std::string topic;           ///< publish topic or subscription filter
  bool done = false;           ///< publisher finished (count reached, failed or closed)
  bool connected = false;
  std::optional<bench::OpenLoopSchedule> schedule;
  std::uint64_t warm_sent = 0;
  std::uint64_t sent = 0;      ///< measured messages sent (also the next sequence number)
  std::unordered_map<std::uint16_t, Pending> pending;
  std::unique_ptr<bench::SequenceTracker> tracker; ///< subscribers
  std::uint64_t received = 0;  ///< subscribers: measured messages received
  std::uint64_t untracked = 0; ///< subscribers: payloads without a probe
};

/// The run-wide parameters every worker shares (read-only once the pool runs).
struct Shared {
  const BenchPlan* plan = nullptr;
  MonoNanos wall_offset = 0;      ///< wall-clock ns = mono ns + wall_offset
  LiveCounters live;
  std::atomic<MonoNanos> measure_start{0};
  std::atomic<MonoNanos> publish_end{0};
  std::atomic<bool> stop_publishing{false};
};

/// All clients of one event loop, and their statistics.
class BenchWorker final : public engine::ClientHandler {
public:
  BenchWorker(Shared& shared, engine::EventLoop& loop) : m_shared(shared), m_loop(loop), m_plan(*shared.plan) {
    m_payload.assign(std::max(m_plan.payload_size, bench::k_probe_size), 'x');
    m_report.mode = m_plan.mode;
  }

  std::vector<Member>& members() { return m_members; }
  bench::Report& report() { return m_report; }

  /// Starts connecting the members of one role at `rate` per second (loop thread).
  void start_connecting(bool subscribers, double rate) {
    m_connect_queue.clear();
    for (std::size_t i = 0; i < m_members.size(); ++i) {
      if (m_members[i].subscriber == subscribers) {
        m_connect_queue.push_back(i);
      }
    }
    m_connect_next = 0;
    m_connect_schedule.emplace(bench::mono_now(), rate > 0 ? rate : 1e12);
    tick();
  }

  /// Publishing stops; nothing new is sent (loop thread).
  void stop_publishing() { m_publishing_stopped = true; }

  /// Disconnects every client (loop thread).
  void disconnect_all() {
    m_closing = true;
    for (Member& m : m_members) {
      if (m.client->connected()) {
        m.client->disconnect();
      }
    }
  }

  void on_connected(Client& client, const engine::ConnackInfo& info) override {
    Member& m = member(client);
    m.connected = true;
    const MonoNanos start = to_mono(info.times.started);
    const MonoNanos connack = to_mono(info.times.connack);
    m_report.connect.succeeded++;
    m_report.histogram(bench::histogram_name::k_connect).record(micros(start, connack));
    m_report.histogram("tcp").record(micros(start, to_mono(info.times.tcp_connected)));
    if (m_plan.profile.tls.enabled) {
      m_report.histogram("tls").record(micros(to_mono(info.times.tcp_connected), to_mono(info.times.tls_done)));
    }
    bench::TimelineSecond& second = at(connack);
    second.connects++;
    if (m_plan.mode == "conn") {
      second.latency.record(micros(start, connack));
    }
    m_shared.live.connected++;
    if (m.subscriber) {
      client.subscribe(m.topic, static_cast<mqtt::QoS>(m_plan.qos));
    } else if (m_plan.mode == "pub" || m_plan.mode == "pubsub") {
      const MonoNanos begin = std::max(bench::mono_now(), m_shared.measure_start.load() - to_nanos(m_plan.warmup));
      if (m_plan.per_client_rate > 0) {
        m.schedule.emplace(begin + bench::client_phase(m.index, m_plan.publishers.end, m_plan.per_client_rate),
                           m_plan.per_client_rate);
        m_open_loop.push({m.schedule->intended(0), index_of(m)});
      } else {
        m_closed_loop.push_back(index_of(m));
        fill(m);
      }
    }
  }

  void on_connect_failed(Client& client, const engine::ConnectFailure& failure) override {
    Member& m = member(client);
    m.done = true;
    const std::string reason =
        failure.reason_code >= 0
            ? fmt::format("connack {:#04x} {}", failure.reason_code, failure.message)
            : fmt::format("{}: {}", failure.stage, failure.message);
    m_report.connect.failures[reason]++;
    at(bench::mono_now()).errors++;
    m_shared.live.failed++;
    if (m.subscriber) {
      m_shared.live.subscribed++; // counts as settled
    } else {
      m_shared.live.publishers_done++;
    }
  }

  void on_suback(Client&, std::uint16_t, std::span<const mqtt::ReasonCode> codes) override {
    for (const mqtt::ReasonCode code : codes) {
      if (mqtt::is_error(code)) {
        m_report.connect.failures[fmt::format("suback {:#04x} {}", static_cast<int>(code), mqtt::reason_name(code))]++;
        at(bench::mono_now()).errors++;
        m_shared.live.errors++;
      }
    }
    m_shared.live.subscribed++;
  }

  void on_message(Client& client, const engine::IncomingMessage& message) override {
    Member& m = member(client);
    const MonoNanos now = bench::mono_now();
    const auto probe = bench::read_probe(message.payload);
    if (!probe) {
      if (now >= m_shared.measure_start.load(std::memory_order_relaxed)) {
        m.untracked++;
        m.received++;
        at(now).received++;
        m_shared.live.received++;
      }
      return;
    }
    if ((probe->sequence & k_warmup_bit) != 0) {
      return;
    }
    m.tracker->on_receive(probe->publisher, probe->sequence);
    m.received++;
    const std::uint64_t latency = micros(probe->intended, now);
    m_report.histogram(bench::histogram_name::k_latency).record(latency);
    bench::TimelineSecond& second = at(now);
    second.received++;
    second.latency.record(latency);
    m_shared.live.received++;
    m_shared.live.last_latency_us.store(latency, std::memory_order_relaxed);
    if (m_plan.count > 0 && m_plan.mode == "sub" && m.received == m_plan.count) {
      m_shared.live.subscribers_done++;
    }
  }

  void on_publish_complete(Client& client, std::uint16_t packet_id, mqtt::ReasonCode reason) override {
    Member& m = member(client);
    const auto it = m.pending.find(packet_id);
    if (it == m.pending.end()) {
      return;
    }
    const Pending p = it->second;
    m.pending.erase(it);
    m_shared.live.inflight--;
    if (!p.warm) {
      const MonoNanos now = bench::mono_now();
      if (mqtt::is_error(reason)) {
        m_report.qos[static_cast<std::size_t>(m_plan.qos)].failed++;
        at(now).errors++;
      } else {
        m_report.qos[static_cast<std::size_t>(m_plan.qos)].acked++;
        const std::uint64_t latency = micros(p.since, now);
        m_report.histogram(bench::histogram_name::k_ack).record(latency);
        bench::TimelineSecond& second = at(now);
        second.acked++;
        if (m_plan.mode == "pub") {
          second.latency.record(latency);
        }
        m_shared.live.acked++;
      }
    }
    if (!m.schedule) {
      fill(m);
    }
  }

  void on_closed(Client& client, const engine::CloseInfo& info) override {
    Member& m = member(client);
    m.connected = false;
    for (const auto& [id, p] : m.pending) {
      if (!p.warm) {
        m_report.qos[static_cast<std::size_t>(m_plan.qos)].failed++;
      }
    }
    m_shared.live.inflight -= m.pending.size();
    m.pending.clear();
    if (!info.by_us && !m_closing) {
      m_report.connect.lost++;
      m_report.connect.failures[fmt::format("lost: {}", info.message)]++;
      at(bench::mono_now()).errors++;
      m_shared.live.errors++;
    }
    finish(m);
  }

  /// Connect pacing and open-loop publishing; re-arms itself every millisecond.
  void tick() {
    const MonoNanos now = bench::mono_now();
    if (m_connect_schedule) {
      const std::uint64_t due = std::min<std::uint64_t>(m_connect_schedule->due(now), m_connect_queue.size());
      for (; m_connect_next < due; ++m_connect_next) {
        Member& m = m_members[m_connect_queue[m_connect_next]];
        m_report.connect.attempted++;
        m.client->connect();
      }
      if (m_connect_next >= m_connect_queue.size()) {
        m_connect_schedule.reset();
      }
    }
    if (!m_publishing_stopped) {
      publish_due(now);
      for (const std::size_t i : m_closed_loop) {
        fill(m_members[i]);
      }
    }
    if (!m_tick_armed) {
      m_tick_armed = true;
      m_loop.schedule_after(std::chrono::nanoseconds(k_tick), [this] {
        m_tick_armed = false;
        tick();
      });
    }
  }

  /// Adds each subscriber's expectations and sums the trackers into the report.
  void finalise(const std::vector<std::pair<std::string, std::uint64_t>>& publishers) {
    auto& counts = m_report.qos[static_cast<std::size_t>(m_plan.qos)];
    for (Member& m : m_members) {
      if (m.subscriber) {
        for (std::uint64_t p = 0; p < publishers.size(); ++p) {
          if (!publishers[p].first.empty() && mqtt::topic_matches(m.topic, publishers[p].first)) {
            m.tracker->expect(m_plan.publishers.begin + p, publishers[p].second);
          }
        }
        bench::SequenceCounts c = m.tracker->counts();
        c.received += m.untracked;
        c.unique += m.untracked;
        counts.seen += c;
      } else {
        counts.sent += m.sent;
      }
    }
  }

private:
  static MonoNanos to_nanos(double seconds) { return static_cast<MonoNanos>(seconds * 1e9); }

  Member& member(Client& client) { return m_members[client.user_data()]; }
  std::size_t index_of(const Member& m) const { return static_cast<std::size_t>(&m - m_members.data()); }

  bench::TimelineSecond& at(MonoNanos mono) {
    const MonoNanos wall = mono + m_shared.wall_offset;
    return m_report.timeline.at(wall / 1'000'000'000);
  }

  void finish(Member& m) {
    if (!m.subscriber && !m.done) {
      m.done = true;
      m_shared.live.publishers_done++;
    }
  }

  /// Sends message number warm_sent + sent of `m`, intended at `intended`. False when
  /// the client cannot take it now (QoS 1/2 window full, not connected).
  bool send_one(Member& m, MonoNanos intended) {
    const bool warm = intended < m_shared.measure_start.load(std::memory_order_relaxed);
    const std::uint64_t sequence = warm ? (m.warm_sent | k_warmup_bit) : m.sent;
    bench::write_probe(m_payload.data(), bench::Probe{intended, static_cast<std::uint32_t>(m.index), sequence});
    const auto id = m.client->publish(m.topic, std::string_view(m_payload.data(), m_plan.payload_size),
                                      static_cast<mqtt::QoS>(m_plan.qos));
    if (!id) {
      return false;
    }
    if (m_plan.qos > 0) {
      m.pending[*id] = Pending{intended, warm};
      m_shared.live.inflight++;
    }
    if (warm) {
      m.warm_sent++;
    } else {
      m.sent++;
      at(intended).sent++;
      m_shared.live.sent++;
      if (m_plan.count > 0 && m.sent >= m_plan.count) {
        finish(m);
      }
    }
    return true;
  }

  bool may_publish(const Member& m) const {
    return !m.done && !m_publishing_stopped && m.connected;
  }

  void publish_due(MonoNanos now) {
    std::vector<std::pair<MonoNanos, std::size_t>> blocked;
    std::uint64_t budget = k_max_per_tick;
    while (!m_open_loop.empty() && m_open_loop.top().first <= now && budget > 0) {
      const std::size_t i = m_open_loop.top().second;
      m_open_loop.pop();
      Member& m = m_members[i];
      if (!may_publish(m)) {
        continue;
      }
      const std::uint64_t due = m.schedule->due(now);
      bool stalled = false;
      while (m.warm_sent + m.sent < due && may_publish(m) && budget > 0) {
        if (!send_one(m, m.schedule->intended(m.warm_sent + m.sent))) {
          stalled = true;
          break;
        }
        --budget;
      }
      if (may_publish(m)) {
        const MonoNanos next = m.schedule->intended(m.warm_sent + m.sent);
        if (stalled || next <= now) {
          blocked.emplace_back(next, i);
        } else {
          m_open_loop.push({next, i});
        }
      }
    }
    for (const auto& b : blocked) {
      m_open_loop.push(b);
    }
  }

  /// Closed loop: keep the window (QoS 1/2) or the socket buffer (QoS 0) full.
  void fill(Member& m) {
    if (m.schedule) {
      return;
    }
    std::uint64_t budget = k_max_per_tick / 10;
    while (may_publish(m) && budget-- > 0) {
      if (m_plan.qos == 0 && m.client->pending_output() >= k_closed_loop_buffer) {
        break;
      }
      if (!send_one(m, bench::mono_now())) {
        break;
      }
    }
  }

  Shared& m_shared;
  engine::EventLoop& m_loop;
  const BenchPlan& m_plan;
  std::vector<Member> m_members;
  bench::Report m_report;
  std::string m_payload;
  std::vector<std::size_t> m_connect_queue;
  std::size_t m_connect_next = 0;
  std::optional<bench::OpenLoopSchedule> m_connect_schedule;
  std::priority_queue<std::pair<MonoNanos, std::size_t>, std::vector<std::pair<MonoNanos, std::size_t>>,
                      std::greater<>>
      m_open_loop;
  std::vector<std::size_t> m_closed_loop;
  bool m_publishing_stopped = false;
  bool m_closing = false;
  bool m_tick_armed = false;
};

} // namespace mqfleet::cli::fast
