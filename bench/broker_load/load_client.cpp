#include "load_client.hpp"

#include "wire.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace mqfleet::bench {
namespace {

void write_hex(char* out, std::uint64_t value, int digits) {
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = "0123456789abcdef"[value & 0xF];
    value >>= 4;
  }
}

void write_decimal(char* out, std::uint64_t value, int digits) {
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

std::uint64_t read_hex(const char* in, int digits) {
  std::uint64_t value = 0;
  for (int i = 0; i < digits; ++i) {
    const char c = in[i];
    value = value * 16 + static_cast<std::uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return value;
}

using Clock = std::chrono::steady_clock;

enum class Role { subscriber, publisher, idle };

struct Connection {
  int fd = -1;
  Role role = Role::idle;
  int index = 0;
  std::string in;
  std::size_t in_pos = 0;
  std::string out;
  std::size_t out_pos = 0;
  bool writable_watch = false;
  bool connacked = false;
  bool subscribed = false;
  std::uint64_t sent = 0;      ///< publisher: messages written
  std::uint64_t delivered = 0; ///< publisher: deliveries of its messages seen by subscribers
  std::uint64_t acked = 0;     ///< publisher: PUBACKs (QoS 1)
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

class Engine {
public:
  explicit Engine(const LoadOptions& options) : m_options(options), m_epoll(epoll_create1(EPOLL_CLOEXEC)) {
    if (m_epoll < 0) throw std::runtime_error("epoll_create1 failed");
    m_address.sin_family = AF_INET;
    m_address.sin_port = htons(static_cast<std::uint16_t>(options.port));
    if (inet_pton(AF_INET, options.host.c_str(), &m_address.sin_addr) != 1)
      throw std::runtime_error("host must be an IPv4 address: " + options.host);
  }
  ~Engine() {
    for (auto& c : m_connections)
      if (c->fd >= 0) close(c->fd);
    close(m_epoll);
  }

  /// Adds `count` connections of `role`, connecting them a batch at a time; returns when
  /// each has its CONNACK (and SUBACK for subscribers).
  void open(Role role, int count) {
    const std::size_t first = m_connections.size();
    for (int i = 0; i < count; ++i) {
      auto c = std::make_unique<Connection>();
      c->role = role;
      c->index = i;
      m_connections.push_back(std::move(c));
    }
    std::size_t next = first;
    const auto ready = [&](const Connection& c) { return c.connacked && (role != Role::subscriber || c.subscribed); };
    auto last_progress = Clock::now();
    std::size_t done = 0;
    while (done < static_cast<std::size_t>(count)) {
      while (next < m_connections.size() && static_cast<int>(next - first - done) < m_options.max_connecting) {
        start_connect(*m_connections[next]);
        ++next;
      }
      const std::size_t before = done;
      poll(50);
      done = static_cast<std::size_t>(
          std::count_if(m_connections.begin() + static_cast<long>(first), m_connections.begin() + static_cast<long>(next),
                        [&](const auto& c) { return ready(*c); }));
      if (done != before) last_progress = Clock::now();
      if (Clock::now() - last_progress > std::chrono::seconds(20))
        throw std::runtime_error("connections stalled: " + std::to_string(done) + " of " + std::to_string(count) +
                                 " ready");
    }
  }

  LoadResult run() {
    LoadResult result;
    const auto publishers = static_cast<std::uint64_t>(m_options.publishers);
    result.expected = publishers * m_options.messages * static_cast<std::uint64_t>(m_options.subscribers);
    m_latencies_us.reserve(std::min<std::uint64_t>(result.expected, 20'000'000));
    if (m_options.json) {
      // {"i":"<8 hex>","s":"<16 hex>","ts":<16 digits>,"p":"xx..."}: a JSON object of the
      // requested size; ts = 10^15 + the publisher's sequence number, unique per device
      // (a data bucket replaces points with the same ts).
      const std::string head = R"({"i":"00000000","s":"0000000000000000","ts":1000000000000000,"p":")";
      m_payload = head + std::string(m_options.payload_size > head.size() + 2 ? m_options.payload_size - head.size() - 2 : 0, 'x') + "\"}";
    } else {
      m_payload.assign(std::max<std::size_t>(m_options.payload_size, 16), 'x');
    }
    const auto start = Clock::now();
    m_start = start;
    auto last_progress = start;
    std::uint64_t last_received = 0;
    while (m_received < result.expected || !all_acked()) {
      bool more = false;
      for (auto& c : m_connections)
        if (c->role == Role::publisher) more |= feed(*c);
      flush_all();
      poll(more ? 0 : m_options.rate > 0 ? 1 : 5);
      if (m_received != last_received) {
        last_received = m_received;
        last_progress = Clock::now();
      } else if (Clock::now() - last_progress > std::chrono::duration<double>(m_options.stall_seconds)) {
        result.stalled = true;
        if (std::getenv("BROKER_LOAD_DEBUG") != nullptr) dump();
        break;
      }
    }
    const auto end = result.stalled ? last_progress : Clock::now();
    result.seconds = std::chrono::duration<double>(end - start).count();
    for (auto& c : m_connections) result.sent += c->role == Role::publisher ? c->sent : 0;
    result.received = m_received;
    result.deliveries_per_second = result.seconds > 0 ? static_cast<double>(m_received) / result.seconds : 0;
    if (!m_latencies_us.empty()) {
      auto percentile = [&](double p) {
        const auto k = static_cast<std::size_t>(p * static_cast<double>(m_latencies_us.size() - 1));
        std::nth_element(m_latencies_us.begin(), m_latencies_us.begin() + static_cast<long>(k), m_latencies_us.end());
        return static_cast<double>(m_latencies_us[k]);
      };
      result.p50_us = percentile(0.50);
      result.p99_us = percentile(0.99);
    }
    return result;
  }

  /// Processes socket events for up to `timeout_ms`.
  void poll(int timeout_ms) {
    epoll_event events[512];
    const int n = epoll_wait(m_epoll, events, 512, timeout_ms);
    for (int i = 0; i < n; ++i) {
      auto& c = *static_cast<Connection*>(events[i].data.ptr);
      if (events[i].events & (EPOLLERR | EPOLLHUP)) throw_closed(c);
      if (events[i].events & EPOLLOUT) flush(c);
      if (events[i].events & EPOLLIN) read(c);
    }
    flush_all();
  }

private:
  void dump() const {
    for (const auto& c : m_connections)
      std::fprintf(stderr, "%s %d sent=%llu acked=%llu delivered=%llu out=%zu in=%zu\n",
                   c->role == Role::publisher ? "pub" : "sub", c->index, static_cast<unsigned long long>(c->sent),
                   static_cast<unsigned long long>(c->acked), static_cast<unsigned long long>(c->delivered),
                   c->out.size() - c->out_pos, c->in.size() - c->in_pos);
  }

  void start_connect(Connection& c) {
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno) + " (raise ulimit -n)");
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c.fd, reinterpret_cast<const sockaddr*>(&m_address), sizeof m_address) != 0 && errno != EINPROGRESS)
      throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT;
    event.data.ptr = &c;
    c.writable_watch = true;
    epoll_ctl(m_epoll, EPOLL_CTL_ADD, c.fd, &event);
    const char* role = c.role == Role::publisher ? "p" : c.role == Role::subscriber ? "s" : "i";
    const std::string prefix = m_options.id_prefix.empty() ? "bl-" + std::to_string(getpid()) + "-" : m_options.id_prefix;
    append_connect(c.out, prefix + role + std::to_string(c.index), 0, m_options.username, m_options.password);
  }

  [[noreturn]] void throw_closed(const Connection& c) {
    throw std::runtime_error("the broker closed connection " + std::to_string(c.index) + " (" +
                             (c.role == Role::publisher ? "publisher" : c.role == Role::subscriber ? "subscriber" : "idle") +
                             ")");
  }

  bool all_acked() const {
    if (m_options.qos == 0) return true;
    for (const auto& c : m_connections)
      if (c->role == Role::publisher && c->acked < c->sent) return false;
    return true;
  }

  /// Writes as many publishes as the publisher's window allows; true when it wants more.
  bool feed(Connection& c) {
    if (c.sent >= m_options.messages) return false;
    const auto subscribers = static_cast<std::uint64_t>(std::max(m_options.subscribers, 1));
    const std::uint64_t completed = c.delivered / subscribers;
    std::uint64_t in_flight = c.sent - std::min(completed, c.sent);
    if (m_options.qos > 0) in_flight = std::max(in_flight, c.sent - c.acked);
    if (in_flight >= m_options.window) return false;
    std::uint64_t batch = std::min(m_options.window - in_flight, m_options.messages - c.sent);
    if (m_options.rate > 0) {
      // Open loop on top of the window: this publisher's share of the rate so far.
      const double elapsed = std::chrono::duration<double>(Clock::now() - m_start).count();
      const auto due = static_cast<std::uint64_t>(elapsed * m_options.rate / m_options.publishers) + 1;
      if (due <= c.sent) return false;
      batch = std::min(batch, due - c.sent);
    }
    for (std::uint64_t i = 0; i < batch; ++i) {
      const auto index = static_cast<std::uint32_t>(c.index);
      const std::int64_t stamp = now_ns();
      if (m_options.json) {
        write_hex(m_payload.data() + 6, index, 8);
        write_hex(m_payload.data() + 21, static_cast<std::uint64_t>(stamp), 16);
        write_decimal(m_payload.data() + 44, 1'000'000'000'000'000ULL + c.sent, 16);
      } else {
        std::memcpy(m_payload.data(), &index, sizeof index);
        std::memcpy(m_payload.data() + 8, &stamp, sizeof stamp);
      }
      const auto packet_id = static_cast<std::uint16_t>(c.sent % 65535 + 1);
      append_publish(c.out, m_options.topic, m_payload, m_options.qos, packet_id);
      ++c.sent;
    }
    return c.sent < m_options.messages;
  }

  void flush_all() {
    for (auto& c : m_connections)
      if (c->fd >= 0 && c->out.size() > c->out_pos) flush(*c);
  }

  void flush(Connection& c) {
    while (c.out.size() > c.out_pos) {
      const ssize_t n = send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR || errno == ENOTCONN) break;
        throw_closed(c);
      }
      c.out_pos += static_cast<std::size_t>(n);
    }
    const bool pending = c.out.size() > c.out_pos;
    if (!pending) {
      c.out.clear();
      c.out_pos = 0;
    }
    if (pending != c.writable_watch) {
      epoll_event event{};
      event.events = EPOLLIN | (pending ? EPOLLOUT : 0u);
      event.data.ptr = &c;
      epoll_ctl(m_epoll, EPOLL_CTL_MOD, c.fd, &event);
      c.writable_watch = pending;
    }
  }

  void read(Connection& c) {
    char buffer[65536];
    for (;;) {
      const ssize_t n = recv(c.fd, buffer, sizeof buffer, 0);
      if (n == 0) throw_closed(c);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        throw_closed(c);
      }
      c.in.append(buffer, static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < sizeof buffer) break;
    }
    while (auto packet = parse_packet(std::string_view(c.in).substr(c.in_pos))) {
      handle(c, *packet);
      c.in_pos += packet->size;
    }
    if (c.in_pos == c.in.size()) {
      c.in.clear();
      c.in_pos = 0;
    } else if (c.in_pos > 65536) {
      c.in.erase(0, c.in_pos);
      c.in_pos = 0;
    }
  }

  void handle(Connection& c, const Packet& packet) {
    switch (packet.type) {
    case PacketType::connack:
      if (packet.body.size() < 2 || packet.body[1] != 0)
        throw std::runtime_error("CONNACK refused: code " + std::to_string(packet.body.size() > 1 ? packet.body[1] : -1));
      c.connacked = true;
      if (c.role == Role::subscriber) append_subscribe(c.out, 1, m_options.topic, m_options.qos);
      break;
    case PacketType::suback:
      if (packet.body.size() < 3 || static_cast<std::uint8_t>(packet.body[2]) == 0x80)
        throw std::runtime_error("SUBACK refused the subscription");
      c.subscribed = true;
      break;
    case PacketType::puback:
      ++c.acked;
      break;
    case PacketType::publish: {
      const auto view = parse_publish(packet);
      if (((packet.flags >> 1) & 3) > 0) append_puback(c.out, view.packet_id);
      if (view.payload.size() >= (m_options.json ? 37u : 16u)) {
        std::uint32_t index = 0;
        std::int64_t stamp = 0;
        if (m_options.json) {
          index = static_cast<std::uint32_t>(read_hex(view.payload.data() + 6, 8));
          stamp = static_cast<std::int64_t>(read_hex(view.payload.data() + 21, 16));
        } else {
          std::memcpy(&index, view.payload.data(), sizeof index);
          std::memcpy(&stamp, view.payload.data() + 8, sizeof stamp);
        }
        if (index < m_publishers.size()) ++m_publishers[index]->delivered;
        if (m_latencies_us.size() < m_latencies_us.capacity())
          m_latencies_us.push_back(static_cast<std::uint32_t>(std::max<std::int64_t>(0, (now_ns() - stamp) / 1000)));
      }
      ++m_received;
      break;
    }
    default:
      break;
    }
  }

public:
  /// Indexes the publishers by their number for delivery accounting.
  void index_publishers() {
    for (auto& c : m_connections)
      if (c->role == Role::publisher) m_publishers.push_back(c.get());
  }

private:
  LoadOptions m_options;
  int m_epoll;
  sockaddr_in m_address{};
  std::vector<std::unique_ptr<Connection>> m_connections;
  std::vector<Connection*> m_publishers;
  std::vector<std::uint32_t> m_latencies_us;
  std::string m_payload;
  Clock::time_point m_start{}; ///< first publish, for --rate
  std::uint64_t m_received = 0;
};

} // namespace

LoadResult run_load(const LoadOptions& options) {
  Engine engine(options);
  engine.open(Role::subscriber, options.subscribers);
  engine.open(Role::publisher, options.publishers);
  engine.index_publishers();
  return engine.run();
}

void run_idle(const LoadOptions& options, int connections, const std::function<void(int)>& ready,
              const std::function<bool()>& hold) {
  Engine engine(options);
  engine.open(Role::idle, connections);
  ready(connections);
  while (hold()) engine.poll(100);
}

} // namespace mqfleet::bench
