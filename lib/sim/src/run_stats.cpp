#include <mqfleet/sim/run_stats.hpp>

namespace mqfleet::sim {

std::uint64_t FleetReport::errors() const noexcept {
  return connect_failures + publish_failures + subscribe_failures + lost;
}

std::uint64_t FleetReport::operations() const noexcept { return connect_attempts + published + subscribes; }

void FleetReport::add(const FleetReport& o) {
  devices += o.devices;
  fleet_devices += o.fleet_devices;
  online += o.online;
  connect_attempts += o.connect_attempts;
  connects += o.connects;
  connect_failures += o.connect_failures;
  for (const auto& [reason, n] : o.connect_failure_reasons) connect_failure_reasons[reason] += n;
  lost += o.lost;
  drops += o.drops;
  offline_cycles += o.offline_cycles;
  published += o.published;
  telemetry += o.telemetry;
  acknowledged += o.acknowledged;
  publish_failures += o.publish_failures;
  subscribes += o.subscribes;
  subscribe_failures += o.subscribe_failures;
  commands_received += o.commands_received;
  commands_answered += o.commands_answered;
  commands_dropped += o.commands_dropped;
  command_rtt.merge(o.command_rtt);
}

FleetReport snapshot(const FleetCounters& c) {
  constexpr auto r = std::memory_order_relaxed;
  FleetReport out;
  out.online = c.online.load(r);
  out.connect_attempts = c.connect_attempts.load(r);
  out.connects = c.connects.load(r);
  out.connect_failures = c.connect_failures.load(r);
  out.lost = c.lost.load(r);
  out.drops = c.drops.load(r);
  out.offline_cycles = c.offline_cycles.load(r);
  out.published = c.published.load(r);
  out.telemetry = c.telemetry.load(r);
  out.acknowledged = c.acknowledged.load(r);
  out.publish_failures = c.publish_failures.load(r);
  out.subscribes = c.subscribes.load(r);
  out.subscribe_failures = c.subscribe_failures.load(r);
  out.commands_received = c.commands_received.load(r);
  out.commands_answered = c.commands_answered.load(r);
  out.commands_dropped = c.commands_dropped.load(r);
  return out;
}

} // namespace mqfleet::sim
