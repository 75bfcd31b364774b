#include <mqfleet/broker/access_rules.hpp>

#include <mqfleet/broker/string_hash.hpp>

#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/topic.hpp>

namespace mqfleet::broker {

using detail::next_level;

namespace {

bool dollar(std::string_view level) noexcept { return !level.empty() && level.front() == '$'; }

/// Substitutes %a and %d; false when a value used is empty or could widen the pattern.
bool expand(std::string_view pattern, std::string_view account, std::string_view device, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '%' && i + 1 < pattern.size() && (pattern[i + 1] == 'a' || pattern[i + 1] == 'd')) {
      const auto value = pattern[i + 1] == 'a' ? account : device;
      if (value.empty() || value.find_first_of("/+#") != std::string_view::npos) return false;
      out.append(value);
      ++i;
    } else {
      out.push_back(pattern[i]);
    }
  }
  return true;
}

} // namespace

bool filter_covers(std::string_view cover, std::string_view filter) noexcept {
  bool cover_done = false;
  bool filter_done = false;
  for (std::size_t level = 0;; ++level) {
    if (cover_done) return filter_done;
    bool cover_last = false;
    const auto c = next_level(cover, cover_last);
    if (c == "#") {
      if (filter_done) return true;
      bool unused = false;
      auto rest = filter;
      const auto f = next_level(rest, unused);
      return !(level == 0 && dollar(f));
    }
    if (filter_done) return false;
    bool filter_last = false;
    const auto f = next_level(filter, filter_last);
    if (f == "#") return false;
    if (c == "+") {
      if (level == 0 && dollar(f)) return false;
    } else if (c != f) {
      return false;
    }
    cover_done = cover_last;
    filter_done = filter_last;
  }
}

bool filters_overlap(std::string_view a, std::string_view b) noexcept {
  bool a_done = false;
  bool b_done = false;
  for (std::size_t level = 0;; ++level) {
    if (a_done && b_done) return true;
    if (a_done || b_done) {
      // "x" and "x/#" share the topic "x"; nothing else extends a finished filter.
      auto rest = a_done ? b : a;
      bool last = false;
      return next_level(rest, last) == "#";
    }
    bool a_last = false;
    bool b_last = false;
    const auto la = next_level(a, a_last);
    const auto lb = next_level(b, b_last);
    const bool a_wild = la == "#" || la == "+";
    const bool b_wild = lb == "#" || lb == "+";
    if (level == 0 && ((a_wild && !b_wild && dollar(lb)) || (b_wild && !a_wild && dollar(la)))) return false;
    if (la == "#" || lb == "#") return true;
    if (!a_wild && !b_wild && la != lb) return false;
    a_done = a_last;
    b_done = b_last;
  }
}

AccessRules::AccessRules(std::vector<AccessRule> rules, std::optional<Effect> default_effect)
    : m_rules(std::move(rules)) {
  for (std::size_t i = 0; i < m_rules.size(); ++i) {
    if (!mqtt::is_valid_topic_filter(m_rules[i].topic) || mqtt::is_shared_subscription(m_rules[i].topic))
      throw ConfigError("access rule " + std::to_string(i) + " has an invalid topic filter '" + m_rules[i].topic + "'",
                        "rules/" + std::to_string(i) + "/topic",
                        "use a topic filter such as devices/%d/# (no $share/ prefix)");
  }
  m_explicit_default = default_effect.has_value();
  m_default = default_effect.value_or(m_rules.empty() ? Effect::allow : Effect::deny);
}

BoundRules AccessRules::bind(std::string_view account, std::string_view device) const {
  BoundRules bound;
  bound.m_default_allow = m_default == Effect::allow;
  std::string expanded;
  for (std::size_t i = 0; i < m_rules.size(); ++i) {
    const auto& rule = m_rules[i];
    if (!rule.account.empty() && rule.account != account) continue;
    if (!rule.device.empty() && rule.device != device) continue;
    if (!expand(rule.topic, account, device, expanded)) continue;
    bound.m_entries.push_back({i, rule.effect, rule.action, expanded});
  }
  return bound;
}

AccessDecision BoundRules::evaluate(RuleAction action, std::string_view topic, bool is_filter) const noexcept {
  const auto wanted = static_cast<unsigned>(action);
  for (const auto& entry : m_entries) {
    if ((static_cast<unsigned>(entry.action) & wanted) == 0) continue;
    bool applies = false;
    if (!is_filter) {
      applies = mqtt::topic_matches(entry.topic, topic);
    } else if (entry.effect == Effect::allow) {
      applies = filter_covers(entry.topic, topic);
    } else {
      applies = filters_overlap(entry.topic, topic);
    }
    if (applies) return {entry.effect == Effect::allow, entry.index};
  }
  return {m_default_allow, std::nullopt};
}

AccessDecision BoundRules::check_publish(std::string_view topic) const noexcept {
  return evaluate(RuleAction::publish, topic, false);
}

AccessDecision BoundRules::check_subscribe(std::string_view filter) const noexcept {
  return evaluate(RuleAction::subscribe, filter, true);
}

AccessDecision BoundRules::check_receive(std::string_view topic) const noexcept {
  return evaluate(RuleAction::subscribe, topic, false);
}

} // namespace mqfleet::broker
