#include <mqfleet/sim/shard.hpp>

#include <mqfleet/mqtt/topic.hpp>
#include <mqfleet/scenario/template.hpp>

#include <algorithm>

namespace mqfleet::sim {
namespace {

// Stream numbers of the runner's own random streams (see scenario.hpp for the others).
constexpr std::uint64_t k_schedule_stream = 1ull << 40;
constexpr std::uint64_t k_behaviour_stream = 2ull << 40;
constexpr std::uint64_t k_storm_stream = 3ull << 40;
constexpr std::uint64_t k_set_stream_shift = 32;

// Tokens of command replies carry the time the command arrived, so the round trip is
// measured when the reply completes; telemetry uses token 0.
constexpr std::uint64_t k_reply_token = 1ull << 63;

// A storm timer ignores the connection epoch: it hits whatever state the device is in.
constexpr std::uint32_t k_any_epoch = ~std::uint32_t{0};

enum class Status : std::uint8_t { down, connecting, online };

/// Records a round trip (never negative) in microseconds.
void record_rtt(LatencyHistogram& histogram, std::chrono::microseconds rtt) {
  histogram.record(static_cast<std::uint64_t>(std::max<std::int64_t>(rtt.count(), 0)));
}

} // namespace

struct Shard::Device {
  std::uint32_t fleet = 0;
  std::uint64_t position = 0; ///< 0-based position in the fleet
  DeviceState state;
  Status status = Status::down;
  bool counted_online = false; ///< in FleetCounters::online: connected and, with commands, subscribed
  std::uint32_t epoch = 0;
  unsigned failed_attempts = 0;
  std::uint32_t in_flight = 0;
  std::vector<std::vector<GeneratorState>> telemetry_state;
  std::vector<PeriodicSchedule> schedules;
  std::vector<std::vector<GeneratorState>> reply_state;
  std::vector<std::vector<std::vector<GeneratorState>>> set_state;
  Rng behaviour;
};

struct Shard::PendingCommand {
  std::uint32_t device = 0;
  std::uint32_t command = 0;
  std::uint32_t epoch = 0;
  std::chrono::microseconds received{0};
  std::string payload;
  bool active = false;
};

Shard::Shard(const RunSettings& settings, SharedRunState& shared, Transport& transport, std::size_t index,
             std::size_t count, std::function<std::chrono::microseconds()> clock)
    : m_settings(settings), m_shared(shared), m_transport(transport), m_index(index), m_count(std::max<std::size_t>(count, 1)),
      m_clock(std::move(clock)), m_fleets(settings.scenario->fleets.size()) {}

Shard::~Shard() = default;

Millis Shard::now() const { return std::chrono::duration_cast<Millis>(now_us()); }

void Shard::start() {
  const Scenario& scenario = *m_settings.scenario;
  const std::uint64_t seed = m_settings.seed;
  std::uint64_t global = 0;
  for (std::size_t f = 0; f < scenario.fleets.size(); ++f) {
    const FleetSpec& fleet = scenario.fleets[f];
    // A device depends only on its fleet, its position and the seed (never on which
    // process or thread runs it), so a fleet split by --shard behaves as one run.
    const bench::ClientRange slice = bench::shard_range(fleet.count, m_settings.slice);
    for (std::uint64_t n = slice.begin; n < slice.end; ++n, ++global) {
      if (global % m_count != m_index) continue;
      auto device = std::make_unique<Device>();
      device->fleet = static_cast<std::uint32_t>(f);
      device->position = n;
      device->state = scenario.make_device(f, n, seed);
      const DeviceState& state = device->state;
      for (std::size_t t = 0; t < fleet.telemetry.size(); ++t) {
        device->telemetry_state.push_back(fleet.telemetry[t].payload.make_state(seed, state, t));
        device->schedules.emplace_back(fleet.telemetry[t].period,
                                       Rng(stream_seed(seed, fleet.name, state.index, k_schedule_stream, t)));
      }
      for (std::size_t c = 0; c < fleet.commands.size(); ++c) {
        const CommandSpec& command = fleet.commands[c];
        const std::uint64_t stream = k_command_stream_base + c;
        device->reply_state.push_back(command.reply ? command.reply->payload.make_state(seed, state, stream)
                                                    : std::vector<GeneratorState>{});
        auto& sets = device->set_state.emplace_back();
        for (std::size_t j = 0; j < command.set.size(); ++j)
          sets.push_back(command.set[j].value.make_state(seed, state, stream + ((j + 1) << k_set_stream_shift)));
      }
      device->behaviour = Rng(stream_seed(seed, fleet.name, state.index, k_behaviour_stream, 0));
      const auto slot = static_cast<std::uint32_t>(m_devices.size());
      m_timers.push({ramp_offset(n, fleet.connect_rate), slot, TimerKind::connect, 0, 0, 0});
      for (std::size_t s = 0; s < fleet.behaviour.storms.size(); ++s) {
        Rng pick_rng(stream_seed(seed, fleet.name, state.index, k_storm_stream, s));
        if (pick_rng.chance(fleet.behaviour.storms[s].fraction))
          m_timers.push({fleet.behaviour.storms[s].at, slot, TimerKind::storm, static_cast<std::uint32_t>(s), k_any_epoch, 0});
      }
      m_devices.push_back(std::move(device));
    }
  }
}

void Shard::tick() {
  const Millis current = now();
  // After stop_scheduling() only the replies of commands received before it are left.
  while (m_timers.due(current)) fire(m_timers.pop());
}

void Shard::stop_scheduling() {
  m_scheduling = false;
  // Commands already received keep their reply timers: they are answered during the
  // drain like any other outstanding work (scenarios/README.md, "Stopping").
  TimerQueue replies;
  while (!m_timers.empty()) {
    const Timer timer = m_timers.pop();
    if (timer.kind == TimerKind::reply) replies.push(timer);
  }
  m_timers = std::move(replies);
}

std::size_t Shard::pending_commands() const noexcept { return m_pending.size() - m_free_pending.size(); }

void Shard::disconnect_all() {
  for (auto& pending : m_pending)
    if (pending.active) {
      // Received, but the drain ended before the reply was due: never answered.
      m_shared.counters[m_devices[pending.device]->fleet].commands_dropped.fetch_add(1, std::memory_order_relaxed);
    }
  m_pending.clear();
  m_free_pending.clear();
  m_timers.clear();
  for (std::size_t slot = 0; slot < m_devices.size(); ++slot) {
    Device& device = *m_devices[slot];
    FleetCounters& counters = m_shared.counters[device.fleet];
    set_counted_online(device, false);
    if (device.status != Status::down) m_transport.disconnect(static_cast<ClientSlot>(slot));
    device.status = Status::down;
    ++device.epoch;
    if (device.in_flight > 0) {
      counters.publish_failures.fetch_add(device.in_flight, std::memory_order_relaxed);
      m_in_flight -= device.in_flight;
      device.in_flight = 0;
    }
  }
}

void Shard::collect(std::vector<FleetReport>& fleets) const {
  for (std::size_t f = 0; f < m_fleets.size() && f < fleets.size(); ++f) {
    for (const auto& [reason, n] : m_fleets[f].failure_reasons) fleets[f].connect_failure_reasons[reason] += n;
    fleets[f].command_rtt.merge(m_fleets[f].command_rtt);
  }
}

void Shard::fire(const Timer& timer) {
  if (timer.device >= m_devices.size()) return;
  Device& device = *m_devices[timer.device];
  if (timer.epoch != k_any_epoch && timer.epoch != device.epoch && timer.kind != TimerKind::reply) return;
  const FleetSpec& fleet = m_settings.scenario->fleets[device.fleet];
  FleetCounters& counters = m_shared.counters[device.fleet];
  const ClientSlot slot = timer.device;
  switch (timer.kind) {
  case TimerKind::connect:
    if (device.status == Status::down) connect(device, slot);
    break;
  case TimerKind::telemetry:
    if (device.status == Status::online) publish_telemetry(device, slot, timer.arg);
    break;
  case TimerKind::reply: answer(timer.arg); break;
  case TimerKind::offline_check: {
    if (device.status != Status::online || !fleet.behaviour.offline) break;
    const OfflineCycles& offline = *fleet.behaviour.offline;
    if (device.behaviour.chance(offline.probability)) {
      m_transport.disconnect(slot);
      counters.offline_cycles.fetch_add(1, std::memory_order_relaxed);
      went_down(device, slot, now() + pick(offline.duration, device.behaviour));
    } else {
      m_timers.push({now() + offline.every, slot, TimerKind::offline_check, 0, device.epoch, 0});
    }
    break;
  }
  case TimerKind::drop_check: {
    if (device.status != Status::online || !fleet.behaviour.drops) break;
    const Drops& drops = *fleet.behaviour.drops;
    if (device.behaviour.chance(drops.probability)) {
      m_transport.abort(slot);
      counters.drops.fetch_add(1, std::memory_order_relaxed);
      went_down(device, slot, now() + pick(drops.reconnect_after, device.behaviour));
    } else {
      m_timers.push({now() + drops.every, slot, TimerKind::drop_check, 0, device.epoch, 0});
    }
    break;
  }
  case TimerKind::storm: {
    const ReconnectStorm& storm = fleet.behaviour.storms[timer.arg];
    // One down time per fleet and storm, so the whole fleet comes back at once.
    Rng storm_rng(stream_seed(m_settings.seed, fleet.name, 0, k_storm_stream + 1, timer.arg));
    const Millis back = storm.at + pick(storm.down_for, storm_rng);
    if (device.status == Status::down) break; // offline on its own: leave it alone
    m_transport.abort(slot);
    counters.drops.fetch_add(1, std::memory_order_relaxed);
    went_down(device, slot, back);
    break;
  }
  }
}

void Shard::connect(Device& device, ClientSlot slot) {
  const FleetSpec& fleet = m_settings.scenario->fleets[device.fleet];
  const ConnectionProfile& connection = m_settings.connection;
  ClientConfig config;
  config.client_id = device.state.device_id;
  config.username = device.state.account.empty() ? connection.username : device.state.account;
  config.password = m_settings.credential ? m_settings.credential(fleet, device.state)
                    : connection.credential.source == SecretSource::literal ? connection.credential.value
                                                                             : std::string();
  config.keepalive_seconds = fleet.keepalive_seconds.value_or(connection.keepalive_seconds);
  config.clean_session = fleet.clean_session.value_or(connection.clean_session);
  if (fleet.will) {
    Will will;
    will.topic = fleet.will->topic.expand(device.state.vars());
    will.payload = fleet.will->payload;
    will.qos = fleet.will->qos;
    will.retain = fleet.will->retain;
    config.will = std::move(will);
  }
  device.status = Status::connecting;
  m_shared.counters[device.fleet].connect_attempts.fetch_add(1, std::memory_order_relaxed);
  m_transport.connect(slot, config);
}

void Shard::publish(Device& device, ClientSlot slot, const std::string& topic, const std::string& payload, int qos,
                    bool retain, std::uint64_t token) {
  ++device.in_flight;
  ++m_in_flight;
  m_shared.counters[device.fleet].published.fetch_add(1, std::memory_order_relaxed);
  m_transport.publish(slot, topic, payload, qos, retain, token);
}

void Shard::publish_telemetry(Device& device, ClientSlot slot, std::size_t stream) {
  const FleetSpec& fleet = m_settings.scenario->fleets[device.fleet];
  const TelemetrySpec& spec = fleet.telemetry[stream];
  if (m_shared.message_limit) {
    if (m_shared.telemetry_sent.fetch_add(1, std::memory_order_relaxed) >= *m_shared.message_limit) {
      m_shared.limit_reached.store(true, std::memory_order_relaxed);
      return;
    }
  } else {
    m_shared.telemetry_sent.fetch_add(1, std::memory_order_relaxed);
  }
  const Millis current = now();
  RenderContext context{current, m_settings.start_unix_ms + current.count(), &device.state};
  const std::string payload = spec.payload.render(device.telemetry_state[stream], context);
  const std::string topic = spec.topic.expand(device.state.vars());
  m_shared.counters[device.fleet].telemetry.fetch_add(1, std::memory_order_relaxed);
  publish(device, slot, topic, payload, spec.qos, spec.retain, 0);
  if (m_shared.limit_reached.load(std::memory_order_relaxed)) return;
  m_timers.push({device.schedules[stream].next(), slot, TimerKind::telemetry, static_cast<std::uint32_t>(stream),
                 device.epoch, 0});
}

void Shard::set_counted_online(Device& device, bool online) {
  if (device.counted_online == online) return;
  device.counted_online = online;
  auto& counter = m_shared.counters[device.fleet].online;
  if (online) counter.fetch_add(1, std::memory_order_relaxed);
  else counter.fetch_sub(1, std::memory_order_relaxed);
}

void Shard::went_down(Device& device, ClientSlot slot, Millis reconnect_at) {
  set_counted_online(device, false);
  device.status = Status::down;
  ++device.epoch;
  if (m_scheduling) m_timers.push({reconnect_at, slot, TimerKind::connect, 0, device.epoch, 0});
}

void Shard::retry_later(Device& device, ClientSlot slot) {
  const Millis delay = backoff_delay(device.failed_attempts++, m_settings.reconnect_min, m_settings.reconnect_max,
                                     device.behaviour);
  went_down(device, slot, now() + delay);
}

void Shard::on_connected(ClientSlot slot) {
  if (slot >= m_devices.size()) return;
  Device& device = *m_devices[slot];
  if (device.status != Status::connecting) return;
  const FleetSpec& fleet = m_settings.scenario->fleets[device.fleet];
  FleetCounters& counters = m_shared.counters[device.fleet];
  device.status = Status::online;
  device.failed_attempts = 0;
  counters.connects.fetch_add(1, std::memory_order_relaxed);
  // A device that answers commands is online once its SUBACK is in: before that a
  // command published to it is not delivered, so "online N/N" means "ready".
  if (fleet.commands.empty() || !m_scheduling) set_counted_online(device, true);
  if (!m_scheduling) return;
  const TemplateVars vars = device.state.vars();
  if (!fleet.commands.empty()) {
    std::vector<std::pair<std::string, int>> filters;
    for (const auto& command : fleet.commands) filters.emplace_back(command.topic.expand(vars), command.qos);
    counters.subscribes.fetch_add(1, std::memory_order_relaxed);
    m_transport.subscribe(slot, filters);
  }
  if (fleet.will && fleet.will->online_payload)
    publish(device, slot, fleet.will->topic.expand(vars), *fleet.will->online_payload, fleet.will->qos,
            fleet.will->retain, 0);
  const Millis current = now();
  for (std::size_t t = 0; t < fleet.telemetry.size(); ++t)
    m_timers.push({device.schedules[t].start(current), slot, TimerKind::telemetry, static_cast<std::uint32_t>(t),
                   device.epoch, 0});
  // Behaviour checks start at a random phase so devices do not all decide at once.
  if (fleet.behaviour.offline) {
    const auto every = std::max<std::int64_t>(fleet.behaviour.offline->every.count(), 1);
    m_timers.push({current + Millis(static_cast<std::int64_t>(device.behaviour.below(static_cast<std::uint64_t>(every))) + 1),
                   slot, TimerKind::offline_check, 0, device.epoch, 0});
  }
  if (fleet.behaviour.drops) {
    const auto every = std::max<std::int64_t>(fleet.behaviour.drops->every.count(), 1);
    m_timers.push({current + Millis(static_cast<std::int64_t>(device.behaviour.below(static_cast<std::uint64_t>(every))) + 1),
                   slot, TimerKind::drop_check, 0, device.epoch, 0});
  }
}

void Shard::on_connect_failed(ClientSlot slot, std::string_view reason) {
  if (slot >= m_devices.size()) return;
  Device& device = *m_devices[slot];
  if (device.status != Status::connecting) return;
  m_shared.counters[device.fleet].connect_failures.fetch_add(1, std::memory_order_relaxed);
  auto& reasons = m_fleets[device.fleet].failure_reasons;
  auto it = reasons.find(reason);
  if (it == reasons.end()) it = reasons.emplace(std::string(reason), 0).first;
  ++it->second;
  retry_later(device, slot);
}

void Shard::on_connection_lost(ClientSlot slot, std::string_view) {
  if (slot >= m_devices.size()) return;
  Device& device = *m_devices[slot];
  if (device.status != Status::online) return;
  m_shared.counters[device.fleet].lost.fetch_add(1, std::memory_order_relaxed);
  retry_later(device, slot);
}

void Shard::on_publish_done(ClientSlot slot, std::uint64_t token, bool ok) {
  if (slot >= m_devices.size()) return;
  Device& device = *m_devices[slot];
  if (device.in_flight == 0) return; // already written off by disconnect_all
  --device.in_flight;
  --m_in_flight;
  FleetCounters& counters = m_shared.counters[device.fleet];
  if (!ok) {
    counters.publish_failures.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  counters.acknowledged.fetch_add(1, std::memory_order_relaxed);
  if (token & k_reply_token) {
    const auto received = std::chrono::microseconds(static_cast<std::int64_t>(token & ~k_reply_token));
    record_rtt(m_fleets[device.fleet].command_rtt, now_us() - received);
  }
}

void Shard::on_subscribed(ClientSlot slot, bool ok) {
  if (slot >= m_devices.size()) return;
  Device& device = *m_devices[slot];
  // Refused or not: the device is connected (a refusal is counted as an error).
  if (device.status == Status::online) set_counted_online(device, true);
  if (!ok) m_shared.counters[device.fleet].subscribe_failures.fetch_add(1, std::memory_order_relaxed);
}

void Shard::on_message(ClientSlot slot, std::string_view topic, std::string_view payload) {
  if (slot >= m_devices.size()) return;
  Device& device = *m_devices[slot];
  const FleetSpec& fleet = m_settings.scenario->fleets[device.fleet];
  FleetCounters& counters = m_shared.counters[device.fleet];
  counters.commands_received.fetch_add(1, std::memory_order_relaxed);
  if (!m_scheduling || device.status != Status::online) {
    counters.commands_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const TemplateVars vars = device.state.vars();
  std::optional<std::uint32_t> command;
  for (std::size_t c = 0; c < fleet.commands.size() && !command; ++c)
    if (mqtt::topic_matches(fleet.commands[c].topic.expand(vars), topic)) command = static_cast<std::uint32_t>(c);
  if (!command || m_pending.size() - m_free_pending.size() >= m_settings.max_pending_commands) {
    counters.commands_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  PendingCommand pending{slot, *command, device.epoch, now_us(), std::string(payload), true};
  std::uint32_t id;
  if (!m_free_pending.empty()) {
    id = m_free_pending.back();
    m_free_pending.pop_back();
    m_pending[id] = std::move(pending);
  } else {
    id = static_cast<std::uint32_t>(m_pending.size());
    m_pending.push_back(std::move(pending));
  }
  const Millis delay = pick(fleet.commands[*command].delay, device.behaviour);
  m_timers.push({now() + delay, slot, TimerKind::reply, id, device.epoch, 0});
}

void Shard::answer(std::uint32_t pending_id) {
  if (pending_id >= m_pending.size() || !m_pending[pending_id].active) return;
  PendingCommand pending = std::move(m_pending[pending_id]);
  m_pending[pending_id] = PendingCommand{};
  m_free_pending.push_back(pending_id);
  Device& device = *m_devices[pending.device];
  FleetCounters& counters = m_shared.counters[device.fleet];
  if (device.status != Status::online || device.epoch != pending.epoch) {
    counters.commands_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const FleetSpec& fleet = m_settings.scenario->fleets[device.fleet];
  const CommandSpec& command = fleet.commands[pending.command];
  const RequestFields request = RequestFields::parse(pending.payload);
  const Millis current = now();
  const RenderContext context{current, m_settings.start_unix_ms + current.count(), &device.state};
  for (std::size_t j = 0; j < command.set.size(); ++j) {
    const FieldChange& change = command.set[j];
    device.state.set_field(change.slot, change.value.render(device.set_state[pending.command][j], context, &request));
  }
  counters.commands_answered.fetch_add(1, std::memory_order_relaxed);
  if (!command.reply) {
    record_rtt(m_fleets[device.fleet].command_rtt, now_us() - pending.received);
    return;
  }
  const std::string topic = command.reply->topic.expand(device.state.vars(&request));
  const std::string payload = command.reply->payload.render(device.reply_state[pending.command], context, &request);
  publish(device, pending.device, topic, payload, command.reply->qos, command.reply->retain,
          k_reply_token | static_cast<std::uint64_t>(pending.received.count()));
}

} // namespace mqfleet::sim
