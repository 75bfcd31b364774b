#include <mqfleet/broker/subscription_tree.hpp>

#include <mqfleet/broker/string_hash.hpp>

#include <mqfleet/mqtt/topic.hpp>

#include <algorithm>
#include <unordered_map>

namespace mqfleet::broker {

using detail::next_level;
using detail::StringHash;

struct SubscriptionTree::Shared {
  /// Members in join order; the round-robin cursor walks this vector.
  std::vector<std::pair<std::string, SubscriptionOptions>> members;
  std::size_t next = 0;
};

struct SubscriptionTree::Node {
  Node* parent = nullptr;
  std::string level;
  std::unordered_map<std::string, std::unique_ptr<Node>, StringHash, std::equal_to<>> children;
  Node* plus = nullptr;  ///< children["+"], kept for the hot path
  Node* hash = nullptr;  ///< children["#"]
  /// Non-shared subscriptions, contiguous for the fan-out loop; `subscriber` points at
  /// the key in `index` (unordered_map nodes do not move).
  struct Entry {
    const std::string* subscriber;
    SubscriptionOptions options;
  };
  std::vector<Entry> subscribers;
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> index;
  std::map<std::string, Shared, std::less<>> shared;

  bool empty() const noexcept { return children.empty() && subscribers.empty() && shared.empty(); }
};

void MatchResult::clear() noexcept {
  subscribers.clear();
  identifiers.clear();
  scratch.clear();
}

SubscriptionTree::SubscriptionTree(std::size_t mount_levels)
    : m_root(std::make_unique<Node>()), m_mount_levels(mount_levels) {}
SubscriptionTree::~SubscriptionTree() = default;
SubscriptionTree::SubscriptionTree(SubscriptionTree&&) noexcept = default;
SubscriptionTree& SubscriptionTree::operator=(SubscriptionTree&&) noexcept = default;

SubscriptionTree::Node* SubscriptionTree::find_or_create(std::string_view filter) {
  Node* node = m_root.get();
  bool last = false;
  while (!last) {
    const auto level = next_level(filter, last);
    auto it = node->children.find(level);
    if (it == node->children.end()) {
      auto child = std::make_unique<Node>();
      child->parent = node;
      child->level = std::string(level);
      Node* raw = child.get();
      node->children.emplace(child->level, std::move(child));
      if (level == "+") node->plus = raw;
      if (level == "#") node->hash = raw;
      node = raw;
    } else {
      node = it->second.get();
    }
  }
  return node;
}

SubscriptionTree::Node* SubscriptionTree::find(std::string_view filter) const {
  Node* node = m_root.get();
  bool last = false;
  while (!last) {
    const auto level = next_level(filter, last);
    auto it = node->children.find(level);
    if (it == node->children.end()) return nullptr;
    node = it->second.get();
  }
  return node;
}

void SubscriptionTree::prune(Node* node) {
  while (node != m_root.get() && node->empty()) {
    Node* parent = node->parent;
    if (parent->plus == node) parent->plus = nullptr;
    if (parent->hash == node) parent->hash = nullptr;
    parent->children.erase(node->level);
    node = parent;
  }
}

bool SubscriptionTree::add(std::string_view subscriber, std::string_view filter, const SubscriptionOptions& options) {
  bool added = false;
  if (auto shared = mqtt::parse_shared_subscription(filter)) {
    Node* node = find_or_create(shared->filter);
    auto& group = node->shared[std::string(shared->group)];
    auto it = std::find_if(group.members.begin(), group.members.end(),
                           [&](const auto& member) { return member.first == subscriber; });
    if (it == group.members.end()) {
      group.members.emplace_back(std::string(subscriber), options);
      added = true;
    } else {
      it->second = options;
    }
  } else {
    Node* node = find_or_create(filter);
    auto [it, inserted] =
        node->index.try_emplace(std::string(subscriber), static_cast<std::uint32_t>(node->subscribers.size()));
    if (inserted) {
      node->subscribers.push_back({&it->first, options});
    } else {
      node->subscribers[it->second].options = options;
    }
    added = inserted;
  }
  auto by = m_by_subscriber.find(subscriber);
  if (by == m_by_subscriber.end()) by = m_by_subscriber.emplace(std::string(subscriber), decltype(by->second){}).first;
  by->second.insert_or_assign(std::string(filter), options);
  if (added) ++m_count;
  return added;
}

bool SubscriptionTree::remove(std::string_view subscriber, std::string_view filter) {
  bool removed = false;
  if (auto shared = mqtt::parse_shared_subscription(filter)) {
    Node* node = find(shared->filter);
    if (node == nullptr) return false;
    auto group = node->shared.find(shared->group);
    if (group == node->shared.end()) return false;
    auto& members = group->second.members;
    auto it = std::find_if(members.begin(), members.end(), [&](const auto& m) { return m.first == subscriber; });
    if (it == members.end()) return false;
    const auto position = static_cast<std::size_t>(it - members.begin());
    members.erase(it);
    // Keep the cursor on the member that was next in line.
    if (position < group->second.next) --group->second.next;
    if (members.empty()) node->shared.erase(group);
    removed = true;
    prune(node);
  } else {
    Node* node = find(filter);
    if (node == nullptr) return false;
    auto it = node->index.find(subscriber);
    if (it == node->index.end()) return false;
    // Swap-remove: move the last entry into the hole and repoint its index.
    const auto position = it->second;
    if (position + 1 != node->subscribers.size()) {
      node->subscribers[position] = node->subscribers.back();
      node->index.find(*node->subscribers[position].subscriber)->second = position;
    }
    node->subscribers.pop_back();
    node->index.erase(it);
    removed = true;
    prune(node);
  }
  if (auto by = m_by_subscriber.find(subscriber); by != m_by_subscriber.end()) {
    if (auto f = by->second.find(filter); f != by->second.end()) by->second.erase(f);
    if (by->second.empty()) m_by_subscriber.erase(by);
  }
  --m_count;
  return removed;
}

std::size_t SubscriptionTree::remove_all(std::string_view subscriber) {
  auto by = m_by_subscriber.find(subscriber);
  if (by == m_by_subscriber.end()) return 0;
  std::vector<std::string> filters;
  filters.reserve(by->second.size());
  for (const auto& [filter, options] : by->second) filters.push_back(filter);
  const std::string key(subscriber); // `subscriber` may point into the tree
  std::size_t removed = 0;
  for (const auto& filter : filters) removed += remove(key, filter) ? 1 : 0;
  return removed;
}

std::vector<std::pair<std::string, SubscriptionOptions>> SubscriptionTree::subscriptions_of(std::string_view subscriber) const {
  std::vector<std::pair<std::string, SubscriptionOptions>> result;
  if (auto by = m_by_subscriber.find(subscriber); by != m_by_subscriber.end())
    for (const auto& [filter, options] : by->second) result.emplace_back(filter, options);
  return result;
}

namespace {

std::size_t count_nodes(const auto& node) {
  std::size_t n = 1;
  for (const auto& [level, child] : node.children) n += count_nodes(*child);
  return n;
}

} // namespace

std::size_t SubscriptionTree::node_count() const noexcept { return count_nodes(*m_root); }

void SubscriptionTree::collect_node(Node& node, std::string_view publisher, MatchResult& out,
                                    const SharePredicate& eligible) {
  for (const auto& entry : node.subscribers) {
    if (entry.options.no_local && *entry.subscriber == publisher) continue;
    out.scratch.push_back({*entry.subscriber, &entry.options});
  }
  for (auto& [group_name, group] : node.shared) {
    const auto n = group.members.size();
    std::size_t pick = group.next % n;
    if (eligible) {
      for (std::size_t tries = 0; tries < n; ++tries) {
        const auto candidate = (group.next + tries) % n;
        if (eligible(group.members[candidate].first)) {
          pick = candidate;
          break;
        }
      }
    }
    group.next = (pick + 1) % n;
    const auto& [subscriber, options] = group.members[pick];
    SubscriberMatch match{subscriber, options.qos, options.retain_as_published, group_name,
                          static_cast<std::uint32_t>(out.identifiers.size()), 0};
    if (options.subscription_identifier != 0) {
      out.identifiers.push_back(options.subscription_identifier);
      match.identifiers_count = 1;
    }
    out.subscribers.push_back(match);
  }
}

void SubscriptionTree::match(std::string_view topic, std::string_view publisher, MatchResult& out,
                             const SharePredicate& eligible) {
  out.clear();
  // Depth-first walk with an explicit stack: (node, remaining topic, level index).
  struct Frame {
    Node* node;
    std::string_view rest;
    std::size_t level;
  };
  std::size_t contributing_nodes = 0;
  auto visit = [&](Node& node) {
    const auto before = out.scratch.size();
    collect_node(node, publisher, out, eligible);
    if (out.scratch.size() != before) ++contributing_nodes;
  };
  // Recursion depth is bounded by the number of topic levels (at most 32,768).
  auto walk = [&](auto& self, Node& node, std::string_view rest, std::size_t level) -> void {
    bool last = false;
    const auto name = next_level(rest, last);
    const bool dollar = (level == 0 || level == m_mount_levels) && !name.empty() && name.front() == '$';
    if (auto it = node.children.find(name); it != node.children.end()) {
      Node& child = *it->second;
      if (last) {
        visit(child);
        if (child.hash != nullptr) visit(*child.hash); // "a/#" matches "a"
      } else {
        self(self, child, rest, level + 1);
      }
    }
    if (dollar) return;
    if (node.plus != nullptr) {
      Node& child = *node.plus;
      if (last) {
        visit(child);
        if (child.hash != nullptr) visit(*child.hash);
      } else {
        self(self, child, rest, level + 1);
      }
    }
    if (node.hash != nullptr) visit(*node.hash);
  };
  walk(walk, *m_root, topic, 0);

  auto& hits = out.scratch;
  if (contributing_nodes <= 1) {
    // One node holds each subscriber once: nothing to merge.
    out.subscribers.reserve(out.subscribers.size() + hits.size());
    for (const auto& hit : hits) {
      const auto& options = *hit.options;
      SubscriberMatch match{hit.subscriber, options.qos, options.retain_as_published, {},
                            static_cast<std::uint32_t>(out.identifiers.size()), 0};
      if (options.subscription_identifier != 0) {
        out.identifiers.push_back(options.subscription_identifier);
        match.identifiers_count = 1;
      }
      out.subscribers.push_back(match);
    }
    return;
  }
  std::sort(hits.begin(), hits.end(), [](const auto& a, const auto& b) { return a.subscriber < b.subscriber; });
  for (std::size_t i = 0; i < hits.size();) {
    SubscriberMatch match{hits[i].subscriber, 0, false, {}, static_cast<std::uint32_t>(out.identifiers.size()), 0};
    std::size_t j = i;
    for (; j < hits.size() && hits[j].subscriber == hits[i].subscriber; ++j) {
      const auto& options = *hits[j].options;
      match.qos = std::max(match.qos, options.qos);
      match.retain_as_published = match.retain_as_published || options.retain_as_published;
      if (options.subscription_identifier != 0) {
        out.identifiers.push_back(options.subscription_identifier);
        ++match.identifiers_count;
      }
    }
    out.subscribers.push_back(match);
    i = j;
  }
}

} // namespace mqfleet::broker
