#include <mqfleet/sim/provision.hpp>

#include <mqfleet/broker/credentials.hpp>
#include <mqfleet/broker/device_registry.hpp>
#include <mqfleet/broker/registry_lock.hpp>
#include <mqfleet/error.hpp>
#include <mqfleet/profile_resolve.hpp>
#include <mqfleet/scenario/credentials_file.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

namespace mqfleet::provision {

namespace {

namespace fs = std::filesystem;

std::string fleet_where(const sim::FleetSpec& fleet) { return "fleet '" + fleet.name + "'"; }

// The secret of a device whose fleet names its own credential (or uses the connection's).
std::string known_secret(const sim::Scenario& scenario, const sim::FleetSpec& fleet, const sim::TemplateVars& vars) {
  switch (fleet.credential.kind) {
  case sim::CredentialKind::literal:
  case sim::CredentialKind::templated: return fleet.credential.value.expand(vars);
  case sim::CredentialKind::env: {
    const char* value = std::getenv(fleet.credential.env_name.c_str());
    if (value == nullptr || *value == '\0')
      throw ConfigError("environment variable " + fleet.credential.env_name + " is not set or empty", fleet_where(fleet),
                        "export the fleet's credential in it, or use \"credential\": \"provisioned\"");
    return value;
  }
  case sim::CredentialKind::none: {
    const Secret& secret = scenario.connection.settings.credential;
    if (secret.source == SecretSource::none)
      throw ConfigError("the fleet has no credential to register", fleet_where(fleet),
                        "set \"credential\": \"provisioned\" in the fleet to generate one per device");
    return resolve_secret(secret, "connection.credential", "", SecretPrompt{});
  }
  case sim::CredentialKind::provisioned: break;
  }
  return {};
}

} // namespace

std::uint64_t ProvisionSummary::devices() const noexcept {
  std::uint64_t n = 0;
  for (const auto& f : fleets) n += f.devices;
  return n;
}

std::uint64_t ProvisionSummary::changed() const noexcept {
  std::uint64_t n = 0;
  for (const auto& f : fleets) n += f.added + f.rotated + f.updated;
  return n;
}

ProvisionSummary provision_scenario(const sim::Scenario& scenario, const ProvisionOptions& options) {
  if (options.registry.empty())
    throw ConfigError("no registry file given", "--registry", "name the broker's registry file");
  const std::uint32_t iterations = options.iterations == 0 ? broker::k_default_pbkdf2_iterations : options.iterations;
  broker::RegistryLock lock(options.registry);
  std::error_code ec;
  broker::Registry registry = fs::exists(options.registry, ec) ? broker::Registry::load(options.registry) : broker::Registry();

  std::map<fs::path, sim::CredentialsFile> files;
  std::set<fs::path> touched_files;
  std::set<std::string> accounts;
  ProvisionSummary summary;
  std::uint64_t unknown_secrets = 0;
  fs::path unknown_file;
  for (const sim::FleetSpec& fleet : scenario.fleets) {
    FleetProvisioning result;
    result.fleet = fleet.name;
    result.devices = fleet.count;
    const bool provisioned = fleet.credential.kind == sim::CredentialKind::provisioned;
    sim::CredentialsFile* file = nullptr;
    if (provisioned) {
      result.credentials = sim::provisioned_credentials_path(scenario, fleet, options.credentials);
      auto it = files.find(result.credentials);
      if (it == files.end()) it = files.emplace(result.credentials, sim::CredentialsFile::load(result.credentials)).first;
      file = &it->second;
    }
    const std::string description = "simulated by " + (scenario.name.empty() ? scenario.file : scenario.name) +
                                    " (fleet " + fleet.name + ")";
    for (std::uint64_t n = 0; n < fleet.count; ++n) {
      sim::TemplateVars vars;
      vars.index = fleet.first_index + n;
      vars.fleet = fleet.name;
      const std::string account = fleet.account.expand(vars);
      vars.account = account;
      const std::string device = fleet.device_id.expand(vars);
      vars.device = device;
      if (account.empty())
        throw ConfigError("the fleet has no account to register its devices under", fleet_where(fleet),
                          "set \"account\" in the fleet (or \"username\" in an inline connection)");
      accounts.insert(account);
      const broker::Device* existing = registry.find_device(account, device);
      if (!provisioned) {
        const std::string secret = known_secret(scenario, fleet, vars);
        if (existing && broker::verify_password(secret, existing->credential)) {
          ++result.kept;
        } else if (existing) {
          registry.set_credential(account, device, broker::hash_password(secret, iterations));
          ++result.updated;
        } else {
          registry.add_device(account, broker::Device{device, description, broker::hash_password(secret, iterations)});
          ++result.added;
        }
        continue;
      }
      const std::string* stored = file->find(account, device);
      if (existing && !options.rotate) {
        if (stored && broker::verify_password(*stored, existing->credential)) {
          ++result.kept;
        } else {
          ++unknown_secrets;
          unknown_file = result.credentials;
        }
        continue;
      }
      // A new device reuses a secret already in the file (left there by an interrupted
      // run), so the file and the registry agree without another rotation.
      std::string secret = (!existing && stored && !options.rotate) ? *stored : broker::generate_credential();
      auto hash = broker::hash_password(secret, iterations);
      file->set(account, device, std::move(secret));
      touched_files.insert(result.credentials);
      if (existing) {
        registry.set_credential(account, device, std::move(hash));
        ++result.rotated;
      } else {
        registry.add_device(account, broker::Device{device, description, std::move(hash)});
        ++result.added;
      }
    }
    summary.fleets.push_back(std::move(result));
  }
  if (unknown_secrets > 0)
    throw ConfigError(std::to_string(unknown_secrets) +
                          " device(s) already exist in the registry with credentials that " + unknown_file.string() +
                          " does not hold",
                      options.registry.string(),
                      "pass --rotate to give them new credentials (devices using the old ones will be refused)");
  for (const auto& path : touched_files) files.at(path).save(path);
  if (summary.changed() > 0) registry.save(options.registry);
  summary.accounts.assign(accounts.begin(), accounts.end());
  return summary;
}

} // namespace mqfleet::provision
