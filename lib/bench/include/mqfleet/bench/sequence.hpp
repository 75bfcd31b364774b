#pragma once
// Loss, duplicate and reorder detection on per-publisher sequence numbers, as seen by
// one receiver. A sequence number above the next expected one opens a gap (counted lost
// unless it arrives later, then it is counted reordered); one below that is neither
// missing nor new is a duplicate. expect() adds the tail: messages a publisher sent
// after the last one that arrived.

#include <cstdint>
#include <set>
#include <unordered_map>

namespace mqfleet::bench {

/// What one receiver saw of its publishers' streams.
struct SequenceCounts {
  std::uint64_t received = 0;   ///< every arrival, duplicates included
  std::uint64_t unique = 0;     ///< distinct sequence numbers received
  std::uint64_t lost = 0;       ///< never received (gaps still open, plus the tail)
  std::uint64_t duplicated = 0; ///< received again
  std::uint64_t reordered = 0;  ///< received after a later sequence number
  SequenceCounts& operator+=(const SequenceCounts& other) noexcept;
  bool operator==(const SequenceCounts&) const = default;
};

/// Tracks the sequences of any number of publishers for one receiver (and one QoS).
class SequenceTracker {
public:
  /// Most missing numbers remembered per publisher; older gaps are then counted lost
  /// for good (a late arrival is then seen as a duplicate).
  static constexpr std::size_t k_max_missing = 1U << 20;

  /// One arrival of `sequence` (0-based) from `publisher`.
  void on_receive(std::uint64_t publisher, std::uint64_t sequence);
  /// The publisher sent `sent` messages (0..sent-1) this receiver should have seen;
  /// call once per publisher after the run.
  void expect(std::uint64_t publisher, std::uint64_t sent);
  /// Counts so far; lost includes open gaps and the tails given to expect().
  SequenceCounts counts() const noexcept;

private:
  struct Stream {
    std::uint64_t next = 0;              ///< one past the highest sequence seen
    std::set<std::uint64_t> missing;     ///< open gaps below next
    std::uint64_t expected_total = 0;    ///< from expect(); 0 = not given
  };
  std::unordered_map<std::uint64_t, Stream> m_streams;
  SequenceCounts m_counts;
  std::uint64_t m_tail_lost = 0;
  std::uint64_t m_forgotten = 0;
};

} // namespace mqfleet::bench
