// libFuzzer entry for broker URLs (`-L`, `-h mqtt://...`, MQFLEET_URL; lib/profile
// profile_resolve): parsing either succeeds or is a ConfigError, and what parses turns
// into profile overrides whose port is a real port.
#include "fuzz_common.hpp"

#include <mqfleet/profile_resolve.hpp>

#include <string>

using namespace mqfleet;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(fuzz::as_text(data, size));
  (void)is_broker_url(text);
  fuzz::parse_or_clean_error([&] {
    const BrokerUrl url = parse_broker_url(text, "-L");
    if (url.port) fuzz::check(*url.port >= 1 && *url.port <= 65535);
    const ProfileOverrides overrides = overrides_from_url(url);
    ConnectionProfile profile;
    apply(profile, overrides);
  });
  return 0;
}
