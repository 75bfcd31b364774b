#include <mqfleet/scenario/random.hpp>

#include <cmath>
#include <numbers>

namespace mqfleet::sim {

namespace {

constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

} // namespace

std::uint64_t mix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

Rng::Rng(std::uint64_t seed) noexcept {
  std::uint64_t x = seed;
  for (auto& word : m_state) {
    word = mix64(x);
    x += 0x9E3779B97F4A7C15ULL;
  }
}

std::uint64_t Rng::next() noexcept {
  const std::uint64_t result = rotl(m_state[1] * 5, 7) * 9;
  const std::uint64_t t = m_state[1] << 17;
  m_state[2] ^= m_state[0];
  m_state[3] ^= m_state[1];
  m_state[1] ^= m_state[2];
  m_state[0] ^= m_state[3];
  m_state[2] ^= t;
  m_state[3] = rotl(m_state[3], 45);
  return result;
}

double Rng::uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }

std::uint64_t Rng::below(std::uint64_t n) noexcept {
  // Rejection keeps the result unbiased for every n.
  const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % n);
  std::uint64_t x = next();
  while (x >= limit) x = next();
  return x % n;
}

double Rng::normal() noexcept {
  const double u1 = 1.0 - uniform(); // (0, 1]: log is finite
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

bool Rng::chance(double p) noexcept { return uniform() < p; }

std::uint64_t stream_seed(std::uint64_t seed, std::string_view fleet, std::uint64_t index,
                          std::uint64_t stream, std::uint64_t slot) noexcept {
  std::uint64_t fleet_hash = 0xCBF29CE484222325ULL; // FNV-1a: stable across platforms
  for (const char c : fleet) {
    fleet_hash ^= static_cast<unsigned char>(c);
    fleet_hash *= 0x100000001B3ULL;
  }
  std::uint64_t h = mix64(seed);
  h = mix64(h ^ fleet_hash);
  h = mix64(h ^ index);
  h = mix64(h ^ stream);
  return mix64(h ^ slot);
}

} // namespace mqfleet::sim
