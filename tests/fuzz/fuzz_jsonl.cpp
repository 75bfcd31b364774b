// libFuzzer entry for one `pub --jsonl` line (apps/mqfleet/pub_input.cpp) and for the
// `-D` property groups: bad input is a ConfigError naming the line; a good record has a
// QoS of 0..2. The first byte picks the defaults and --json.
#include "fuzz_common.hpp"

#include "pub/pub_input.hpp"

#include <string>
#include <vector>

using namespace mqfleet;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int qos = data[0] % 3;
  const bool retain = (data[0] & 4) != 0;
  const bool json = (data[0] & 8) != 0;
  const std::string_view line = fuzz::as_text(data + 1, size - 1);
  fuzz::parse_or_clean_error([&] {
    const OutgoingMessage message = cli::parse_jsonl_record(line, 7, qos, retain, json);
    fuzz::check(message.qos >= 0 && message.qos <= 2);
  });
  // The same bytes as -D groups: NUL separates words, a newline separates groups.
  std::vector<std::vector<std::string>> groups(1);
  for (const char c : line) {
    if (c == '\n') groups.emplace_back();
    else if (c == '\0') groups.back().emplace_back();
    else {
      if (groups.back().empty()) groups.back().emplace_back();
      groups.back().back().push_back(c);
    }
  }
  fuzz::parse_or_clean_error([&] { (void)cli::parse_publish_properties(groups); });
  return 0;
}
