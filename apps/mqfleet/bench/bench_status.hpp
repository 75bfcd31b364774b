#pragma once
// Live counters the bench engines update from their threads, and the status line the
// main thread draws from them on stderr (only when stderr is a TTY).

#include <atomic>
#include <cstdint>
#include <string>

namespace mqfleet::cli {

/// Run-wide counters, updated with relaxed atomics by the engine threads.
struct LiveCounters {
  std::atomic<std::uint64_t> connected{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> subscribed{0};       ///< SUBACK received (or subscriber failed)
  std::atomic<std::uint64_t> publishers_done{0};  ///< count reached, failed or closed
  std::atomic<std::uint64_t> subscribers_done{0}; ///< sub --count reached
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> acked{0};
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::int64_t> inflight{0};
  std::atomic<std::uint64_t> last_latency_us{0};
};

/// Draws "\r[12s] conn 100 sent 12,000 (1,000/s) ..." at most once per second.
class StatusLine {
public:
  StatusLine(const LiveCounters& live, bool enabled) : m_live(live), m_enabled(enabled) {}
  /// Redraws when a second has passed since the last drawing.
  void update();
  /// Erases the line (before the summary is printed).
  void clear();
  /// Prints a progress line on stderr ("mqfleet: bench: <text>"), TTY or not.
  void note(const std::string& text);

private:
  const LiveCounters& m_live;
  bool m_enabled;
  double m_started = -1;
  double m_last_draw = -1;
  std::uint64_t m_last_sent = 0;
  std::uint64_t m_last_received = 0;
  bool m_drawn = false;
};

} // namespace mqfleet::cli
