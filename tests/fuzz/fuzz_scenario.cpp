// libFuzzer entry for the scenario loader (`mqfleet sim FILE`, `sim --check`): checking
// never throws, and loading agrees with checking -- a scenario without diagnostics loads,
// one with diagnostics throws ScenarioError listing them.
#include "fuzz_common.hpp"

#include <mqfleet/scenario/scenario_loader.hpp>

using namespace mqfleet;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  const sim::CheckResult checked = sim::check_scenario(text, "fuzz.json");
  for (const auto& diagnostic : checked.diagnostics) (void)sim::to_string(diagnostic);
  try {
    (void)sim::load_scenario(text, "fuzz.json");
    fuzz::check(checked.ok());
  } catch (const sim::ScenarioError& e) {
    fuzz::check(!checked.ok() && !e.diagnostics().empty());
  }
  return 0;
}
