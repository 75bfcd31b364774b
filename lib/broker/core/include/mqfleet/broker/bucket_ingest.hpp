#pragma once
// Data bucket ingest: the one call the broker's publish path makes for buckets. It maps
// an accepted PUBLISH of an account to that account's enabled buckets whose topic filter
// matches and queues the payload on the store's writer (docs/buckets.md). Everything
// slow (JSON validation, SQLite) happens on the writer thread; this call only matches
// topics and copies the payload into the bounded queue, and never throws.

#include <mqfleet/broker/device_registry.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mqfleet::store {
class BucketWriter;
} // namespace mqfleet::store

namespace mqfleet::broker {

/// Routes PUBLISH payloads into bucket points.
class BucketIngest {
public:
  /// Ingest into `writer` (which must outlive this object).
  explicit BucketIngest(store::BucketWriter& writer) : m_writer(writer) {}

  /// Takes the enabled buckets of `registry` (at start and on every reload).
  void set_buckets(const Registry& registry);
  /// An accepted PUBLISH: `topic` in the account's view, `device` = client id. Never
  /// throws; a full queue is counted and logged by the writer.
  void on_publish(std::string_view account, std::string_view device, std::string_view topic,
                  std::string_view payload) noexcept;
  /// Number of enabled buckets in force.
  std::size_t bucket_count() const;

private:
  struct Route {
    std::int64_t key;   ///< the store's bucket key
    std::string filter; ///< the bucket's topic filter (account view)
  };
  using Routes = std::map<std::string, std::vector<Route>, std::less<>>;

  store::BucketWriter& m_writer;
  mutable std::mutex m_mutex; ///< guards the pointer swap only
  std::shared_ptr<const Routes> m_routes = std::make_shared<const Routes>();
};

} // namespace mqfleet::broker
