#pragma once
// Failed-login back-off (docs/broker.md, "Failed logins"). Every refused CONNECT adds one
// to a leaky bucket of the peer's address and one to a bucket of the client id it tried.
// A peer's bucket drains one failure per second and holds k_peer_burst; a client id's
// drains one per 10 s and holds k_id_burst. A bucket that overflows locks its key for
// 1 s, then 2, 4, ... up to k_max_lock while the failures go on. While its peer or its
// client id is locked a CONNECT is refused at once, without the password hash, so a
// guessing loop costs the broker almost nothing, while a misconfigured device that
// retries every few seconds (or the fleet behind the same NAT address) is never locked.
// A successful login clears its client id. Memory is bounded: at most k_max_keys keys.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mqfleet::broker {

/// Thread-safe tracker of failed logins per peer address and per client id.
class LoginGuard {
public:
  using Clock = std::chrono::steady_clock;
  /// Failures in a burst from one peer address before it is locked.
  static constexpr double k_peer_burst = 20;
  /// Failures in a burst for one client id before it is locked.
  static constexpr double k_id_burst = 5;
  /// The longest lock.
  static constexpr std::chrono::seconds k_max_lock{60};
  /// Keys tracked at most (peers and client ids together).
  static constexpr std::size_t k_max_keys = 100000;

  /// True when a CONNECT from `peer` (an address, without port) for `client_id` (the
  /// account-qualified id) must be refused without checking its credentials.
  bool locked(std::string_view peer, std::string_view client_id, Clock::time_point now);
  /// A CONNECT from `peer` for `client_id` was refused.
  void failed(std::string_view peer, std::string_view client_id, Clock::time_point now);
  /// A CONNECT for `client_id` succeeded: its failures are forgotten.
  void succeeded(std::string_view client_id);
  /// Keys tracked now.
  std::size_t size() const;

private:
  struct Entry {
    double level = 0;             ///< failures in the bucket as of last_failure
    std::uint32_t locks = 0;      ///< locks since the bucket was last empty
    Clock::time_point locked_until{};
    Clock::time_point last_failure{};
  };
  void fail_one(const std::string& key, double burst, double per_second, Clock::time_point now);
  bool is_locked(const std::string& key, Clock::time_point now) const;
  void prune(Clock::time_point now);

  mutable std::mutex m_mutex;
  std::unordered_map<std::string, Entry> m_entries; ///< "p:" + peer, "c:" + client id
};

} // namespace mqfleet::broker
