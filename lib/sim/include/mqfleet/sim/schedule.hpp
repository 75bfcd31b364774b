#pragma once
// Time in the runner: one priority queue of timers per shard (never a thread or an OS
// timer per device), the telemetry period with jitter, and the connect ramp. Times are
// milliseconds since the run started, so a seeded run is reproducible.

#include <mqfleet/scenario/random.hpp>
#include <mqfleet/scenario/scenario.hpp>

#include <cstdint>
#include <queue>
#include <vector>

namespace mqfleet::sim {

/// What a timer does when it fires.
enum class TimerKind : std::uint8_t {
  connect,        ///< open the device's connection
  telemetry,      ///< publish telemetry stream `arg`
  reply,          ///< answer pending command `arg`
  offline_check,  ///< maybe go offline (behaviour.offline)
  drop_check,     ///< maybe drop abruptly (behaviour.drops)
  storm,          ///< reconnect storm `arg` of the device's fleet
};

/// One scheduled action of one device. `epoch` is the device's connection epoch when it
/// was scheduled: a timer of an older connection is stale and ignored.
struct Timer {
  Millis at{0};
  std::uint32_t device = 0;
  TimerKind kind = TimerKind::connect;
  std::uint32_t arg = 0;
  std::uint32_t epoch = 0;
  std::uint64_t sequence = 0; ///< insertion order: equal times fire in scheduling order
};

/// A min-heap of timers: O(log n) insert and pop, memory proportional to what is pending.
class TimerQueue {
public:
  /// Schedules a timer (its sequence is assigned here).
  void push(Timer timer);
  /// True when a timer is due at or before `now`.
  bool due(Millis now) const;
  /// Removes and returns the earliest timer; the queue must not be empty.
  Timer pop();
  /// Pending timers.
  std::size_t size() const noexcept { return m_heap.size(); }
  bool empty() const noexcept { return m_heap.empty(); }
  /// Drops every timer.
  void clear();

private:
  struct Later {
    bool operator()(const Timer& a, const Timer& b) const noexcept {
      return a.at != b.at ? a.at > b.at : a.sequence > b.sequence;
    }
  };
  std::priority_queue<Timer, std::vector<Timer>, Later> m_heap;
  std::uint64_t m_sequence = 0;
};

/// The publication times of one telemetry stream of one device: nominal times every
/// `every` from a random phase, each shifted by a uniform amount in [-jitter, +jitter].
/// Nominal times never drift, whatever the jitter.
class PeriodicSchedule {
public:
  PeriodicSchedule() = default;
  PeriodicSchedule(PeriodSpec period, Rng rng) : m_period(period), m_rng(rng) {}

  /// Restarts the schedule at `from` (connect time): the first nominal time is
  /// `from + phase`, phase uniform in [0, every). Returns the first actual time.
  Millis start(Millis from);
  /// The actual time of the next publication after the one last returned.
  Millis next();

private:
  Millis shifted(Millis nominal);

  PeriodSpec m_period;
  Rng m_rng;
  Millis m_nominal{0};
  Millis m_floor{0};
};

/// When device `n` of a fleet (0-based) may connect under a ramp of `rate` connections
/// per second (0 = no ramp).
Millis ramp_offset(std::uint64_t n, double rate);

/// Back-off before reconnect attempt number `attempt` (0-based): min_delay doubling up to
/// max_delay, plus up to 50 % random spread so retries do not march in step.
Millis backoff_delay(unsigned attempt, Millis min_delay, Millis max_delay, Rng& rng);

/// A duration picked uniformly in the range.
Millis pick(const DurationRange& range, Rng& rng);

} // namespace mqfleet::sim
