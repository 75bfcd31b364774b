// The HTTP listener's side of Connection (Boost.Beast): HTTP/1.1 requests in, replies
// out (http_api.cpp answers them), and the upgrade to MQTT over WebSocket on /mqtt.
// After the upgrade the connection reads the socket as its TCP path does (drained per
// wake-up, connection.cpp), cuts the client's frames with WsClientFrames (ws_frames.cpp)
// into the same on_bytes() as a TCP connection, and writes each batch of MQTT bytes as one
// binary frame (write_http), pongs and the answer to a close frame in the same writes:
// the MQTT side (dispatch.cpp, handle_*.cpp) cannot tell the transports apart. Beast
// answers the opening handshake and serves the dashboards' live socket. (Beast's own
// reads hand over one frame per asynchronous read, and its writes take several posted
// steps, so each small PUBLISH cost handlers and a write of its own: issue 15 item 7.)
//
// Deadlines: a connection of the HTTP listener starts with the MQTT CONNECT deadline
// (`--connect-timeout`, 30 s by default; Connection::start). Only a complete request moves
// it, so a slow request, a header flood or a half-open upgrade is closed by it, whatever
// it sends. Limits (http_request_limits.cpp): headers 16 KiB (431), body 256 KiB (413).

#include "connection.hpp"

#include "broker_state.hpp"
#include "http_api.hpp"
#include "http_request_limits.hpp"
#include "live_hub.hpp"
#include "server.hpp"
#include "ws_frames.hpp"

#include <mqfleet/error.hpp>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <array>
#include <nlohmann/json.hpp>

namespace mqfleet::broker {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

/// The HTTP state of a connection of the HTTP listener.
struct Http {
  using PlainWs = websocket::stream<Connection::Socket&>;
  using TlsWs = websocket::stream<asio::ssl::stream<Connection::Socket&>&>;

  beast::flat_buffer buffer{k_http_request_buffer}; ///< the request being read, at most its limits
  std::optional<HttpRequestParser> parser;
  http::response<http::string_body> response;
  std::unique_ptr<PlainWs> ws;  ///< after an upgrade on the plain listener
  std::unique_ptr<TlsWs> wss;   ///< after an upgrade on the TLS listener
  std::vector<char> ws_read_buffer; ///< the live socket's reads
  bool upgraded = false;
  // MQTT over WebSocket after the upgrade: the client's frames in, and what goes out
  // besides the batched MQTT bytes (written by write_http, one write at a time).
  WsClientFrames frames;
  std::optional<std::string> pong_due; ///< the latest ping's payload, not answered yet
  bool close_due = false;              ///< the client's close frame is to be answered
  std::string ws_head;                 ///< control frames and the binary frame's header being written
  // A dashboard's live socket (/console/{account}/live): the subscription and the
  // message being written.
  LiveHub* hub = nullptr;
  std::shared_ptr<LiveFeed> live;
  std::string live_out;
  bool live_writing = false;
  bool live_open = false; ///< the WebSocket handshake is done
  // A streamed reply (HttpReply::stream, the bucket export): its source, the head, and
  // the part being written. One part at a time: the next is read once this one is sent.
  std::shared_ptr<HttpBodySource> source;
  std::unique_ptr<http::response<http::empty_body>> stream_head;
  std::unique_ptr<http::response_serializer<http::empty_body>> stream_serializer;
  std::string stream_part;
  bool stream_chunked = true; ///< false for an HTTP/1.0 client: the body ends with the connection

  Http() = default;
  Http(const Http&) = delete;
  Http& operator=(const Http&) = delete;
  ~Http() { unsubscribe(); }
  /// Ends the live subscription (idempotent): no drain is posted after it returns.
  void unsubscribe() noexcept {
    if (hub != nullptr && live) hub->unsubscribe(live.get());
    hub = nullptr;
  }
};

Http* new_http() { return new Http(); }
void HttpDeleter::operator()(Http* http) const noexcept { delete http; }

namespace {

template <class Ws> void configure_ws(Ws& ws, std::uint32_t max_packet_size) {
  ws.binary(true);
  // One WebSocket message carries one or a few MQTT packets; bigger is refused.
  ws.read_message_max(static_cast<std::uint64_t>(max_packet_size) * 2 + 1024);
  websocket::stream_base::timeout timeout{};
  timeout.handshake_timeout = std::chrono::seconds(30);
  timeout.idle_timeout = websocket::stream_base::none(); // MQTT keepalive decides (keepalive_check)
  timeout.keep_alive_pings = false;
  ws.set_option(timeout);
  ws.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
    response.set(http::field::sec_websocket_protocol, "mqtt");
    response.set(http::field::server, "mqfleet");
  }));
}

