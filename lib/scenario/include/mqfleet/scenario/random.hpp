#pragma once
// Deterministic per-device randomness. Every generator of every device owns a small
// xoshiro256** engine (32 bytes, vs 2.5 KB for std::mt19937_64, which matters with tens of
// thousands of devices) seeded from a hash of (run seed, fleet, device index, stream).
// The distributions are implemented here rather than taken from <random>, whose
// distributions are implementation-defined: the integer sequence is identical on every
// platform, and the floating-point values are identical for a given build and libm.

#include <array>
#include <cstdint>
#include <string_view>

namespace mqfleet::sim {

/// xoshiro256** with hand-written distributions; cheap to copy, 32 bytes of state.
class Rng {
public:
  /// Seeds the four state words from `seed` through splitmix64.
  explicit Rng(std::uint64_t seed = 0) noexcept;

  /// The next 64 random bits.
  std::uint64_t next() noexcept;
  /// Uniform in [0, 1) with 53 bits of precision.
  double uniform() noexcept;
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) noexcept;
  /// Uniform integer in [0, n); n must be > 0.
  std::uint64_t below(std::uint64_t n) noexcept;
  /// Standard normal (mean 0, standard deviation 1), Box-Muller.
  double normal() noexcept;
  /// True with probability p.
  bool chance(double p) noexcept;

  bool operator==(const Rng&) const = default;

private:
  std::array<std::uint64_t, 4> m_state{};
};

/// splitmix64's finaliser: a bijective 64-bit mix.
std::uint64_t mix64(std::uint64_t x) noexcept;

/// The seed of one random stream: a stable hash of the run seed, the fleet name, the
/// device index, the stream (telemetry or command number) and the generator slot in it.
std::uint64_t stream_seed(std::uint64_t seed, std::string_view fleet, std::uint64_t index,
                          std::uint64_t stream, std::uint64_t slot) noexcept;

} // namespace mqfleet::sim
