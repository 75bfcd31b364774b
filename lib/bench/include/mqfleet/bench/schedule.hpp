#pragma once
// Rate control. Open loop: a constant-rate schedule fixes every message's intended send
// time in advance; latency is measured from that intended time, so a broker that stalls
// the sender shows up in the percentiles instead of being hidden (coordinated omission).
// Closed loop: the next message goes when an in-flight slot frees up (max throughput).

#include <cstddef>
#include <cstdint>
#include <limits>

namespace mqfleet::bench {

/// Nanoseconds on the monotonic clock (std::chrono::steady_clock's epoch).
using MonoNanos = std::int64_t;

/// The monotonic clock now, in nanoseconds.
MonoNanos mono_now() noexcept;

/// A constant-rate schedule: message n (0-based) is intended at start + n / rate.
class OpenLoopSchedule {
public:
  static constexpr std::uint64_t k_unlimited = std::numeric_limits<std::uint64_t>::max();

  /// `rate` in messages per second (> 0); at most `limit` messages.
  OpenLoopSchedule(MonoNanos start, double rate, std::uint64_t limit = k_unlimited);

  /// Intended send time of message n. Computed from n (no accumulated drift).
  MonoNanos intended(std::uint64_t n) const noexcept;
  /// How many messages are due at `now`: those with intended time ≤ now, capped by limit.
  std::uint64_t due(MonoNanos now) const noexcept;
  MonoNanos start() const noexcept { return m_start; }
  double rate() const noexcept { return m_rate; }
  std::uint64_t limit() const noexcept { return m_limit; }

private:
  MonoNanos m_start;
  double m_rate;
  std::uint64_t m_limit;
};

/// Per-client rate (msg/s) from either `-I` (interval per client, ms) or `--rate`
/// (total msg/s over all `clients`); 0 when neither is given (closed loop).
double per_client_rate(double interval_ms, double total_rate, std::uint64_t clients) noexcept;

/// Start offset of client `index` of `clients`, so the clients' schedules interleave
/// evenly and the aggregate stream is smooth: index / clients of one period.
MonoNanos client_phase(std::uint64_t index, std::uint64_t clients, double per_client_rate) noexcept;

/// Closed loop: at most `window` messages in flight; the next goes when one completes.
class ClosedLoopWindow {
public:
  explicit ClosedLoopWindow(std::size_t window) : m_window(window == 0 ? 1 : window) {}
  bool can_send() const noexcept { return m_in_flight < m_window; }
  void on_send() noexcept { ++m_in_flight; }
  void on_complete() noexcept { if (m_in_flight > 0) --m_in_flight; }
  std::size_t in_flight() const noexcept { return m_in_flight; }
  std::size_t window() const noexcept { return m_window; }

private:
  std::size_t m_window;
  std::size_t m_in_flight = 0;
};

} // namespace mqfleet::bench
