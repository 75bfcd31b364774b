// The broker's JSON configuration file and whole-config validation (no sockets).
#include "support/temp_dir.hpp"

#include <mqfleet/broker/broker_config.hpp>
#include <mqfleet/error.hpp>

#include <gtest/gtest.h>

namespace mqfleet::broker {
namespace {

using test::TempDir;

// Every key of docs/broker.md's table, each with a value other than its default (checked
// against a default BrokerConfig first, so a key that is ignored cannot pass).
TEST(BrokerConfigFile, AppliesEveryKey) {
  TempDir dir;
  const auto path = dir.write("broker.json", R"({"bind":"127.0.0.2","port":1884,"tls_port":8884,"cert":"c.pem",
    "key":"k.pem","cafile":"ca.pem","registry":"r.json","data_dir":"state","allow_anonymous":true,
    "durable_ack":true,"max_connections":5,"max_packet_size":4096,"max_inflight":7,"max_queued":9,"max_keepalive":30,"threads":1,
    "sys_interval":3,"max_account_retained":11,"max_account_retained_bytes":12,"max_account_sessions":13,
    "max_account_subscriptions":14})");
  const BrokerConfig defaults;
  EXPECT_NE(defaults.mqtt.host, "127.0.0.2");
  EXPECT_NE(defaults.mqtt.port, 1884);
  EXPECT_FALSE(defaults.mqtts.enabled);
  EXPECT_TRUE(defaults.data_dir.empty());
  EXPECT_FALSE(defaults.allow_anonymous);
  EXPECT_FALSE(defaults.durable_ack);
  EXPECT_NE(defaults.limits.max_connections, 5u);
  EXPECT_NE(defaults.limits.max_packet_size, 4096u);
  EXPECT_NE(defaults.limits.max_inflight, 7u);
  EXPECT_NE(defaults.limits.max_queued, 9u);
  EXPECT_NE(defaults.limits.max_keepalive, 30u);
  EXPECT_NE(defaults.io_threads, 1u);
  EXPECT_NE(defaults.sys_interval_seconds, 3u);
  EXPECT_EQ(defaults.limits.account.max_retained, 0u);
  EXPECT_EQ(defaults.limits.account.max_retained_bytes, 0u);
  EXPECT_EQ(defaults.limits.account.max_sessions, 0u);
  EXPECT_EQ(defaults.limits.account.max_subscriptions, 0u);
  BrokerConfig config;
  apply_config_file(config, path);
  EXPECT_EQ(config.mqtt.host, "127.0.0.2");
  EXPECT_EQ(config.mqtts.host, "127.0.0.2");
  EXPECT_EQ(config.mqtt.port, 1884);
  EXPECT_TRUE(config.mqtts.enabled);
  EXPECT_EQ(config.mqtts.port, 8884);
  EXPECT_EQ(config.mqtts.cert_file, "c.pem");
  EXPECT_EQ(config.mqtts.key_file, "k.pem");
  EXPECT_EQ(config.mqtts.ca_file, "ca.pem");
  EXPECT_EQ(config.registry_path, "r.json");
  EXPECT_EQ(config.data_dir, "state");
  EXPECT_TRUE(config.allow_anonymous);
  EXPECT_TRUE(config.durable_ack);
  EXPECT_EQ(config.limits.max_connections, 5u);
  EXPECT_EQ(config.limits.max_packet_size, 4096u);
  EXPECT_EQ(config.limits.max_inflight, 7u);
  EXPECT_EQ(config.limits.max_queued, 9u);
  EXPECT_EQ(config.limits.max_keepalive, 30u);
  EXPECT_EQ(config.io_threads, 1u);
  EXPECT_EQ(config.sys_interval_seconds, 3u);
  EXPECT_EQ(config.limits.account.max_retained, 11u);
  EXPECT_EQ(config.limits.account.max_retained_bytes, 12u);
  EXPECT_EQ(config.limits.account.max_sessions, 13u);
  EXPECT_EQ(config.limits.account.max_subscriptions, 14u);
  EXPECT_NO_THROW(validate_config(config));
}

TEST(BrokerConfigFile, NamesTheFileAndKeyOnErrors) {
  TempDir dir;
  BrokerConfig config;
  try {
    apply_config_file(config, dir.write("bad.json", R"({"prot": 1})"));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'prot'"), std::string::npos);
    EXPECT_NE(e.where().find("bad.json"), std::string::npos);
  }
  EXPECT_THROW(apply_config_file(config, dir.write("t.json", R"({"port": "1883"})")), ConfigError);
  EXPECT_THROW(apply_config_file(config, dir.write("r.json", R"({"max_inflight": 70000})")), ConfigError);
  EXPECT_THROW(apply_config_file(config, dir.write("k.json", R"({"max_keepalive": 65536})")), ConfigError);
  EXPECT_THROW(apply_config_file(config, dir.write("j.json", "{")), ConfigError);
  EXPECT_THROW(apply_config_file(config, dir.file("missing.json")), ConfigError);
  // nlohmann throws out_of_range, not parse_error, for a number too large for a double.
  EXPECT_THROW(apply_config_file(config, dir.write("n.json", R"({"port": 1e999})")), ConfigError);
}

TEST(BrokerConfigValidation, NeedsRegistryOrAnonymousAndTlsFiles) {
  BrokerConfig config;
  EXPECT_THROW(validate_config(config), ConfigError);
  config.allow_anonymous = true;
  EXPECT_NO_THROW(validate_config(config));
  config.mqtts.enabled = true;
  EXPECT_THROW(validate_config(config), ConfigError);
  config.mqtts.cert_file = "c";
  config.mqtts.key_file = "k";
  EXPECT_NO_THROW(validate_config(config));
  config.limits.max_inflight = 0;
  EXPECT_THROW(validate_config(config), ConfigError);
}

} // namespace
} // namespace mqfleet::broker
