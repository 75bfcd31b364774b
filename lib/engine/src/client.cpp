#include <mqfleet/engine/client.hpp>

#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/codec.hpp>
#include <mqfleet/mqtt/publish_view.hpp>
#include <mqfleet/mqtt/reason_codes.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace mqfleet::engine {
namespace {

constexpr std::size_t k_shrink_above = 64 * 1024;
constexpr int k_max_reads_per_event = 16;
constexpr std::uint16_t k_max_window = 65000; // ids above it are for SUBSCRIBE/UNSUBSCRIBE

std::string tls_error_text(SSL* ssl) {
  return TlsClientContext::failure_text(ssl, errno != 0 ? std::string(std::strerror(errno)) : "TLS handshake failed");
}

} // namespace

Client::Client(EventLoop& loop, ClientOptions options, ClientHandler& handler, std::uint64_t user_data)
    : m_loop(loop), m_options(std::move(options)), m_handler(handler), m_user_data(user_data) {
  m_options.max_inflight = std::clamp<std::uint16_t>(m_options.max_inflight, 1, k_max_window);
}

Client::~Client() { abort_silently(); }

void Client::connect() {
  if (m_state != ClientState::idle) return;
  m_times = ConnectTimes{};
  m_times.started = Clock::now();
  m_partial.clear();
  m_state = ClientState::connecting;
  start_tcp();
}

void Client::start_tcp() {
  if (!m_options.unix_path.empty()) {
    sockaddr_un local{};
    local.sun_family = AF_UNIX;
    if (m_options.unix_path.size() >= sizeof local.sun_path) {
      fail_connect(-1, "tcp", "the Unix socket path is too long");
      return;
    }
    std::memcpy(local.sun_path, m_options.unix_path.data(), m_options.unix_path.size());
    m_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (m_fd < 0) {
      fail_connect(-1, "tcp", std::strerror(errno));
      return;
    }
    const int rc = ::connect(m_fd, reinterpret_cast<const sockaddr*>(&local), sizeof local);
    if (rc != 0 && errno != EINPROGRESS && errno != EAGAIN) {
      fail_connect(-1, "tcp", std::string(m_options.unix_path) + ": " + std::strerror(errno));
      return;
    }
    m_loop.watch(m_fd, *this);
    if (rc == 0) on_tcp_connected();
    return;
  }
  unsigned length = 0;
  const sockaddr_storage* address = nullptr;
  try {
    address = &m_loop.resolve(m_options.host, m_options.port, length);
  } catch (const ConnectError& error) {
    fail_connect(-1, "resolve", error.what());
    return;
  }
  m_fd = ::socket(address->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (m_fd < 0) {
    fail_connect(-1, "tcp", std::strerror(errno));
    return;
  }
  const int one = 1;
  ::setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!m_options.bind_address.empty()) {
    // Choose the port at connect() time, per destination: many source addresses and
    // destinations then share the ephemeral port range instead of exhausting it.
    ::setsockopt(m_fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_storage local{};
    socklen_t local_length = 0;
    if (address->ss_family == AF_INET6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&local);
      in6->sin6_family = AF_INET6;
      local_length = sizeof *in6;
      if (::inet_pton(AF_INET6, m_options.bind_address.c_str(), &in6->sin6_addr) != 1) local_length = 0;
    } else {
      auto* in4 = reinterpret_cast<sockaddr_in*>(&local);
      in4->sin_family = AF_INET;
      local_length = sizeof *in4;
      if (::inet_pton(AF_INET, m_options.bind_address.c_str(), &in4->sin_addr) != 1) local_length = 0;
    }
    if (local_length == 0) {
      fail_connect(-1, "tcp", "the bind address is not an IP address of the target's family");
      return;
    }
    if (::bind(m_fd, reinterpret_cast<sockaddr*>(&local), local_length) != 0) {
      fail_connect(-1, "tcp", std::string("bind failed: ") + std::strerror(errno));
      return;
    }
  }
  const int rc = ::connect(m_fd, reinterpret_cast<const sockaddr*>(address), length);
  if (rc != 0 && errno != EINPROGRESS) {
    fail_connect(-1, "tcp", std::strerror(errno));
    return;
  }
  m_loop.watch(m_fd, *this);
  if (rc == 0) on_tcp_connected();
}

