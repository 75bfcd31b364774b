#pragma once
// A small fixed pool of threads with a bounded queue, for work that must not run on an
// io thread: the broker verifies CONNECT credentials (PBKDF2, up to ~50 ms each) here, so
// a burst of logins never stalls the delivery of other clients' messages. When the queue
// is full, submit() refuses at once and the caller answers "server busy".

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mqfleet::broker {

/// Threads plus a bounded FIFO of jobs. Jobs must not throw.
class WorkPool {
public:
  /// Starts `threads` workers (at least 1) that take jobs from a queue of at most `capacity`.
  WorkPool(unsigned threads, std::size_t capacity);
  /// Runs the jobs already queued, then joins the workers.
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  /// Queues `job`; false (and `job` not run) when the queue is full or the pool stops.
  bool submit(std::function<void()> job);
  /// Jobs waiting (not yet started).
  std::size_t queued() const;

private:
  void run();

  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  std::deque<std::function<void()>> m_jobs;
  std::size_t m_capacity;
  bool m_stopping = false;
  std::vector<std::thread> m_threads;
};

} // namespace mqfleet::broker
