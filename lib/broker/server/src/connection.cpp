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
/// After a goodbye: how long and how much input is drained before the socket closes.
constexpr auto k_linger_time = std::chrono::seconds(2);
constexpr std::size_t k_linger_bytes = 256 * 1024;

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

/// A handler that Asio allocates with ExactAllocator (Boost 1.74 has no bind_allocator).
template <class F> struct WithExactAllocator {
  using allocator_type = ExactAllocator<void>;
  allocator_type get_allocator() const noexcept { return {}; }
  template <class... Args> void operator()(Args&&... args) { f(std::forward<Args>(args)...); }
  F f;
};
template <class F> WithExactAllocator<std::decay_t<F>> exact_allocated(F&& f) { return {std::forward<F>(f)}; }

} // namespace

Connection::Connection(Server& server, Socket socket, asio::ssl::context* tls, bool http)
    : m_server(server), m_socket(std::move(socket)), m_last_received(Clock::now()) {
  if (http) m_http.reset(new_http());
  error_code ec;
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
    self->m_tls->stream.async_handshake(asio::ssl::stream_base::server, [self](const error_code& ec) {
      if (ec) {
        self->close_now();
        return;
      }
      self->read_loop();
    });
  });
}

void Connection::read_loop() {
  // A goodbye in progress keeps reading (on_bytes discards): see close_after_flush().
  if (!reading()) return;
  if (m_client.auth_pending) {
    // Nothing more is read while the CONNECT waits for its credentials' check.
    m_read_paused = true;
    return;
  }
  if (m_http && !m_ws_frames)
    read_http();
  else if (m_tls)
    read_tls();
  else
    read_plain();
}

// Plain TCP: wait for readability, then drain the socket into a per-thread buffer, so an
// idle connection holds no read buffer at all.
void Connection::read_plain() {
  auto self = ref();
  m_socket.async_wait(asio::socket_base::wait_read, exact_allocated([self](const error_code& ec) {
    if (ec) {
      self->close_now();
      return;
    }
    if (self->read_available()) self->read_loop();
  }));
}

bool Connection::read_available() {
  thread_local std::vector<char> buffer(64 * 1024);
  for (int round = 0; round < 4 && reading() && !m_client.auth_pending; ++round) {
    error_code read_ec;
    const std::size_t n = m_socket.read_some(asio::buffer(buffer), read_ec);
    if (read_ec == asio::error::would_block || read_ec == asio::error::try_again) break;
    if (read_ec || n == 0) {
      close_now();
      return false;
    }
    // Before CONNACK the accept time stays: the CONNECT deadline is absolute.
    if (m_client.connected) m_last_received = Clock::now();
    on_input(std::string_view(buffer.data(), n));
    if (n < buffer.size()) break;
  }
  return true;
}

void Connection::resume_input() {
  m_input_paused = false;
  on_bytes({}); // the frames that waited
  read_loop();
}

void Connection::post_after_pending_input(std::function<void()> then) {
  auto self = ref();
  asio::post(executor(), [self, then = std::move(then)] {
    // The read wait stays armed: when it fires it finds the socket drained and re-arms.
    if (!self->m_tls && (!self->m_http || self->m_ws_frames) && self->reading()) self->read_available();
    then();
  });
}

void Connection::read_tls() {
  auto self = ref();
  if (m_tls->read_buffer.empty()) m_tls->read_buffer.resize(k_read_chunk);
  m_tls->stream.async_read_some(asio::buffer(m_tls->read_buffer), [self](const error_code& ec, std::size_t n) {
    if (ec) {
      self->close_now();
      return;
    }
    if (self->m_client.connected) self->m_last_received = Clock::now();
    self->on_input(std::string_view(self->m_tls->read_buffer.data(), n));
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
    if (m_close_after_write) linger();
    return;
  }
  m_writing_now = true;
  std::string& writing = m_out->writing;
  writing.swap(m_out->pending);
  m_out->pending.clear();
  const std::size_t total = writing.size();
  if (m_http) {
    write_http(total);
    return;
  }
  auto self = ref();
  with_stream([&](auto& stream) {
    asio::async_write(stream, asio::buffer(writing), [self, total](const error_code& ec, std::size_t) {
      self->on_written(ec, total);
    });
  });
}

void Connection::on_written(const error_code& ec, std::size_t total) {
  std::string& written = m_out->writing;
  written.clear();
  if (ec) {
    close_now();
    return;
  }
  m_server.stats().bytes_sent.fetch_add(total, std::memory_order_relaxed);
  // Give back memory after a burst so idle connections stay small.
  if (written.capacity() > k_max_kept_write_capacity) std::string().swap(written);
  write_loop();
  if (m_flush_after_write) {
    m_flush_after_write = false;
    flush_outbox();
  }
}

void Connection::close_after_flush() {
  if (m_closed) return;
  m_closing = true;
  if (!m_close_after_write) {
    m_close_after_write = true;
    // From here the keepalive fields serve the goodbye: the grace becomes the input
    // budget (on_bytes) and the timer the deadline of the whole goodbye, write included.
    m_keepalive_grace_ms = k_linger_bytes;
    if (!m_keepalive_timer) m_keepalive_timer = std::make_unique<Timer>(executor());
    m_keepalive_timer->expires_after(k_linger_time);
    auto self = ref();
    m_keepalive_timer->async_wait([self](const error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      self->close_now();
    });
  }
  if (!m_writing_now) write_loop();
}

void Connection::drain_discarded(std::size_t bytes) {
  if (bytes >= m_keepalive_grace_ms) close_now();
  else m_keepalive_grace_ms -= static_cast<std::uint32_t>(bytes);
}

void Connection::linger() {
  if (m_closed || m_lingering) return;
  m_lingering = true;
  m_server.goodbye_started();
  // The goodbye is written: the session side ends now (will, detach) and FIN follows the
  // last packet. The read loop, still armed, discards input until EOF, the byte budget
  // or the deadline set in close_after_flush(), then close_now() closes the socket.
  on_closed();
  error_code ec;
  m_socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) close_now();
}

void Connection::close_now() {
  if (m_closed) return;
  m_closed = true;
  m_closing = true;
  error_code ec;
  if (m_http) close_http();
  m_keepalive_timer.reset();
  if (!m_lingering) m_socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  m_socket.close(ec);
  m_server.connection_closed();
  if (m_lingering) m_server.goodbye_finished();
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
  m_keepalive_timer->async_wait([self](const error_code& ec) {
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
