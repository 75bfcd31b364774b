// libFuzzer entry for MQTT over WebSocket on the broker's side (lib/broker/server
// ws_frames.cpp, compiled in on its own): what a client sends after the opening handshake,
// in reads of a fuzzed size. Bad input is a ProtocolError; no data appears that was not
// sent, control frames stay within 125 bytes, and nothing is accepted after a close frame.
#include "fuzz_common.hpp"

#include "ws_frames.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace mqfleet;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = static_cast<std::size_t>(data[0]) + 1; // reads of 1..256 bytes
  std::string_view in = fuzz::as_text(data + 1, size - 1);
  fuzz::parse_or_clean_error([&] {
    broker::WsClientFrames frames;
    std::string payload;
    std::vector<broker::WsControl> controls;
    std::size_t fed = 0;
    bool closed = false;
    while (!in.empty()) {
      const auto n = std::min(chunk, in.size());
      fed += n;
      frames.decode(in.substr(0, n), payload, controls);
      in.remove_prefix(n);
      fuzz::check(payload.size() <= fed);
      for (const auto& control : controls) {
        fuzz::check(!closed);
        fuzz::check(control.payload.size() <= 125);
        fuzz::check(control.opcode == 8 || control.opcode == 9 || control.opcode == 10);
        closed = control.opcode == 8;
      }
      controls.clear();
    }
  });
  return 0;
}
