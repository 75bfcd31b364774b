#pragma once
// One simulated device's identity and its own fields (e.g. a setpoint) that payloads
// reference with {"ref": "setpoint"} and commands change.

#include <mqfleet/scenario/template.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mqfleet::sim {

/// A device field's current value, as JSON text plus its number when it is one.
struct FieldValue {
  std::string json = "null";
  std::optional<double> number;
};

/// The identity and mutable fields of one simulated device.
struct DeviceState {
  std::string fleet;
  std::uint64_t index = 0;
  std::string account;
  std::string device_id;
  /// Values in the order of the fleet's FleetSpec::field_names.
  std::vector<FieldValue> fields;

  /// Replaces field `slot` with `json_text`; text that is not valid JSON is stored as a
  /// JSON string.
  void set_field(std::size_t slot, const std::string& json_text);
  /// The template variables of this device (and optionally of a command request).
  TemplateVars vars(const RequestFields* request = nullptr) const;
};

} // namespace mqfleet::sim
