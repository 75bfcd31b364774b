#include <mqfleet/engine/event_loop.hpp>

#include <mqfleet/engine/client.hpp>
#include <mqfleet/error.hpp>

#include <netdb.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace mqfleet::engine {
namespace {

constexpr std::size_t k_read_scratch_size = 64 * 1024;
constexpr auto k_housekeeping_period = std::chrono::milliseconds(500);

/// Drains the eventfd that post() and stop() write to.
class WakeHandler final : public IoHandler {
public:
  explicit WakeHandler(int fd) : m_fd(fd) {}
  void on_io(std::uint32_t) override {
    std::uint64_t value = 0;
    while (::read(m_fd, &value, sizeof value) > 0) {
    }
  }

private:
  int m_fd;
};

} // namespace

struct EventLoop::Resolved {
  sockaddr_storage address{};
  unsigned length = 0;
};

EventLoop::EventLoop() {
  m_epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (m_epoll_fd < 0) throw Error(std::string("epoll_create1 failed: ") + std::strerror(errno));
  m_wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (m_wake_fd < 0) {
    ::close(m_epoll_fd);
    throw Error(std::string("eventfd failed: ") + std::strerror(errno));
  }
  m_wake_handler = std::make_unique<WakeHandler>(m_wake_fd);
  watch(m_wake_fd, *m_wake_handler);
  m_read_scratch.resize(k_read_scratch_size);
}

EventLoop::~EventLoop() {
  {
    std::lock_guard lock(m_mutex);
    // Clients close their sockets without callbacks while being destroyed.
    m_clients.clear();
  }
  ::close(m_wake_fd);
  ::close(m_epoll_fd);
}

void EventLoop::watch(int fd, IoHandler& handler) {
  epoll_event event{};
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.ptr = &handler;
  if (::epoll_ctl(m_epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
    throw Error(std::string("epoll_ctl failed: ") + std::strerror(errno));
  }
}

void EventLoop::unwatch(int fd) noexcept { ::epoll_ctl(m_epoll_fd, EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::wake() noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(m_wake_fd, &one, sizeof one);
}

void EventLoop::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stop_requested = true;
  }
  wake();
}

void EventLoop::post(std::function<void()> fn) {
  bool was_empty = false;
  {
    std::lock_guard lock(m_mutex);
    was_empty = m_posted.empty();
    m_posted.push_back(std::move(fn));
  }
  if (was_empty) wake();
}

TimerId EventLoop::schedule_at(Clock::time_point when, std::function<void()> fn) {
  const TimerId id = m_next_timer_id++;
  m_timers.emplace(id, std::move(fn));
  m_timer_heap.push(Timer{when, id});
  return id;
}

TimerId EventLoop::schedule_after(Clock::duration delay, std::function<void()> fn) {
  return schedule_at(m_now + delay, std::move(fn));
}

void EventLoop::cancel(TimerId id) { m_timers.erase(id); }

Client& EventLoop::add_client(ClientOptions options, ClientHandler& handler, std::uint64_t user_data) {
  auto client = std::make_unique<Client>(*this, std::move(options), handler, user_data);
  Client& ref = *client;
  std::lock_guard lock(m_mutex);
  m_clients.push_back(std::move(client));
  return ref;
}

void EventLoop::remove_client(Client& client) {
  client.abort_silently();
  if (std::find(m_removed.begin(), m_removed.end(), &client) == m_removed.end()) {
    m_removed.push_back(&client);
  }
}

std::size_t EventLoop::client_count() const {
  std::lock_guard lock(m_mutex);
  return m_clients.size();
}

void EventLoop::request_flush(Client& client) { m_dirty.push_back(&client); }

void EventLoop::request_read(Client& client) { m_read_again.push_back(&client); }

