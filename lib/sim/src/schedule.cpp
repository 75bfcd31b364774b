#include <mqfleet/sim/schedule.hpp>

#include <algorithm>
#include <cmath>

namespace mqfleet::sim {

void TimerQueue::push(Timer timer) {
  timer.sequence = m_sequence++;
  m_heap.push(timer);
}

bool TimerQueue::due(Millis now) const { return !m_heap.empty() && m_heap.top().at <= now; }

Timer TimerQueue::pop() {
  Timer timer = m_heap.top();
  m_heap.pop();
  return timer;
}

void TimerQueue::clear() { m_heap = {}; }

Millis PeriodicSchedule::start(Millis from) {
  const auto every = std::max<std::int64_t>(m_period.every.count(), 1);
  m_nominal = from + Millis(static_cast<std::int64_t>(m_rng.below(static_cast<std::uint64_t>(every))));
  m_floor = from;
  return shifted(m_nominal);
}

Millis PeriodicSchedule::next() {
  m_nominal += std::max(m_period.every, Millis(1));
  return shifted(m_nominal);
}

Millis PeriodicSchedule::shifted(Millis nominal) {
  const std::int64_t jitter = m_period.jitter.count();
  Millis at = nominal;
  if (jitter > 0)
    at += Millis(static_cast<std::int64_t>(m_rng.below(static_cast<std::uint64_t>(2 * jitter + 1))) - jitter);
  // Never before the schedule started (a negative shift of the first publication).
  at = std::max(at, m_floor);
  return at;
}

Millis ramp_offset(std::uint64_t n, double rate) {
  if (rate <= 0) return Millis(0);
  return Millis(static_cast<std::int64_t>(std::floor(static_cast<double>(n) * 1000.0 / rate)));
}

Millis backoff_delay(unsigned attempt, Millis min_delay, Millis max_delay, Rng& rng) {
  const double base = static_cast<double>(std::max(min_delay.count(), std::int64_t{1}));
  const double capped = std::min(base * std::ldexp(1.0, static_cast<int>(std::min(attempt, 30u))),
                                 static_cast<double>(std::max(max_delay, min_delay).count()));
  return Millis(static_cast<std::int64_t>(capped * (1.0 + 0.5 * rng.uniform())));
}

Millis pick(const DurationRange& range, Rng& rng) {
  if (range.max <= range.min) return range.min;
  const auto span = static_cast<std::uint64_t>((range.max - range.min).count());
  return range.min + Millis(static_cast<std::int64_t>(rng.below(span + 1)));
}

} // namespace mqfleet::sim
