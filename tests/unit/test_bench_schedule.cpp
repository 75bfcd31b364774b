// Rate control computed on the schedule itself (no clocks), and sequence tracking on
// synthetic sequences.
#include <mqfleet/bench/probe.hpp>
#include <mqfleet/bench/schedule.hpp>
#include <mqfleet/bench/sequence.hpp>
#include <mqfleet/error.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <string>

using namespace mqfleet::bench;

namespace {
constexpr MonoNanos k_second = 1'000'000'000;
}

TEST(BenchSchedule, ConstantRateOverAFewSecondsIsWithinTwoPercent) {
  for (double rate : {1.0, 7.0, 333.3, 1000.0, 12345.0, 250000.0}) {
    const OpenLoopSchedule s(5 * k_second, rate);
    const std::uint64_t in_three_seconds = s.due(5 * k_second + 3 * k_second - 1);
    const double achieved = static_cast<double>(in_three_seconds) / 3.0;
    EXPECT_LE(std::abs(achieved - rate) / rate, 0.02) << rate << " -> " << achieved;
  }
}

TEST(BenchSchedule, IntendedTimesAreEvenlySpacedWithoutDrift) {
  const OpenLoopSchedule s(0, 3000.0);
  EXPECT_EQ(s.intended(0), 0);
  EXPECT_EQ(s.intended(3000), k_second);
  EXPECT_EQ(s.intended(3'000'000), 1000 * k_second);
  for (std::uint64_t n = 1; n < 10000; ++n) {
    const MonoNanos gap = s.intended(n) - s.intended(n - 1);
    EXPECT_GE(gap, 333333);
    EXPECT_LE(gap, 333334);
  }
}

TEST(BenchSchedule, DueCountsExactlyTheMessagesWhoseTimeHasCome) {
  const OpenLoopSchedule s(100, 1000.0, 10);
  EXPECT_EQ(s.due(99), 0U);
  EXPECT_EQ(s.due(100), 1U);
  EXPECT_EQ(s.due(100 + 1'000'000 - 1), 1U);
  EXPECT_EQ(s.due(100 + 1'000'000), 2U);
  EXPECT_EQ(s.due(100 + 100 * k_second), 10U); // the limit caps it
  for (MonoNanos now = 0; now < 20'000'000; now += 77'777) {
    const std::uint64_t n = s.due(now);
    if (n > 0) {
      EXPECT_LE(s.intended(n - 1), now);
    }
    if (n < s.limit()) {
      EXPECT_GT(s.intended(n), now);
    }
  }
}

TEST(BenchSchedule, AStalledSenderStillOwesEveryMessageFromItsIntendedTime) {
  // A sender that could not send for 300 ms finds 300 messages due at once; each one's
  // latency is counted from its own intended time (coordinated omission shows).
  const OpenLoopSchedule s(0, 1000.0);
  const MonoNanos resumed = 300'000'000;
  const std::uint64_t due = s.due(resumed);
  EXPECT_EQ(due, 301U);
  EXPECT_EQ(resumed - s.intended(0), 300'000'000);
}

TEST(BenchSchedule, RateFromIntervalOrTotal) {
  EXPECT_DOUBLE_EQ(per_client_rate(10, 0, 4), 100.0);
  EXPECT_DOUBLE_EQ(per_client_rate(0, 1000, 4), 250.0);
  EXPECT_DOUBLE_EQ(per_client_rate(10, 1000, 4), 250.0); // --rate wins
  EXPECT_DOUBLE_EQ(per_client_rate(0, 0, 4), 0.0);       // closed loop
  EXPECT_EQ(client_phase(0, 4, 100.0), 0);
  EXPECT_EQ(client_phase(2, 4, 100.0), 5'000'000);
  EXPECT_THROW(OpenLoopSchedule(0, 0.0), mqfleet::ConfigError);
}

TEST(BenchSchedule, InterleavedClientsMakeASmoothAggregate) {
  // 4 clients at 250/s with phases: the merged stream is one message every 1 ms.
  std::vector<MonoNanos> times;
  for (std::uint64_t c = 0; c < 4; ++c) {
    const OpenLoopSchedule s(client_phase(c, 4, 250.0), 250.0);
    for (std::uint64_t n = 0; n < 250; ++n) {
      times.push_back(s.intended(n));
    }
  }
  std::sort(times.begin(), times.end());
  for (std::size_t i = 1; i < times.size(); ++i) {
    EXPECT_EQ(times[i] - times[i - 1], 1'000'000) << i;
  }
}

TEST(BenchSchedule, ClosedLoopWindow) {
  ClosedLoopWindow w(2);
  EXPECT_TRUE(w.can_send());
  w.on_send();
  w.on_send();
  EXPECT_FALSE(w.can_send());
  w.on_complete();
  EXPECT_TRUE(w.can_send());
  EXPECT_EQ(ClosedLoopWindow(0).window(), 1U);
}

TEST(BenchSequence, InOrderStreamHasNoAnomalies) {
  SequenceTracker t;
  for (std::uint64_t p = 0; p < 3; ++p) {
    for (std::uint64_t s = 0; s < 100; ++s) {
      t.on_receive(p, s);
    }
    t.expect(p, 100);
  }
  EXPECT_EQ(t.counts(), (SequenceCounts{300, 300, 0, 0, 0}));
}

TEST(BenchSequence, LossDuplicatesAndReordering) {
  SequenceTracker t;
  // publisher 1: 0 1 3 2 2 5 6 (4 lost, 2 reordered then duplicated), sent 9 (7, 8 lost at the tail)
  for (std::uint64_t s : {0, 1, 3, 2, 2, 5, 6}) {
    t.on_receive(1, s);
  }
  // publisher 2: 0 0 1 (duplicate), sent 2
  for (std::uint64_t s : {0, 0, 1}) {
    t.on_receive(2, s);
  }
  t.expect(1, 9);
  t.expect(2, 2);
  // publisher 3 sent 5, none arrived
  t.expect(3, 5);
  const SequenceCounts c = t.counts();
  EXPECT_EQ(c.received, 10U);
  EXPECT_EQ(c.unique, 8U);
  EXPECT_EQ(c.duplicated, 2U);
  EXPECT_EQ(c.reordered, 1U);
  EXPECT_EQ(c.lost, 1U + 2U + 5U);
}

TEST(BenchSequence, LateArrivalClosesTheGap) {
  SequenceTracker t;
  for (std::uint64_t s : {0, 4, 1, 2, 3}) {
    t.on_receive(0, s);
  }
  t.expect(0, 5);
  EXPECT_EQ(t.counts(), (SequenceCounts{5, 5, 0, 0, 3}));
}

TEST(BenchSequence, CountsAdd) {
  SequenceCounts a{1, 2, 3, 4, 5};
  a += SequenceCounts{10, 20, 30, 40, 50};
  EXPECT_EQ(a, (SequenceCounts{11, 22, 33, 44, 55}));
}

TEST(BenchProbe, RoundTripAndRejection) {
  std::string payload(64, 'x');
  const Probe p{123456789012345, 42, 987654321};
  write_probe(payload.data(), p);
  EXPECT_EQ(read_probe(payload), p);
  EXPECT_FALSE(read_probe(payload.substr(0, k_probe_size - 1)));
  EXPECT_FALSE(read_probe(std::string(64, 'x')));
}
