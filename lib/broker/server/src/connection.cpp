#include "connection.hpp"

#include "server.hpp"

namespace mqfleet::broker {
namespace {

constexpr std::size_t k_read_chunk = 16 * 1024;
/// Write buffers up to this capacity are released once drained (an idle connection
/// keeps none); larger ones belong to a busy connection and are kept for the next burst.
constexpr std::size_t k_release_write_capacity = 256;
/// Write buffers above this capacity are shrunk after a write (memory after a burst).
constexpr std::size_t k_max_kept_write_capacity = 64 * 1024;

/// Allocates an Asio operation at its exact size. Asio's default (recycling) allocator
/// rounds an operation up to a multiple of 16 plus a tag byte: the 80-byte read wait,
/// which an idle connection keeps pending for its whole life, took a 112-byte heap chunk
/// instead of 96.
template <class T> struct ExactAllocator {
  using value_type = T;
  ExactAllocator() noexcept = default;
  template <class U> ExactAllocator(const ExactAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p); }
  template <class U> bool operator==(const ExactAllocator<U>&) const noexcept { return true; }
};

} // namespace

Connection::Connection(Server& server, Socket socket, asio::ssl::context* tls)
    : m_server(server), m_socket(std::move(socket)), m_last_received(Clock::now()) {
  asio::error_code ec;
  const auto endpoint = m_socket.remote_endpoint(ec);
  if (!ec) m_peer = Peer(endpoint);
  if (tls != nullptr) m_tls = std::make_unique<Tls>(m_socket, *tls);
  m_socket.set_option(asio::ip::tcp::no_delay(true), ec);
  if (tls == nullptr) m_socket.non_blocking(true, ec);
}

Connection::~Connection() = default;

Connection::Peer::Peer(const asio::ip::tcp::endpoint& endpoint) {
  if (endpoint.address().is_v4()) {
    m_v4 = endpoint.address().to_v4().to_uint();
    m_port = endpoint.port();
  } else {
    m_other = std::make_unique<asio::ip::tcp::endpoint>(endpoint);
  }
}

std::string Connection::Peer::to_string() const {
  if (m_other) return m_other->address().to_string() + ":" + std::to_string(m_other->port());
  if (m_port == 0) return "unknown";
  return asio::ip::address_v4(m_v4).to_string() + ":" + std::to_string(m_port);
}

std::string Connection::peer() const { return m_peer.to_string(); }

std::string& Connection::out_buffer() {
  if (!m_out) m_out = std::make_unique<WriteBuffers>();
  return m_out->pending;
}

template <class F> void Connection::with_stream(F&& f) {
  if (m_tls)
    f(m_tls->stream);
  else
    f(m_socket);
}

void Connection::start() {
  auto self = ref();
  asio::dispatch(executor(), [self] {
    // A client must complete the TLS handshake and CONNECT promptly. Until CONNECT is
    // accepted m_last_received stays at the accept time (reads do not move it), so the
    // keepalive check is an absolute deadline that trickled bytes cannot push back.
    self->m_keepalive_grace_ms = self->m_server.config().limits.connect_timeout_seconds * 1000;
    self->keepalive_check();
    if (!self->m_tls) {
      self->read_loop();
      return;
    }
    self->m_tls->stream.async_handshake(asio::ssl::stream_base::server, [self](const asio::error_code& ec) {
      if (ec) {
        self->close_now();
        return;
      }
      self->read_loop();
    });
  });
}

void Connection::read_loop() {
  if (m_closing) return;
  if (m_client.auth_pending) {
    // Nothing more is read while the CONNECT waits for its credentials' check.
    m_read_paused = true;
    return;
  }
  if (m_tls)
    read_tls();
  else
    read_plain();
}

// Plain TCP: wait for readability, then drain the socket into a per-thread buffer, so an
// idle connection holds no read buffer at all.
void Connection::read_plain() {
  auto self = ref();
  m_socket.async_wait(asio::socket_base::wait_read, asio::bind_allocator(ExactAllocator<void>(), [self](const asio::error_code& ec) {
    if (ec) {
      self->close_now();
      return;
    }
    thread_local std::vector<char> buffer(64 * 1024);
    for (int round = 0; round < 4 && !self->m_closing && !self->m_client.auth_pending; ++round) {
      asio::error_code read_ec;
      const std::size_t n = self->m_socket.read_some(asio::buffer(buffer), read_ec);
      if (read_ec == asio::error::would_block || read_ec == asio::error::try_again) break;
      if (read_ec || n == 0) {
        self->close_now();
        return;
      }
      if (self->m_client.connected) self->m_last_received = Clock::now();
      self->on_bytes(std::string_view(buffer.data(), n));
      if (n < buffer.size()) break;
    }
    self->read_loop();
  }));
}

