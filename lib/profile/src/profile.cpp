#include <mqfleet/profile.hpp>

#include <mqfleet/error.hpp>

#include <algorithm>
#include <cctype>

namespace mqfleet {

ConnectionProfile thinger_preset() {
  ConnectionProfile profile;
  profile.name = "thinger";
  profile.host = k_thinger_host;
  profile.port = 8883;
  profile.tls.enabled = true;
  profile.version = MqttVersion::v311;
  return profile;
}

std::vector<std::string> preset_names() { return {"thinger"}; }

ConnectionProfile preset(const std::string& name) {
  if (name == "thinger") return thinger_preset();
  throw ConfigError("unknown preset '" + name + "'", "--preset",
                    "use one of: thinger");
}

std::string to_string(MqttVersion version) {
  switch (version) {
  case MqttVersion::v31: return "3.1";
  case MqttVersion::v311: return "3.1.1";
  case MqttVersion::v5: return "5";
  }
  return "3.1.1";
}

MqttVersion parse_mqtt_version(const std::string& text) {
  std::string v = text;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v.rfind("mqttv", 0) == 0) v = v.substr(5);
  if (v == "31" || v == "3.1" || v == "3") return MqttVersion::v31;
  if (v == "311" || v == "3.1.1" || v == "4") return MqttVersion::v311;
  if (v == "5" || v == "5.0" || v == "50") return MqttVersion::v5;
  throw ConfigError("unknown MQTT version '" + text + "'", "-V",
                    "use 31 (3.1), 311 (3.1.1) or 5");
}

} // namespace mqfleet
