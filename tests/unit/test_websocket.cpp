// The WebSocket layer of the clients without sockets (mqfleet/websocket.hpp): the opening
// handshake, masked frames out, server frames in — whole, split at every byte,
// fragmented, with control frames between fragments — and every violation refused.
#include <mqfleet/error.hpp>
#include <mqfleet/websocket.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace mqfleet;
using namespace mqfleet::ws;

namespace {

// A server frame (never masked).
std::string server_frame(std::uint8_t first_byte, const std::string& payload) {
  std::string out(1, static_cast<char>(first_byte));
  if (payload.size() < 126) {
    out += static_cast<char>(payload.size());
  } else if (payload.size() <= 0xffff) {
    out += static_cast<char>(126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size() & 0xff);
  } else {
    out += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((payload.size() >> shift) & 0xff);
  }
  return out + payload;
}

// Unmasks one client frame the way a server does; returns opcode and payload.
std::pair<int, std::string> read_client_frame(const std::string& frame) {
  const auto b1 = static_cast<unsigned char>(frame[1]);
  EXPECT_TRUE(b1 & 0x80) << "client frames must be masked";
  std::size_t length = b1 & 0x7f;
  std::size_t at = 2;
  if (length == 126) {
    length = (static_cast<unsigned char>(frame[2]) << 8) | static_cast<unsigned char>(frame[3]);
    at = 4;
  } else if (length == 127) {
    length = 0;
    for (int i = 2; i < 10; ++i) length = (length << 8) | static_cast<unsigned char>(frame[static_cast<std::size_t>(i)]);
    at = 10;
  }
  const std::string mask = frame.substr(at, 4);
  std::string payload = frame.substr(at + 4);
  EXPECT_EQ(payload.size(), length);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(payload[i] ^ mask[i % 4]);
  return {static_cast<unsigned char>(frame[0]) & 0x0f, payload};
}

std::string ok_response(const std::string& key, const std::string& extra = "Sec-WebSocket-Protocol: mqtt\r\n") {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
         accept_key(key) + "\r\n" + extra + "\r\n";
}

TEST(WebSocketHandshake, AcceptKeyIsTheRfcExample) {
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocketHandshake, RequestAsksForTheMqttSubprotocol) {
  const ClientHandshake handshake;
  EXPECT_EQ(handshake.key().size(), 24u);
  EXPECT_NE(handshake.key(), ClientHandshake().key());
  const std::string request = handshake.request("broker:8080", "/mqtt");
  EXPECT_EQ(request.rfind("GET /mqtt HTTP/1.1\r\n", 0), 0u);
  for (const char* header : {"Host: broker:8080\r\n", "Upgrade: websocket\r\n", "Connection: Upgrade\r\n",
                             "Sec-WebSocket-Version: 13\r\n", "Sec-WebSocket-Protocol: mqtt\r\n"})
    EXPECT_NE(request.find(header), std::string::npos) << header;
  EXPECT_NE(request.find("Sec-WebSocket-Key: " + handshake.key() + "\r\n"), std::string::npos);
  EXPECT_EQ(request.substr(request.size() - 4), "\r\n\r\n");
}

TEST(WebSocketHandshake, ValidAnswerIsMeasuredUpToItsEnd) {
  const ClientHandshake handshake("dGhlIHNhbXBsZSBub25jZQ==");
  const std::string answer = ok_response(handshake.key());
  EXPECT_EQ(handshake.parse_response(answer.substr(0, answer.size() - 1), "here"), 0u) << "incomplete";
  EXPECT_EQ(handshake.parse_response(answer + "\x82\x01x", "here"), answer.size());
  // Header names are case-insensitive, and a server may leave the subprotocol out.
  const std::string lower = "HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n"
                            "sec-websocket-accept: " + accept_key(handshake.key()) + "\r\n\r\n";
  EXPECT_EQ(handshake.parse_response(lower, "here"), lower.size());
}

TEST(WebSocketHandshake, RefusalsNameTheStatusAndWhatToCheck) {
  const ClientHandshake handshake;
  try {
    handshake.parse_response("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "ws://h:1/x");
    FAIL() << "a 404 was accepted";
  } catch (const ConnectError& error) {
    EXPECT_NE(std::string(error.what()).find("HTTP 404 Not Found"), std::string::npos) << error.what();
    EXPECT_NE(error.hint().find("path"), std::string::npos);
    EXPECT_EQ(error.where(), "ws://h:1/x");
  }
  EXPECT_THROW(handshake.parse_response(ok_response("some other key"), "w"), ConnectError);
  EXPECT_THROW(handshake.parse_response(ok_response(handshake.key(), "Sec-WebSocket-Protocol: chat\r\n"), "w"),
               ConnectError);
  EXPECT_THROW(handshake.parse_response("SSH-2.0-OpenSSH\r\n\r\n", "w"), ConnectError);
  EXPECT_THROW(handshake.parse_response(std::string(k_max_handshake_response + 1, 'a'), "w"), ConnectError);
}

TEST(WebSocketFrames, ClientFramesAreMaskedAndCarryThePayload) {
  for (const std::size_t size : std::vector<std::size_t>{0, 1, 125, 126, 65535, 65536, 100000}) {
    std::string payload(size, '\0');
    for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<char>(i * 7);
    std::string frame;
    append_binary_frame(frame, payload);
    const auto [opcode, got] = read_client_frame(frame);
    EXPECT_EQ(opcode, 2);
    EXPECT_EQ(got, payload) << size;
    EXPECT_EQ(static_cast<unsigned char>(frame[0]) & 0x80, 0x80) << "FIN";
  }
  std::string close;
  append_close_frame(close, 1000);
  EXPECT_EQ(read_client_frame(close), (std::pair<int, std::string>{8, std::string("\x03\xe8", 2)}));
}

TEST(WebSocketFrames, DecodesSplitFramesAtEveryByte) {
  const std::string big(70000, 'b');
  const std::string stream = server_frame(0x82, "hello") + server_frame(0x82, std::string(300, 'm')) +
                             server_frame(0x82, big) + server_frame(0x82, "");
  const std::string expected = "hello" + std::string(300, 'm') + big;
  for (const std::size_t chunk : std::vector<std::size_t>{1, 2, 3, 7, 126, 4096, stream.size()}) {
    FrameDecoder decoder;
    std::string data;
    std::vector<ControlFrame> controls;
    for (std::size_t i = 0; i < stream.size(); i += chunk)
      decoder.decode(std::string_view(stream).substr(i, chunk), data, controls);
    EXPECT_EQ(data, expected) << "chunk " << chunk;
    EXPECT_TRUE(controls.empty());
  }
}

TEST(WebSocketFrames, FragmentsJoinAndControlFramesMayComeBetween) {
  FrameDecoder decoder;
  std::string data;
  std::vector<ControlFrame> controls;
  decoder.decode(server_frame(0x02, "ab") + server_frame(0x89, "are you there") + server_frame(0x00, "cd") +
                     server_frame(0x80, "ef") + server_frame(0x8a, "") + server_frame(0x88, "\x03\xe8" "bye"),
                 data, controls);
  EXPECT_EQ(data, "abcdef");
  ASSERT_EQ(controls.size(), 3u);
  EXPECT_EQ(controls[0].opcode, Opcode::ping);
  EXPECT_EQ(controls[0].payload, "are you there");
  EXPECT_EQ(controls[1].opcode, Opcode::pong);
  EXPECT_EQ(controls[2].opcode, Opcode::close);
  EXPECT_EQ(describe_close(controls[2].payload), "1000 bye");
  EXPECT_TRUE(decoder.closed());
}

TEST(WebSocketFrames, ViolationsAreProtocolErrors) {
  const std::vector<std::pair<const char*, std::string>> bad = {
      {"masked server frame", std::string("\x82\x81\x01\x02\x03\x04x", 7)},
      {"text frame", server_frame(0x81, "x")},
      {"reserved bit", server_frame(0xc2, "x")},
      {"unknown opcode", server_frame(0x83, "x")},
      {"long control frame", server_frame(0x89, std::string(126, 'p'))},
      {"fragmented control frame", server_frame(0x09, "p")},
      {"continuation without a start", server_frame(0x80, "x")},
      {"binary inside a fragmented message", server_frame(0x02, "a") + server_frame(0x82, "b")},
      {"frame after close", server_frame(0x88, "") + server_frame(0x82, "late")},
      {"64-bit length with the top bit", std::string("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x01", 10)},
  };
  for (const auto& [name, bytes] : bad) {
    FrameDecoder decoder;
    std::string data;
    std::vector<ControlFrame> controls;
    try {
      decoder.decode(bytes, data, controls);
      ADD_FAILURE() << name << " was accepted";
    } catch (const ProtocolError& error) {
      EXPECT_EQ(error.reason_code(), 0x81) << name;
    }
  }
}

} // namespace