/// The live socket reads nothing but control frames and small client messages.
constexpr std::size_t k_live_read_max = 4 * 1024;
/// A live socket whose peer answers no ping within this is closed (Beast pings at half).
constexpr auto k_live_idle_timeout = std::chrono::seconds(30);

template <class Ws> void configure_live_ws(Ws& ws) {
  ws.text(true);
  ws.read_message_max(k_live_read_max);
  websocket::stream_base::timeout timeout{};
  timeout.handshake_timeout = std::chrono::seconds(30);
  timeout.idle_timeout = k_live_idle_timeout;
  timeout.keep_alive_pings = true;
  ws.set_option(timeout);
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.set(http::field::server, "mqfleet"); }));
}

} // namespace

void Connection::close_http() noexcept {
  m_http->unsubscribe();
  m_http->source.reset(); // a page being read keeps its own reference
}

void Connection::on_ws_bytes(std::string_view bytes) {
  if (m_closing) {
    on_bytes(bytes); // saying goodbye: read and discard
    return;
  }
  Http& h = *m_http;
  std::string data;
  std::vector<WsControl> controls;
  try {
    h.frames.decode(bytes, data, controls);
  } catch (const ProtocolError& e) {
    m_client.set_close_reason(e.what());
    close_now();
    return;
  }
  if (!data.empty()) on_bytes(data);
  for (auto& control : controls) {
    if (m_closed || m_closing) return;
    if (control.opcode == 9) { // ping: the latest one is answered with a pong
      h.pong_due = std::move(control.payload);
      send_ws_control();
    } else if (control.opcode == 8) { // close: answered with a close, then goodbye
      if (!m_client.close_reason_text) m_client.set_close_reason("WebSocket close frame");
      h.close_due = true;
      send_ws_control();
      close_after_flush();
      return;
    }
  }
}

namespace {

/// Appends the header of an unmasked server frame (RFC 6455 §5.2).
void append_frame_header(std::string& out, std::uint8_t opcode, std::size_t length) {
  out += static_cast<char>(0x80 | opcode);
  if (length < 126) {
    out += static_cast<char>(length);
  } else if (length <= 0xffff) {
    out += static_cast<char>(126);
    out += static_cast<char>(length >> 8);
    out += static_cast<char>(length & 0xff);
  } else {
    out += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((static_cast<std::uint64_t>(length) >> shift) & 0xff);
  }
}

/// Moves the due control frames (pong, close) into `out`.
void take_due_controls(Http& h, std::string& out) {
  if (h.pong_due) {
    append_frame_header(out, 10, h.pong_due->size());
    out += *h.pong_due;
    h.pong_due.reset();
  }
  if (h.close_due) {
    append_frame_header(out, 8, 2);
    out += "\x03\xe8"; // 1000: normal closure
    h.close_due = false;
  }
}

} // namespace

void Connection::send_ws_control() {
  Http& h = *m_http;
  if (m_writing_now || m_closed || (!h.pong_due && !h.close_due)) return; // else the next write takes them
  h.ws_head.clear();
  take_due_controls(h, h.ws_head);
  m_writing_now = true;
  auto self = ref();
  const auto start = [&](auto& stream) {
    asio::async_write(stream, asio::buffer(h.ws_head), [self](const error_code& ec, std::size_t) {
      self->m_writing_now = false;
      if (ec) {
        self->close_now();
        return;
      }
      self->write_loop();
      self->send_ws_control();
    });
  };
  if (m_tls) start(m_tls->stream);
  else start(m_socket);
}

void Connection::read_live() {
  Http& h = *m_http;
  if (h.ws_read_buffer.empty()) h.ws_read_buffer.resize(k_live_read_max);
  auto self = ref();
  auto on_read = [self](const error_code& ec, std::size_t) {
    if (ec) {
      self->close_now();
      return;
    }
    self->read_loop(); // what the page sends is ignored
  };
  if (h.wss) h.wss->async_read_some(asio::buffer(h.ws_read_buffer), std::move(on_read));
  else h.ws->async_read_some(asio::buffer(h.ws_read_buffer), std::move(on_read));
}

