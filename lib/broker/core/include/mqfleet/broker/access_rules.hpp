#pragma once
// Ordered allow/deny rules for publish and subscribe (mosquitto's acl_file patterns are
// the model). Rules use the client's view of topics (before tenant mounting) and may
// contain `%a` (account) and `%d` (device id = client id) placeholders, e.g. a device
// may only publish under `devices/%d/#`.
//
// Evaluation: the first rule whose principal (account/device; empty = any) and action
// match and whose topic applies decides. When no rule applies the default decides:
// allow when the list is empty (an open broker), deny otherwise (mosquitto's acl_file
// behaviour); the registry's "default_access" key overrides it.
//
// When a topic applies:
// - PUBLISH of topic t: the rule's filter matches t.
// - SUBSCRIBE to filter f, allow rule: f is covered by the rule's filter (every topic f
//   matches, the rule's filter matches too).
// - SUBSCRIBE to filter f, deny rule: f overlaps the rule's filter (some topic matches
//   both). Otherwise `deny secret/#` followed by `allow #` would let a `#` subscriber
//   read `secret/...`.
// - Delivery of topic t to a subscriber (allows_receive): as PUBLISH, with subscribe
//   rules; a defence in depth for filters that were allowed.
// A placeholder whose value contains `/`, `+` or `#` makes its rule not match (as in
// mosquitto), so a device id cannot widen a pattern.
//
// Immutable once built; bind() once per connection, then checks allocate nothing.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqfleet::broker {

/// Allow or deny.
enum class Effect : std::uint8_t { allow, deny };

/// What a rule governs.
enum class RuleAction : std::uint8_t { publish = 1, subscribe = 2, both = 3 };

/// One rule. Empty account/device = any.
struct AccessRule {
  Effect effect = Effect::allow;
  RuleAction action = RuleAction::both;
  std::string topic;   ///< topic filter, may contain %a and %d
  std::string account; ///< applies to this account only; empty = every account
  std::string device;  ///< applies to this device id only; empty = every device

  friend bool operator==(const AccessRule&, const AccessRule&) = default;
};

/// The outcome of a check, naming the deciding rule for logs.
struct AccessDecision {
  bool allowed = false;
  std::optional<std::size_t> rule; ///< index of the deciding rule; empty = the default
};

class AccessRules;

/// The rules that concern one principal, with placeholders substituted.
class BoundRules {
public:
  /// May the principal publish to `topic`?
  AccessDecision check_publish(std::string_view topic) const noexcept;
  /// May the principal subscribe to `filter` (client view, `$share/g/` stripped)?
  AccessDecision check_subscribe(std::string_view filter) const noexcept;
  /// May a message on `topic` be delivered to the principal?
  AccessDecision check_receive(std::string_view topic) const noexcept;
  /// True when no rule applies and the default allows: every check passes.
  bool allows_everything() const noexcept { return m_entries.empty() && m_default_allow; }

private:
  friend class AccessRules;
  struct Entry {
    std::size_t index;
    Effect effect;
    RuleAction action;
    std::string topic;
  };
  AccessDecision evaluate(RuleAction action, std::string_view topic, bool is_filter) const noexcept;
  std::vector<Entry> m_entries;
  bool m_default_allow = true;
};

/// The ordered rule list.
class AccessRules {
public:
  /// No rules: everything is allowed.
  AccessRules() = default;
  /// `rules` in order; `default_effect` when none applies (empty = allow if `rules` is
  /// empty, deny otherwise). Throws ConfigError for an invalid rule topic.
  explicit AccessRules(std::vector<AccessRule> rules, std::optional<Effect> default_effect = std::nullopt);

  /// The rules of one connection: account (empty in anonymous mode) and device id.
  BoundRules bind(std::string_view account, std::string_view device) const;

  /// The rules, in order.
  const std::vector<AccessRule>& rules() const noexcept { return m_rules; }
  /// The effect used when no rule applies.
  Effect default_effect() const noexcept { return m_default; }
  /// True when the default was given explicitly.
  bool explicit_default() const noexcept { return m_explicit_default; }

private:
  std::vector<AccessRule> m_rules;
  Effect m_default = Effect::allow;
  bool m_explicit_default = false;
};

/// True when every topic matched by `filter` is matched by `cover` (both valid filters).
bool filter_covers(std::string_view cover, std::string_view filter) noexcept;
/// True when some topic is matched by both filters.
bool filters_overlap(std::string_view a, std::string_view b) noexcept;

} // namespace mqfleet::broker
