#pragma once
// The live push of bucket points to open dashboards (docs/broker.md, "Dashboards"): a
// dashboard page opens the WebSocket /console/{account}/live (http_transport.cpp), which
// subscribes here for its account. The bucket writer calls on_committed() on its thread
// after each commit; every subscribed connection of the points' account gets one JSON
// text message {"points":[{"bucket","ts","device","val"}]} through its own bounded queue.
// A queue that is full (a slow browser) is emptied and answers {"reload":true} instead, so
// the page fetches its history again: memory per connection stays bounded.

#include <mqfleet/broker/device_registry.hpp>
#include <mqfleet/store/bucket_writer.hpp>

#include <atomic>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

namespace mqfleet::broker {

class Connection;

/// One subscribed connection: its account and its queue of messages to send.
struct LiveFeed {
  std::string account;
  std::mutex mutex;                ///< guards everything below
  std::deque<std::string> frames;  ///< text messages waiting for the socket
  std::size_t bytes = 0;           ///< their total size
  bool reload = false;             ///< frames were dropped: send {"reload":true} next
  bool drain_posted = false;       ///< a drain is posted to the connection's io thread
};

/// Subscriptions of live dashboard sockets, by account (thread-safe).
class LiveHub {
public:
  /// Most messages waiting per connection.
  static constexpr std::size_t k_max_frames = 64;
  /// Most bytes waiting per connection.
  static constexpr std::size_t k_max_bytes = 1u << 20;
  /// Most points of one account in one message; a larger commit sends {"reload":true}.
  static constexpr std::size_t k_max_points_per_frame = 1000;

  /// Subscribes `connection` (io thread) to the points of `account`; unsubscribe() before
  /// the connection goes away.
  std::shared_ptr<LiveFeed> subscribe(std::string account, Connection* connection);
  /// Ends a subscription; after it returns no drain is posted for it any more.
  void unsubscribe(const LiveFeed* feed);
  /// The writer thread's hook: queues the committed points for the subscribers of their
  /// accounts (`registry` maps bucket ids to accounts) and wakes their connections.
  void on_committed(std::span<const store::CommittedPoint> points, const Registry& registry) noexcept;
  /// True when at least one connection is subscribed (a cheap check before any work).
  bool active() const noexcept { return m_count.load(std::memory_order_relaxed) != 0; }

private:
  struct Subscriber {
    std::shared_ptr<LiveFeed> feed;
    Connection* connection; ///< cleared (entry removed) by unsubscribe() before it goes
  };
  mutable std::mutex m_mutex;
  std::multimap<std::string, Subscriber, std::less<>> m_subscribers;
  std::atomic<std::size_t> m_count{0};
};

} // namespace mqfleet::broker
