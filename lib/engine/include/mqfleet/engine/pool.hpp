#pragma once
// N event loops on N threads; clients are spread round-robin over them. All callbacks of
// a client run on its loop's thread, so a handler shared by clients of different loops
// must synchronise its own state (or keep one handler per loop: see loop_index()).

#include <mqfleet/engine/client.hpp>
#include <mqfleet/engine/event_loop.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace mqfleet::engine {

/// A fixed set of loops with their threads.
class EnginePool {
public:
  /// Creates threads loops (0 = one per hardware thread). Threads start with start().
  explicit EnginePool(unsigned threads = 0);
  /// Stops and joins the threads, then destroys clients and loops.
  ~EnginePool();
  EnginePool(const EnginePool&) = delete;
  EnginePool& operator=(const EnginePool&) = delete;

  /// Starts one thread per loop running EventLoop::run().
  void start();
  /// Stops every loop and joins the threads. Idempotent.
  void stop();

  /// Creates a client on the next loop (round-robin). Thread-safe. Start it with
  /// `client.loop().post([&client] { client.connect(); })` once the pool runs.
  Client& add_client(ClientOptions options, ClientHandler& handler, std::uint64_t user_data = 0);
  /// Creates a client on a chosen loop.
  Client& add_client_on(std::size_t loop_index, ClientOptions options, ClientHandler& handler,
                        std::uint64_t user_data = 0);

  /// Number of loops.
  std::size_t size() const noexcept { return m_loops.size(); }
  /// Loop i (0 <= i < size()).
  EventLoop& loop(std::size_t i) { return *m_loops[i]; }
  /// Index of the loop a client lives on.
  std::size_t loop_index(const Client& client) const;
  /// Runs fn(client) on each client's loop thread: fn must be thread-safe across loops.
  void post_to(Client& client, std::function<void(Client&)> fn);

private:
  std::vector<std::unique_ptr<EventLoop>> m_loops;
  std::vector<std::thread> m_threads;
  std::atomic<std::size_t> m_next{0};
  bool m_running = false;
};

} // namespace mqfleet::engine
