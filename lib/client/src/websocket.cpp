#include <mqfleet/websocket.hpp>

#include <mqfleet/error.hpp>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace mqfleet::ws {
namespace {

constexpr std::string_view k_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::array<unsigned char, 4> random_mask() {
  std::array<unsigned char, 4> mask{};
  if (RAND_bytes(mask.data(), 4) != 1) {
    // RAND_bytes only fails without an entropy source; a fixed mask still frames correctly.
    mask = {0x5a, 0xa5, 0x3c, 0xc3};
  }
  return mask;
}

void append_header(std::string& out, Opcode opcode, std::size_t size, const std::array<unsigned char, 4>& mask) {
  out += static_cast<char>(0x80 | static_cast<unsigned>(opcode)); // FIN: every frame is whole
  if (size < 126) {
    out += static_cast<char>(0x80 | size);
  } else if (size <= 0xffff) {
    out += static_cast<char>(0x80 | 126);
    out += static_cast<char>(size >> 8);
    out += static_cast<char>(size & 0xff);
  } else {
    out += static_cast<char>(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((static_cast<std::uint64_t>(size) >> shift) & 0xff);
  }
  out.append(reinterpret_cast<const char*>(mask.data()), 4);
}

void append_masked(std::string& out, std::string_view data, const std::array<unsigned char, 4>& mask) {
  const std::size_t start = out.size();
  out.append(data);
  char* p = out.data() + start;
  std::uint64_t wide = 0;
  for (int i = 0; i < 8; ++i) wide |= static_cast<std::uint64_t>(mask[static_cast<std::size_t>(i % 4)]) << (8 * i);
  std::size_t i = 0;
  for (; i + 8 <= data.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, p + i, 8);
    word ^= wide; // little-endian: byte k of the word meets mask[k % 4]
    std::memcpy(p + i, &word, 8);
  }
  for (; i < data.size(); ++i) p[i] = static_cast<char>(p[i] ^ static_cast<char>(mask[i % 4]));
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

[[noreturn]] void violation(const std::string& what) {
  throw ProtocolError(0x81, "the WebSocket server broke the protocol: " + what, "WebSocket",
                      "check that the URL points at an MQTT over WebSocket endpoint");
}

} // namespace

std::string accept_key(std::string_view key) {
  std::string text(key);
  text += k_guid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return base64(digest, sizeof digest);
}

ClientHandshake::ClientHandshake() {
  unsigned char nonce[16];
  if (RAND_bytes(nonce, sizeof nonce) != 1) {
    for (std::size_t i = 0; i < sizeof nonce; ++i) nonce[i] = static_cast<unsigned char>(i * 37 + 11);
  }
  m_key = base64(nonce, sizeof nonce);
}

std::string ClientHandshake::request(const std::string& host_header, const std::string& path) const {
  return fmt::format("GET {} HTTP/1.1\r\n"
                     "Host: {}\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: {}\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: mqtt\r\n"
                     "\r\n",
                     path.empty() ? "/" : path, host_header, m_key);
}

std::size_t ClientHandshake::parse_response(std::string_view received, const std::string& where) const {
  const std::size_t end = received.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (received.size() > k_max_handshake_response)
      throw ConnectError(-1, "the WebSocket server's answer to the upgrade has no end", where,
                         "check that the URL points at an MQTT over WebSocket endpoint");
    return 0;
  }
  const std::string_view head = received.substr(0, end);
  std::size_t line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  // "HTTP/1.1 101 Switching Protocols"
  if (status_line.substr(0, 5) != "HTTP/" || status_line.size() < 12)
    throw ConnectError(-1, "the server did not answer the WebSocket upgrade with HTTP", where,
                       "check the port: it must be the broker's WebSocket (HTTP) listener");
  const std::string_view code = status_line.substr(status_line.find(' ') + 1, 3);
  if (code != "101") {
    const std::string status(trim(status_line.substr(status_line.find(' ') + 1)));
    const char* hint = code == "404" ? "check the path in the URL (the broker's MQTT endpoint, often /mqtt)"
                       : (code == "401" || code == "403") ? "check the credentials the server wants for the upgrade"
                       : code == "400" ? "check that the server speaks MQTT over WebSocket (subprotocol mqtt)"
                                       : "check the URL and the server's WebSocket settings";
    throw ConnectError(-1, fmt::format("the server refused the WebSocket upgrade: HTTP {}", status), where, hint);
  }
  bool upgrade = false;
  bool connection = false;
  std::string accept;
  std::string protocol;
  while (line_end != std::string_view::npos) {
    const std::size_t next = head.find("\r\n", line_end + 2);
    const std::string_view line = head.substr(line_end + 2, next == std::string_view::npos ? std::string_view::npos : next - line_end - 2);
    line_end = next;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = lower(trim(line.substr(0, colon)));
    const std::string_view value = trim(line.substr(colon + 1));
    if (name == "upgrade") upgrade = lower(value) == "websocket";
    else if (name == "connection") connection = lower(value).find("upgrade") != std::string::npos;
    else if (name == "sec-websocket-accept") accept = std::string(value);
    else if (name == "sec-websocket-protocol") protocol = lower(value);
  }
  if (!upgrade || !connection)
    throw ConnectError(-1, "the server's answer to the WebSocket upgrade lacks the Upgrade/Connection headers", where,
                       "check that the URL points at a WebSocket endpoint");
  if (accept != accept_key(m_key))
    throw ConnectError(-1, "the server's Sec-WebSocket-Accept does not match the key sent", where,
                       "check for a proxy between mqfleet and the broker that rewrites the upgrade");
  if (!protocol.empty() && protocol != "mqtt")
    throw ConnectError(-1, fmt::format("the server chose the WebSocket subprotocol '{}', not mqtt", protocol), where,
                       "check that the endpoint speaks MQTT over WebSocket");
  return end + 4;
}

