// libFuzzer entry for the scenario loader (`mqfleet sim FILE`, `sim --check`): checking
// never throws, and loading agrees with checking -- a scenario without diagnostics loads,
// one with diagnostics throws ScenarioError listing them. load_scenario() is
// check_scenario() plus that throw, so one call covers both (checking twice per input
// halved the executions per second); check_scenario() itself never builds a ScenarioError.
#include "fuzz_common.hpp"

#include <mqfleet/scenario/scenario_loader.hpp>

using namespace mqfleet;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  try {
    const sim::Scenario scenario = sim::load_scenario(text, "fuzz.json");
    fuzz::check(scenario.file == "fuzz.json");
  } catch (const sim::ScenarioError& e) {
    fuzz::check(!e.diagnostics().empty());
    for (const auto& diagnostic : e.diagnostics()) (void)sim::to_string(diagnostic);
  }
  return 0;
}
