#pragma once
// `--shard K/N`: process K (0-based, as Kubernetes' JOB_COMPLETION_INDEX) of N takes a
// contiguous slice of the client indexes, so N processes together run every client once.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

/// A shard a report covers, and the report's file (for errors).
struct ShardSource {
  Shard shard;
  std::string source;
};

/// A set of indexes that shards split: "device" of "fleet meters" (30), "publisher" (100).
struct ShardedSet {
  std::string noun;   ///< what one index is: "device", "publisher"
  std::string owner;  ///< whose it is, for the error ("fleet meters"), or empty
  std::uint64_t size = 0;
};

/// Throws ConfigError ("reports overlap: …", where = the two files) when two of `shards`
/// are the same K/N, or when shards of different N both cover one index of a set: merging
/// them would count some clients or devices twice. Shards of different N that cover
/// disjoint slices are fine. Used by `bench merge` and `sim merge`.
void check_disjoint(const std::vector<ShardSource>& shards, const std::vector<ShardedSet>& sets);

} // namespace mqfleet::bench