void append_binary_frame(std::string& out, std::string_view data) {
  const auto mask = random_mask();
  append_header(out, Opcode::binary, data.size(), mask);
  append_masked(out, data, mask);
}

void append_control_frame(std::string& out, Opcode opcode, std::string_view payload) {
  payload = payload.substr(0, 125);
  const auto mask = random_mask();
  append_header(out, opcode, payload.size(), mask);
  append_masked(out, payload, mask);
}

void append_close_frame(std::string& out, std::uint16_t status) {
  const char payload[2] = {static_cast<char>(status >> 8), static_cast<char>(status & 0xff)};
  append_control_frame(out, Opcode::close, std::string_view(payload, 2));
}

void FrameDecoder::start_frame() {
  const auto b0 = static_cast<unsigned char>(m_header[0]);
  const auto b1 = static_cast<unsigned char>(m_header[1]);
  const bool fin = (b0 & 0x80) != 0;
  if ((b0 & 0x70) != 0) violation("a frame has reserved bits set (no extension was agreed)");
  if ((b1 & 0x80) != 0) violation("a frame from the server is masked");
  const auto opcode = static_cast<Opcode>(b0 & 0x0f);
  std::uint64_t length = b1 & 0x7f;
  if (length == 126) {
    length = (static_cast<std::uint64_t>(static_cast<unsigned char>(m_header[2])) << 8) |
             static_cast<unsigned char>(m_header[3]);
  } else if (length == 127) {
    length = 0;
    for (int i = 2; i < 10; ++i) length = (length << 8) | static_cast<unsigned char>(m_header[static_cast<std::size_t>(i)]);
    if ((length >> 63) != 0) violation("a frame length has its most significant bit set");
  }
  switch (opcode) {
  case Opcode::binary:
    if (m_in_message) violation("a new binary frame interrupts a fragmented message");
    m_in_message = !fin;
    break;
  case Opcode::continuation:
    if (!m_in_message) violation("a continuation frame without a message to continue");
    m_in_message = !fin;
    break;
  case Opcode::close:
  case Opcode::ping:
  case Opcode::pong:
    if (!fin || length > 125) violation("a control frame is fragmented or longer than 125 bytes");
    m_control = ControlFrame{opcode, {}};
    break;
  case Opcode::text: violation("a text frame (MQTT travels in binary frames)");
  default: violation(fmt::format("a frame with the unknown opcode {}", static_cast<unsigned>(opcode)));
  }
  m_opcode = opcode;
  m_remaining = length;
  m_in_payload = true;
}

void FrameDecoder::decode(std::string_view in, std::string& data, std::vector<ControlFrame>& controls) {
  while (!in.empty() || (m_in_payload && m_remaining == 0)) {
    if (!m_in_payload) {
      if (m_closed) violation("a frame after the server's close frame");
      // Gather the header: 2 bytes, then 2 or 8 more for the extended length.
      std::size_t need = 2;
      if (m_header.size() >= 2) {
        const auto len7 = static_cast<unsigned char>(m_header[1]) & 0x7f;
        need = len7 == 126 ? 4 : len7 == 127 ? 10 : 2;
      }
      while (m_header.size() < need && !in.empty()) {
        m_header += in.front();
        in.remove_prefix(1);
        if (m_header.size() == 2) {
          const auto len7 = static_cast<unsigned char>(m_header[1]) & 0x7f;
          need = len7 == 126 ? 4 : len7 == 127 ? 10 : 2;
        }
      }
      if (m_header.size() < need) return;
      start_frame();
      m_header.clear();
    }
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(m_remaining, in.size()));
    if (m_opcode == Opcode::binary || m_opcode == Opcode::continuation) data.append(in.substr(0, take));
    else m_control.payload.append(in.substr(0, take));
    in.remove_prefix(take);
    m_remaining -= take;
    if (m_remaining > 0) return;
    m_in_payload = false;
    if (m_opcode == Opcode::close || m_opcode == Opcode::ping || m_opcode == Opcode::pong) {
      if (m_opcode == Opcode::close) m_closed = true;
      controls.push_back(std::move(m_control));
      m_control = {};
    }
  }
}

std::string describe_close(std::string_view payload) {
  if (payload.size() < 2) return "no status";
  const unsigned status = (static_cast<unsigned>(static_cast<unsigned char>(payload[0])) << 8) |
                          static_cast<unsigned char>(payload[1]);
  std::string text = std::to_string(status);
  if (payload.size() > 2) text += " " + std::string(payload.substr(2));
  return text;
}

} // namespace mqfleet::ws
