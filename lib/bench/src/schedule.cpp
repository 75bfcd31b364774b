#include <mqfleet/bench/schedule.hpp>

#include <mqfleet/error.hpp>

#include <chrono>
#include <cmath>

namespace mqfleet::bench {

MonoNanos mono_now() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

OpenLoopSchedule::OpenLoopSchedule(MonoNanos start, double rate, std::uint64_t limit)
    : m_start(start), m_rate(rate), m_limit(limit) {
  if (!(rate > 0) || !std::isfinite(rate)) {
    throw ConfigError("the message rate must be a positive number", "--rate/-I", "e.g. --rate 1000");
  }
}

MonoNanos OpenLoopSchedule::intended(std::uint64_t n) const noexcept {
  return m_start + static_cast<MonoNanos>(std::llround(static_cast<double>(n) * 1e9 / m_rate));
}

std::uint64_t OpenLoopSchedule::due(MonoNanos now) const noexcept {
  if (now < m_start || m_limit == 0) {
    return 0;
  }
  const double elapsed = static_cast<double>(now - m_start) / 1e9;
  auto n = static_cast<std::uint64_t>(std::floor(elapsed * m_rate)) + 1;
  // Floating point can put the boundary one message off: settle it with intended().
  while (n > 0 && intended(n - 1) > now) {
    --n;
  }
  while (n < m_limit && intended(n) <= now) {
    ++n;
  }
  return n < m_limit ? n : m_limit;
}

double per_client_rate(double interval_ms, double total_rate, std::uint64_t clients) noexcept {
  if (total_rate > 0 && clients > 0) {
    return total_rate / static_cast<double>(clients);
  }
  if (interval_ms > 0) {
    return 1000.0 / interval_ms;
  }
  return 0;
}

MonoNanos client_phase(std::uint64_t index, std::uint64_t clients, double rate) noexcept {
  if (clients == 0 || !(rate > 0)) {
    return 0;
  }
  const double period_ns = 1e9 / rate;
  return static_cast<MonoNanos>(period_ns * static_cast<double>(index % clients) / static_cast<double>(clients));
}

} // namespace mqfleet::bench
