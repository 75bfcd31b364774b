#include "sim/sim_provision.hpp"

#include "exit_codes.hpp"

#include <mqfleet/error.hpp>
#include <mqfleet/sim/provision.hpp>
#include <mqfleet/scenario/overrides.hpp>
#include <mqfleet/scenario/scenario_loader.hpp>

#include <fmt/format.h>

#include <iostream>

namespace mqfleet::cli {

void add_sim_provision_options(CLI::App& sim, SimProvisionOptions& options) {
  auto* provision = sim.add_flag("--provision", options.provision,
                                 "Register the scenario's devices in a broker registry (with --registry) and exit");
  sim.add_option("--registry", options.registry, "Device registry file of `mqfleet broker` (for --provision)")
      ->envname("MQFLEET_REGISTRY")
      ->needs(provision);
  sim.add_option("--credentials", options.credentials,
                 "Credentials file of provisioned fleets (default: the scenario's; see scenarios/README.md)");
  sim.add_flag("--rotate", options.rotate, "With --provision: new credentials for devices already registered")
      ->needs(provision);
  sim.add_option("--iterations", options.iterations, "With --provision: PBKDF2 iterations of new hashes (default 101)")
      ->check(CLI::Range(1u, 2147483647u))
      ->needs(provision);
  sim.add_option("--scale", options.scale,
                 "Multiply every fleet's device count (at least 1 per fleet), e.g. 0.1 to rehearse small");
}

sim::Scenario load_scaled_scenario(const std::string& scenario_file, const SimProvisionOptions& options) {
  sim::Scenario scenario = sim::load_scenario_file(scenario_file);
  if (options.scale != 1) sim::scale_fleets(scenario, options.scale);
  return scenario;
}

int run_sim_provision(const std::string& scenario_file, const SimProvisionOptions& options) {
  if (options.registry.empty())
    throw ConfigError("--provision needs the broker's registry file", "--registry",
                      "pass --registry FILE or set MQFLEET_REGISTRY");
  const sim::Scenario scenario = load_scaled_scenario(scenario_file, options);
  const auto summary = provision::provision_scenario(
      scenario, provision::ProvisionOptions{options.registry, options.credentials, options.rotate, options.iterations});
  for (const auto& fleet : summary.fleets) {
    std::string line = fmt::format("mqfleet: fleet '{}': {} devices: {} added, {} kept", fleet.fleet, fleet.devices,
                                   fleet.added, fleet.kept);
    if (fleet.rotated > 0) line += fmt::format(", {} rotated", fleet.rotated);
    if (fleet.updated > 0) line += fmt::format(", {} updated", fleet.updated);
    if (!fleet.credentials.empty()) line += fmt::format("; credentials in {}", fleet.credentials.string());
    std::cerr << line << '\n';
  }
  std::cerr << fmt::format("mqfleet: provisioned {} devices in {} (accounts: {})\n", summary.devices(),
                           options.registry, fmt::join(summary.accounts, ", "));
  return exit_code::k_success;
}

} // namespace mqfleet::cli
