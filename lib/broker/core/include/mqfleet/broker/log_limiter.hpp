#pragma once
// Rate limit for one kind of repeated log line (auth_failed, persistence_error): a burst
// goes out, then one line per interval; what is held back is counted, and the next line
// that goes out (or a summary line) says how many were suppressed. Anyone on the network
// can cause auth_failed lines, so without this the log can be flooded.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

namespace mqfleet::broker {

/// Thread-safe token bucket over log lines of one kind.
class LogLimiter {
public:
  using Clock = std::chrono::steady_clock;

  /// `burst` lines at once, then one per `interval`.
  explicit LogLimiter(std::uint32_t burst = 20, Clock::duration interval = std::chrono::milliseconds(100))
      : m_burst(burst), m_interval(interval), m_tokens(burst) {}

  /// Nothing when this line must be held back; otherwise how many lines were held back
  /// since the last one that went out (0 normally).
  std::optional<std::uint64_t> admit(Clock::time_point now) {
    std::lock_guard lock(m_mutex);
    refill(now);
    if (m_tokens == 0) {
      ++m_suppressed;
      return std::nullopt;
    }
    --m_tokens;
    const auto suppressed = m_suppressed;
    m_suppressed = 0;
    return suppressed;
  }
  /// Held back since the last line that went out; resets the count (for a summary line
  /// when the flood has stopped).
  std::uint64_t take_suppressed() {
    std::lock_guard lock(m_mutex);
    const auto suppressed = m_suppressed;
    m_suppressed = 0;
    return suppressed;
  }

private:
  void refill(Clock::time_point now) {
    if (m_last == Clock::time_point{}) m_last = now;
    if (now <= m_last || m_interval <= Clock::duration::zero()) return;
    const auto earned = static_cast<std::uint64_t>((now - m_last) / m_interval);
    if (earned == 0) return;
    m_tokens = static_cast<std::uint32_t>(std::min<std::uint64_t>(m_burst, m_tokens + earned));
    m_last += m_interval * static_cast<Clock::rep>(earned);
  }

  std::mutex m_mutex;
  std::uint32_t m_burst;
  Clock::duration m_interval;
  std::uint32_t m_tokens;
  std::uint64_t m_suppressed = 0;
  Clock::time_point m_last{};
};

} // namespace mqfleet::broker
