#pragma once
// The credentials file of provisioned fleets: `mqfleet sim --provision` generates one
// secret per simulated device, registers its hash in the broker's registry and writes the
// secret here; the runner reads it to log each device in. Format (mode 0600, written
// atomically): {"version": 1, "accounts": {"ACCOUNT": {"DEVICE": "SECRET", ...}, ...}}.
// Errors never contain a secret.

#include <mqfleet/scenario/scenario.hpp>

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mqfleet::sim {

/// Device secrets by account and device id.
class CredentialsFile {
public:
  /// The file format version written by save().
  static constexpr int k_format_version = 1;

  /// An empty set of credentials.
  CredentialsFile() = default;

  /// Reads `path`; a file that does not exist gives an empty set. Throws ConfigError
  /// when the file is unreadable or malformed (the message quotes no content).
  static CredentialsFile load(const std::filesystem::path& path);
  /// Parses the file's text; `source` names it in errors.
  static CredentialsFile parse(std::string_view text, const std::string& source);
  /// Writes atomically (temporary file, fsync, rename, fsync of the directory), mode 0600.
  void save(const std::filesystem::path& path) const;

  /// The secret of a device, or null.
  const std::string* find(std::string_view account, std::string_view device) const noexcept;
  /// Sets (or replaces) the secret of a device.
  void set(const std::string& account, const std::string& device, std::string secret);
  /// Number of devices.
  std::size_t size() const noexcept;

private:
  std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>> m_accounts;
};

/// Where a provisioned fleet's credentials live: `override_path` when not empty, else
/// the file named by `{"provisioned": FILE}` (relative to the scenario file's directory),
/// else the scenario file's name with `.credentials.json` next to it.
std::filesystem::path provisioned_credentials_path(const Scenario& scenario, const FleetSpec& fleet,
                                                   const std::filesystem::path& override_path = {});

/// The secrets of every provisioned fleet of a scenario, for the runner: each fleet's
/// credentials file is read once when constructed (a missing file is an error).
class ProvisionedCredentials {
public:
  /// Reads the credentials files of the scenario's provisioned fleets (`override_path`
  /// as in provisioned_credentials_path). Throws ConfigError when one does not exist.
  ProvisionedCredentials(const Scenario& scenario, const std::filesystem::path& override_path = {});

  /// The secret of a device of fleet `fleet` (an index into Scenario::fleets). Throws
  /// ConfigError, naming the device and the file but never a secret, when it is missing.
  const std::string& secret(std::size_t fleet, std::string_view account, std::string_view device) const;

private:
  std::vector<std::filesystem::path> m_paths;      ///< per fleet; empty = not provisioned
  std::map<std::filesystem::path, CredentialsFile> m_files;
};

} // namespace mqfleet::sim
