// `bench` on the fast engine: builds one BenchWorker per event loop, spreads the clients
// over them, runs the phases (subscribers, then publishers; warmup, measurement, drain)
// from the main thread and merges the workers' partial reports.

#include "bench/bench_plan.hpp"
#include "bench/bench_status.hpp"
#include "bench/bench_worker.hpp"
#include "signals.hpp"

#include <mqfleet/engine/pool.hpp>
#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/topic.hpp>

#include <fmt/format.h>

#include <chrono>
#include <functional>
#include <thread>

namespace mqfleet::cli {
namespace {

using bench::MonoNanos;

std::int64_t wall_ms(MonoNanos mono, MonoNanos wall_offset) {
  return (mono + wall_offset) / 1'000'000;
}

MonoNanos nanos(double seconds) {
  return static_cast<MonoNanos>(seconds * 1e9);
}

engine::ClientOptions client_options(const BenchPlan& plan, const BenchPlan::Identity& id,
                                     const std::shared_ptr<const TlsClientContext>& tls, std::uint64_t ordinal) {
  engine::ClientOptions o;
  o.host = plan.profile.host;
  o.port = static_cast<std::uint16_t>(plan.profile.effective_port());
  if (!plan.bind.empty()) {
    o.bind_address = plan.bind[ordinal % plan.bind.size()];
  }
  o.tls = tls;
  if (plan.profile.transport == TransportKind::websocket) o.ws_path = plan.profile.ws_path;
  if (plan.profile.transport == TransportKind::unix_socket) o.unix_path = plan.profile.unix_path;
  switch (plan.profile.version) {
  case MqttVersion::v31: o.version = mqtt::ProtocolVersion::v3_1; break;
  case MqttVersion::v5: o.version = mqtt::ProtocolVersion::v5; break;
  default: o.version = mqtt::ProtocolVersion::v3_1_1; break;
  }
  o.client_id = id.client_id;
  if (!id.username.empty()) {
    o.username = id.username;
  }
  if (!id.password.empty()) {
    o.password = id.password;
  }
  o.keepalive_seconds = static_cast<std::uint16_t>(plan.profile.keepalive_seconds);
  o.clean_start = true;
  o.max_inflight = static_cast<std::uint16_t>(std::clamp<std::size_t>(plan.inflight, 1, 65535));
  o.connect_timeout = plan.profile.connect_timeout;
  return o;
}

void validate_topic(const std::string& topic, bool filter) {
  try {
    filter ? mqtt::validate_topic_filter(topic) : mqtt::validate_topic_name(topic);
  } catch (const Error& e) {
    throw ConfigError(std::string("invalid topic \"") + topic + "\": " + e.what(), filter ? "--sub-topic/-t" : "-t",
                      "check the topic template");
  }
}

} // namespace

bench::Report run_fast_engine(const BenchPlan& plan) {
  using namespace std::chrono_literals;
  fast::Shared shared;
  shared.plan = &plan;
  const auto wall_now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  shared.wall_offset = wall_now - bench::mono_now();

  std::shared_ptr<const TlsClientContext> tls;
  if (plan.profile.tls.enabled) tls = TlsClientContext::create(plan.profile.tls, TlsSharing::many_connections);
  engine::EnginePool pool(plan.threads);
  std::vector<std::unique_ptr<fast::BenchWorker>> workers;
  for (std::size_t i = 0; i < pool.size(); ++i) {
    workers.push_back(std::make_unique<fast::BenchWorker>(shared, pool.loop(i)));
  }
  std::uint64_t ordinal = 0;
  const auto add = [&](std::uint64_t index, bool subscriber) {
    const BenchPlan::Identity id = plan.identity(index, subscriber);
    validate_topic(id.topic, subscriber);
    const std::size_t w = ordinal % pool.size();
    auto& members = workers[w]->members();
    fast::Member m;
    m.index = index;
    m.subscriber = subscriber;
    m.topic = id.topic;
    if (subscriber) {
      m.tracker = std::make_unique<bench::SequenceTracker>();
    }
    m.client = &pool.add_client_on(w, client_options(plan, id, tls, ordinal), *workers[w], members.size());
    members.push_back(std::move(m));
    ++ordinal;
  };
  const bool has_subscribers = plan.mode == "sub" || plan.mode == "pubsub";
  const bool has_publishers = plan.mode != "sub";
  if (has_subscribers) {
    for (std::uint64_t i = plan.subscribers.begin; i < plan.subscribers.end; ++i) {
      add(i, true);
    }
  }
  if (has_publishers) {
    for (std::uint64_t i = plan.publishers.begin; i < plan.publishers.end; ++i) {
      add(i, false);
    }
  }

  const double cpu_before = process_cpu_seconds();
  StatusLine status(shared.live, plan.live_status);
  const std::stop_token stop = stop_token();
  const auto wait_until = [&](const std::function<bool()>& done, MonoNanos deadline) {
    while (!done()) {
      if (stop.stop_requested() || (deadline > 0 && bench::mono_now() >= deadline)) {
        return false;
      }
      std::this_thread::sleep_for(20ms);
      status.update();
    }
    return true;
  };
  const auto each_worker = [&](const std::function<void(fast::BenchWorker&)>& fn) {
    for (std::size_t i = 0; i < workers.size(); ++i) {
      fast::BenchWorker* worker = workers[i].get();
      pool.loop(i).post([fn, worker] { fn(*worker); });
    }
  };
  const double loop_rate = plan.connect_rate > 0 ? plan.connect_rate / static_cast<double>(pool.size()) : 0;
  const auto connect_allowance = [&](std::uint64_t clients) {
    const double pacing = plan.connect_rate > 0 ? static_cast<double>(clients) / plan.connect_rate : 0;
    return bench::mono_now() + nanos(pacing) +
           std::chrono::duration_cast<std::chrono::nanoseconds>(plan.profile.connect_timeout).count() + nanos(5);
  };

  pool.start();
  if (has_subscribers) {
    each_worker([loop_rate](fast::BenchWorker& w) { w.start_connecting(true, loop_rate); });
    wait_until([&] { return shared.live.subscribed.load() >= plan.subscribers.size(); },
               connect_allowance(plan.subscribers.size()));
    status.note(fmt::format("{} subscribers connected, {} failed", shared.live.connected.load(),
                            shared.live.failed.load()));
  }
  const MonoNanos run_start = bench::mono_now();
  const MonoNanos measure_start = run_start + nanos(plan.warmup);
  shared.measure_start = measure_start;
  const bool unlimited = !plan.duration_given && plan.count > 0;
  const MonoNanos measure_end = unlimited ? 0 : measure_start + nanos(plan.duration);
  if (has_publishers) {
    each_worker([loop_rate](fast::BenchWorker& w) { w.start_connecting(false, loop_rate); });
    status.note(fmt::format("{} {} starting", plan.publishers.size(), plan.mode == "conn" ? "connections" : "publishers"));
  } else {
    status.note("measuring");
  }

  MonoNanos end = 0;
  if (plan.mode == "conn") {
    wait_until([&] { return shared.live.connected.load() + shared.live.failed.load() >= plan.publishers.size(); },
               connect_allowance(plan.publishers.size()));
    end = bench::mono_now();
    if (plan.duration_given) {
      wait_until([] { return false; }, end + nanos(plan.duration));
      end = bench::mono_now();
    }
  } else if (plan.mode == "sub") {
    wait_until([&] { return plan.count > 0 && shared.live.subscribers_done.load() >= plan.subscribers.size(); },
               measure_end);
    end = bench::mono_now();
  } else {
    wait_until([&] { return shared.live.publishers_done.load() >= plan.publishers.size(); }, measure_end);
    end = std::min(bench::mono_now(), measure_end > 0 ? measure_end : bench::mono_now());
    each_worker([](fast::BenchWorker& w) { w.stop_publishing(); });
    // Drain: acknowledgements and deliveries still on their way count; stop when quiet.
    const MonoNanos drain_deadline = bench::mono_now() + nanos(plan.drain_timeout);
    std::uint64_t last_received = shared.live.received.load();
    MonoNanos quiet_since = bench::mono_now();
    wait_until(
        [&] {
          const std::uint64_t received = shared.live.received.load();
          const MonoNanos now = bench::mono_now();
          if (received != last_received) {
            last_received = received;
            quiet_since = now;
          }
          const bool acked = shared.live.inflight.load() <= 0;
          return acked && (!has_subscribers || now - quiet_since >= nanos(0.5));
        },
        drain_deadline);
  }
  status.clear();
  each_worker([](fast::BenchWorker& w) { w.disconnect_all(); });
  std::this_thread::sleep_for(200ms);
  pool.stop();

  // Only the main thread is left: finalise sequences and merge the partial reports.
  std::vector<std::pair<std::string, std::uint64_t>> publishers(plan.publishers.size());
  for (auto& worker : workers) {
    for (const fast::Member& m : worker->members()) {
      if (!m.subscriber && has_publishers) {
        publishers[m.index - plan.publishers.begin] = {m.topic, m.sent};
      }
    }
  }
  std::vector<bench::Report> parts;
  for (auto& worker : workers) {
    worker->finalise(plan.mode == "pubsub" ? publishers : std::vector<std::pair<std::string, std::uint64_t>>{});
    parts.push_back(std::move(worker->report()));
  }
  bench::Report report = bench::merge(parts);
  report.config = plan.config;
  report.shards = {plan.shard.to_string()};
  report.clients = (has_publishers ? plan.publishers.size() : 0) + (has_subscribers ? plan.subscribers.size() : 0);
  report.start_unix_ms = wall_ms(plan.mode == "conn" ? run_start : measure_start, shared.wall_offset);
  report.end_unix_ms = std::max(report.start_unix_ms, wall_ms(end, shared.wall_offset));
  report.cpu_seconds = process_cpu_seconds() - cpu_before;
  return report;
}

} // namespace mqfleet::cli
