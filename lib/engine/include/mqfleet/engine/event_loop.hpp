#pragma once
// One thread's event loop: epoll over non-blocking sockets (edge triggered), a timer heap,
// a thread-safe queue of posted functions, and the per-iteration write flush that batches
// every packet queued on a connection into one write().
//
// Threading: run() executes on one thread; post() and stop() may be called from any
// thread; everything else (timers, clients of this loop, their callbacks) belongs to the
// loop thread. Before run() starts, the creating thread counts as the loop thread.

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

namespace mqfleet::engine {

class Client;
class ClientHandler;
struct ClientOptions;

/// The clock of every engine time stamp and timer.
using Clock = std::chrono::steady_clock;

/// Identifies a scheduled timer; 0 is never used.
using TimerId = std::uint64_t;

/// Something registered with the loop's epoll set (a connection, the wake-up eventfd).
class IoHandler {
public:
  virtual ~IoHandler() = default;
  /// Called on the loop thread with the epoll event bits.
  virtual void on_io(std::uint32_t events) = 0;
};

/// A single-threaded epoll loop carrying many clients.
class EventLoop {
public:
  /// Creates the epoll set and the wake-up eventfd. Throws mqfleet::Error on failure.
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /// Runs until stop(): waits for I/O and timers, runs posted functions, flushes writes.
  void run();
  /// Makes run() return after its current iteration. Thread-safe.
  void stop();
  /// Queues fn to run on the loop thread. Thread-safe; wakes the loop.
  void post(std::function<void()> fn);

  /// Calls fn on the loop thread at (or soon after) when. Loop thread only.
  TimerId schedule_at(Clock::time_point when, std::function<void()> fn);
  /// Same, after a delay from now().
  TimerId schedule_after(Clock::duration delay, std::function<void()> fn);
  /// Cancels a timer that has not fired; unknown or fired ids are ignored.
  void cancel(TimerId id);

  /// The time read at the start of the current iteration (cheap; no system call).
  Clock::time_point now() const noexcept { return m_now; }

  /// Creates a client owned by this loop; it stays until remove_client() or the loop's
  /// destruction. Thread-safe. handler must outlive the client; one handler may serve
  /// many clients. The client does nothing until connect().
  Client& add_client(ClientOptions options, ClientHandler& handler, std::uint64_t user_data = 0);
  /// Closes the client abruptly if it is open (no callback) and destroys it after the
  /// current iteration. Loop thread only.
  void remove_client(Client& client);
  /// Clients currently owned by this loop.
  std::size_t client_count() const;

  /// Registers fd for edge-triggered EPOLLIN | EPOLLOUT | EPOLLRDHUP. Loop thread only.
  void watch(int fd, IoHandler& handler);
  /// Removes fd from the epoll set (call before closing it).
  void unwatch(int fd) noexcept;
  /// Asks for handler->flush() at the end of the current iteration (write batching).
  void request_flush(Client& client);
  /// Asks for another on_io(EPOLLIN) next iteration: a connection stopped reading early
  /// for fairness while data was still pending (edge triggering would not report it).
  void request_read(Client& client);
  /// Scratch space shared by this loop's connections for socket reads (64 KiB), so an
  /// idle connection holds no read buffer of its own.
  std::string& read_scratch() noexcept { return m_read_scratch; }
  /// Resolves host:port once per loop and caches it (getaddrinfo blocks the loop the
  /// first time a name is seen; numeric addresses never block). Throws ConnectError.
  const sockaddr_storage& resolve(const std::string& host, std::uint16_t port,
                                         unsigned& address_length);

private:
  struct Timer {
    Clock::time_point when;
    TimerId id;
    bool operator>(const Timer& other) const noexcept {
      return when != other.when ? when > other.when : id > other.id;
    }
  };
  struct Resolved;

  void run_posted();
  void run_timers();
  void run_housekeeping();
  void flush_dirty();
  void wake() noexcept;
  int wait_timeout_ms() const;

  int m_epoll_fd = -1;
  int m_wake_fd = -1;
  std::unique_ptr<IoHandler> m_wake_handler;
  bool m_stopping = false;
  Clock::time_point m_now = Clock::now();
  Clock::time_point m_next_housekeeping = m_now;

  mutable std::mutex m_mutex; // guards m_posted, m_stop_requested and m_clients
  std::vector<std::function<void()>> m_posted;
  std::vector<std::function<void()>> m_running;
  bool m_stop_requested = false;
  std::vector<std::unique_ptr<Client>> m_clients;
  std::vector<Client*> m_removed;

  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> m_timer_heap;
  std::unordered_map<TimerId, std::function<void()>> m_timers;
  TimerId m_next_timer_id = 1;

  std::vector<Client*> m_dirty;
  std::vector<Client*> m_read_again;
  std::vector<Client*> m_read_again_running;
  std::string m_read_scratch;
  std::unordered_map<std::string, std::unique_ptr<Resolved>> m_resolved;
};

} // namespace mqfleet::engine
