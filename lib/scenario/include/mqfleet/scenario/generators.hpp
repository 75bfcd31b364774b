#pragma once
// Payload value generators (counter, uniform, normal, random_walk, sine, choice, bool,
// timestamp, gps_track, battery, ref, const). A Generator is immutable configuration shared
// by every device; each device keeps one small GeneratorState per generator, seeded for
// that device (see random.hpp), so the same seed and file give the same values.

#include <mqfleet/scenario/device.hpp>
#include <mqfleet/scenario/random.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mqfleet::sim {

/// The moment a payload is rendered for.
struct RenderContext {
  std::chrono::milliseconds elapsed{0}; ///< time since the run started (drives sine, gps, battery)
  std::int64_t unix_ms = 0;              ///< wall-clock time (drives timestamp)
  const DeviceState* device = nullptr;   ///< the device rendering (drives ref)
};

/// Per-device, per-generator state: the random engine and a few numbers whose meaning
/// depends on the generator. Kept small because there is one per device and generator.
struct GeneratorState {
  Rng rng;
  double value = 0;          ///< current value (walk, battery level, gps start distance)
  double aux = 0;            ///< second number (battery charging flag, sine phase)
  std::int64_t count = 0;    ///< renders so far
  std::int64_t last_ms = 0;  ///< `elapsed` of the previous render
};

/// A configured generator; render() appends one JSON value to `out`.
class Generator {
public:
  virtual ~Generator() = default;
  /// The generator's type name as written in scenarios ("uniform", "gps_track"...).
  virtual std::string_view type() const noexcept = 0;
  /// Prepares a device's fresh state (random phase, start point...); state.rng is seeded.
  virtual void init(GeneratorState& state, const DeviceState* device) const;
  /// Appends the next value as JSON text and advances the state.
  virtual void render(GeneratorState& state, const RenderContext& context, std::string& out) const = 0;
};

/// The type names accepted in `{"type": ...}`.
const std::vector<std::string>& generator_types();

/// Great-circle distance in metres between two points given in degrees.
double haversine_m(double lat1, double lon1, double lat2, double lon2);

} // namespace mqfleet::sim
