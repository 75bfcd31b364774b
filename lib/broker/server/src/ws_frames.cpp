#include "ws_frames.hpp"

#include <mqfleet/error.hpp>

#include <algorithm>

namespace mqfleet::broker {
namespace {

constexpr std::uint8_t k_continuation = 0, k_text = 1, k_binary = 2, k_close = 8, k_ping = 9, k_pong = 10;

[[noreturn]] void violation(const std::string& what) {
  throw ProtocolError(0x81, "WebSocket protocol violation: " + what, "MQTT over WebSocket",
                      "send MQTT in masked binary frames (RFC 6455, MQTT 5.0 section 6)");
}

/// The header's length for the first two bytes `b1` (extended length and mask key).
std::size_t header_size(unsigned char b1) {
  const unsigned len7 = b1 & 0x7f;
  return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((b1 & 0x80) != 0 ? 4 : 0);
}

} // namespace

void WsClientFrames::start_frame() {
  const unsigned char b0 = m_header[0];
  const unsigned char b1 = m_header[1];
  const bool fin = (b0 & 0x80) != 0;
  if ((b0 & 0x70) != 0) violation("a frame has reserved bits set (no extension was agreed)");
  if ((b1 & 0x80) == 0) violation("a frame from the client is not masked");
  const std::uint8_t opcode = b0 & 0x0f;
  std::uint64_t length = b1 & 0x7f;
  std::size_t at = 2;
  if (length == 126) {
    length = (static_cast<std::uint64_t>(m_header[2]) << 8) | m_header[3];
    at = 4;
  } else if (length == 127) {
    length = 0;
    for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | m_header[i];
    if ((length >> 63) != 0) violation("a frame length has its most significant bit set");
    at = 10;
  }
  std::copy(m_header + at, m_header + at + 4, m_mask);
  switch (opcode) {
  case k_binary:
    if (m_in_message) violation("a new binary frame interrupts a fragmented message");
    m_in_message = !fin;
    break;
  case k_continuation:
    if (!m_in_message) violation("a continuation frame without a message to continue");
    m_in_message = !fin;
    break;
  case k_close:
  case k_ping:
  case k_pong:
    if (!fin || length > 125) violation("a control frame is fragmented or longer than 125 bytes");
    m_control = WsControl{opcode, {}};
    break;
  case k_text: violation("a text frame (MQTT travels in binary frames)");
  default: violation("a frame with the unknown opcode " + std::to_string(opcode));
  }
  m_opcode = opcode;
  m_remaining = length;
  m_offset = 0;
  m_in_payload = true;
}

void WsClientFrames::decode(std::string_view in, std::string& data, std::vector<WsControl>& controls) {
  while (!in.empty() || (m_in_payload && m_remaining == 0)) {
    if (!m_in_payload) {
      if (m_closed) violation("a frame after the close frame");
      std::size_t need = m_header_size < 2 ? 2 : header_size(m_header[1]);
      while (m_header_size < need && !in.empty()) {
        m_header[m_header_size++] = static_cast<unsigned char>(in.front());
        in.remove_prefix(1);
        if (m_header_size == 2) need = header_size(m_header[1]);
      }
      if (m_header_size < need) return;
      start_frame();
      m_header_size = 0;
    }
    const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(m_remaining, in.size()));
    const bool is_data = m_opcode == k_binary || m_opcode == k_continuation;
    std::string& out = is_data ? data : m_control.payload;
    const std::size_t start = out.size();
    out.append(in.data(), take);
    for (std::size_t i = 0; i < take; ++i)
      out[start + i] = static_cast<char>(static_cast<unsigned char>(out[start + i]) ^ m_mask[(m_offset + i) & 3]);
    m_offset += take;
    in.remove_prefix(take);
    m_remaining -= take;
    if (m_remaining > 0) return;
    m_in_payload = false;
    if (!is_data) {
      if (m_opcode == k_close) m_closed = true;
      controls.push_back(std::move(m_control));
      m_control = {};
    }
  }
}

} // namespace mqfleet::broker
