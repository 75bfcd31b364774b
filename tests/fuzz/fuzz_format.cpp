// libFuzzer entry for `sub -F` format strings (lib/client message_format): parsing either
// succeeds or throws ConfigError; a parsed format renders any message without crashing.
// Input: format string, NUL, payload (the payload also feeds %j/%J and the properties).
#include "fuzz_common.hpp"

#include <mqfleet/message_format.hpp>

#include <chrono>
#include <string>

using namespace mqfleet;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = fuzz::as_text(data, size);
  const std::size_t nul = input.find('\0');
  const std::string_view format = input.substr(0, nul);
  const std::string_view payload = nul == std::string_view::npos ? std::string_view{} : input.substr(nul + 1);
  fuzz::parse_or_clean_error([&] {
    const MessageFormat parsed(format, (size & 1) != 0);
    ReceivedMessage message;
    message.topic = "fleet/device-1/telemetry";
    message.payload = std::string(payload);
    message.qos = static_cast<int>(size % 3);
    message.retain = (size & 2) != 0;
    message.received_at = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
    std::vector<std::string> warnings;
    (void)parsed.render(message, &warnings);
    message.properties.content_type = std::string(payload.substr(0, 16));
    message.properties.response_topic = "reply/to";
    message.properties.correlation_data = std::string(payload);
    message.properties.message_expiry_seconds = 60;
    message.properties.payload_is_utf8 = true;
    message.properties.user_properties = {{"k", std::string(payload.substr(0, 8))}};
    message.properties.subscription_identifiers = {1, 268435455};
    (void)parsed.render(message, &warnings);
    (void)render_jsonl(message);
  });
  return 0;
}
