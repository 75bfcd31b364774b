#include <mqfleet/mqtt/frame.hpp>

#include "wire.hpp"

#include <mqfleet/error.hpp>

#include <algorithm>

namespace mqfleet::mqtt {

std::size_t write_variable_byte_integer(std::uint32_t value, char* out) noexcept {
  std::size_t n = 0;
  do {
    std::uint8_t b = value & 0x7F;
    value >>= 7;
    if (value != 0) b |= 0x80;
    out[n++] = static_cast<char>(b);
  } while (value != 0 && n < 4);
  return n;
}

void append_variable_byte_integer(std::uint32_t value, std::string& out) {
  if (value > k_max_variable_byte_integer) {
    throw ProtocolError(detail::k_packet_too_large, "value exceeds the variable byte integer maximum");
  }
  char buf[4];
  out.append(buf, write_variable_byte_integer(value, buf));
}

std::optional<Frame> parse_frame(std::string_view data, std::size_t max_packet_size) {
  if (data.empty()) return std::nullopt;
  const auto first = static_cast<std::uint8_t>(data[0]);
  if ((first >> 4) == 0) {
    detail::fail(detail::k_malformed, "reserved packet type 0", "fixed header");
  }
  std::uint32_t remaining = 0;
  std::size_t i = 1;
  for (;; ++i) {
    if (i > 4) {
      detail::fail(detail::k_malformed, "remaining length is longer than 4 bytes", "fixed header");
    }
    if (i >= data.size()) return std::nullopt;
    const auto b = static_cast<std::uint8_t>(data[i]);
    remaining |= static_cast<std::uint32_t>(b & 0x7F) << (7 * (i - 1));
    if ((b & 0x80) == 0) {
      if (i > 1 && b == 0) {
        detail::fail(detail::k_malformed, "remaining length is not minimally encoded", "fixed header");
      }
      break;
    }
  }
  const std::size_t header = i + 1;
  const std::size_t total = header + remaining;
  if (total > max_packet_size) {
    throw ProtocolError(detail::k_packet_too_large,
                        "packet of " + std::to_string(total) + " bytes exceeds the maximum of " +
                            std::to_string(max_packet_size),
                        "fixed header", "raise the maximum packet size or send smaller packets");
  }
  if (data.size() < total) return std::nullopt;
  return Frame{first, data.substr(header, remaining), total};
}

FrameReader::FrameReader(std::size_t max_packet_size) : m_max_packet_size(max_packet_size) {}

void FrameReader::set_max_packet_size(std::size_t max_packet_size) noexcept {
  m_max_packet_size = max_packet_size;
}

void FrameReader::compact() {
  if (m_begin == m_end) {
    m_begin = m_end = 0;
  } else if (m_begin > 0 && m_begin >= m_buffer.size() / 2) {
    std::copy(m_buffer.begin() + static_cast<std::ptrdiff_t>(m_begin),
              m_buffer.begin() + static_cast<std::ptrdiff_t>(m_end), m_buffer.begin());
    m_end -= m_begin;
    m_begin = 0;
  }
}

void FrameReader::feed(std::string_view bytes) {
  const std::span<char> space = prepare(bytes.size());
  std::copy(bytes.begin(), bytes.end(), space.begin());
  commit(bytes.size());
}

std::span<char> FrameReader::prepare(std::size_t n) {
  compact();
  if (m_buffer.size() - m_end < n) m_buffer.resize(m_end + n);
  return {m_buffer.data() + m_end, n};
}

void FrameReader::commit(std::size_t n) noexcept {
  m_end = std::min(m_end + n, m_buffer.size());
}

std::optional<Frame> FrameReader::next() {
  const std::string_view data(m_buffer.data() + m_begin, m_end - m_begin);
  std::optional<Frame> frame = parse_frame(data, m_max_packet_size);
  if (frame) m_begin += frame->size;
  return frame;
}

} // namespace mqfleet::mqtt
