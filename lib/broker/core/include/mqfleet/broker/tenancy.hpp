#pragma once
// Multi-tenancy by topic mounting (EMQX's `mountpoint = "${username}/"` model): every
// topic and filter a client uses is prefixed with its account before it reaches the
// subscription tree or the retained store, and the prefix is removed on delivery. A
// device subscribing to `#` therefore sees its own account only, while clients keep
// publishing to plain topics such as `telemetry`.
//
// - Topic `t` of account `a` is `a/t` internally; filter `f` is `a/f`; a shared filter
//   `$share/g/f` is `$share/g/a/f`.
// - `$SYS/...` is read-only for clients and mounted like any topic: a tenant's `$SYS/#`
//   is `a/$SYS/#`, where the broker publishes that tenant's own figures (sys_topics.cpp),
//   so no tenant sees another's.
// - Anonymous mode is one tenant with an empty account: nothing is mounted, `$SYS/...` is
//   the broker-wide view.
// Accounts are validated (valid_account) so the mount is exactly one topic level; the
// subscription tree and retained store get mount_levels() to keep the `$`-topic rule
// inside a tenant.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mqfleet::broker {

/// True for `$SYS` and topics/filters below it.
bool is_sys_topic(std::string_view topic_or_filter) noexcept;

/// True when `account` can be a tenant: non-empty, valid UTF-8 is the codec's job; no
/// `/`, `+`, `#`, NUL, and no leading `$`.
bool valid_account(std::string_view account) noexcept;

/// The mount of one tenant (one per connection; cheap to copy).
class TenantMount {
public:
  /// The anonymous single tenant: no prefix.
  TenantMount() = default;
  /// The tenant of `account` (must satisfy valid_account; empty = anonymous).
  explicit TenantMount(std::string account);

  /// The account; empty in anonymous mode.
  std::string_view account() const noexcept {
    return m_prefix.empty() ? std::string_view() : std::string_view(m_prefix).substr(0, m_prefix.size() - 1);
  }
  /// The prefix every topic of the tenant gets (account + "/"; empty in anonymous mode).
  const std::string& prefix() const noexcept { return m_prefix; }
  /// True in anonymous mode.
  bool anonymous() const noexcept { return m_prefix.empty(); }
  /// Number of topic levels the mount adds (0 or 1); see SubscriptionTree.
  std::size_t mount_levels() const noexcept { return anonymous() ? 0 : 1; }

  /// The internal topic for a client's topic name (`$SYS/...` too: the tenant's view).
  std::string mount_topic(std::string_view topic) const;
  /// The internal filter for a client's filter, including `$share/group/filter`.
  std::string mount_filter(std::string_view filter) const;
  /// The client's view of an internal topic: the prefix removed; empty when the topic
  /// belongs to another tenant or is the broker-wide `$SYS` (never deliver it).
  std::optional<std::string_view> unmount_topic(std::string_view internal_topic) const noexcept;
  /// True when a client of this tenant may publish to `topic` (false for `$SYS/...`).
  bool may_publish(std::string_view topic) const noexcept { return !is_sys_topic(topic); }

private:
  std::string m_prefix; ///< account + "/" or empty (the account is not stored twice)
};

} // namespace mqfleet::broker
