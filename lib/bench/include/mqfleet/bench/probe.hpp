#pragma once
// The probe at the start of every pubsub payload: magic "MQB1", the intended send time
// (monotonic ns, so sender and receiver must share the machine's clock), the publisher
// id and its sequence number. Little-endian, 24 bytes; the rest of the payload is filler.

#include <mqfleet/bench/schedule.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace mqfleet::bench {

/// Size of the probe header: the smallest pubsub payload.
inline constexpr std::size_t k_probe_size = 24;

/// What a pubsub payload carries.
struct Probe {
  MonoNanos intended = 0;      ///< intended send time (open loop) or actual send time
  std::uint32_t publisher = 0; ///< global client index of the publisher
  std::uint64_t sequence = 0;  ///< 0-based, per publisher
  bool operator==(const Probe&) const = default;
};

/// Writes `probe` into the first k_probe_size bytes of `out` (which must be that long).
void write_probe(char* out, const Probe& probe) noexcept;

/// Reads the probe at the start of `payload`; nullopt when too short or not a probe.
std::optional<Probe> read_probe(std::string_view payload) noexcept;

} // namespace mqfleet::bench
