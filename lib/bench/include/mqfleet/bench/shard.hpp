#pragma once
// `--shard K/N`: process K (0-based, as Kubernetes' JOB_COMPLETION_INDEX) of N takes a
// contiguous slice of the client indexes, so N processes together run every client once.

#include <cstdint>
#include <string>
#include <string_view>

namespace mqfleet::bench {

/// Shard K of N.
struct Shard {
  std::uint32_t index = 0; ///< K, 0-based
  std::uint32_t count = 1; ///< N ≥ 1
  bool operator==(const Shard&) const = default;
  std::string to_string() const;
};

/// Client indexes [begin, end).
struct ClientRange {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  std::uint64_t size() const noexcept { return end - begin; }
  bool operator==(const ClientRange&) const = default;
};

/// Parses "K/N" (0 ≤ K < N); throws ConfigError naming --shard otherwise.
Shard parse_shard(std::string_view text);

/// The slice of [0, clients) that `shard` runs: sizes differ by at most one.
ClientRange shard_range(std::uint64_t clients, Shard shard) noexcept;

} // namespace mqfleet::bench
