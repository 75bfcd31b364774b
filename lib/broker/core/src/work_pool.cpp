#include <mqfleet/broker/work_pool.hpp>

#include <algorithm>

namespace mqfleet::broker {

WorkPool::WorkPool(unsigned threads, std::size_t capacity) : m_capacity(std::max<std::size_t>(capacity, 1)) {
  threads = std::max(threads, 1u);
  m_threads.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) m_threads.emplace_back([this] { run(); });
}

WorkPool::~WorkPool() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  for (auto& thread : m_threads) thread.join();
}

bool WorkPool::submit(std::function<void()> job) {
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping || m_jobs.size() >= m_capacity) return false;
    m_jobs.push_back(std::move(job));
  }
  m_wake.notify_one();
  return true;
}

std::size_t WorkPool::queued() const {
  std::lock_guard lock(m_mutex);
  return m_jobs.size();
}

void WorkPool::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait(lock, [this] { return m_stopping || !m_jobs.empty(); });
      if (m_jobs.empty()) return; // stopping with nothing left
      job = std::move(m_jobs.front());
      m_jobs.pop_front();
    }
    job();
  }
}

} // namespace mqfleet::broker
