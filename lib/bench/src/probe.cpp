#include <mqfleet/bench/probe.hpp>

#include <bit>
#include <cstring>

namespace mqfleet::bench {
namespace {

constexpr char k_magic[4] = {'M', 'Q', 'B', '1'};

template <typename T>
void put(char* out, T value) noexcept {
  static_assert(std::endian::native == std::endian::little, "probe encoding assumes little-endian");
  std::memcpy(out, &value, sizeof value);
}

template <typename T>
T get(const char* in) noexcept {
  T value{};
  std::memcpy(&value, in, sizeof value);
  return value;
}

} // namespace

void write_probe(char* out, const Probe& probe) noexcept {
  std::memcpy(out, k_magic, sizeof k_magic);
  put<std::uint32_t>(out + 4, probe.publisher);
  put<std::int64_t>(out + 8, probe.intended);
  put<std::uint64_t>(out + 16, probe.sequence);
}

std::optional<Probe> read_probe(std::string_view payload) noexcept {
  if (payload.size() < k_probe_size || std::memcmp(payload.data(), k_magic, sizeof k_magic) != 0) {
    return std::nullopt;
  }
  Probe p;
  p.publisher = get<std::uint32_t>(payload.data() + 4);
  p.intended = get<std::int64_t>(payload.data() + 8);
  p.sequence = get<std::uint64_t>(payload.data() + 16);
  return p;
}

} // namespace mqfleet::bench
