#include <mqfleet/engine/pool.hpp>

#include <algorithm>

namespace mqfleet::engine {

EnginePool::EnginePool(unsigned threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  m_loops.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) m_loops.push_back(std::make_unique<EventLoop>());
}

EnginePool::~EnginePool() { stop(); }

void EnginePool::start() {
  if (m_running) return;
  m_running = true;
  for (auto& loop : m_loops) {
    m_threads.emplace_back([raw = loop.get()] { raw->run(); });
  }
}

void EnginePool::stop() {
  if (!m_running) return;
  for (auto& loop : m_loops) loop->stop();
  for (auto& thread : m_threads) thread.join();
  m_threads.clear();
  m_running = false;
}

Client& EnginePool::add_client(ClientOptions options, ClientHandler& handler, std::uint64_t user_data) {
  const std::size_t index = m_next.fetch_add(1, std::memory_order_relaxed) % m_loops.size();
  return add_client_on(index, std::move(options), handler, user_data);
}

Client& EnginePool::add_client_on(std::size_t loop_index, ClientOptions options,
                                  ClientHandler& handler, std::uint64_t user_data) {
  return m_loops.at(loop_index)->add_client(std::move(options), handler, user_data);
}

std::size_t EnginePool::loop_index(const Client& client) const {
  for (std::size_t i = 0; i < m_loops.size(); ++i) {
    if (m_loops[i].get() == &client.loop()) return i;
  }
  return 0;
}

void EnginePool::post_to(Client& client, std::function<void(Client&)> fn) {
  client.loop().post([&client, fn = std::move(fn)] { fn(client); });
}

} // namespace mqfleet::engine
