#pragma once
// One shard of a run: a slice of the devices (every shard_count-th one of the process's
// `--shard` slice), its timer queue and its transport, all driven from one thread. Devices are small state machines
// (down -> connecting -> online -> down ...) stepped by timers and transport events.

#include <mqfleet/bench/shard.hpp>
#include <mqfleet/sim/run_stats.hpp>
#include <mqfleet/scenario/scenario.hpp>
#include <mqfleet/sim/schedule.hpp>
#include <mqfleet/sim/transport.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mqfleet::sim {

/// Returns a device's password (credential) when it connects.
using CredentialFn = std::function<std::string(const FleetSpec& fleet, const DeviceState& device)>;

/// Read-only settings every shard shares.
struct RunSettings {
  const Scenario* scenario = nullptr;
  ConnectionProfile connection; ///< resolved broker connection (the fleets' defaults)
  std::uint64_t seed = 0;
  /// The process's `--shard K/N`: it runs slice K of every fleet's device positions
  /// (bench::shard_range), and its threads split that slice among themselves.
  bench::Shard slice;
  std::int64_t start_unix_ms = 0; ///< wall clock at elapsed 0 (drives timestamp generators)
  CredentialFn credential;        ///< empty: the connection's literal credential, if any
  Millis reconnect_min{1000};     ///< back-off after a failed or lost connection
  Millis reconnect_max{30'000};
  std::size_t max_pending_commands = 65'536; ///< per shard; more are dropped and counted
};

/// Counters shared by every shard, read by the status line while the run goes on.
struct SharedRunState {
  explicit SharedRunState(std::size_t fleets) : counters(fleets) {}
  std::vector<FleetCounters> counters;            ///< one per fleet
  std::atomic<std::uint64_t> telemetry_sent{0};   ///< over all fleets, for run.messages
  std::optional<std::uint64_t> message_limit;     ///< run.messages
  std::atomic<bool> limit_reached{false};
};

/// A slice of the devices and everything that happens to them, on one thread.
class Shard final : public TransportListener {
public:
  /// `clock` returns the time since the run started.
  Shard(const RunSettings& settings, SharedRunState& shared, Transport& transport, std::size_t index,
        std::size_t count, std::function<std::chrono::microseconds()> clock);
  ~Shard() override;
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  /// Creates the shard's devices and schedules their first connects and storms.
  void start();
  /// Fires every timer that is due.
  void tick();
  /// Stops scheduling: no more telemetry, new commands, behaviour or reconnects. Commands
  /// already received are still answered when their delay is over (tick() goes on).
  void stop_scheduling();
  /// PUBLISHes (and command replies) still waiting for their completion.
  std::uint64_t in_flight() const noexcept { return m_in_flight; }
  /// Commands received and not answered yet (waiting for their delay).
  std::size_t pending_commands() const noexcept;
  /// Disconnects every device cleanly; what is still in flight counts as failed, commands
  /// not answered yet as dropped.
  void disconnect_all();
  /// Devices of this shard.
  std::size_t device_count() const noexcept { return m_devices.size(); }
  /// Per-fleet connect failure reasons and command round trips of this shard.
  void collect(std::vector<FleetReport>& fleets) const;

  void on_connected(ClientSlot slot) override;
  void on_connect_failed(ClientSlot slot, std::string_view reason) override;
  void on_connection_lost(ClientSlot slot, std::string_view reason) override;
  void on_publish_done(ClientSlot slot, std::uint64_t token, bool ok) override;
  void on_subscribed(ClientSlot slot, bool ok) override;
  void on_message(ClientSlot slot, std::string_view topic, std::string_view payload) override;

private:
  struct Device;
  struct PendingCommand;
  struct FleetLocal {
    std::map<std::string, std::uint64_t, std::less<>> failure_reasons;
    LatencyHistogram command_rtt;
  };

  std::chrono::microseconds now_us() const { return m_clock(); }
  Millis now() const;
  void fire(const Timer& timer);
  void connect(Device& device, ClientSlot slot);
  void publish_telemetry(Device& device, ClientSlot slot, std::size_t stream);
  void answer(std::uint32_t pending_id);
  void set_counted_online(Device& device, bool online);
  void went_down(Device& device, ClientSlot slot, Millis reconnect_at);
  void retry_later(Device& device, ClientSlot slot);
  void publish(Device& device, ClientSlot slot, const std::string& topic, const std::string& payload, int qos,
               bool retain, std::uint64_t token);

  const RunSettings& m_settings;
  SharedRunState& m_shared;
  Transport& m_transport;
  std::size_t m_index;
  std::size_t m_count;
  std::function<std::chrono::microseconds()> m_clock;
  std::vector<std::unique_ptr<Device>> m_devices;
  std::vector<FleetLocal> m_fleets;
  TimerQueue m_timers;
  std::vector<PendingCommand> m_pending;
  std::vector<std::uint32_t> m_free_pending;
  std::uint64_t m_in_flight = 0;
  bool m_scheduling = true;
};

} // namespace mqfleet::sim