void Connection::drain_live() {
  Http& h = *m_http;
  if (m_closed || !h.live || !h.live_open || h.live_writing) return;
  {
    LiveFeed& feed = *h.live;
    std::lock_guard lock(feed.mutex);
    if (feed.reload) {
      feed.reload = false;
      h.live_out = "{\"reload\":true}";
    } else if (!feed.frames.empty()) {
      h.live_out = std::move(feed.frames.front());
      feed.bytes -= h.live_out.size();
      feed.frames.pop_front();
    } else {
      feed.drain_posted = false; // the next commit posts again
      std::string().swap(h.live_out);
      return;
    }
  }
  h.live_writing = true;
  auto self = ref();
  auto on_written = [self](const error_code& ec, std::size_t n) {
    self->m_http->live_writing = false;
    if (ec) {
      self->close_now();
      return;
    }
    self->m_server.stats().bytes_sent.fetch_add(n, std::memory_order_relaxed);
    self->drain_live();
  };
  if (h.wss) h.wss->async_write(asio::buffer(h.live_out), std::move(on_written));
  else h.ws->async_write(asio::buffer(h.live_out), std::move(on_written));
}

void Connection::read_http() {
  Http& h = *m_http;
  auto self = ref();
  if (h.live) {
    read_live();
    return;
  }
  h.parser.emplace();
  limit_request_parser(*h.parser);
  auto on_request = [self](error_code ec, std::size_t) {
    Http& http_state = *self->m_http;
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::operation_aborted ||
        self->m_closing) {
      self->close_now();
      return;
    }
    if (!ec && !within_header_limit(http_state.parser->get())) ec = http::error::header_limit;
    if (ec) {
      // Malformed or oversized: one 4xx, then close (the stream cannot be resynchronised).
      const HttpReply reply = http_parse_error_reply(ec);
      http_state.response = {};
      http_state.response.result(reply.status);
      http_state.response.version(11);
      http_state.response.set(http::field::content_type, reply.content_type);
      http_state.response.keep_alive(false);
      http_state.response.body() = reply.body;
      http_state.response.prepare_payload();
      self->send_http_response();
      return;
    }
    self->on_http_request();
  };
  if (m_tls) http::async_read(m_tls->stream, h.buffer, *h.parser, std::move(on_request));
  else http::async_read(m_socket, h.buffer, *h.parser, std::move(on_request));
}

