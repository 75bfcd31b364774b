#pragma once
// The one retry policy for a writer thread whose commit failed (disk full, I/O error):
// the broker's durable state (state.db) and its data buckets (buckets.sqlite) both keep
// what failed, in order ahead of newer data, and commit it again after a back-off, so
// nothing acknowledged is lost once space returns (docs/broker.md, "Durable state").
//
// - Back-off: 0.1 s after the first failure, doubling to every 5 s; 0.1 s while stopping.
// - Given up only when more than `max_kept` changes wait (memory; 0 = no such bound) or
//   at a stop during which k_stop_attempts more commits fail.
// - Logged at the first failure, then at most once per 10 s while commits keep failing.
//
// Used by one thread (the writer's): not thread-safe.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace mqfleet {

/// Back-off, give-up and log decisions after failed commits.
class CommitRetry {
public:
  using Clock = std::chrono::steady_clock;
  static constexpr auto k_first_delay = std::chrono::milliseconds(100);
  static constexpr auto k_max_delay = std::chrono::milliseconds(5000);
  static constexpr int k_stop_attempts = 3;
  static constexpr auto k_log_interval = std::chrono::seconds(10);

  /// What to do after one failed commit.
  struct Verdict {
    bool give_up = false;       ///< drop what failed (and log it as lost)
    bool log = false;           ///< write the error line now
    std::uint64_t failures = 0; ///< consecutive failed commits, this one included
  };

  /// `max_kept`: more changes than this waiting are given up (0 = no bound).
  explicit CommitRetry(std::size_t max_kept = 0) : m_max_kept(max_kept) {}

  /// True while a failed commit waits for its retry.
  bool retrying() const noexcept { return m_failures != 0; }
  /// How long to wait before the next attempt.
  Clock::duration delay(bool stopping) const noexcept { return stopping ? Clock::duration(k_first_delay) : m_wait; }

  /// Records a failed commit of `kept` changes.
  Verdict failed(std::size_t kept, bool stopping, Clock::time_point now) noexcept {
    Verdict v;
    v.failures = ++m_failures;
    v.give_up = (m_max_kept != 0 && kept > m_max_kept) || (stopping && ++m_stop_failures > k_stop_attempts);
    v.log = v.give_up || v.failures == 1 || now - m_last_log >= k_log_interval;
    if (v.log) m_last_log = now;
    m_wait = m_delay;
    m_delay = std::min<Clock::duration>(m_delay * 2, k_max_delay);
    if (v.give_up) reset();
    return v;
  }

  /// Records a successful commit; returns the failures before it (0: nothing to log).
  std::uint64_t succeeded() noexcept {
    const auto failures = m_failures;
    reset();
    return failures;
  }

private:
  void reset() noexcept {
    m_failures = 0;
    m_stop_failures = 0;
    m_delay = m_wait = k_first_delay;
  }

  std::size_t m_max_kept;
  std::uint64_t m_failures = 0;
  int m_stop_failures = 0;
  Clock::duration m_delay = k_first_delay; ///< the wait after the next failure
  Clock::duration m_wait = k_first_delay;  ///< the wait after the last failure
  Clock::time_point m_last_log{};
};

} // namespace mqfleet
