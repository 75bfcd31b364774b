// Profile data: presets, default ports, MQTT version parsing.
#include <mqfleet/error.hpp>
#include <mqfleet/profile.hpp>

#include <gtest/gtest.h>

namespace mqfleet {
namespace {

TEST(Profile, DefaultPortFollowsTls) {
  ConnectionProfile profile;
  EXPECT_EQ(profile.effective_port(), 1883);
  profile.tls.enabled = true;
  EXPECT_EQ(profile.effective_port(), 8883);
  profile.port = 9000;
  EXPECT_EQ(profile.effective_port(), 9000);
}

TEST(Profile, ThingerPresetLeavesOnlyDeviceFields) {
  const auto profile = thinger_preset();
  EXPECT_EQ(profile.host, "backend.thinger.io");
  EXPECT_EQ(profile.effective_port(), 8883);
  EXPECT_TRUE(profile.tls.enabled);
  EXPECT_FALSE(profile.tls.insecure);
  EXPECT_EQ(profile.version, MqttVersion::v311);
  EXPECT_TRUE(profile.username.empty());
  EXPECT_TRUE(profile.client_id.empty());
  EXPECT_TRUE(profile.credential.empty());
  EXPECT_EQ(preset("thinger"), profile);
  EXPECT_THROW(preset("nope"), ConfigError);
}

TEST(Profile, ParsesMosquittoAndDottedVersions) {
  EXPECT_EQ(parse_mqtt_version("31"), MqttVersion::v31);
  EXPECT_EQ(parse_mqtt_version("311"), MqttVersion::v311);
  EXPECT_EQ(parse_mqtt_version("mqttv311"), MqttVersion::v311);
  EXPECT_EQ(parse_mqtt_version("3.1.1"), MqttVersion::v311);
  EXPECT_EQ(parse_mqtt_version("5"), MqttVersion::v5);
  EXPECT_EQ(parse_mqtt_version("mqttv5"), MqttVersion::v5);
  EXPECT_THROW(parse_mqtt_version("4.0"), ConfigError);
  EXPECT_EQ(to_string(parse_mqtt_version("5")), "5");
}

} // namespace
} // namespace mqfleet