void Connection::on_http_request() {
  Http& h = *m_http;
  auto request = h.parser->release();
  h.parser.reset();
  m_last_received = Clock::now(); // a complete request moves the deadline
  const std::string_view target(request.target().data(), request.target().size());
  const bool is_mqtt_path = target == "/mqtt" || target.starts_with("/mqtt?");
  if (websocket::is_upgrade(request) && !is_mqtt_path && is_live_target(target)) {
    HttpRequest plain;
    plain.method = std::string(request.method_string());
    plain.target = std::string(target);
    plain.authorization = std::string(request[http::field::authorization]);
    plain.cookie = std::string(request[http::field::cookie]);
    plain.origin = std::string(request[http::field::origin]);
    plain.host = std::string(request[http::field::host]);
    std::string account;
    if (auto refusal = refuse_live(m_server, plain, account)) {
      h.response = {};
      h.response.result(refusal->status);
      h.response.version(11);
      h.response.set(http::field::content_type, refusal->content_type);
      h.response.keep_alive(false);
      h.response.body() = refusal->body;
      h.response.prepare_payload();
      send_http_response();
      return;
    }
    // From here the socket only carries pushed points: Beast's pings watch the peer
    // instead of the request deadline.
    set_keepalive(0);
    h.hub = &m_server.state().live_hub();
    h.live = h.hub->subscribe(account, this);
    auto self = ref();
    auto on_accept = [self](const error_code& ec) {
      if (ec) {
        self->close_now();
        return;
      }
      self->m_http->live_open = true;
      self->read_loop();
      self->drain_live();
    };
    if (m_tls) {
      h.wss = std::make_unique<Http::TlsWs>(m_tls->stream);
      configure_live_ws(*h.wss);
      h.wss->async_accept(request, std::move(on_accept));
    } else {
      h.ws = std::make_unique<Http::PlainWs>(m_socket);
      configure_live_ws(*h.ws);
      h.ws->async_accept(request, std::move(on_accept));
    }
    return;
  }
  if (websocket::is_upgrade(request) && is_mqtt_path) {
    const auto protocols = request[http::field::sec_websocket_protocol];
    if (!offers_mqtt(std::string_view(protocols.data(), protocols.size()))) {
      const HttpReply reply = http_error(400, "header 'Sec-WebSocket-Protocol' must offer mqtt");
      h.response = {};
      h.response.result(reply.status);
      h.response.version(11);
      h.response.set(http::field::content_type, reply.content_type);
      h.response.keep_alive(false);
      h.response.body() = reply.body;
      h.response.prepare_payload();
      send_http_response();
      return;
    }
    h.upgraded = true;
    auto self = ref();
    auto on_accept = [self](const error_code& ec) {
      if (ec) {
        self->close_now();
        return;
      }
      // From here the socket is read as for TCP; bytes that came with the request are frames.
      self->m_ws_frames = true;
      Http& http_state = *self->m_http;
      if (http_state.buffer.size() > 0) {
        const auto early = http_state.buffer.cdata();
        const std::string bytes(static_cast<const char*>(early.data()), early.size());
        http_state.buffer.consume(http_state.buffer.size());
        self->on_ws_bytes(bytes);
      }
      self->read_loop();
    };
    const auto max_packet = m_server.config().limits.max_packet_size;
    if (m_tls) {
      h.wss = std::make_unique<Http::TlsWs>(m_tls->stream);
      configure_ws(*h.wss, max_packet);
      h.wss->async_accept(request, std::move(on_accept));
    } else {
      h.ws = std::make_unique<Http::PlainWs>(m_socket);
      configure_ws(*h.ws, max_packet);
      h.ws->async_accept(request, std::move(on_accept));
    }
    return;
  }
  HttpRequest plain;
  plain.method = std::string(request.method_string());
  plain.target = std::string(target);
  plain.authorization = std::string(request[http::field::authorization]);
  plain.cookie = std::string(request[http::field::cookie]);
  plain.body = std::move(request.body());
  HttpReply reply = is_mqtt_path ? http_error(426, "/mqtt speaks MQTT over WebSocket: upgrade with subprotocol mqtt")
                                 : handle_http_request(m_server, plain);
  if (reply.stream) {
    send_http_stream(reply, request.version(), request.keep_alive());
    return;
  }
  h.response = {};
  h.response.result(reply.status);
  h.response.version(request.version());
  h.response.set(http::field::server, "mqfleet");
  h.response.set(http::field::content_type, reply.content_type);
  h.response.set(http::field::cache_control, "no-store");
  for (const auto& [name, value] : reply.headers) h.response.set(name, value);
  h.response.keep_alive(request.keep_alive());
  h.response.body() = std::move(reply.body);
  h.response.prepare_payload();
  send_http_response();
}

void Connection::send_http_response() {
  auto self = ref();
  auto on_written = [self](const error_code& ec, std::size_t n) {
    self->m_server.stats().bytes_sent.fetch_add(n, std::memory_order_relaxed);
    const bool keep_alive = self->m_http->response.keep_alive();
    self->m_http->response = {};
    if (ec || !keep_alive) {
      self->close_now();
      return;
    }
    self->read_loop();
  };
  if (m_tls) http::async_write(m_tls->stream, m_http->response, std::move(on_written));
  else http::async_write(m_socket, m_http->response, std::move(on_written));
}

// A streamed reply: the head, then each part the source produces on an export thread as
// one chunk, then the last chunk. Each part moves the request deadline, so an export runs
// as long as it makes progress and the client reads; one the client stops reading is
// closed after --connect-timeout like any stalled request.
void Connection::send_http_stream(HttpReply& reply, unsigned version, bool keep_alive) {
  Http& h = *m_http;
  h.source = std::move(reply.stream);
  h.stream_chunked = version >= 11;
  h.stream_head = std::make_unique<http::response<http::empty_body>>(static_cast<http::status>(reply.status), version);
  http::response<http::empty_body>& head = *h.stream_head;
  head.set(http::field::server, "mqfleet");
  head.set(http::field::content_type, reply.content_type);
  head.set(http::field::cache_control, "no-store");
  for (const auto& [name, value] : reply.headers) head.set(name, value);
  head.keep_alive(keep_alive && h.stream_chunked);
  if (h.stream_chunked) head.chunked(true);
  h.stream_serializer = std::make_unique<http::response_serializer<http::empty_body>>(head);
  auto self = ref();
  auto on_head = [self](const error_code& ec, std::size_t n) {
    self->m_server.stats().bytes_sent.fetch_add(n, std::memory_order_relaxed);
    if (ec) {
      self->close_now();
      return;
    }
    self->pull_stream_part();
  };
  if (m_tls) http::async_write_header(m_tls->stream, *h.stream_serializer, std::move(on_head));
  else http::async_write_header(m_socket, *h.stream_serializer, std::move(on_head));
}

