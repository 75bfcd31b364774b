#include <mqfleet/bench/shard.hpp>

#include <mqfleet/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <utility>

namespace mqfleet::bench {

std::string Shard::to_string() const {
  return std::to_string(index) + "/" + std::to_string(count);
}

Shard parse_shard(std::string_view text) {
  const auto fail = [&] {
    return ConfigError("invalid shard \"" + std::string(text) + "\"", "--shard",
                       "use K/N with 0 <= K < N, e.g. --shard 0/4 (K is 0-based like JOB_COMPLETION_INDEX)");
  };
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    throw fail();
  }
  Shard s;
  const auto k = text.substr(0, slash);
  const auto n = text.substr(slash + 1);
  const auto rk = std::from_chars(k.data(), k.data() + k.size(), s.index);
  const auto rn = std::from_chars(n.data(), n.data() + n.size(), s.count);
  if (k.empty() || n.empty() || rk.ec != std::errc{} || rk.ptr != k.data() + k.size() ||
      rn.ec != std::errc{} || rn.ptr != n.data() + n.size() || s.count == 0 || s.index >= s.count) {
    throw fail();
  }
  return s;
}

ClientRange shard_range(std::uint64_t clients, Shard shard) noexcept {
  if (shard.count == 0) {
    return {0, clients};
  }
  // The first clients % N shards take one client more.
  const std::uint64_t share = clients / shard.count;
  const std::uint64_t extra = clients % shard.count;
  const std::uint64_t begin = share * shard.index + std::min<std::uint64_t>(shard.index, extra);
  const std::uint64_t end = begin + share + (shard.index < extra ? 1 : 0);
  return {begin, end};
}

void check_disjoint(const std::vector<ShardSource>& shards, const std::vector<ShardedSet>& sets) {
  const auto overlap = [](const ShardSource& a, const ShardSource& b, const std::string& what) {
    return ConfigError(fmt::format("reports overlap: {} (shard {}) and {} (shard {}) {}", a.source, a.shard.to_string(),
                                   b.source, b.shard.to_string(), what),
                       a.source + ", " + b.source, "merge the report of each shard once");
  };
  // The same K/N twice, even when it holds no index.
  std::vector<const ShardSource*> all;
  all.reserve(shards.size());
  for (const ShardSource& s : shards) all.push_back(&s);
  std::sort(all.begin(), all.end(), [](const ShardSource* a, const ShardSource* b) {
    return std::pair(a->shard.count, a->shard.index) < std::pair(b->shard.count, b->shard.index);
  });
  for (std::size_t i = 1; i < all.size(); ++i)
    if (all[i]->shard == all[i - 1]->shard) throw overlap(*all[i - 1], *all[i], "are the same shard");
  // Shards of different N may still share indexes: compare the slices of every set.
  for (const ShardedSet& set : sets) {
    std::vector<std::pair<ClientRange, const ShardSource*>> slices;
    for (const ShardSource* s : all) {
      const ClientRange range = shard_range(set.size, s->shard);
      if (range.size() > 0) slices.emplace_back(range, s);
    }
    std::sort(slices.begin(), slices.end(), [](const auto& a, const auto& b) { return a.first.begin < b.first.begin; });
    for (std::size_t i = 1; i < slices.size(); ++i)
      if (slices[i].first.begin < slices[i - 1].first.end)
        throw overlap(*slices[i - 1].second, *slices[i].second,
                      fmt::format("both cover {} {}{}", set.noun, slices[i].first.begin,
                                  set.owner.empty() ? "" : " of " + set.owner));
  }
}

} // namespace mqfleet::bench
