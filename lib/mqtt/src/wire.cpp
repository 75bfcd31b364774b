#include "wire.hpp"

#include <mqfleet/mqtt/frame.hpp>
#include <mqfleet/mqtt/utf8.hpp>

namespace mqfleet::mqtt::detail {

void fail(int reason_code, std::string what, std::string_view packet, std::string_view field) {
  std::string where(packet);
  if (!field.empty()) {
    where += ' ';
    where += field;
  }
  throw ProtocolError(reason_code, std::move(what), std::move(where));
}

std::uint32_t Reader::varint(std::string_view field) {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    const std::uint8_t b = u8(field);
    value |= static_cast<std::uint32_t>(b & 0x7F) << (7 * i);
    if ((b & 0x80) == 0) {
      if (i > 0 && b == 0) fail(k_malformed, "variable byte integer is not minimally encoded", m_packet, field);
      return value;
    }
  }
  fail(k_malformed, "variable byte integer is longer than 4 bytes", m_packet, field);
}

std::string_view Reader::utf8(std::string_view field) {
  const std::string_view s = binary(field);
  if (is_valid_utf8(s)) return s;
  fail(k_malformed, std::string(field) + " " + std::string(describe(check_utf8(s).status)), m_packet, field);
}

void Reader::expect_end() {
  if (!done()) {
    fail(k_malformed, std::to_string(remaining()) + " unexpected bytes at the end of the packet", m_packet);
  }
}

void Reader::truncated(std::string_view field) const {
  fail(k_malformed, "packet is truncated in " + std::string(field), m_packet, field);
}

void Writer::varint(std::uint32_t v) noexcept {
  m_p += write_variable_byte_integer(v, m_p);
}

std::size_t string_size(std::string_view s, std::string_view field) {
  if (s.size() > k_max_string_length) {
    throw ProtocolError(k_malformed, std::string(field) + " is longer than 65535 bytes",
                        std::string(field), "shorten it");
  }
  return 2 + s.size();
}

std::size_t frame_size(std::size_t body_size) {
  if (body_size > k_max_variable_byte_integer) {
    throw ProtocolError(k_packet_too_large, "packet is larger than MQTT allows (256 MiB)");
  }
  return 1 + variable_byte_integer_size(static_cast<std::uint32_t>(body_size)) + body_size;
}

} // namespace mqfleet::mqtt::detail
