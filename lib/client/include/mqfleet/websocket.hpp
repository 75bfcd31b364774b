#pragma once
// MQTT over WebSocket (RFC 6455) for the clients, without I/O: the opening handshake's
// request and the check of the server's answer, and the framing of the byte stream in
// both directions. The lean client and the epoll engine put it between their socket (or
// TLS) and the MQTT codec; the subprotocol is `mqtt` and MQTT travels in binary frames,
// which may split or join MQTT packets anywhere (MQTT 5.0 §6).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mqfleet::ws {

/// The longest opening-handshake answer a client reads before giving up.
inline constexpr std::size_t k_max_handshake_response = 16 * 1024;

/// The value a server must send back as Sec-WebSocket-Accept for `key` (RFC 6455 §4.2.2).
std::string accept_key(std::string_view key);

/// The client's side of the opening handshake.
class ClientHandshake {
public:
  /// A fresh random Sec-WebSocket-Key.
  ClientHandshake();
  /// A fixed key (tests).
  explicit ClientHandshake(std::string key) : m_key(std::move(key)) {}

  /// The HTTP/1.1 GET upgrade request for `path` on the server `host_header`
  /// ("host" or "host:port"), asking for the `mqtt` subprotocol.
  std::string request(const std::string& host_header, const std::string& path) const;

  /// Looks for the end of the server's answer in `received`: returns its length in bytes
  /// (what follows is already WebSocket frames), or 0 when more bytes are needed. Throws
  /// ConnectError (reason -1) when the server refused the upgrade — naming the HTTP
  /// status and what to check — or answered something that is not a valid upgrade, and
  /// when the answer grows past k_max_handshake_response.
  std::size_t parse_response(std::string_view received, const std::string& where) const;

  const std::string& key() const noexcept { return m_key; }

private:
  std::string m_key;
};

/// Frame opcodes (RFC 6455 §5.2).
enum class Opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

/// Appends `data` to `out` as one masked binary frame (a client masks every frame).
void append_binary_frame(std::string& out, std::string_view data);
/// Appends a masked control frame (close, ping, pong; payload at most 125 bytes).
void append_control_frame(std::string& out, Opcode opcode, std::string_view payload);
/// Appends a masked close frame with a status code (1000 = normal closure).
void append_close_frame(std::string& out, std::uint16_t status);

/// A control frame the server sent, for the caller to act on.
struct ControlFrame {
  Opcode opcode = Opcode::ping; ///< close, ping or pong
  std::string payload;          ///< at most 125 bytes; a close frame's status + reason
};

/// Cuts the server's frames out of the byte stream: the payload of binary frames (and
/// their continuations) goes to the caller's buffer, control frames are collected.
/// Frames from a server are never masked, control frames are never fragmented nor longer
/// than 125 bytes, and MQTT needs binary frames: anything else is a protocol violation
/// (ProtocolError 0x81), as is a frame after the server's close frame.
class FrameDecoder {
public:
  /// Consumes all of `in`: appends application data to `data`, control frames to
  /// `controls`. Keeps at most one partial frame header between calls.
  void decode(std::string_view in, std::string& data, std::vector<ControlFrame>& controls);
  /// True once the server's close frame was read.
  bool closed() const noexcept { return m_closed; }

private:
  void start_frame();

  std::string m_header;               ///< the partial header of the current frame
  std::uint64_t m_remaining = 0;      ///< payload bytes of the current frame still to come
  bool m_in_payload = false;          ///< the header is complete, the payload is streaming
  Opcode m_opcode = Opcode::binary;   ///< the current frame's opcode
  bool m_in_message = false;          ///< a fragmented binary message is open
  ControlFrame m_control;             ///< the control frame being read
  bool m_closed = false;
};

/// Parses a close frame's payload into a status code and reason ("1000 normal").
std::string describe_close(std::string_view payload);

} // namespace mqfleet::ws