void Connection::pull_stream_part() {
  auto self = ref();
  std::shared_ptr<HttpBodySource> source = m_http->source;
  const bool queued = m_server.export_pool().submit([self, source] {
    std::string part;
    bool more = false;
    std::string failure;
    try {
      more = source->next(part);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    asio::post(self->executor(), [self, part = std::move(part), more, failure = std::move(failure)]() mutable {
      self->on_stream_part(std::move(part), more, failure);
    });
  });
  if (!queued) close_now(); // the pool stops (broker shutdown)
}

void Connection::on_stream_part(std::string part, bool more, const std::string& failure) {
  Http& h = *m_http;
  if (m_closed || !h.source) return;
  if (!failure.empty()) {
    // The head is out: cutting the body short (no last chunk) is the only honest answer.
    m_server.state().log(nlohmann::json{{"event", "http_stream_failed"}, {"peer", peer()}, {"error", failure}}.dump());
    close_now();
    return;
  }
  m_last_received = Clock::now(); // progress: the request deadline moves
  if (part.empty()) {
    if (more) pull_stream_part();
    else finish_http_stream();
    return;
  }
  h.stream_part = std::move(part);
  auto self = ref();
  auto on_written = [self, more](const error_code& ec, std::size_t n) {
    self->m_server.stats().bytes_sent.fetch_add(n, std::memory_order_relaxed);
    std::string().swap(self->m_http->stream_part);
    if (ec) {
      self->close_now();
      return;
    }
    self->m_last_received = Clock::now(); // the client took it
    if (more) self->pull_stream_part();
    else self->finish_http_stream();
  };
  if (h.stream_chunked) {
    auto chunk = http::make_chunk(asio::buffer(h.stream_part));
    if (m_tls) asio::async_write(m_tls->stream, chunk, std::move(on_written));
    else asio::async_write(m_socket, chunk, std::move(on_written));
  } else {
    if (m_tls) asio::async_write(m_tls->stream, asio::buffer(h.stream_part), std::move(on_written));
    else asio::async_write(m_socket, asio::buffer(h.stream_part), std::move(on_written));
  }
}

void Connection::finish_http_stream() {
  Http& h = *m_http;
  h.source.reset(); // gives the export slot back
  if (!h.stream_chunked) {
    close_now(); // HTTP/1.0: the end of the connection ends the body
    return;
  }
  auto self = ref();
  auto on_written = [self](const error_code& ec, std::size_t n) {
    self->m_server.stats().bytes_sent.fetch_add(n, std::memory_order_relaxed);
    Http& state = *self->m_http;
    const bool keep_alive = state.stream_head->keep_alive();
    state.stream_serializer.reset();
    state.stream_head.reset();
    if (ec || !keep_alive) {
      self->close_now();
      return;
    }
    self->read_loop();
  };
  if (m_tls) asio::async_write(m_tls->stream, http::make_chunk_last(), std::move(on_written));
  else asio::async_write(m_socket, http::make_chunk_last(), std::move(on_written));
}

void Connection::write_http(std::size_t total) {
  Http& h = *m_http;
  auto self = ref();
  if (m_ws_frames) {
    // MQTT over WebSocket: the batch as one binary frame, after any control frame due.
    h.ws_head.clear();
    take_due_controls(h, h.ws_head);
    append_frame_header(h.ws_head, 2, total);
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(h.ws_head), asio::buffer(m_out->writing)};
    const auto start = [&](auto& stream) {
      asio::async_write(stream, buffers, [self, total](const error_code& ec, std::size_t) {
        self->on_written(ec, total);
        self->send_ws_control();
      });
    };
    if (m_tls) start(m_tls->stream);
    else start(m_socket);
    return;
  }
  asio::post(executor(), [self, total] { self->on_written(asio::error::not_connected, total); });
}

} // namespace mqfleet::broker
