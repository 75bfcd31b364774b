#include <mqfleet/bench/shard.hpp>

#include <mqfleet/error.hpp>

#include <algorithm>
#include <charconv>

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

} // namespace mqfleet::bench
