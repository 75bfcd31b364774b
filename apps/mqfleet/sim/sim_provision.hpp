#pragma once
// `mqfleet sim --provision`: registers a scenario's simulated devices in the reference
// broker's registry (lib/sim, provision.cpp). Kept apart from sim/sim.cpp, which adds these options
// to `sim` and calls run_sim_provision() when --provision is given.

#include <mqfleet/scenario/scenario.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace mqfleet::cli {

/// The provisioning flags of `mqfleet sim` (--credentials and --scale also apply to runs).
struct SimProvisionOptions {
  bool provision = false;   ///< --provision: register the devices instead of running
  std::string registry;     ///< --registry FILE (or $MQFLEET_REGISTRY)
  std::string credentials;  ///< --credentials FILE: overrides the scenario's credentials files
  bool rotate = false;      ///< --rotate: new secrets for already registered devices
  std::uint32_t iterations = 0; ///< --iterations N of new hashes; 0 = default
  double scale = 1;         ///< --scale F: multiply every fleet's device count
};

/// Adds --provision, --registry, --rotate, --iterations, --credentials and --scale to `sim`.
void add_sim_provision_options(CLI::App& sim, SimProvisionOptions& options);

/// Loads a scenario file and applies --scale.
sim::Scenario load_scaled_scenario(const std::string& scenario_file, const SimProvisionOptions& options);

/// Loads the scenario and registers its devices; status lines on stderr, never secrets.
int run_sim_provision(const std::string& scenario_file, const SimProvisionOptions& options);

} // namespace mqfleet::cli
