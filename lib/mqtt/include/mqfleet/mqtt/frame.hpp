#pragma once
// Framing: the fixed header (type, flags, remaining length) and an incremental reader
// that cuts a byte stream into complete frames, refusing oversized frames from their
// header alone, before buffering their body.

#include <mqfleet/mqtt/types.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mqfleet::mqtt {

/// One complete control packet as received: the first byte and the body (variable header
/// and payload, i.e. "remaining length" bytes). body is a view into the buffer it was
/// parsed from.
struct Frame {
  std::uint8_t first_byte = 0;
  std::string_view body;
  std::size_t size = 0; ///< Whole frame: fixed header + body.

  /// The packet type (high nibble). May be 0 (reserved) only if the parser allowed it.
  PacketType type() const noexcept { return static_cast<PacketType>(first_byte >> 4); }
  /// The fixed-header flags (low nibble).
  std::uint8_t flags() const noexcept { return first_byte & 0x0F; }
};

/// Number of bytes the variable byte integer encoding of value takes (1..4).
constexpr std::size_t variable_byte_integer_size(std::uint32_t value) noexcept {
  return value < 128 ? 1 : value < 16'384 ? 2 : value < 2'097'152 ? 3 : 4;
}

/// Writes value (<= 268,435,455) as a variable byte integer to out; returns bytes written.
std::size_t write_variable_byte_integer(std::uint32_t value, char* out) noexcept;

/// Appends value as a variable byte integer. Throws ProtocolError 0x95 above the maximum.
void append_variable_byte_integer(std::uint32_t value, std::string& out);

/// Parses one frame from the front of data. Returns nullopt when data does not yet hold a
/// whole frame. Throws ProtocolError: 0x81 for packet type 0, a remaining length longer
/// than 4 bytes or not minimally encoded; 0x95 when the frame would exceed
/// max_packet_size (checked as soon as the remaining length is known).
std::optional<Frame> parse_frame(std::string_view data, std::size_t max_packet_size);

/// Cuts a byte stream into frames. Feed it what the socket delivered (or read straight
/// into prepare()/commit()), then call next() until it returns nullopt. A frame's body is
/// valid until the next call to feed(), prepare() or next(). Memory is bounded by the
/// largest frame allowed plus one read.
class FrameReader {
public:
  /// A reader refusing frames larger than max_packet_size bytes (with 0x95).
  explicit FrameReader(std::size_t max_packet_size = k_default_max_packet_size);

  /// Changes the limit, e.g. after CONNECT/CONNACK negotiated Maximum Packet Size.
  void set_max_packet_size(std::size_t max_packet_size) noexcept;
  /// The current limit.
  std::size_t max_packet_size() const noexcept { return m_max_packet_size; }

  /// Copies bytes received from the network into the reader.
  void feed(std::string_view bytes);
  /// Returns writable space for at least n bytes, for reading from a socket directly.
  std::span<char> prepare(std::size_t n);
  /// Marks n bytes of the space returned by prepare() as received.
  void commit(std::size_t n) noexcept;

  /// The next complete frame, or nullopt when more bytes are needed. Throws like
  /// parse_frame; after a throw the stream is unusable (close the connection).
  std::optional<Frame> next();

  /// Bytes received but not yet returned as frames.
  std::size_t buffered() const noexcept { return m_end - m_begin; }

private:
  void compact();

  std::string m_buffer;
  std::size_t m_begin = 0;
  std::size_t m_end = 0;
  std::size_t m_max_packet_size;
};

} // namespace mqfleet::mqtt
