#include <mqfleet/bench/sequence.hpp>

namespace mqfleet::bench {

SequenceCounts& SequenceCounts::operator+=(const SequenceCounts& other) noexcept {
  received += other.received;
  unique += other.unique;
  lost += other.lost;
  duplicated += other.duplicated;
  reordered += other.reordered;
  return *this;
}

void SequenceTracker::on_receive(std::uint64_t publisher, std::uint64_t sequence) {
  Stream& s = m_streams[publisher];
  ++m_counts.received;
  if (sequence == s.next) {
    ++s.next;
    ++m_counts.unique;
    return;
  }
  if (sequence > s.next) {
    if (sequence - s.next > k_max_missing) {
      m_forgotten += sequence - s.next - k_max_missing;
      s.next = sequence - k_max_missing;
    }
    for (std::uint64_t missing = s.next; missing < sequence; ++missing) {
      if (s.missing.size() >= k_max_missing) {
        s.missing.erase(s.missing.begin());
        ++m_forgotten;
      }
      s.missing.insert(missing);
    }
    s.next = sequence + 1;
    ++m_counts.unique;
    return;
  }
  if (s.missing.erase(sequence) != 0) {
    ++m_counts.reordered;
    ++m_counts.unique;
  } else {
    ++m_counts.duplicated;
  }
}

void SequenceTracker::expect(std::uint64_t publisher, std::uint64_t sent) {
  Stream& s = m_streams[publisher];
  if (sent > s.next) {
    m_tail_lost += sent - s.next;
  }
  s.expected_total = sent;
}

SequenceCounts SequenceTracker::counts() const noexcept {
  SequenceCounts c = m_counts;
  c.lost = m_tail_lost + m_forgotten;
  for (const auto& [publisher, s] : m_streams) {
    c.lost += s.missing.size();
  }
  return c;
}

} // namespace mqfleet::bench