void Client::on_tcp_connected() {
  m_tcp_up = true;
  m_times.tcp_connected = Clock::now();
  if (m_options.tls) {
    start_tls();
  } else {
    m_times.tls_done = m_times.tcp_connected;
    on_stream_ready();
  }
}

// TCP (and TLS) are up: CONNECT, or first the WebSocket upgrade.
void Client::on_stream_ready() {
  if (m_options.ws_path.empty()) {
    send_connect();
    return;
  }
  m_ws = std::make_unique<WebSocket>();
  const bool default_port = m_options.port == (m_options.tls ? 443 : 80);
  std::string host = m_options.sni.empty() ? m_options.host : m_options.sni;
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  if (!default_port) host += ":" + std::to_string(m_options.port);
  m_ws->wire = m_ws->handshake.request(host, m_options.ws_path);
  mark_dirty();
}

// Bytes from the socket on a WebSocket connection: the handshake answer first, then
// frames whose MQTT payload goes to process_input().
void Client::read_websocket(std::string_view data) {
  const std::uint32_t generation = m_generation;
  WebSocket& w = *m_ws;
  if (!w.upgraded) {
    w.response.append(data);
    std::size_t end = 0;
    try {
      end = w.handshake.parse_response(w.response, m_options.host + ":" + std::to_string(m_options.port));
    } catch (const Error& error) {
      fail_connect(-1, "websocket", error.what());
      return;
    }
    if (end == 0) return;
    w.upgraded = true;
    data = std::string_view(w.response).substr(end);
    send_connect();
    if (!same_connection(generation) || data.empty()) return;
    std::string rest(data); // w.response is reused below
    w.response.clear();
    read_websocket(rest);
    return;
  }
  std::vector<ws::ControlFrame> controls;
  w.decoded.clear();
  try {
    w.decoder.decode(data, w.decoded, controls);
  } catch (const ProtocolError& error) {
    connection_lost(error.what());
    return;
  }
  for (const auto& control : controls) {
    if (control.opcode == ws::Opcode::ping) {
      ws::append_control_frame(w.wire, ws::Opcode::pong, control.payload);
      mark_dirty();
    } else if (control.opcode == ws::Opcode::close) {
      if (!w.decoded.empty()) process_input(w.decoded);
      if (!same_connection(generation)) return;
      connection_lost("the broker closed the WebSocket (" + ws::describe_close(control.payload) + ")");
      return;
    }
  }
  if (!w.decoded.empty()) process_input(w.decoded);
}

void Client::start_tls() {
  m_ssl = SSL_new(m_options.tls->native());
  if (m_ssl == nullptr) {
    fail_connect(-1, "tls", "SSL_new failed");
    return;
  }
  const std::string& name = m_options.sni.empty() ? m_options.host : m_options.sni;
  if (SSL_set_fd(m_ssl, m_fd) != 1 || !m_options.tls->prepare(m_ssl, name)) {
    fail_connect(-1, "tls", TlsClientContext::failure_text(m_ssl, "cannot start TLS"));
    return;
  }
  SSL_set_connect_state(m_ssl);
  drive_tls_handshake();
}

bool Client::drive_tls_handshake() {
  ERR_clear_error();
  errno = 0;
  const int rc = SSL_do_handshake(m_ssl);
  if (rc == 1) {
    m_tls_up = true;
    m_times.tls_done = Clock::now();
    on_stream_ready();
    return true;
  }
  const int error = SSL_get_error(m_ssl, rc);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return false;
  fail_connect(-1, "tls", tls_error_text(m_ssl));
  return false;
}

void Client::send_connect() {
  mqtt::Connect connect;
  connect.version = m_options.version;
  connect.client_id = m_options.client_id;
  connect.clean_start = m_options.clean_start;
  connect.keep_alive = m_options.keepalive_seconds;
  connect.username = m_options.username;
  connect.password = m_options.password;
  if (m_options.will) connect.will = *m_options.will;
  if (m_options.connect_properties) connect.properties = *m_options.connect_properties;
  try {
    mqtt::encode(connect, m_options.version, m_out);
  } catch (const ProtocolError& error) {
    fail_connect(-1, "mqtt", error.what());
    return;
  }
  mark_dirty();
}

void Client::mark_dirty() {
  if (m_dirty) return;
  m_dirty = true;
  m_loop.request_flush(*this);
}

