// libFuzzer entry for the broker's device registry file (lib/broker/core; `mqfleet
// broker --registry`, `mqfleet device`): parsing either succeeds or is a ConfigError, and
// a parsed registry answers look-ups and authentication without crashing.
#include "fuzz_common.hpp"

#include <mqfleet/broker/device_registry.hpp>

using namespace mqfleet;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  fuzz::parse_or_clean_error([&] {
    const broker::Registry registry = broker::Registry::parse(text, "fuzz-registry.json");
    (void)registry.find_account("acme");
    (void)registry.find_device("acme", "device-1");
    (void)registry.authenticate("acme", "device-1", "secret");
    (void)registry.find_bucket("acme.telemetry");
  });
  return 0;
}
