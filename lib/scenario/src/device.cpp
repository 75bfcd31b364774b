#include <mqfleet/scenario/device.hpp>

#include <nlohmann/json.hpp>

namespace mqfleet::sim {

void DeviceState::set_field(std::size_t slot, const std::string& json_text) {
  if (slot >= fields.size()) fields.resize(slot + 1);
  FieldValue& field = fields[slot];
  const auto value = nlohmann::json::parse(json_text, nullptr, false);
  if (value.is_discarded()) {
    field.json = nlohmann::json(json_text).dump();
    field.number.reset();
    return;
  }
  field.json = value.dump();
  field.number = value.is_number() ? std::optional<double>(value.get<double>()) : std::nullopt;
}

TemplateVars DeviceState::vars(const RequestFields* request) const {
  TemplateVars v;
  v.index = index;
  v.fleet = fleet;
  v.account = account;
  v.device = device_id;
  v.request = request;
  return v;
}

} // namespace mqfleet::sim