void Client::on_io(std::uint32_t events) {
  if (m_fd < 0) return;
  if (!m_tcp_up) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(m_fd, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
      fail_connect(-1, "tcp", std::strerror(error));
      return;
    }
    on_tcp_connected();
    return;
  }
  const std::uint32_t generation = m_generation;
  if (m_ssl != nullptr && !m_tls_up) {
    // Records after the server's Finished may already be in the socket: fall through and
    // read them, edge triggering would not report them again.
    if (!drive_tls_handshake() || !same_connection(generation)) return;
  }
  if ((events & EPOLLOUT) != 0 && pending_output() > 0) {
    flush();
    if (!same_connection(generation)) return;
  }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) read_available();
}

void Client::read_available() {
  std::string& scratch = m_loop.read_scratch();
  const std::uint32_t generation = m_generation;
  for (int i = 0; i < k_max_reads_per_event; ++i) {
    ssize_t n = 0;
    if (m_ssl != nullptr) {
      ERR_clear_error();
      const int rc = SSL_read(m_ssl, scratch.data(), static_cast<int>(scratch.size()));
      if (rc <= 0) {
        const int error = SSL_get_error(m_ssl, rc);
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
        connection_lost(error == SSL_ERROR_ZERO_RETURN ? "closed by the broker" : tls_error_text(m_ssl));
        return;
      }
      n = rc;
    } else {
      n = ::recv(m_fd, scratch.data(), scratch.size(), 0);
      if (n == 0) {
        connection_lost("closed by the broker");
        return;
      }
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        connection_lost(std::strerror(errno));
        return;
      }
    }
    if (m_ws) read_websocket(std::string_view(scratch.data(), static_cast<std::size_t>(n)));
    else process_input(std::string_view(scratch.data(), static_cast<std::size_t>(n)));
    if (!same_connection(generation)) return;
    // A short plain read emptied the socket: epoll reports the next arrival as a new edge.
    if (m_ssl == nullptr && static_cast<std::size_t>(n) < scratch.size()) return;
  }
  m_loop.request_read(*this);
}

void Client::process_input(std::string_view data) {
  try {
    for_each_frame(m_partial, data, m_options.max_packet_size,
                   [this](const mqtt::Frame& frame) { return handle_frame(frame); });
  } catch (const ProtocolError& error) {
    connection_lost(std::string("protocol error from the broker: ") + error.what());
  }
}

bool Client::handle_frame(const mqtt::Frame& frame) {
  const std::uint32_t generation = m_generation;
  const auto version = m_options.version;
  if (m_state == ClientState::connecting) {
    if (frame.type() != mqtt::PacketType::connack) {
      connection_lost("expected CONNACK, got " + std::string(mqtt::packet_type_name(frame.type())));
      return false;
    }
    handle_connack(frame);
    return same_connection(generation);
  }
  switch (frame.type()) {
  case mqtt::PacketType::publish:
    handle_publish(frame);
    break;
  case mqtt::PacketType::puback: {
    const auto ack = mqtt::decode_puback(frame, version);
    if (m_window.state(ack.packet_id) == InflightState::awaiting_puback) {
      m_window.set_state(ack.packet_id, InflightState::free);
      m_handler.on_publish_complete(*this, ack.packet_id, ack.reason_code);
    }
    break;
  }
  case mqtt::PacketType::pubrec: {
    const auto ack = mqtt::decode_pubrec(frame, version);
    const auto state = m_window.state(ack.packet_id);
    if (state == InflightState::awaiting_pubrec && mqtt::is_error(ack.reason_code)) {
      m_window.set_state(ack.packet_id, InflightState::free);
      m_handler.on_publish_complete(*this, ack.packet_id, ack.reason_code);
    } else if (state == InflightState::awaiting_pubrec || state == InflightState::awaiting_pubcomp) {
      m_window.set_state(ack.packet_id, InflightState::awaiting_pubcomp);
      queue_ack(mqtt::PacketType::pubrel, ack.packet_id);
    }
    break;
  }
  case mqtt::PacketType::pubrel: {
    const auto ack = mqtt::decode_pubrel(frame, version);
    if (m_incoming_qos2) m_incoming_qos2->release(ack.packet_id);
    queue_ack(mqtt::PacketType::pubcomp, ack.packet_id);
    break;
  }
  case mqtt::PacketType::pubcomp: {
    const auto ack = mqtt::decode_pubcomp(frame, version);
    if (m_window.state(ack.packet_id) == InflightState::awaiting_pubcomp) {
      m_window.set_state(ack.packet_id, InflightState::free);
      m_handler.on_publish_complete(*this, ack.packet_id, ack.reason_code);
    }
    break;
  }
  case mqtt::PacketType::suback: {
    const auto ack = mqtt::decode_suback(frame, version);
    m_handler.on_suback(*this, ack.packet_id, ack.reason_codes);
    break;
  }
  case mqtt::PacketType::unsuback: {
    const auto ack = mqtt::decode_unsuback(frame, version);
    m_handler.on_unsuback(*this, ack.packet_id);
    break;
  }
  case mqtt::PacketType::pingresp:
    m_ping_outstanding = false;
    break;
  case mqtt::PacketType::disconnect: {
    const auto packet = mqtt::decode_disconnect(frame, version);
    close_connected(false, static_cast<int>(packet.reason_code), "disconnected by the broker");
    return false;
  }
  default:
    connection_lost("unexpected " + std::string(mqtt::packet_type_name(frame.type())) +
                    " from the broker");
    return false;
  }
  return same_connection(generation);
}

