#pragma once
// The broker's reader of the frames a WebSocket client sends (RFC 6455 §5), for MQTT over
// WebSocket after Beast's opening handshake: socket-free, so the connection reads the
// socket the way its TCP path does (drained per wake-up, every frame in the read handled
// before the next write) instead of one asynchronous read per frame. Every client frame
// is masked; MQTT travels in binary frames (and their continuations), which may split or
// join MQTT packets anywhere (MQTT 5.0 §6). The clients' reader of server frames is
// lib/client's ws::FrameDecoder.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mqfleet::broker {

/// A control frame the client sent, for the connection to answer.
struct WsControl {
  std::uint8_t opcode = 0; ///< 8 close, 9 ping, 10 pong
  std::string payload;     ///< at most 125 bytes
};

/// Cuts a client's frames out of its byte stream, with a partial header kept between reads.
class WsClientFrames {
public:
  /// Consumes all of `in`: appends the unmasked payload of binary and continuation frames
  /// to `data` and every control frame to `controls`. Throws ProtocolError (0x81) on an
  /// unmasked frame, a text frame, reserved bits, an unknown opcode, a fragmented or
  /// longer-than-125 control frame, a continuation without a message, and any frame after
  /// a close frame.
  void decode(std::string_view in, std::string& data, std::vector<WsControl>& controls);

private:
  void start_frame();

  unsigned char m_header[14] = {}; ///< the current frame's header (2..14 bytes)
  std::size_t m_header_size = 0;   ///< bytes of it received
  std::uint64_t m_remaining = 0;   ///< payload bytes of the current frame still to come
  std::uint64_t m_offset = 0;      ///< payload bytes of the current frame already unmasked
  unsigned char m_mask[4] = {};
  std::uint8_t m_opcode = 0;
  bool m_in_payload = false;
  bool m_in_message = false;       ///< a fragmented binary message is open
  bool m_closed = false;           ///< the close frame was read
  WsControl m_control;             ///< the control frame being read
};

} // namespace mqfleet::broker
