#include <mqfleet/broker/broker_config.hpp>

#include <mqfleet/error.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <limits>
#include <set>

namespace mqfleet::broker {
namespace {

using Json = nlohmann::json;

template <class T> T number(const Json& value, const std::string& key, const std::string& path, T min_value) {
  if (!value.is_number_integer())
    throw ConfigError("'" + key + "' must be an integer", path, "fix the value of '" + key + "'");
  const auto n = value.get<long long>();
  if (n < static_cast<long long>(min_value) || static_cast<unsigned long long>(n) >
                                                    static_cast<unsigned long long>(std::numeric_limits<T>::max()))
    throw ConfigError("'" + key + "' is out of range", path, "fix the value of '" + key + "'");
  return static_cast<T>(n);
}

std::string text(const Json& value, const std::string& key, const std::string& path) {
  if (!value.is_string()) throw ConfigError("'" + key + "' must be a string", path, "quote the value of '" + key + "'");
  return value.get<std::string>();
}

bool boolean(const Json& value, const std::string& key, const std::string& path) {
  if (!value.is_boolean()) throw ConfigError("'" + key + "' must be true or false", path, "fix '" + key + "'");
  return value.get<bool>();
}

} // namespace

void apply_config_file(BrokerConfig& config, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read the broker configuration", path, "check the path given to --config");
  Json doc;
  try {
    doc = Json::parse(in);
  } catch (const Json::parse_error& e) {
    throw ConfigError(std::string("the broker configuration is not valid JSON: ") + e.what(), path,
                      "fix the JSON syntax");
  } catch (const Json::out_of_range&) {
    // nlohmann reports a number too large for a double (1e999) this way, not as parse_error.
    throw ConfigError("the broker configuration holds a number too large to represent", path, "fix the number");
  }
  if (!doc.is_object()) throw ConfigError("the broker configuration must be a JSON object", path, "wrap it in { }");
  for (const auto& [key, value] : doc.items()) {
    if (key == "bind") {
      config.mqtt.host = config.mqtts.host = config.http.host = config.https.host = text(value, key, path);
    } else if (key == "port") {
      config.mqtt.port = number<int>(value, key, path, 0);
      config.mqtt.enabled = true;
    } else if (key == "tls_port") {
      config.mqtts.port = number<int>(value, key, path, 0);
      config.mqtts.enabled = true;
    } else if (key == "http_port") {
      config.http.port = number<int>(value, key, path, 0);
      config.http.enabled = true;
    } else if (key == "https_port") {
      config.https.port = number<int>(value, key, path, 0);
      config.https.enabled = true;
    } else if (key == "cert") {
      config.mqtts.cert_file = text(value, key, path);
    } else if (key == "key") {
      config.mqtts.key_file = text(value, key, path);
    } else if (key == "cafile") {
      config.mqtts.ca_file = text(value, key, path);
    } else if (key == "registry") {
      config.registry_path = text(value, key, path);
    } else if (key == "data_dir") {
      config.data_dir = text(value, key, path);
    } else if (key == "allow_anonymous") {
      config.allow_anonymous = boolean(value, key, path);
    } else if (key == "max_connections") {
      config.limits.max_connections = number<std::size_t>(value, key, path, 1);
    } else if (key == "max_packet_size") {
      config.limits.max_packet_size = number<std::uint32_t>(value, key, path, 16);
    } else if (key == "max_inflight") {
      config.limits.max_inflight = number<std::uint16_t>(value, key, path, 1);
    } else if (key == "max_keepalive") {
      config.limits.max_keepalive = number<std::uint16_t>(value, key, path, 0);
    } else if (key == "max_queued") {
      config.limits.max_queued = number<std::size_t>(value, key, path, 0);
    } else if (key == "max_account_retained") {
      config.limits.account.max_retained = number<std::size_t>(value, key, path, 0);
    } else if (key == "max_account_retained_bytes") {
      config.limits.account.max_retained_bytes = number<std::size_t>(value, key, path, 0);
    } else if (key == "max_account_sessions") {
      config.limits.account.max_sessions = number<std::size_t>(value, key, path, 0);
    } else if (key == "max_account_subscriptions") {
      config.limits.account.max_subscriptions = number<std::size_t>(value, key, path, 0);
    } else if (key == "connect_timeout") {
      config.limits.connect_timeout_seconds = number<unsigned>(value, key, path, 1);
    } else if (key == "threads") {
      config.io_threads = number<unsigned>(value, key, path, 0);
    } else if (key == "durable_ack") {
      config.durable_ack = boolean(value, key, path);
    } else if (key == "sys_interval") {
      config.sys_interval_seconds = number<unsigned>(value, key, path, 0);
    } else {
      throw ConfigError("unknown key '" + key + "' in the broker configuration", path,
                        "see docs/broker.md for the keys");
    }
  }
}

void validate_config(const BrokerConfig& config) {
  if (!config.mqtt.enabled && !config.mqtts.enabled)
    throw ConfigError("no listener is enabled", "--port", "give --port and/or --tls-port");
  if (config.mqtt.enabled && (config.mqtt.port < 0 || config.mqtt.port > 65535))
    throw ConfigError("the MQTT port must be 0..65535", "--port", "0 picks a free port");
  if (config.mqtts.enabled) {
    if (config.mqtts.port < 0 || config.mqtts.port > 65535)
      throw ConfigError("the TLS port must be 0..65535", "--tls-port", "0 picks a free port");
    if (config.mqtts.cert_file.empty() || config.mqtts.key_file.empty())
      throw ConfigError("the TLS listener needs a certificate and a key", "--tls-port",
                        "pass --cert FILE and --key FILE");
  }
  if (config.http.enabled && (config.http.port < 0 || config.http.port > 65535))
    throw ConfigError("the HTTP port must be 0..65535", "--http-port", "0 picks a free port");
  if (config.https.enabled) {
    if (config.https.port < 0 || config.https.port > 65535)
      throw ConfigError("the HTTPS port must be 0..65535", "--https-port", "0 picks a free port");
    if (config.mqtts.cert_file.empty() || config.mqtts.key_file.empty())
      throw ConfigError("the HTTPS listener needs a certificate and a key", "--https-port",
                        "pass --cert FILE and --key FILE");
  }
  if (!config.allow_anonymous && config.registry_path.empty())
    throw ConfigError("the broker needs a device registry", "--registry",
                      "pass --registry FILE (see `mqfleet device add`) or --allow-anonymous");
  if (config.durable_ack && config.data_dir.empty())
    throw ConfigError("--durable-ack needs a data directory", "--durable-ack", "pass --data-dir DIR as well");
  if (config.limits.max_connections == 0)
    throw ConfigError("max connections must be at least 1", "--max-connections", "give a positive number");
  if (config.limits.connect_timeout_seconds == 0 || config.limits.connect_timeout_seconds > 3600)
    throw ConfigError("the connect timeout must be 1..3600 seconds", "--connect-timeout", "give 1..3600 seconds");
  if (config.limits.max_inflight == 0)
    throw ConfigError("max inflight must be at least 1", "--max-inflight", "give 1..65535");
  if (config.limits.max_packet_size < 16)
    throw ConfigError("max packet size must be at least 16 bytes", "--max-packet-size", "give a larger size");
}

} // namespace mqfleet::broker
