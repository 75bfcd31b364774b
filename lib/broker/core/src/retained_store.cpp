#include <mqfleet/broker/retained_store.hpp>

#include <mqfleet/broker/string_hash.hpp>
#include <mqfleet/broker/tenancy.hpp>

#include <algorithm>
#include <unordered_map>

namespace mqfleet::broker {

using detail::next_level;
using detail::StringHash;

struct RetainedStore::Node {
  Node* parent = nullptr;
  std::string level;
  std::unordered_map<std::string, std::unique_ptr<Node>, StringHash, std::equal_to<>> children;
  MessagePtr message;
};

namespace {

std::size_t message_bytes(const Message& message) noexcept { return message.topic.size() + message.payload.size(); }

} // namespace

bool RetainedStore::counted(std::string_view topic, std::size_t payload_size, std::string_view& account,
                            std::size_t& bytes) const noexcept {
  if (is_sys_topic(topic)) return false;
  account = account_of(topic, m_mount_levels);
  const std::size_t prefix = m_mount_levels == 0 ? 0 : std::min(account.size() + 1, topic.size());
  if (is_sys_topic(topic.substr(prefix))) return false;
  bytes = topic.size() - prefix + payload_size;
  return true;
}

void RetainedStore::report_removed(const Message& message) {
  if (m_ledger == nullptr) return;
  std::string_view account;
  std::size_t bytes = 0;
  if (counted(message.topic, message.payload.size(), account, bytes)) m_ledger->retained_removed(account, bytes);
}

RetainedStore::RetainedStore(std::size_t mount_levels) : m_root(std::make_unique<Node>()), m_mount_levels(mount_levels) {}
RetainedStore::~RetainedStore() = default;
RetainedStore::RetainedStore(RetainedStore&&) noexcept = default;
RetainedStore& RetainedStore::operator=(RetainedStore&&) noexcept = default;

void RetainedStore::set(MessagePtr message) {
  if (!message) return;
  if (message->payload.empty()) {
    erase(message->topic);
    return;
  }
  Node* node = m_root.get();
  std::string_view rest = message->topic;
  bool last = false;
  while (!last) {
    const auto level = next_level(rest, last);
    auto it = node->children.find(level);
    if (it == node->children.end()) {
      auto child = std::make_unique<Node>();
      child->parent = node;
      child->level = std::string(level);
      Node* raw = child.get();
      node->children.emplace(child->level, std::move(child));
      node = raw;
    } else {
      node = it->second.get();
    }
  }
  if (node->message) {
    m_bytes -= message_bytes(*node->message);
    report_removed(*node->message);
  } else {
    ++m_count;
  }
  m_bytes += message_bytes(*message);
  if (m_ledger != nullptr) {
    std::string_view account;
    std::size_t bytes = 0;
    if (counted(message->topic, message->payload.size(), account, bytes)) m_ledger->retained_added(account, bytes);
  }
  node->message = std::move(message);
}

bool RetainedStore::erase(std::string_view topic) {
  Node* node = m_root.get();
  bool last = false;
  while (!last) {
    const auto level = next_level(topic, last);
    auto it = node->children.find(level);
    if (it == node->children.end()) return false;
    node = it->second.get();
  }
  if (!node->message) return false;
  m_bytes -= message_bytes(*node->message);
  --m_count;
  report_removed(*node->message);
  node->message.reset();
  while (node != m_root.get() && !node->message && node->children.empty()) {
    Node* parent = node->parent;
    parent->children.erase(node->level);
    node = parent;
  }
  return true;
}

MessagePtr RetainedStore::find(std::string_view topic) const {
  const Node* node = m_root.get();
  bool last = false;
  while (!last) {
    const auto level = next_level(topic, last);
    auto it = node->children.find(level);
    if (it == node->children.end()) return nullptr;
    node = it->second.get();
  }
  return node->message;
}

void RetainedStore::match(std::string_view filter, std::vector<MessagePtr>& out, Clock::time_point now) {
  std::vector<std::string> expired;
  auto take = [&](const Node& node) {
    if (!node.message) return;
    if (node.message->expired(now)) {
      expired.push_back(node.message->topic);
    } else {
      out.push_back(node.message);
    }
  };
  // Everything at and below `node` (a '#' matched its first level already).
  auto take_all = [&](auto& self, const Node& node) -> void {
    take(node);
    for (const auto& [name, child] : node.children) self(self, *child);
  };
  auto walk = [&](auto& self, const Node& node, std::string_view rest, std::size_t level) -> void {
    bool last = false;
    const auto name = next_level(rest, last);
    const bool leading = level == 0 || level == m_mount_levels;
    if (name == "#") {
      // "a/#" also matches "a" itself (the parent level), never the root.
      if (&node != m_root.get()) take(node);
      for (const auto& [child_name, child] : node.children) {
        if (leading && !child_name.empty() && child_name.front() == '$') continue;
        take_all(take_all, *child);
      }
      return;
    }
    if (name == "+") {
      for (const auto& [child_name, child] : node.children) {
        if (leading && !child_name.empty() && child_name.front() == '$') continue;
        if (last) {
          take(*child);
        } else {
          self(self, *child, rest, level + 1);
        }
      }
      return;
    }
    auto it = node.children.find(name);
    if (it == node.children.end()) return;
    if (last) {
      take(*it->second);
    } else {
      self(self, *it->second, rest, level + 1);
    }
  };
  walk(walk, *m_root, filter, 0);
  for (const auto& topic : expired) erase(topic);
}

} // namespace mqfleet::broker