void Client::handle_connack(const mqtt::Frame& frame) {
  const auto connack = mqtt::decode_connack(frame, m_options.version);
  m_times.connack = Clock::now();
  if (mqtt::is_error(connack.reason_code)) {
    const int code = m_options.version == mqtt::ProtocolVersion::v5
                         ? static_cast<int>(connack.reason_code)
                         : static_cast<int>(mqtt::to_connack_return_code(connack.reason_code));
    const std::string_view text = m_options.version == mqtt::ProtocolVersion::v5
                                      ? mqtt::reason_name(connack.reason_code)
                                      : mqtt::connack_return_code_name(mqtt::to_connack_return_code(connack.reason_code));
    fail_connect(code, "mqtt", text);
    return;
  }
  ConnackInfo info;
  info.session_present = connack.session_present;
  info.receive_maximum = connack.properties.receive_maximum.value_or(65535);
  info.times = m_times;
  m_window.reset(std::min<std::uint16_t>(m_options.max_inflight, info.receive_maximum));
  m_state = ClientState::connected;
  m_last_write = m_loop.now();
  m_handler.on_connected(*this, info);
}

void Client::handle_publish(const mqtt::Frame& frame) {
  const auto view = mqtt::decode_publish_view(frame, m_options.version);
  if (view.topic.empty()) {
    connection_lost("PUBLISH with a topic alias, which this client never allowed");
    return;
  }
  bool deliver = true;
  if (view.qos == mqtt::QoS::exactly_once) {
    if (!m_incoming_qos2) m_incoming_qos2 = std::make_unique<IncomingQos2>();
    deliver = m_incoming_qos2->begin(view.packet_id);
  }
  const std::uint32_t generation = m_generation;
  if (deliver) {
    m_handler.on_message(*this, IncomingMessage{view.topic, view.payload, view.properties, view.qos,
                                                view.retain, view.dup, view.packet_id});
    if (!same_connection(generation)) return;
  }
  if (view.qos == mqtt::QoS::at_least_once) queue_ack(mqtt::PacketType::puback, view.packet_id);
  if (view.qos == mqtt::QoS::exactly_once) queue_ack(mqtt::PacketType::pubrec, view.packet_id);
}

void Client::queue_ack(mqtt::PacketType type, std::uint16_t packet_id) {
  char ack[4];
  encode_ack(type, packet_id, ack);
  m_out.append(ack, sizeof ack);
  mark_dirty();
}

