#pragma once
// Retained messages: one per topic, kept in a tree keyed by topic level so a new
// subscription's filter (with wildcards) finds its retained messages without scanning.
// Topics and filters are internal (mounted) strings, already validated.
//
// Not thread-safe: the caller serialises access.

#include <mqfleet/broker/account_quotas.hpp>
#include <mqfleet/broker/message.hpp>

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace mqfleet::broker {

/// The retained-message store.
class RetainedStore {
public:
  /// `mount_levels` has the meaning of SubscriptionTree's: wildcards at level 0 and at
  /// level `mount_levels` do not match `$`-prefixed levels.
  explicit RetainedStore(std::size_t mount_levels = 0);
  ~RetainedStore();
  RetainedStore(RetainedStore&&) noexcept;
  RetainedStore& operator=(RetainedStore&&) noexcept;
  RetainedStore(const RetainedStore&) = delete;
  RetainedStore& operator=(const RetainedStore&) = delete;

  /// Stores `message` as the retained message of its topic, replacing any previous one;
  /// an empty payload deletes the topic's retained message instead (MQTT 3.3.1.3).
  void set(MessagePtr message);

  /// Deletes the retained message of `topic`; returns false when there was none.
  bool erase(std::string_view topic);

  /// Appends to `out` every retained message whose topic matches `filter` (wildcards
  /// allowed; not `$share/...`: pass the inner filter). Messages expired at `now` are
  /// removed instead of returned.
  void match(std::string_view filter, std::vector<MessagePtr>& out, Clock::time_point now = Clock::now());

  /// The retained message of one exact topic, or null.
  MessagePtr find(std::string_view topic) const;

  /// Number of retained messages.
  std::size_t count() const noexcept { return m_count; }
  /// Sum of topic and payload sizes of the retained messages.
  std::size_t bytes() const noexcept { return m_bytes; }

  /// Reports every message stored and removed (set, erase, expiry) to `ledger` per
  /// account (account_of the topic), with the bytes of the topic as its client sees it
  /// plus the payload; `$SYS` topics are not counted. Null = no reporting.
  void set_ledger(AccountQuotas* ledger) noexcept { m_ledger = ledger; }
  /// The account and client-visible bytes a message on internal `topic` with a payload of
  /// `payload_size` bytes counts as, or false when it is not counted (`$SYS`). Used to
  /// check a quota before set().
  bool counted(std::string_view topic, std::size_t payload_size, std::string_view& account,
               std::size_t& bytes) const noexcept;

private:
  void report_removed(const Message& message);

  struct Node;
  std::unique_ptr<Node> m_root;
  std::size_t m_mount_levels;
  std::size_t m_count = 0;
  std::size_t m_bytes = 0;
  AccountQuotas* m_ledger = nullptr;
};

} // namespace mqfleet::broker