const sockaddr_storage& EventLoop::resolve(const std::string& host, std::uint16_t port,
                                           unsigned& address_length) {
  std::string key = host;
  key += ':';
  key += std::to_string(port);
  auto found = m_resolved.find(key);
  if (found == m_resolved.end()) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* result = nullptr;
    const std::string service = std::to_string(port);
    const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &result);
    if (rc != 0 || result == nullptr) {
      throw ConnectError(-1, std::string("cannot resolve the host: ") + ::gai_strerror(rc), host,
                         "check the host name");
    }
    // Prefer IPv4: "localhost" often lists ::1 first while brokers listen on 127.0.0.1.
    const addrinfo* chosen = result;
    for (const addrinfo* entry = result; entry != nullptr; entry = entry->ai_next) {
      if (entry->ai_family == AF_INET) {
        chosen = entry;
        break;
      }
    }
    auto resolved = std::make_unique<Resolved>();
    std::memcpy(&resolved->address, chosen->ai_addr, chosen->ai_addrlen);
    resolved->length = static_cast<unsigned>(chosen->ai_addrlen);
    ::freeaddrinfo(result);
    found = m_resolved.emplace(std::move(key), std::move(resolved)).first;
  }
  address_length = found->second->length;
  return found->second->address;
}

void EventLoop::run_posted() {
  {
    std::lock_guard lock(m_mutex);
    if (m_posted.empty()) return;
    m_running.swap(m_posted);
  }
  for (auto& fn : m_running) fn();
  m_running.clear();
}

void EventLoop::run_timers() {
  while (!m_timer_heap.empty() && m_timer_heap.top().when <= m_now) {
    const TimerId id = m_timer_heap.top().id;
    m_timer_heap.pop();
    auto found = m_timers.find(id);
    if (found == m_timers.end()) continue;
    auto fn = std::move(found->second);
    m_timers.erase(found);
    fn();
  }
}

void EventLoop::run_housekeeping() {
  if (m_now < m_next_housekeeping) return;
  m_next_housekeeping = m_now + k_housekeeping_period;
  std::lock_guard lock(m_mutex);
  // Index loop: callbacks may add clients (push_back) while we iterate.
  for (std::size_t i = 0; i < m_clients.size(); ++i) {
    Client* client = m_clients[i].get();
    m_mutex.unlock();
    client->housekeeping(m_now);
    m_mutex.lock();
  }
}

void EventLoop::flush_dirty() {
  // Flushing may call back into user code, which may queue more writes: loop until calm.
  for (int round = 0; round < 4 && !m_dirty.empty(); ++round) {
    std::vector<Client*> dirty;
    dirty.swap(m_dirty);
    for (Client* client : dirty) client->flush();
    if (m_dirty.empty()) {
      dirty.clear();
      m_dirty.swap(dirty); // keep the capacity
    }
  }
}

int EventLoop::wait_timeout_ms() const {
  if (!m_dirty.empty() || !m_read_again.empty()) return 0;
  {
    std::lock_guard lock(m_mutex);
    if (!m_posted.empty() || m_stop_requested) return 0;
  }
  Clock::time_point next = m_next_housekeeping;
  if (!m_timer_heap.empty()) next = std::min(next, m_timer_heap.top().when);
  const auto now = Clock::now();
  if (next <= now) return 0;
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
  return static_cast<int>(std::min<long long>(wait, 1000));
}

void EventLoop::run() {
  std::array<epoll_event, 256> events{};
  while (true) {
    {
      std::lock_guard lock(m_mutex);
      if (m_stop_requested) {
        m_stop_requested = false;
        break;
      }
    }
    const int count = ::epoll_wait(m_epoll_fd, events.data(), static_cast<int>(events.size()),
                                   wait_timeout_ms());
    m_now = Clock::now();
    if (count < 0 && errno != EINTR) throw Error(std::string("epoll_wait failed: ") + std::strerror(errno));
    m_read_again_running.swap(m_read_again);
    for (Client* client : m_read_again_running) client->on_io(EPOLLIN);
    m_read_again_running.clear();
    for (int i = 0; i < count; ++i) {
      static_cast<IoHandler*>(events[i].data.ptr)->on_io(events[i].events);
    }
    run_posted();
    run_timers();
    run_housekeeping();
    flush_dirty();
    if (!m_removed.empty()) {
      std::lock_guard lock(m_mutex);
      for (Client* removed : m_removed) {
        std::erase_if(m_clients, [removed](const auto& c) { return c.get() == removed; });
        std::erase(m_dirty, removed);
        std::erase(m_read_again, removed);
      }
      m_removed.clear();
    }
  }
}

} // namespace mqfleet::engine
