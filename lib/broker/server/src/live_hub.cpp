#include "live_hub.hpp"

#include "connection.hpp"

#include <mqfleet/store/point.hpp>

#include <algorithm>
#include <vector>

namespace mqfleet::broker {

std::shared_ptr<LiveFeed> LiveHub::subscribe(std::string account, Connection* connection) {
  auto feed = std::make_shared<LiveFeed>();
  feed->account = account;
  std::lock_guard lock(m_mutex);
  m_subscribers.emplace(std::move(account), Subscriber{feed, connection});
  m_count.fetch_add(1, std::memory_order_relaxed);
  return feed;
}

void LiveHub::unsubscribe(const LiveFeed* feed) {
  if (feed == nullptr) return;
  std::lock_guard lock(m_mutex);
  auto [first, last] = m_subscribers.equal_range(feed->account);
  for (auto it = first; it != last; ++it) {
    if (it->second.feed.get() == feed) {
      m_subscribers.erase(it);
      m_count.fetch_sub(1, std::memory_order_relaxed);
      return;
    }
  }
}

void LiveHub::on_committed(std::span<const store::CommittedPoint> points, const Registry& registry) noexcept {
  if (!active()) return;
  try {
    std::vector<std::string> accounts;
    {
      std::lock_guard lock(m_mutex);
      for (auto it = m_subscribers.begin(); it != m_subscribers.end(); it = m_subscribers.upper_bound(it->first))
        accounts.push_back(it->first);
    }
    // One message per account with subscribers: {"points":[...]} in commit order.
    struct Frame {
      std::string text;
      std::size_t points = 0;
    };
    std::map<std::string, Frame, std::less<>> frames;
    std::map<std::string_view, const std::string*, std::less<>> owner_of; // bucket id -> account (cache)
    for (const auto& point : points) {
      auto cached = owner_of.find(point.bucket);
      if (cached == owner_of.end()) {
        const std::string* account = nullptr;
        const auto [bucket, name] = registry.find_bucket(point.bucket);
        if (bucket != nullptr)
          if (auto found = std::find(accounts.begin(), accounts.end(), name); found != accounts.end()) account = &*found;
        cached = owner_of.emplace(point.bucket, account).first;
      }
      if (cached->second == nullptr) continue;
      Frame& frame = frames[*cached->second];
      if (++frame.points > k_max_points_per_frame) continue;
      // The stored payload is one JSON object; re-serialised so the text frame is valid
      // UTF-8 whatever bytes the device sent.
      const store::Json val = store::stored_object(point.payload);
      const store::Json meta{{"bucket", std::string(point.bucket)}, {"ts", point.ts}, {"device", std::string(point.device)}};
      frame.text += frame.text.empty() ? "{\"points\":[" : ",";
      std::string item = meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      item.pop_back();
      item += ",\"val\":" + val.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "}";
      frame.text += item;
    }
    if (frames.empty()) return;
    for (auto& [account, frame] : frames) {
      if (frame.points > k_max_points_per_frame) frame.text.clear(); // too many: the page reloads
      else frame.text += "]}";
    }
    std::lock_guard lock(m_mutex);
    for (const auto& [account, frame] : frames) {
      auto [first, last] = m_subscribers.equal_range(account);
      for (auto it = first; it != last; ++it) {
        LiveFeed& feed = *it->second.feed;
        bool post = false;
        {
          std::lock_guard feed_lock(feed.mutex);
          if (frame.text.empty() || feed.frames.size() >= k_max_frames || feed.bytes + frame.text.size() > k_max_bytes) {
            feed.frames.clear();
            feed.bytes = 0;
            feed.reload = true;
          } else {
            feed.frames.push_back(frame.text);
            feed.bytes += frame.text.size();
          }
          post = !feed.drain_posted;
          feed.drain_posted = true;
        }
        if (!post) continue;
        // The connection unsubscribes (under m_mutex) before it is destroyed; a count of
        // zero means it is on its way out.
        if (auto connection = RefPtr<Connection>::try_acquire(it->second.connection)) {
          auto* target = connection.get();
          asio::post(target->executor(), [connection = std::move(connection)] { connection->drain_live(); });
        }
      }
    }
  } catch (...) {
    // Out of memory: these points are not pushed; the pages still have their history.
  }
}

} // namespace mqfleet::broker
