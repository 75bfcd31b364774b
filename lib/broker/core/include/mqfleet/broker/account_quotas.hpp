#pragma once
// Per-account limits: what one tenant may take from the others (retained messages and
// their bytes, sessions, subscriptions), and the ledger of what each account holds now.
// The ledger is also what a tenant's `$SYS` view shows (docs/broker.md).
//
// An account is a tenant (tenancy.hpp); in anonymous mode the whole broker is the one
// account "" and the limits are broker-wide. Decisions are pure functions of the limits
// and the ledger; the caller records every change (RetainedStore does it for retained
// messages, so expiry and deletion are counted too).
//
// Not thread-safe: the caller serialises access (the broker's routing lock).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace mqfleet::broker {

/// The per-account limits; 0 = unlimited.
struct AccountLimits {
  std::size_t max_retained = 0;       ///< retained messages per account
  std::size_t max_retained_bytes = 0; ///< their topic (as the client sees it) + payload bytes
  std::size_t max_sessions = 0;       ///< sessions per account, connected or not
  std::size_t max_subscriptions = 0;  ///< subscriptions per account, over all its sessions
};

/// What one account holds now, and its failed logins since start.
struct AccountUsage {
  std::size_t retained = 0;
  std::size_t retained_bytes = 0;
  std::size_t sessions = 0;
  std::size_t subscriptions = 0;
  std::uint64_t auth_failures = 0;  ///< refused CONNECTs naming this account
  std::uint64_t auth_throttled = 0; ///< of those, refused by the failed-login lock
  std::uint64_t quota_refusals = 0; ///< retained messages, sessions, subscriptions refused

  /// True when nothing is held or counted (the ledger then forgets the account).
  bool empty() const noexcept {
    return retained == 0 && retained_bytes == 0 && sessions == 0 && subscriptions == 0 && auth_failures == 0 &&
           auth_throttled == 0 && quota_refusals == 0;
  }
};

/// The limits and every account's usage.
class AccountQuotas {
public:
  /// With `limits` (all 0 = nothing is refused, usage is still counted).
  explicit AccountQuotas(AccountLimits limits = {}) : m_limits(limits) {}

  /// The limits in force.
  const AccountLimits& limits() const noexcept { return m_limits; }

  /// True when `account` may store a retained message of `bytes` (topic as the client
  /// sees it + payload) on a topic whose current retained message has `replaced_bytes`
  /// (`replaces` false when the topic has none). Replacing never adds to the count.
  bool retained_fits(std::string_view account, bool replaces, std::size_t replaced_bytes,
                     std::size_t bytes) const noexcept;
  /// True when `account` may open one more session.
  bool session_fits(std::string_view account) const noexcept;
  /// True when `account` may add one more subscription.
  bool subscription_fits(std::string_view account) const noexcept;

  /// Records a retained message stored, with its bytes.
  void retained_added(std::string_view account, std::size_t bytes);
  /// Records a retained message removed (deleted, replaced or expired).
  void retained_removed(std::string_view account, std::size_t bytes);
  /// Records a session created.
  void session_added(std::string_view account);
  /// Records a session removed (with the subscriptions it still held).
  void session_removed(std::string_view account, std::size_t subscriptions);
  /// Records a new subscription.
  void subscription_added(std::string_view account);
  /// Records a subscription removed.
  void subscription_removed(std::string_view account);
  /// Records a refused CONNECT naming `account` (`throttled`: by the failed-login lock).
  void auth_failed(std::string_view account, bool throttled);
  /// Records a refusal for being over a limit.
  void quota_refused(std::string_view account);

  /// The usage of `account` (all zero when unknown).
  AccountUsage usage(std::string_view account) const;
  /// Calls `visit(account, usage)` for every account with a non-empty usage.
  void for_each(const std::function<void(const std::string&, const AccountUsage&)>& visit) const;
  /// Number of accounts the ledger holds.
  std::size_t accounts() const noexcept { return m_usage.size(); }

private:
  AccountUsage& entry(std::string_view account);
  void forget_if_empty(std::string_view account);

  AccountLimits m_limits;
  std::map<std::string, AccountUsage, std::less<>> m_usage;
};

/// The account owning an internal (mounted) topic or session key: its first level when
/// `mount_levels` is 1, "" in anonymous mode (0).
std::string_view account_of(std::string_view internal_name, std::size_t mount_levels) noexcept;

} // namespace mqfleet::broker