void Connection::read_tls() {
  auto self = ref();
  if (m_tls->read_buffer.empty()) m_tls->read_buffer.resize(k_read_chunk);
  m_tls->stream.async_read_some(asio::buffer(m_tls->read_buffer), [self](const asio::error_code& ec, std::size_t n) {
    if (ec) {
      self->close_now();
      return;
    }
    if (self->m_client.connected) self->m_last_received = Clock::now();
    self->on_bytes(std::string_view(self->m_tls->read_buffer.data(), n));
    self->read_loop();
  });
}

void Connection::resume_reading() {
  if (m_client.reader) on_bytes({});
  if (m_read_paused && !m_closing && !m_client.auth_pending) {
    m_read_paused = false;
    read_loop();
  }
}

void Connection::kick() {
  if (!m_writing_now) write_loop();
}

void Connection::write_loop() {
  if (!m_out || m_out->pending.empty() || m_closed) {
    m_writing_now = false;
    // Drained: give small buffers back, so an idle connection holds none.
    if (m_out && m_out->pending.capacity() <= k_release_write_capacity &&
        m_out->writing.capacity() <= k_release_write_capacity)
      m_out.reset();
    if (m_close_after_write) close_now();
    return;
  }
  m_writing_now = true;
  std::string& writing = m_out->writing;
  writing.swap(m_out->pending);
  m_out->pending.clear();
  const std::size_t total = writing.size();
  auto self = ref();
  with_stream([&](auto& stream) {
    asio::async_write(stream, asio::buffer(writing), [self, total](const asio::error_code& ec, std::size_t) {
      std::string& written = self->m_out->writing;
      written.clear();
      if (ec) {
        self->close_now();
        return;
      }
      self->m_server.stats().bytes_sent.fetch_add(total, std::memory_order_relaxed);
      // Give back memory after a burst so idle connections stay small.
      if (written.capacity() > k_max_kept_write_capacity) std::string().swap(written);
      self->write_loop();
      if (self->m_flush_after_write) {
        self->m_flush_after_write = false;
        self->flush_outbox();
      }
    });
  });
}

void Connection::close_after_flush() {
  m_closing = true;
  m_close_after_write = true;
  if (!m_writing_now) write_loop();
}

void Connection::close_now() {
  if (m_closed) return;
  m_closed = true;
  m_closing = true;
  asio::error_code ec;
  m_keepalive_timer.reset();
  m_socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  m_socket.close(ec);
  m_server.connection_closed();
  on_closed();
}

void Connection::set_keepalive(std::uint16_t seconds) {
  // The connect deadline ends here; keepalive counts from now.
  m_last_received = Clock::now();
  m_keepalive_grace_ms = static_cast<std::uint32_t>(seconds) * 1500;
  // Destroying the timer cancels its wait; an idle connection without keepalive holds none.
  m_keepalive_timer.reset();
  if (seconds != 0) keepalive_check();
}

void Connection::keepalive_check() {
  if (m_closed || m_keepalive_grace_ms == 0) return;
  const auto deadline = m_last_received + std::chrono::milliseconds(m_keepalive_grace_ms);
  if (Clock::now() >= deadline) {
    // MQTT-3.1.2-24: no packet within 1.5 x keepalive -> the server disconnects.
    close_with_reason(0x8D, "keep alive timeout");
    return;
  }
  if (!m_keepalive_timer) m_keepalive_timer = std::make_unique<Timer>(executor());
  m_keepalive_timer->expires_at(deadline);
  auto self = ref();
  m_keepalive_timer->async_wait([self](const asio::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    self->keepalive_check();
  });
}

void Connection::post_close(std::uint8_t reason_code, std::string reason_string) {
  auto self = ref();
  asio::post(executor(), [self, reason_code, reason = std::move(reason_string)] {
    self->close_with_reason(reason_code, reason);
  });
}

void Connection::post_flush() {
  if (m_flush_posted.exchange(true, std::memory_order_acq_rel)) return;
  auto self = ref();
  asio::post(executor(), [self] {
    self->m_flush_posted.store(false, std::memory_order_release);
    self->flush_outbox();
  });
}

} // namespace mqfleet::broker
