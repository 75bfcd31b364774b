#pragma once
// Private helpers of the codec: a bounds-checked reader over a frame body and a raw
// writer into memory whose size was computed beforehand.

#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/types.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace mqfleet::mqtt::detail {

inline constexpr int k_malformed = 0x81;
inline constexpr int k_protocol_error = 0x82;
inline constexpr int k_unsupported_version = 0x84;
inline constexpr int k_topic_filter_invalid = 0x8F;
inline constexpr int k_topic_name_invalid = 0x90;
inline constexpr int k_packet_too_large = 0x95;

/// Throws ProtocolError with the reason code; where names the packet and field.
[[noreturn]] void fail(int reason_code, std::string what, std::string_view packet,
                       std::string_view field = {});

/// Reads big-endian fields from a frame body; every read is bounds-checked and throws
/// 0x81 "truncated" naming the packet and field.
class Reader {
public:
  Reader(std::string_view data, std::string_view packet) noexcept
      : m_data(data), m_packet(packet) {}

  std::uint8_t u8(std::string_view field) {
    need(1, field);
    return static_cast<std::uint8_t>(m_data[m_pos++]);
  }
  std::uint16_t u16(std::string_view field) {
    need(2, field);
    const auto hi = static_cast<std::uint8_t>(m_data[m_pos]);
    const auto lo = static_cast<std::uint8_t>(m_data[m_pos + 1]);
    m_pos += 2;
    return static_cast<std::uint16_t>((hi << 8) | lo);
  }
  std::uint32_t u32(std::string_view field) {
    need(4, field);
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(m_data[m_pos++]);
    return v;
  }
  /// A variable byte integer: at most 4 bytes, minimally encoded.
  std::uint32_t varint(std::string_view field);
  std::string_view bytes(std::size_t n, std::string_view field) {
    need(n, field);
    const std::string_view out = m_data.substr(m_pos, n);
    m_pos += n;
    return out;
  }
  /// Two-byte length followed by that many bytes.
  std::string_view binary(std::string_view field) { return bytes(u16(field), field); }
  /// Like binary, and checked against the MQTT UTF-8 rules (0x81).
  std::string_view utf8(std::string_view field);
  std::string_view rest() noexcept {
    const std::string_view out = m_data.substr(m_pos);
    m_pos = m_data.size();
    return out;
  }
  std::size_t remaining() const noexcept { return m_data.size() - m_pos; }
  bool done() const noexcept { return m_pos == m_data.size(); }
  /// Throws 0x81 when bytes are left over.
  void expect_end();
  std::string_view packet() const noexcept { return m_packet; }

private:
  void need(std::size_t n, std::string_view field) {
    if (m_data.size() - m_pos < n) truncated(field);
  }
  [[noreturn]] void truncated(std::string_view field) const;

  std::string_view m_data;
  std::size_t m_pos = 0;
  std::string_view m_packet;
};

/// Writes big-endian fields to memory known to be large enough.
class Writer {
public:
  explicit Writer(char* out) noexcept : m_p(out) {}
  void u8(std::uint8_t v) noexcept { *m_p++ = static_cast<char>(v); }
  void u16(std::uint16_t v) noexcept {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) noexcept {
    for (int shift = 24; shift >= 0; shift -= 8) u8(static_cast<std::uint8_t>(v >> shift));
  }
  void varint(std::uint32_t v) noexcept;
  void bytes(std::string_view s) noexcept {
    if (!s.empty()) std::memcpy(m_p, s.data(), s.size());
    m_p += s.size();
  }
  /// Two-byte length then the bytes; the length was checked when sizing.
  void string(std::string_view s) noexcept {
    u16(static_cast<std::uint16_t>(s.size()));
    bytes(s);
  }
  char* position() const noexcept { return m_p; }

private:
  char* m_p;
};

/// Size of a length-prefixed string; throws 0x81 naming the field when it is too long.
std::size_t string_size(std::string_view s, std::string_view field);

/// Size of a whole packet with this body size; throws 0x95 above the protocol maximum.
std::size_t frame_size(std::size_t body_size);

} // namespace mqfleet::mqtt::detail
