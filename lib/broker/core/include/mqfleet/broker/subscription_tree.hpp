#pragma once
// The subscription index: a tree keyed by topic level that answers "who receives a
// message published to this topic". Filters and topics are internal (mounted) strings
// and must already be valid (validate with mqfleet/mqtt/topic.hpp first).
//
// Not thread-safe: the caller serialises access. match() mutates the round-robin cursor
// of shared subscriptions, so it is not const.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mqfleet::broker {

/// Identifies a subscriber (a session) inside the broker, e.g. "account/client-id".
using SubscriberKey = std::string;

/// The per-subscription options of SUBSCRIBE (v5 names; 3.1.1 uses only qos).
struct SubscriptionOptions {
  std::uint8_t qos = 0;                    ///< maximum QoS granted
  bool no_local = false;                   ///< v5: never deliver the subscriber's own messages
  bool retain_as_published = false;        ///< v5: keep the RETAIN flag when forwarding
  std::uint8_t retain_handling = 0;        ///< v5: 0, 1 or 2; stored for the caller
  std::uint32_t subscription_identifier = 0; ///< v5: 0 = none

  friend bool operator==(const SubscriptionOptions&, const SubscriptionOptions&) = default;
};

/// One receiver of a matched message.
struct SubscriberMatch {
  std::string_view subscriber;     ///< points into the tree; valid until the tree changes
  std::uint8_t qos = 0;            ///< highest QoS over the merged subscriptions
  bool retain_as_published = false; ///< true when any merged subscription asked for it
  std::string_view share_group;    ///< non-empty for a shared subscription pick
  std::uint32_t identifiers_begin = 0; ///< first index into MatchResult::identifiers
  std::uint32_t identifiers_count = 0; ///< number of subscription identifiers
};

/// The reusable output of SubscriptionTree::match(); keep one per worker and reuse it so
/// matching allocates nothing once the vectors have grown.
struct MatchResult {
  /// One entry per receiving subscriber: non-shared subscriptions of one subscriber are
  /// merged into one entry (highest QoS); each shared-group pick is its own entry.
  std::vector<SubscriberMatch> subscribers;
  /// The v5 subscription identifiers of every entry, in entry order.
  std::vector<std::uint32_t> identifiers;

  /// Empties the result, keeping capacity.
  void clear() noexcept;

  // Scratch space of match(); not meaningful to callers.
  struct Hit {
    std::string_view subscriber;
    const SubscriptionOptions* options;
  };
  std::vector<Hit> scratch;
};

/// Decides whether a shared-subscription member may be picked (e.g. is connected).
using SharePredicate = std::function<bool(std::string_view subscriber)>;

/// The topic tree with normal and shared (`$share/group/filter`) subscriptions.
class SubscriptionTree {
public:
  /// `mount_levels` is the number of leading levels that are a tenant mount (0 or 1):
  /// wildcards at level 0 and at level `mount_levels` do not match `$`-prefixed levels,
  /// so `#` inside a tenant does not see that tenant's `$`-topics either.
  explicit SubscriptionTree(std::size_t mount_levels = 0);
  ~SubscriptionTree();
  SubscriptionTree(SubscriptionTree&&) noexcept;
  SubscriptionTree& operator=(SubscriptionTree&&) noexcept;
  SubscriptionTree(const SubscriptionTree&) = delete;
  SubscriptionTree& operator=(const SubscriptionTree&) = delete;

  /// Adds or replaces the subscription of `subscriber` to `filter` (which may be
  /// `$share/group/filter`). Returns true when it is new, false when it replaced one.
  bool add(std::string_view subscriber, std::string_view filter, const SubscriptionOptions& options);

  /// Removes one subscription; returns false when it did not exist.
  bool remove(std::string_view subscriber, std::string_view filter);

  /// Removes every subscription of `subscriber`; returns how many were removed.
  std::size_t remove_all(std::string_view subscriber);

  /// Fills `out` (cleared first) with the receivers of a message published to `topic`.
  /// `publisher` is the publishing subscriber's key: its no-local subscriptions are
  /// skipped. Each shared group that matches yields one member, chosen round-robin among
  /// the members for which `eligible` returns true (all members when `eligible` is empty
  /// or refuses everyone).
  void match(std::string_view topic, std::string_view publisher, MatchResult& out,
             const SharePredicate& eligible = {});

  /// The subscriptions of one subscriber: filter (as given to add) → options.
  std::vector<std::pair<std::string, SubscriptionOptions>> subscriptions_of(std::string_view subscriber) const;

  /// Total number of subscriptions (shared members included).
  std::size_t size() const noexcept { return m_count; }

  /// Number of tree nodes (for tests: removal prunes empty branches).
  std::size_t node_count() const noexcept;

private:
  struct Node;
  struct Shared;
  Node* find_or_create(std::string_view filter);
  Node* find(std::string_view filter) const;
  void prune(Node* node);
  void collect_node(Node& node, std::string_view publisher, MatchResult& out, const SharePredicate& eligible);

  std::unique_ptr<Node> m_root;
  std::size_t m_mount_levels;
  std::size_t m_count = 0;
  /// subscriber → the filters it holds, for remove_all() and subscriptions_of().
  std::map<std::string, std::map<std::string, SubscriptionOptions, std::less<>>, std::less<>> m_by_subscriber;
};

} // namespace mqfleet::broker