std::optional<std::uint16_t> Client::publish(std::string_view topic, std::string_view payload,
                                             mqtt::QoS qos, bool retain) {
  if (m_state != ClientState::connected) return std::nullopt;
  std::uint16_t packet_id = 0;
  if (qos != mqtt::QoS::at_most_once) {
    const auto acquired = m_window.acquire(qos);
    if (!acquired) return std::nullopt;
    packet_id = *acquired;
  }
  const mqtt::PublishView message{topic, payload, {}, qos, retain, false, packet_id, 0};
  std::size_t size = 0;
  try {
    size = mqtt::encoded_publish_size(message, m_options.version);
  } catch (...) {
    if (packet_id != 0) m_window.set_state(packet_id, InflightState::free);
    throw;
  }
  const std::size_t old_size = m_out.size();
  m_out.resize(old_size + size);
  mqtt::encode_publish_into(message, m_options.version, std::span<char>(m_out.data() + old_size, size));
  if (qos == mqtt::QoS::at_most_once) ++m_qos0_unwritten;
  mark_dirty();
  return packet_id;
}

std::uint16_t Client::next_control_id() {
  const std::uint16_t base = m_options.max_inflight;
  if (m_next_control_id <= base || m_next_control_id == 65535) {
    m_next_control_id = static_cast<std::uint16_t>(base + 1);
  } else {
    ++m_next_control_id;
  }
  return m_next_control_id;
}

std::uint16_t Client::subscribe(std::span<const mqtt::Subscription> subscriptions) {
  if (m_state != ClientState::connected) return 0;
  mqtt::Subscribe packet;
  packet.packet_id = next_control_id();
  packet.subscriptions.assign(subscriptions.begin(), subscriptions.end());
  mqtt::encode(packet, m_options.version, m_out);
  mark_dirty();
  return packet.packet_id;
}

std::uint16_t Client::subscribe(std::string_view filter, mqtt::QoS qos) {
  mqtt::Subscription subscription;
  subscription.filter = filter;
  subscription.options.max_qos = qos;
  return subscribe(std::span<const mqtt::Subscription>(&subscription, 1));
}

std::uint16_t Client::unsubscribe(std::span<const std::string> filters) {
  if (m_state != ClientState::connected) return 0;
  mqtt::Unsubscribe packet;
  packet.packet_id = next_control_id();
  packet.filters.assign(filters.begin(), filters.end());
  mqtt::encode(packet, m_options.version, m_out);
  mark_dirty();
  return packet.packet_id;
}

void Client::disconnect() {
  if (m_state == ClientState::connecting) {
    fail_connect(-1, "cancelled", "disconnect() before CONNACK");
    return;
  }
  if (m_state != ClientState::connected) return;
  const char packet[2] = {static_cast<char>(0xE0), 0};
  m_out.append(packet, sizeof packet);
  m_state = ClientState::closing;
  mark_dirty();
}

void Client::abort() {
  if (m_state == ClientState::connecting) {
    fail_connect(-1, "cancelled", "abort() before CONNACK");
  } else if (m_state == ClientState::connected || m_state == ClientState::closing) {
    close_connected(true, -1, "aborted");
  }
}

void Client::abort_silently() noexcept {
  close_socket();
  m_state = ClientState::idle;
}

// Writes buffer[offset, size) to the socket. Returns true when all of it went out;
// false when the socket is full (EPOLLOUT calls flush() again) or the connection was
// lost (m_fd < 0).
bool Client::write_buffer(std::string& buffer, std::size_t& offset) {
  while (offset < buffer.size()) {
    const char* data = buffer.data() + offset;
    const std::size_t size = buffer.size() - offset;
    ssize_t n = 0;
    if (m_ssl != nullptr) {
      ERR_clear_error();
      const int rc = SSL_write(m_ssl, data, static_cast<int>(std::min<std::size_t>(size, 1 << 30)));
      if (rc <= 0) {
        const int error = SSL_get_error(m_ssl, rc);
        if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) break;
        connection_lost(tls_error_text(m_ssl));
        return false;
      }
      n = rc;
    } else {
      n = ::send(m_fd, data, size, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
        connection_lost(std::string("write failed: ") + std::strerror(errno));
        return false;
      }
    }
    offset += static_cast<std::size_t>(n);
    m_last_write = m_loop.now();
  }
  if (offset < buffer.size()) {
    // Socket full. Drop the written prefix when it dominates, so the buffer does not grow
    // with the backlog's history.
    if (offset > buffer.size() / 2) {
      buffer.erase(0, offset);
      offset = 0;
    }
    return false;
  }
  buffer.clear();
  offset = 0;
  if (buffer.capacity() > k_shrink_above) std::string().swap(buffer);
  return true;
}

