#pragma once
// Reading the broker's JSON configuration file (`mqfleet broker --config FILE.json`).
// Every key mirrors a command-line flag; docs/broker.md lists them.

#include <mqfleet/broker/broker.hpp>

#include <string>

namespace mqfleet::broker {

/// Applies the keys of the JSON file at `path` on top of `config`. Throws ConfigError
/// (with the file and the key) for unreadable files, bad JSON, unknown keys or wrong types.
void apply_config_file(BrokerConfig& config, const std::string& path);

/// Checks the configuration as a whole (TLS needs cert and key, a registry or anonymous
/// mode, limits > 0). Throws ConfigError naming the flag to fix.
void validate_config(const BrokerConfig& config);

} // namespace mqfleet::broker
