// libFuzzer entry for MQTT over WebSocket on the client side (lib/client websocket.cpp, the
// lean client's and the engine's `ws://` / `wss://`): what a server sends, in reads of a
// fuzzed size -- the answer to the opening handshake (ClientHandshake::parse_response),
// then the frames (FrameDecoder). Bad input is a mqfleet::Error (ConnectError,
// ProtocolError); the handshake answer is bounded, no payload appears that was not sent,
// and control frames stay within 125 bytes. (The broker's server side is Beast's
// websocket::stream, not our code: fuzz_http covers the request that upgrades to it.)
#include "fuzz_common.hpp"

#include <mqfleet/websocket.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace mqfleet;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = static_cast<std::size_t>(data[0]) + 1; // reads of 1..256 bytes
  std::string_view in = fuzz::as_text(data + 1, size - 1);
  fuzz::parse_or_clean_error([&] {
    const ws::ClientHandshake handshake(std::string("dGhlIHNhbXBsZSBub25jZQ=="));
    std::string received;
    std::size_t header = 0;
    while (header == 0 && !in.empty()) {
      const auto n = std::min(chunk, in.size());
      received.append(in.substr(0, n));
      in.remove_prefix(n);
      header = handshake.parse_response(received, "fuzz");
      fuzz::check(header <= received.size() && received.size() <= ws::k_max_handshake_response + chunk);
    }
    if (header == 0) return;
    std::string_view frames = std::string_view(received).substr(header);
    ws::FrameDecoder decoder;
    std::string payload;
    std::vector<ws::ControlFrame> controls;
    std::size_t fed = 0;
    auto feed = [&](std::string_view bytes) {
      fed += bytes.size();
      decoder.decode(bytes, payload, controls);
      fuzz::check(payload.size() <= fed);
      for (const auto& control : controls) {
        fuzz::check(control.payload.size() <= 125);
        if (control.opcode == ws::Opcode::close) (void)ws::describe_close(control.payload);
      }
      controls.clear();
    };
    feed(frames);
    while (!in.empty()) {
      const auto n = std::min(chunk, in.size());
      feed(in.substr(0, n));
      in.remove_prefix(n);
    }
  });
  return 0;
}