void Client::flush() {
  m_dirty = false;
  if (m_fd < 0 || !m_tcp_up || (m_ssl != nullptr && !m_tls_up)) return;
  if (m_ws) {
    // Everything encoded since the last flush travels as one binary frame.
    if (m_ws->upgraded && m_out_offset < m_out.size()) {
      ws::append_binary_frame(m_ws->wire, std::string_view(m_out).substr(m_out_offset));
      m_out.clear();
      m_out_offset = 0;
      if (m_out.capacity() > k_shrink_above) std::string().swap(m_out);
    }
    if (!write_buffer(m_ws->wire, m_ws->wire_offset)) return;
    if (!m_ws->upgraded) return;
  } else if (!write_buffer(m_out, m_out_offset)) {
    return;
  }
  if (m_state == ClientState::closing) {
    if (m_ws) {
      ws::append_close_frame(m_ws->wire, 1000); // best effort, as the TLS close_notify
      write_buffer(m_ws->wire, m_ws->wire_offset);
      if (m_fd < 0) return;
    }
    if (m_ssl != nullptr) SSL_shutdown(m_ssl);
    close_connected(true, -1, "disconnected");
    return;
  }
  if (m_qos0_unwritten > 0) {
    const std::uint32_t count = m_qos0_unwritten;
    m_qos0_unwritten = 0;
    m_handler.on_qos0_written(*this, count);
  }
}

void Client::housekeeping(Clock::time_point now) {
  if (m_state == ClientState::connecting) {
    if (now - m_times.started > m_options.connect_timeout) {
      fail_connect(-1, "timeout", "no CONNACK within the connect timeout");
    }
    return;
  }
  if (m_state != ClientState::connected || m_options.keepalive_seconds == 0) return;
  const auto keepalive = std::chrono::seconds(m_options.keepalive_seconds);
  if (m_ping_outstanding) {
    if (now - m_ping_sent > keepalive) close_connected(false, -1, "no PINGRESP within the keepalive");
    return;
  }
  // Ping at 3/4 of the interval: the loop checks only twice a second.
  if ((now - m_last_write) * 4 >= keepalive * 3) {
    const char packet[2] = {static_cast<char>(0xC0), 0};
    m_out.append(packet, sizeof packet);
    m_ping_outstanding = true;
    m_ping_sent = now;
    mark_dirty();
  }
}

void Client::connection_lost(std::string_view message) {
  if (m_state == ClientState::connecting) {
    const std::string_view stage = !m_tcp_up                           ? "tcp"
                                   : (m_ssl != nullptr && !m_tls_up)   ? "tls"
                                   : (m_ws != nullptr && !m_ws->upgraded) ? "websocket"
                                                                        : "mqtt";
    fail_connect(-1, stage, message);
  } else {
    close_connected(m_state == ClientState::closing, -1, message);
  }
}

void Client::fail_connect(int reason_code, std::string_view stage, std::string_view message) {
  // message may point into a buffer close_socket() releases: copy it first.
  const std::string text(message);
  close_socket();
  m_state = ClientState::idle;
  ConnectFailure failure;
  failure.reason_code = reason_code;
  failure.stage = stage;
  failure.message = text;
  failure.times = m_times;
  m_handler.on_connect_failed(*this, failure);
}

void Client::close_connected(bool by_us, int disconnect_reason, std::string_view message) {
  const std::string text(message);
  const std::uint32_t lost = m_window.in_use();
  close_socket();
  m_state = ClientState::idle;
  CloseInfo info;
  info.by_us = by_us;
  info.disconnect_reason = disconnect_reason;
  info.message = text;
  info.inflight_lost = lost;
  m_handler.on_closed(*this, info);
}

void Client::close_socket() noexcept {
  if (m_ssl != nullptr) {
    SSL_free(m_ssl);
    m_ssl = nullptr;
  }
  if (m_fd >= 0) {
    m_loop.unwatch(m_fd);
    ::close(m_fd);
    m_fd = -1;
  }
  ++m_generation;
  m_tcp_up = false;
  m_tls_up = false;
  m_ping_outstanding = false;
  m_qos0_unwritten = 0;
  m_out.clear();
  m_out_offset = 0;
  if (m_out.capacity() > k_shrink_above) std::string().swap(m_out);
  m_window.clear();
  m_incoming_qos2.reset();
  m_ws.reset();
}

} // namespace mqfleet::engine
