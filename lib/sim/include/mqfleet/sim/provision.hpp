#pragma once
// Provisioning a scenario's simulated devices in the reference broker's device registry,
// the way a user creates devices in the platform's form: every device of every fleet is
// registered under its account (the MQTT username) with its device id (the client id)
// and a credential. Fleets with `"credential": "provisioned"` get generated secrets,
// written to their credentials file (sim/credentials_file.hpp) for the runner; fleets
// with a literal, templated or environment credential are registered with that secret.
// Idempotent: devices whose stored credential still verifies are left alone.

#include <mqfleet/scenario/scenario.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mqfleet::provision {

/// What provision_scenario() does.
struct ProvisionOptions {
  std::filesystem::path registry;    ///< the broker's registry file (created when missing)
  std::filesystem::path credentials; ///< overrides every provisioned fleet's credentials file; empty = the scenario's
  bool rotate = false;               ///< give provisioned devices new secrets even when theirs still verify
  std::uint32_t iterations = 0;      ///< PBKDF2 iterations of new hashes; 0 = the registry default
};

/// Per-fleet counts of a provisioning run.
struct FleetProvisioning {
  std::string fleet;
  std::uint64_t devices = 0;
  std::uint64_t added = 0;   ///< new in the registry
  std::uint64_t kept = 0;    ///< already registered with a credential that verifies
  std::uint64_t rotated = 0; ///< registered, given a new credential (--rotate, or the old one was unknown)
  std::uint64_t updated = 0; ///< registered, hash replaced to match the scenario's own credential
  std::filesystem::path credentials; ///< where the secrets went; empty for non-provisioned fleets
};

/// The outcome of a provisioning run (never contains a secret).
struct ProvisionSummary {
  std::vector<FleetProvisioning> fleets;
  std::vector<std::string> accounts; ///< every account touched, sorted
  std::uint64_t devices() const noexcept;
  std::uint64_t changed() const noexcept; ///< added + rotated + updated
};

/// Registers every device of `scenario` in `options.registry` and writes the generated
/// secrets of provisioned fleets. Holds the registry's lock (broker::RegistryLock, the one
/// `mqfleet device` takes) while it reads, edits and writes. Writes the credentials files
/// before the registry, so an interrupted run never leaves registered secrets that no
/// file holds. Throws ConfigError (never quoting a secret) when a fleet has no account,
/// a credential cannot be read, or a device id is not valid in the registry.
ProvisionSummary provision_scenario(const sim::Scenario& scenario, const ProvisionOptions& options);

} // namespace mqfleet::provision
