// `bench --engine paho`: the same conn/pub workload through lib/client's Paho-backed
// Connection, one thread, for comparison with the fast engine (CPU per message above
// all). Paho gives no per-message completion, so there is no ack latency histogram.

#include "bench/bench_plan.hpp"
#include "signals.hpp"

#include <mqfleet/bench/probe.hpp>
#include <mqfleet/bench/schedule.hpp>
#include <mqfleet/connection.hpp>
#include <mqfleet/error.hpp>

#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <optional>
#include <thread>

namespace mqfleet::cli {
namespace {

using bench::MonoNanos;

MonoNanos nanos(double seconds) {
  return static_cast<MonoNanos>(seconds * 1e9);
}

/// One Paho publisher and its schedule.
struct PahoClient {
  std::unique_ptr<Connection> connection;
  std::uint64_t index = 0;
  std::string topic;
  std::optional<bench::OpenLoopSchedule> schedule;
  std::uint64_t sent = 0;
};

} // namespace

bench::Report run_paho_engine(const BenchPlan& plan) {
  if (plan.mode != "conn" && plan.mode != "pub") {
    throw ConfigError("--engine paho runs conn and pub only", "--engine", "use the fast engine for " + plan.mode);
  }
  const std::stop_token stop = stop_token();
  const double cpu_before = process_cpu_seconds();
  const auto wall_offset = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count() -
                           bench::mono_now();
  bench::Report report;
  report.mode = plan.mode;
  const std::size_t q = static_cast<std::size_t>(plan.qos);
  const auto second = [&](MonoNanos mono) -> bench::TimelineSecond& {
    return report.timeline.at((mono + wall_offset) / 1'000'000'000);
  };

  std::vector<PahoClient> clients;
  const MonoNanos run_start = bench::mono_now();
  const bench::OpenLoopSchedule connects(run_start, plan.connect_rate > 0 ? plan.connect_rate : 1e12);
  for (std::uint64_t i = plan.publishers.begin; i < plan.publishers.end && !stop.stop_requested(); ++i) {
    const std::uint64_t n = i - plan.publishers.begin;
    while (bench::mono_now() < connects.intended(n)) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(connects.intended(n) - bench::mono_now()));
    }
    const BenchPlan::Identity id = plan.identity(i, false);
    ConnectionProfile profile = plan.profile;
    profile.client_id = id.client_id;
    profile.username = id.username;
    profile.credential = id.password.empty() ? Secret{} : Secret{SecretSource::literal, id.password};
    PahoClient c;
    c.index = i;
    c.topic = id.topic;
    c.connection = std::make_unique<Connection>(profile);
    c.connection->set_stop_token(stop);
    c.connection->set_max_inflight(plan.inflight);
    report.connect.attempted++;
    const MonoNanos started = bench::mono_now();
    try {
      c.connection->connect();
    } catch (const ConnectError& e) {
      report.connect.failures[e.reason_code() >= 0 ? fmt::format("connack {:#04x}", e.reason_code())
                                                    : fmt::format("connect: {}", e.what())]++;
      second(bench::mono_now()).errors++;
      continue;
    } catch (const TimeoutError&) {
      report.connect.failures["timeout"]++;
      second(bench::mono_now()).errors++;
      continue;
    }
    const MonoNanos connected = bench::mono_now();
    report.connect.succeeded++;
    report.histogram(bench::histogram_name::k_connect).record(static_cast<std::uint64_t>((connected - started) / 1000));
    second(connected).connects++;
    clients.push_back(std::move(c));
  }

  MonoNanos measure_start = bench::mono_now();
  MonoNanos end = measure_start;
  if (plan.mode == "conn") {
    measure_start = run_start;
    if (plan.duration_given) {
      while (!stop.stop_requested() && bench::mono_now() < end + nanos(plan.duration)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    end = bench::mono_now();
  } else {
    // Warmup is not separated for Paho: statistics start when publishing starts.
    const MonoNanos start = measure_start;
    const bool unlimited = !plan.duration_given && plan.count > 0;
    const MonoNanos stop_at = start + nanos(plan.warmup + plan.duration);
    for (PahoClient& c : clients) {
      if (plan.per_client_rate > 0) {
        c.schedule.emplace(start + bench::client_phase(c.index, plan.publishers.end, plan.per_client_rate),
                           plan.per_client_rate);
      }
    }
    std::string payload(std::max(plan.payload_size, bench::k_probe_size), 'x');
    bool active = true;
    while (active && !stop.stop_requested()) {
      const MonoNanos now = bench::mono_now();
      if (!unlimited && now >= stop_at) {
        break;
      }
      active = false;
      MonoNanos next_due = now + 1'000'000;
      for (PahoClient& c : clients) {
        if (plan.count > 0 && c.sent >= plan.count) {
          continue;
        }
        active = true;
        const std::uint64_t due = c.schedule ? c.schedule->due(now) : c.sent + 64;
        while (c.sent < due && (plan.count == 0 || c.sent < plan.count)) {
          const MonoNanos intended = c.schedule ? c.schedule->intended(c.sent) : bench::mono_now();
          bench::write_probe(payload.data(), bench::Probe{intended, static_cast<std::uint32_t>(c.index), c.sent});
          c.connection->publish(OutgoingMessage{c.topic, payload.substr(0, plan.payload_size), plan.qos, false, {}});
          second(intended).sent++;
          ++c.sent;
        }
        if (c.schedule) {
          next_due = std::min(next_due, c.schedule->intended(c.sent));
        }
      }
      const MonoNanos wait = next_due - bench::mono_now();
      if (wait > 0) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
      }
    }
    end = bench::mono_now();
    for (PahoClient& c : clients) {
      try {
        c.connection->wait_for_acknowledgements(std::chrono::milliseconds(static_cast<long>(plan.drain_timeout * 1000)));
      } catch (const Error&) {
        // counted below from the delivery report
      }
      const DeliveryReport d = c.connection->delivery_report();
      report.qos[q].sent += c.sent;
      if (plan.qos > 0) {
        report.qos[q].acked += d.acknowledged;
        report.qos[q].failed += d.failed + d.in_flight();
      }
    }
  }
  for (PahoClient& c : clients) {
    try {
      c.connection->disconnect(std::chrono::milliseconds(1000));
    } catch (const Error&) {
      // already counted
    }
  }
  clients.clear();
  report.config = plan.config;
  report.shards = {plan.shard.to_string()};
  report.clients = plan.publishers.size();
  report.start_unix_ms = (measure_start + wall_offset) / 1'000'000;
  report.end_unix_ms = std::max(report.start_unix_ms, (end + wall_offset) / 1'000'000);
  report.cpu_seconds = process_cpu_seconds() - cpu_before;
  return report;
}

} // namespace mqfleet::cli
