#include <mqfleet/broker/bucket_ingest.hpp>

#include <mqfleet/mqtt/topic.hpp>
#include <mqfleet/store/bucket_writer.hpp>

namespace mqfleet::broker {

void BucketIngest::set_buckets(const Registry& registry) {
  auto routes = std::make_shared<Routes>();
  for (const auto& [name, account] : registry.accounts()) {
    for (const auto& [id, bucket] : account.buckets) {
      const auto key = m_writer.bucket_key(id); // disabled buckets exist too (stats show 0)
      if (bucket.enabled) (*routes)[name].push_back(Route{key, bucket.topic});
    }
  }
  std::lock_guard lock(m_mutex);
  m_routes = std::move(routes);
}

void BucketIngest::on_publish(std::string_view account, std::string_view device, std::string_view topic,
                              std::string_view payload) noexcept {
  std::shared_ptr<const Routes> routes;
  {
    std::lock_guard lock(m_mutex);
    if (m_routes->empty()) return;
    routes = m_routes;
  }
  const auto found = routes->find(account);
  if (found == routes->end()) return;
  const auto received = store::now_ms();
  for (const auto& route : found->second) {
    if (!mqtt::topic_matches(route.filter, topic)) continue;
    try {
      m_writer.enqueue(route.key, device, topic, payload, received);
    } catch (...) {
      // Out of memory copying the payload: the point is lost, delivery goes on.
    }
  }
}

std::size_t BucketIngest::bucket_count() const {
  std::lock_guard lock(m_mutex);
  std::size_t n = 0;
  for (const auto& [account, list] : *m_routes) n += list.size();
  return n;
}

} // namespace mqfleet::broker
