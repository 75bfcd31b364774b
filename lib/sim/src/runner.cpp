#include <mqfleet/sim/runner.hpp>

#include <mqfleet/error.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace mqfleet::sim {
namespace {

using Clock = std::chrono::steady_clock;

// How often the caller's thread looks at the clock and the stop token.
constexpr Millis k_watch_interval{20};
// After the drain, how long the shards keep their loops running for DISCONNECTs to leave.
constexpr Millis k_disconnect_grace{300};

enum class Phase { running, draining, done };

Progress progress_of(const SharedRunState& shared, std::uint64_t devices) {
  Progress p;
  p.devices = devices;
  for (const auto& c : shared.counters) {
    const FleetReport r = snapshot(c);
    p.online += r.online;
    p.published += r.published;
    p.acknowledged += r.acknowledged;
    p.errors += r.errors();
    p.commands_answered += r.commands_answered;
  }
  return p;
}

} // namespace

RunReport run_scenario(const Scenario& scenario, const ConnectionProfile& connection, const RunOptions& options,
                       const ProgressFn& progress, Millis progress_interval) {
  if (!options.transport) throw ConfigError("no client engine to run the scenario with", "sim", "");
  if (options.threads == 0) throw ConfigError("the runner needs at least one thread", "--threads", "use 1 or more");

  // Elapsed 0 on both clocks: the wall clock for timestamps and the common start of
  // shards on other machines, the steady clock for every timer.
  const auto wall_now = std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch());
  const auto steady_now = Clock::now();
  const std::int64_t start_unix_ms = options.start_unix_ms.value_or(wall_now.count());
  const auto started = steady_now + Millis(start_unix_ms - wall_now.count());

  RunSettings settings;
  settings.scenario = &scenario;
  settings.connection = connection;
  settings.seed = options.seed;
  settings.slice = options.slice;
  settings.credential = options.credential;
  settings.start_unix_ms = start_unix_ms;
  if (connection.reconnect.enabled) {
    settings.reconnect_min = connection.reconnect.min_delay;
    settings.reconnect_max = connection.reconnect.max_delay;
  }

  std::uint64_t devices = 0;
  for (const auto& fleet : scenario.fleets) devices += bench::shard_range(fleet.count, options.slice).size();
  SharedRunState shared(scenario.fleets.size());
  shared.message_limit = options.messages ? options.messages : scenario.run.messages;
  if (shared.message_limit) shared.message_limit = bench::shard_range(*shared.message_limit, options.slice).size();
  const std::optional<Millis> duration = options.duration ? options.duration : scenario.run.duration;
  const std::size_t shard_count =
      static_cast<std::size_t>(std::min<std::uint64_t>(options.threads, std::max<std::uint64_t>(devices, 1)));

  std::vector<std::unique_ptr<Transport>> transports;
  for (std::size_t i = 0; i < shard_count; ++i) transports.push_back(options.transport(connection, i));

  const auto clock = [started] {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
  };
  std::vector<std::unique_ptr<Shard>> shards;
  for (std::size_t i = 0; i < shard_count; ++i) {
    shards.push_back(std::make_unique<Shard>(settings, shared, *transports[i], i, shard_count, clock));
    transports[i]->set_listener(shards.back().get());
    shards.back()->start();
  }

  // Everything is ready before the common start, so it is kept to the tick.
  StopReason reason = StopReason::duration;
  bool interrupted_early = false;
  auto next_progress = Clock::now();
  for (auto now = Clock::now(); now < started; now = Clock::now()) {
    if (options.stop.stop_requested()) {
      interrupted_early = true;
      break;
    }
    if (progress && now >= next_progress) {
      Progress p;
      p.devices = devices;
      p.starts_in = std::chrono::duration_cast<Millis>(started - now);
      progress(p);
      next_progress = now + progress_interval;
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(k_watch_interval, started - now));
  }

  std::atomic<Phase> phase{interrupted_early ? Phase::draining : Phase::running};
  std::atomic<Clock::rep> drain_deadline{0};
  std::vector<std::jthread> threads;
  for (std::size_t i = 0; i < shard_count; ++i) {
    threads.emplace_back([&, i] {
      Shard& shard = *shards[i];
      bool stopped = false;
      std::optional<Clock::time_point> closed_at;
      transports[i]->run(
          [&] {
            if (phase.load(std::memory_order_acquire) == Phase::running) {
              shard.tick();
              return true;
            }
            if (!stopped) {
              shard.stop_scheduling();
              stopped = true;
            }
            const auto now = Clock::now();
            if (!closed_at) {
              // The drain: acknowledgements, and replies to commands received before the stop.
              if ((shard.in_flight() > 0 || shard.pending_commands() > 0) &&
                  now.time_since_epoch().count() < drain_deadline.load()) {
                shard.tick();
                return true;
              }
              shard.disconnect_all();
              closed_at = now;
            }
            return now - *closed_at < k_disconnect_grace;
          },
          options.tick);
    });
  }

  if (interrupted_early) reason = StopReason::interrupted;
  while (!interrupted_early) {
    const auto now = Clock::now();
    const auto elapsed = std::chrono::duration_cast<Millis>(now - started);
    if (options.stop.stop_requested()) {
      reason = StopReason::interrupted;
      break;
    }
    if (shared.limit_reached.load(std::memory_order_relaxed)) {
      reason = StopReason::messages;
      break;
    }
    if (duration && elapsed >= *duration) {
      reason = StopReason::duration;
      break;
    }
    if (progress && now >= next_progress) {
      Progress p = progress_of(shared, devices);
      p.elapsed = elapsed;
      if (duration) p.remaining = *duration - elapsed;
      progress(p);
      next_progress = now + progress_interval;
    }
    std::this_thread::sleep_for(k_watch_interval);
  }
  const auto stopped_at = Clock::now();
  // online_at_end: the devices online when the run stopped (the drain disconnects them all).
  std::vector<std::uint64_t> online_at_stop;
  for (const auto& counters : shared.counters) online_at_stop.push_back(counters.online.load(std::memory_order_relaxed));
  drain_deadline.store((stopped_at + options.drain_timeout).time_since_epoch().count());
  phase.store(Phase::draining, std::memory_order_release);
  if (progress) {
    Progress p = progress_of(shared, devices);
    p.elapsed = std::max(Millis(0), std::chrono::duration_cast<Millis>(stopped_at - started));
    p.stopping = true;
    progress(p);
  }
  threads.clear(); // joins

  RunReport report;
  report.scenario = scenario.name;
  report.seed = options.seed;
  report.shards = {options.slice};
  report.start_unix_ms = start_unix_ms;
  report.elapsed = std::max(Millis(0), std::chrono::duration_cast<Millis>(stopped_at - started));
  report.stop = reason;
  for (std::size_t f = 0; f < scenario.fleets.size(); ++f) {
    FleetReport fleet = snapshot(shared.counters[f]);
    fleet.name = scenario.fleets[f].name;
    fleet.devices = bench::shard_range(scenario.fleets[f].count, options.slice).size();
    fleet.fleet_devices = scenario.fleets[f].count;
    fleet.online = online_at_stop[f];
    report.fleets.push_back(std::move(fleet));
  }
  for (const auto& shard : shards) shard->collect(report.fleets);
  transports.clear(); // first: a transport may still refer to its listener
  shards.clear();
  evaluate_expectations(report, scenario.run.expect);
  return report;
}

} // namespace mqfleet::sim
