#include <mqfleet/mqtt/topic.hpp>

#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/utf8.hpp>

#include <algorithm>
#include <string>

namespace mqfleet::mqtt {
namespace {

constexpr std::string_view k_share_prefix = "$share/";

TopicStatus check_plain_filter(std::string_view filter) noexcept {
  if (filter.empty()) return TopicStatus::empty;
  const std::size_t n = filter.size();
  for (std::size_t i = 0; i < n; ++i) {
    const char c = filter[i];
    const bool level_start = i == 0 || filter[i - 1] == '/';
    const bool level_end = i + 1 == n || filter[i + 1] == '/';
    if (c == '#') {
      if (!level_start || i + 1 != n) return TopicStatus::bad_multi_level;
    } else if (c == '+') {
      if (!level_start || !level_end) return TopicStatus::bad_single_level;
    }
  }
  return TopicStatus::ok;
}

} // namespace

std::string_view describe(TopicStatus status) noexcept {
  switch (status) {
  case TopicStatus::ok: return "valid";
  case TopicStatus::empty: return "is empty";
  case TopicStatus::too_long: return "is longer than 65535 bytes";
  case TopicStatus::bad_utf8: return "is not valid MQTT UTF-8";
  case TopicStatus::wildcard_in_name: return "contains a wildcard ('+' or '#')";
  case TopicStatus::bad_multi_level: return "has '#' somewhere other than alone in the last level";
  case TopicStatus::bad_single_level: return "has '+' sharing a level with other characters";
  case TopicStatus::bad_shared: return "is a $share subscription without a valid group and filter";
  }
  return "is invalid";
}

TopicStatus check_topic_name(std::string_view name) noexcept {
  if (name.empty()) return TopicStatus::empty;
  if (name.size() > k_max_topic_length) return TopicStatus::too_long;
  if (has_wildcards(name)) return TopicStatus::wildcard_in_name;
  if (!is_valid_utf8(name)) return TopicStatus::bad_utf8;
  return TopicStatus::ok;
}

TopicStatus check_topic_filter(std::string_view filter) noexcept {
  if (filter.empty()) return TopicStatus::empty;
  if (filter.size() > k_max_topic_length) return TopicStatus::too_long;
  if (!is_valid_utf8(filter)) return TopicStatus::bad_utf8;
  if (is_shared_subscription(filter)) {
    return parse_shared_subscription(filter) ? TopicStatus::ok : TopicStatus::bad_shared;
  }
  return check_plain_filter(filter);
}

bool is_valid_topic_name(std::string_view name) noexcept {
  return check_topic_name(name) == TopicStatus::ok;
}

bool is_valid_topic_filter(std::string_view filter) noexcept {
  return check_topic_filter(filter) == TopicStatus::ok;
}

void validate_topic_name(std::string_view name) {
  const TopicStatus status = check_topic_name(name);
  if (status != TopicStatus::ok) {
    throw ProtocolError(0x90, "topic name " + std::string(describe(status)), "topic name",
                        "publish to a non-empty UTF-8 topic without '+' or '#'");
  }
}

void validate_topic_filter(std::string_view filter) {
  const TopicStatus status = check_topic_filter(filter);
  if (status != TopicStatus::ok) {
    throw ProtocolError(0x8F, "topic filter " + std::string(describe(status)), "topic filter",
                        "'+' must fill a whole level and '#' must be the last level");
  }
}

bool has_wildcards(std::string_view topic) noexcept {
  // A plain loop: find_first_of calls memchr once per character.
  for (const char c : topic) {
    if (c == '+' || c == '#') return true;
  }
  return false;
}

bool topic_matches(std::string_view filter, std::string_view name) noexcept {
  if (filter.empty() || name.empty()) return false;
  if (name.front() == '$' && (filter.front() == '+' || filter.front() == '#')) return false;
  const std::size_t fn = filter.size();
  const std::size_t tn = name.size();
  std::size_t f = 0;
  std::size_t t = 0;
  for (;;) {
    // One level of each per iteration; an empty level (e.g. "a//b") is a level too.
    const std::size_t f_end = std::min(filter.find('/', f), fn);
    const std::string_view level = filter.substr(f, f_end - f);
    if (level == "#") return true;
    const std::size_t t_end = std::min(name.find('/', t), tn);
    if (level != "+" && level != name.substr(t, t_end - t)) return false;
    const bool filter_done = f_end == fn;
    const bool name_done = t_end == tn;
    if (filter_done || name_done) {
      // "a/#" also matches "a": the multi-level wildcard includes the parent level.
      return (filter_done && name_done) || (!filter_done && filter.substr(f_end + 1) == "#");
    }
    f = f_end + 1;
    t = t_end + 1;
  }
}

bool is_shared_subscription(std::string_view filter) noexcept {
  return filter.substr(0, k_share_prefix.size()) == k_share_prefix;
}

std::optional<SharedSubscription> parse_shared_subscription(std::string_view filter) noexcept {
  if (!is_shared_subscription(filter)) return std::nullopt;
  const std::string_view rest = filter.substr(k_share_prefix.size());
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  SharedSubscription shared{rest.substr(0, slash), rest.substr(slash + 1)};
  if (has_wildcards(shared.group)) return std::nullopt;
  if (check_plain_filter(shared.filter) != TopicStatus::ok) return std::nullopt;
  return shared;
}

} // namespace mqfleet::mqtt
